"""Credentials written into AWS configuration: the provider block, Lambda environment variables,
EC2 user data.

What counts as a credential is what the plaintext-secrets rules recognise (AWS keys, known token
formats, a literal password assigned to a name), plus what the resource's own shape says: a
provider's `secret_key`, an environment variable named like a password. A secret never leaves
here: messages show a masked prefix, `Violation.key` a hash.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator

from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import RuleContext
from rules._support import is_placeholder, mask, secret_key, truthy
from rules.checks.aws_iam import judged
from rules.checks.aws_policy import properties
from rules.plaintext_secrets import find_secrets

# --------------------------------------------------------------------------------------------
# The AWS provider block
# --------------------------------------------------------------------------------------------

_PROVIDER_KEYS = {"access_key": "access key id", "secret_key": "secret access key", "token": "session token"}
_AWS_KEY_ID = re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}")
_AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")


def _real_key(name: str, value: str) -> bool:
    """The value has the shape of a real AWS credential (not a LocalStack-style stand-in)."""
    if name == "access_key":
        return _AWS_KEY_ID.fullmatch(value) is not None and "EXAMPLE" not in value
    if name == "secret_key":
        return _AWS_SECRET.fullmatch(value) is not None and "EXAMPLE" not in value.upper()
    return len(value) >= 100  # session tokens are long


def provider_credentials(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """An `aws` provider block must not hold literal credentials. A provider pointed at a local
    emulator (`skip_credentials_validation`, custom `endpoints`) is judged only on values shaped
    like real keys."""
    if resource.source != "terraform" or resource.kind != "provider" or not (
            resource.address == "provider.aws" or resource.address.startswith("provider.aws.")):
        return
    body = resource.body
    emulated = truthy(body.get("skip_credentials_validation")) is True or body.get("endpoints") is not None
    for name, what in _PROVIDER_KEYS.items():
        node = body.get(name)
        value = node.value if node is not None else None
        if node is None or not isinstance(value, str) or node.origin is not None:
            continue  # unknown, or read from a variable (whose file the text rules scan)
        stripped = value.strip()
        if not stripped or is_placeholder(stripped) or "EXAMPLE" in stripped.upper():
            continue
        if emulated and not _real_key(name, stripped):
            continue
        yield Violation(
            message=f"The aws provider holds a literal {what} (`{mask(stripped)}`, masked here).",
            line=node.line,
            key=secret_key(stripped),
        )


# --------------------------------------------------------------------------------------------
# Lambda environment variables
# --------------------------------------------------------------------------------------------

_SECRET_NAME = re.compile(
    r"(?i)(?:password|passwd|pwd|secret|token|api_?key|apikey|private_?key|access_?key|auth_?key|credential)")
_NOT_A_VALUE_NAME = re.compile(
    r"(?i)(?:_?(?:arn|name|id|param|parameter|path|url|uri|ttl|header|length|file|region|type|expiry|expires"
    r"|duration|timeout|version|ref|prefix|suffix|enabled|field))$")
_REFERENCE = re.compile(r"(?i)^(?:arn:|/|\{\{resolve:|ssm:|secretsmanager:|https?://(?![^/@]*:[^/@]*@))")


def _literal_secret(name: str, value: str) -> bool:
    """A value assigned to a secret-like name that is itself a secret, not a reference or a dummy."""
    stripped = value.strip()
    if not _SECRET_NAME.search(name) or _NOT_A_VALUE_NAME.search(name):
        return False
    if len(stripped) < 6 or is_placeholder(stripped) or "EXAMPLE" in stripped.upper():
        return False
    if _REFERENCE.match(stripped) or re.fullmatch(r"-?\d+(?:\.\d+)?|true|false", stripped, re.IGNORECASE):
        return False
    return " " not in stripped  # a sentence is a description, not a password


def _environment(resource: Resource) -> Node | None:
    if resource.source == "terraform":
        blocks = resource.body.get("environment")
        for block in blocks.children() if blocks is not None else []:
            return block.get("variables")
        return None
    environment = properties(resource).get("Environment")
    return environment.get("Variables") if environment is not None else None


def lambda_environment_secrets(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Lambda environment variables must not hold credentials: they are readable by anyone with
    lambda:GetFunctionConfiguration and stored in the template and state."""
    if not judged(resource):
        return
    variables = _environment(resource)
    for name, node in variables.items() if variables is not None else ():
        if not isinstance(node.value, str):
            continue
        found = [secret for _, secret in find_secrets(node.value, assignments=False)]
        if not found and _literal_secret(name, node.value):
            found = [node.value.strip()]
        for secret in dict.fromkeys(found):
            yield Violation(
                message=f"Environment variable {name} holds a literal secret (`{mask(secret)}`, masked here); "
                        "read it at run time from Secrets Manager or Parameter Store.",
                line=node.line,
                key=f"{name}:{secret_key(secret)}",
            )


# --------------------------------------------------------------------------------------------
# EC2 user data
# --------------------------------------------------------------------------------------------

_USER_DATA_TERRAFORM = ("user_data", "user_data_base64")
_USER_DATA_CLOUDFORMATION = {
    "AWS::EC2::Instance": ("UserData",),
    "AWS::AutoScaling::LaunchConfiguration": ("UserData",),
    "AWS::EC2::LaunchTemplate": ("LaunchTemplateData", "UserData"),
}
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def _user_data(resource: Resource) -> Iterator[Node]:
    if resource.source == "terraform":
        for name in _USER_DATA_TERRAFORM:
            node = resource.body.get(name)
            if node is not None:
                yield node
        return
    path = _USER_DATA_CLOUDFORMATION.get(resource.type)
    node = properties(resource).get(*path) if path else None
    if node is not None:
        yield node


def _decoded(value: str) -> str | None:
    """A base64 literal's text (user_data_base64, or a pre-encoded template); None otherwise."""
    compact = "".join(value.split())
    if not _BASE64.fullmatch(compact):
        return None
    try:
        return base64.b64decode(compact, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _scan(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str, str]]:
    for line, text in lines:
        for label, secret in find_secrets(text):
            yield line, label, secret


def user_data_secrets(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """EC2 user data must not hold credentials: any process on the instance (and anyone allowed
    ec2:DescribeInstanceAttribute) can read it. The lines as written are scanned, so a heredoc,
    a template or a `base64encode(...)` call is read where it is; a base64 literal is decoded."""
    if not judged(resource):
        return
    seen: set[str] = set()
    for node in _user_data(resource):
        lines = [(n, resource.text_at(n) or "") for n in range(node.line, node.end_line + 1)]
        decoded = _decoded(node.value) if isinstance(node.value, str) else None
        if decoded is not None:
            lines += [(node.line, text) for text in decoded.splitlines()]
        elif isinstance(node.value, (str, Unknown)) and node.origin is not None:
            lines = [(node.line, text) for text in str(node.value).splitlines()]  # written elsewhere
        for line, label, secret in _scan(lines):
            if secret in seen:
                continue
            seen.add(secret)
            yield Violation(
                message=f"User data holds a credential ({label}: `{mask(secret)}`, masked here); give the instance a role "
                        "and read secrets at boot from Secrets Manager or Parameter Store.",
                line=line,
                key=secret_key(secret),
            )
