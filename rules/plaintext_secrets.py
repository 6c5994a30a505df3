"""Plaintext secrets in text: cloud keys, tokens, private keys and literal passwords.

The engine hands each rule a text resource whose body maps line numbers to the lines to check
(added lines in a review, every line in a full scan). A secret's value never leaves this
module: messages show a masked prefix and `Violation.key` a short hash. Every pattern is
anchored on a literal prefix with bounded repetitions, so matching stays linear, and at most
`MAX_LINE` characters of a line are examined.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bot.engine.model import Resource, Severity, Violation
from bot.engine.rule import Rule, RuleContext
from rules import _token_formats as formats
from rules._support import is_placeholder, mask, secret_key

MAX_LINE = 4096
_SOURCES = frozenset({"text"})

_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16})(?![A-Z0-9])")
# `AWS_SECRET_ACCESS_KEY`, `aws-secret-access-key`, `aws.secretKey`, `SecretAccessKey` (the IAM API's
# JSON), `AWS_SECRET`: a 40-character base64 value right after such a name (or after it and a space,
# as in `aws configure set aws_secret_access_key <value>`).
_AWS_SECRET = re.compile(
    r"(?i)(?:aws[_.-]?secret(?:[_.-]?access)?(?:[_.-]?key)?|secret[_.-]?access[_.-]?key)[\"']?"
    r"(?:\s{0,5}(?:=|:|:=|=>)\s{0,5}|\s{1,5})[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:RSA |DSA |EC |OPENSSH |PGP |SSH2 |)PRIVATE KEY(?: BLOCK)?)-----"
)
_PRIVATE_KEY_BODY = re.compile(r"-----(?:\\n|\s{0,4})([A-Za-z0-9+/=]{20,})")
_GITHUB = re.compile(r"(?<![A-Za-z0-9_])((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})")
_SLACK = re.compile(r"(?<![A-Za-z0-9])(xox[baprse]-[A-Za-z0-9]{1,40}-[A-Za-z0-9-]{8,200})")
_STRIPE = re.compile(r"(?<![A-Za-z0-9])((?:sk|rk)_live_[A-Za-z0-9]{20,247})(?![A-Za-z0-9])")
_GOOGLE = re.compile(r"(?<![A-Za-z0-9_-])(AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])")
# Names that hold a secret: `db_password`, `DB_PASS` / `dbPass` (not `bypass`), `SECRET_KEY`,
# `secretKey`, `token_key`, `api_key`, `client_secret`...
_ASSIGNMENT = re.compile(
    r"(?i)([a-z0-9_.-]{0,40}(?:password|passwd|passphrase|pwd|(?<![a-z])pass|(?-i:(?<=[a-z0-9])Pass)"
    r"|secret(?:_?key)?|token(?:_?key)?|api_?key|apikey|access_?key|auth_?key"
    r"|client_?secret|private_?key))[\"']?\s{0,5}(?:=|:|:=|=>)\s{0,5}"
    r"(?:([\"'])([^\"'\s\\]{8,200})\2|([^\"'\s`;,#\\]{8,200})(?=$|[\s;,#\\]))"
)
# An unquoted value that is code: a call, an index, a variable (`$x`, `$this->pass`), an attribute path
# or a constant's name. A `$`, `<` or `>` inside an otherwise literal value (`pa$$w0rd`) is not.
_CODE_LIKE = re.compile(
    r"[()\[\]{}%]|^\$|->|=>|::|^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$|^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$"
)
_TEMPLATE_LIKE = re.compile(r"\{[^}]{0,200}\}|%[sd]")
# Options about a password rather than the password (Ansible's `update_password: on_create`,
# `generate_password: yes`, `password_expire`, `password_lock`): a verb before the word, a keyword after.
_PASSWORD_OPTION = re.compile(
    r"(?i)(?:^|[_.-])(?:update|generate|encrypt|expire|lock|unlock|prompt|require|validate|check|random|show"
    r"|hide|min|max|force|allow|disable|use|no|skip|ask)[_.-]?(?:password|passwd|pass|pwd)$"
)
_KEYWORD_VALUE = re.compile(r"[a-z]+(?:_[a-z]+)*")
_BASE64_LINE = re.compile(r"\s{0,40}[A-Za-z0-9+/=]{40,}\s{0,4}")
_CONTEXT_WORDS = re.compile(r"(?i)password|secret|token|key")


@dataclass(frozen=True)
class _Hit:
    """A secret found on a line: the secret text (never shown) and what to call it."""

    secret: str
    label: str


Finder = Callable[[str], Iterator[_Hit]]


def _lines(resource: Resource) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line handed to us, each capped to MAX_LINE characters."""
    for key, node in resource.body.items():
        if isinstance(node.value, str):
            line = int(key) if key.isdigit() else node.line
            yield line, node.value[:MAX_LINE]


def _scan(finder: Finder) -> Callable[[Resource, RuleContext], Iterable[Violation]]:
    """A check running `finder` over every line; one violation per distinct secret per line."""

    def check(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
        for line, text in _lines(resource):
            seen: set[str] = set()
            for hit in finder(text):
                if hit.secret in seen:
                    continue
                seen.add(hit.secret)
                yield Violation(message=f"Found {hit.label} `{mask(hit.secret)}` in plaintext (masked here).",
                                line=line, key=secret_key(hit.secret))

    return check


def _simple(pattern: re.Pattern[str], label: str) -> Finder:
    def find(text: str) -> Iterator[_Hit]:
        for match in pattern.finditer(text):
            secret = match.group(1)
            if "EXAMPLE" not in secret.upper() and not is_placeholder(secret):
                yield _Hit(secret, label)

    return find


def _find_aws_secret(text: str) -> Iterator[_Hit]:
    for match in _AWS_SECRET.finditer(text):
        secret = match.group(1)
        if "EXAMPLE" not in secret.upper() and not is_placeholder(secret):
            yield _Hit(secret, "AWS secret access key")


def _find_private_key(text: str, following: str | None) -> Iterator[_Hit]:
    """A key block's BEGIN line alone, or inline (`"-----BEGIN ...-----\\nMIIE..."` in JSON).

    A source line that merely mentions the marker (a parser, a check) is not a key, and neither
    is a marker followed by something other than key material (`...` in documentation, or the
    `Proc-Type: 4,ENCRYPTED` header of an encrypted key). `following` is the next line when it
    is among the lines to check.
    """
    for match in _PRIVATE_KEY.finditer(text):
        rest = text[match.end():]
        body = _PRIVATE_KEY_BODY.match(text, match.end() - 5)
        before = text[: match.start()].strip().strip("\"'")
        alone = not rest.strip().strip("\"',") and (not before or before.endswith((":", "=", "|")))
        if body is not None:
            yield _Hit(body.group(1)[:64], match.group(1).lower())
        elif alone and following is None:
            yield _Hit(text.strip(), match.group(1).lower())
        elif alone and following is not None and _BASE64_LINE.fullmatch(following[:MAX_LINE]):
            yield _Hit(following.strip()[:64], match.group(1).lower())


def _check_private_key(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    lines = dict(_lines(resource))
    for line, text in lines.items():
        for hit in _find_private_key(text, lines.get(line + 1)):
            yield Violation(message=f"Private key in plaintext: {hit.label} block.", line=line,
                            key=secret_key(hit.secret))


def _looks_random(value: str) -> bool:
    """At least two character classes: `cassandra` or `bearer` are words, `hunter2` is a password."""
    classes = [r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"]
    return re.search(r"[A-Za-z]", value) is not None and sum(bool(re.search(c, value)) for c in classes) >= 2


def _unquoted_in_code(text: str, end: int) -> bool:
    """An unquoted value followed by more code (`x,` `a + b` `--flag=v more`) is an expression."""
    rest = text[end:].strip()
    return bool(rest) and not rest.startswith(("#", "//", ";"))


def _names_a_secret_object(name: str, value: str) -> bool:
    """`auth-secret: basic-auth`, `tlsSecret: default/ca-secret`: a reference to a secret by name."""
    return name.lower().endswith("secret") and re.fullmatch(r"[a-z0-9][a-z0-9./_-]*", value) is not None \
        and re.search(r"[-/.]", value) is not None


def _is_literal_secret(name: str, value: str, quoted: bool) -> bool:
    """Whether an assigned value is a real literal secret rather than a reference or a dummy."""
    if is_placeholder(value) or "EXAMPLE" in value.upper() or _TEMPLATE_LIKE.search(value):
        return False
    if not quoted and _CODE_LIKE.search(value):
        return False  # `password = settings.DB_PASSWORD`, `key = f(x)`, `token: API_TOKEN`
    if value.lower() in name.lower() or _CONTEXT_WORDS.search(value):
        return False  # `password: password_field`, `secret: test_ssl_secret`: names, not secrets
    if value.startswith(("/", "./", "~/", "http://", "https://")) or _names_a_secret_object(name, value):
        return False
    if _PASSWORD_OPTION.search(name) and _KEYWORD_VALUE.fullmatch(value):
        return False
    return _looks_random(value)


def _known_by_a_specific_rule(text: str, value: str) -> bool:
    """A value another rule names precisely (an AWS secret key, a GitHub token...) is reported
    once, by that rule, not again as a generic hard-coded secret."""
    specific = (_AWS_KEY_ID, _AWS_SECRET, _GITHUB, _SLACK, _STRIPE, _GOOGLE)
    found = {match.group(1) for pattern in specific for match in pattern.finditer(text)}
    found |= formats.specific_secrets(text)
    return any(value in secret or secret in value for secret in found)


_ASSIGNMENT_WORDS = ("pass", "pwd", "secret", "token", "key")


def _find_assignment(text: str) -> Iterator[_Hit]:
    lowered = text.lower()
    if not any(word in lowered for word in _ASSIGNMENT_WORDS):
        return  # the pattern needs one of these words: skip the regex on the great majority of lines
    for match in _ASSIGNMENT.finditer(text):
        name = match.group(1)
        quoted = match.group(3) is not None
        value = match.group(3) if quoted else match.group(4)
        if not value or (not quoted and _unquoted_in_code(text, match.end())):
            continue
        if _known_by_a_specific_rule(text, value):
            continue
        if _is_literal_secret(name, value, quoted):
            yield _Hit(value, f"literal value assigned to `{name.strip('._-')[-40:]}`")


def _formatted(find: Callable[[str], formats.Found]) -> Finder:
    """A finder over one of the format-specific detectors of rules/_token_formats.py."""

    def finder(text: str) -> Iterator[_Hit]:
        for secret, label in find(text):
            yield _Hit(secret, label)

    return finder


def _either(*finders: Finder) -> Finder:
    def finder(text: str) -> Iterator[_Hit]:
        for find in finders:
            yield from find(text)

    return finder


# Where plaintext credentials sit in each framework: logical access (SOC 2), authentication factors
# readable in storage (PCI DSS 8.3.2), authentication and access control (HIPAA).
_CREDENTIAL_CONTROLS: dict[str, tuple[str, ...]] = {
    "soc2": ("CC6.1",), "pci-dss": ("8.3.2",), "hipaa": ("164.312(a)(1)", "164.312(d)"),
}
# Passwords of application and system accounts, also under the "no hard-coded passwords" controls.
_PASSWORD_CONTROLS: dict[str, tuple[str, ...]] = {
    "soc2": ("CC6.1",), "pci-dss": ("8.3.2", "8.6.2"),
    "hipaa": ("164.308(a)(5)(ii)(D)", "164.312(a)(1)", "164.312(d)"),
}


def _rule(id_: str, title: str, severity: Severity, finder: Finder, rationale: str, remediation: str,
          peers: dict[str, tuple[str, ...]] | None = None,
          controls: dict[str, tuple[str, ...]] | None = None) -> Rule:
    return Rule(id=id_, title=title, severity=severity, sources=_SOURCES, types=frozenset(),
                rationale=rationale, remediation=remediation, check=_scan(finder),
                controls=controls or {}, peers=peers or {})


_ROTATE = "Revoke and rotate it now (it stays in git history), then load it at run time from a secret store."

RULES: tuple[Rule, ...] = (
    _rule("CB-SECRET-001", "AWS access key id in plaintext", Severity.HIGH,
          _simple(_AWS_KEY_ID, "AWS access key id"),
          "An access key id in source control is usually committed with its secret key and grants "
          "programmatic access to the AWS account.",
          "Deactivate the key in IAM, rotate it, and use IAM roles or a secrets manager instead. " + _ROTATE,
          peers={"checkov": ("CKV_SECRET_2",), "kics": ("76c0bcde-903d-456e-ac13-e58c34987852",)}),
    _rule("CB-SECRET-002", "AWS secret access key in plaintext", Severity.CRITICAL, _find_aws_secret,
          "A secret access key is the credential itself: whoever reads the repository can act as that "
          "IAM principal.",
          "Deactivate the key pair in IAM and use roles (OIDC for CI) instead of long-lived keys. " + _ROTATE,
          peers={"checkov": ("CKV_SECRET_2",), "kics": ("83ab47ff-381d-48cd-bac5-fb32222f54af",)}),
    Rule(id="CB-SECRET-003", title="Private key in plaintext", severity=Severity.CRITICAL, sources=_SOURCES,
         types=frozenset(),
         rationale="A private key in the repository lets anyone with read access impersonate the server "
         "or user it belongs to and decrypt what was encrypted for it.",
         remediation="Remove the key, issue a new key pair, and mount keys from a secret store at deploy "
         "time. " + _ROTATE,
         check=_check_private_key,
         peers={"checkov": ("CKV_SECRET_13",), "kics": ("51b5b840-cd0c-4556-98a7-fe5f4def80cf",)}),
    _rule("CB-SECRET-004", "GitHub token in plaintext", Severity.CRITICAL,
          _simple(_GITHUB, "GitHub token"),
          "A GitHub token grants its owner's access to repositories and organisations, including "
          "pushing code that CI will run.",
          "Revoke the token in GitHub settings and use the workflow's GITHUB_TOKEN or an app "
          "installation token. " + _ROTATE),
    _rule("CB-SECRET-005", "Slack token or webhook in plaintext", Severity.HIGH,
          _either(_simple(_SLACK, "Slack token"), _formatted(formats.find_slack_webhook)),
          "Slack tokens and webhook URLs let anyone read or post to your workspace, a common "
          "phishing and data-exfiltration channel.",
          "Revoke the token or webhook in Slack's app settings and inject it from a secret store. " + _ROTATE,
          peers={"checkov": ("CKV_SECRET_14",),
                 "kics": ("7908a9e3-5cac-41b1-b514-5f6d82ce02d5", "ccde326f-ebc7-4772-8ad5-de66e90a8cc3")}),
    _rule("CB-SECRET-006", "Stripe live secret key in plaintext", Severity.CRITICAL,
          _simple(_STRIPE, "Stripe live secret key"),
          "A live Stripe secret or restricted key can issue refunds, read customer and card "
          "metadata, and move money.",
          "Roll the key in the Stripe dashboard and load it from a secret store. " + _ROTATE,
          peers={"checkov": ("CKV_SECRET_17",),
                 "kics": ("6abcae17-b175-4698-a9a5-b07661974749", "54274b18-bfac-47ce-afd1-0f05bc3e3b59")}),
    _rule("CB-SECRET-007", "Google API key in plaintext", Severity.MEDIUM,
          _simple(_GOOGLE, "Google API key"),
          "Google API keys are billed to your project and, unless restricted, usable from anywhere "
          "for every API enabled in it.",
          "Delete or regenerate the key, restrict it by API and referrer/IP, and keep it out of "
          "source. " + _ROTATE,
          peers={"kics": ("e9856348-4069-4ac0-bd91-415f6a7b84a4",)}),
    _rule("CB-SECRET-008", "Hard-coded password or secret", Severity.HIGH, _find_assignment,
          "Passwords and secrets written into code or configuration are readable by everyone with "
          "repository access, forever (git history), and are shared across environments.",
          "Replace the literal with a reference to an environment variable or secret manager "
          "(e.g. `${DB_PASSWORD}`, a Kubernetes Secret, AWS Secrets Manager). " + _ROTATE,
          peers={"checkov": ("CKV_SECRET_10",),
                 "kics": ("487f4be7-3fd9-4506-a07a-eae252180c08", "3e2d3b2f-c22a-4df1-9cc6-a7a0aebb0c99",
                          "baee238e-1921-4801-9c3f-79ae1d7b2cbc")}),
    _rule("CB-SECRET-009", "Password embedded in a URL", Severity.HIGH, _formatted(formats.find_url_credentials),
          "A connection string such as `postgres://app:password@db/prod` carries the password itself: "
          "everyone who can read the file, a log line or an error message that prints the URL can log in.",
          "Keep the URL without its password (`postgres://app@db/prod`) and pass the password separately "
          "from a secret store (e.g. `PGPASSWORD`, a mounted secret file), or build the URL at run time "
          "from an injected variable. " + _ROTATE,
          peers={"checkov": ("CKV_SECRET_4",), "kics": ("c4d3b58a-e6d4-450f-9340-04f1e702eaae",)},
          controls=_PASSWORD_CONTROLS),
    _rule("CB-SECRET-010", "JSON Web Token in plaintext", Severity.HIGH, _formatted(formats.find_jwt),
          "A signed JWT is a bearer credential: until it expires (service tokens often never do) anyone "
          "holding it is treated as its subject, with the scopes and roles it claims.",
          "Remove the token and have the service obtain a fresh one at run time (OAuth client "
          "credentials, a mounted service-account token); revoke it or rotate its signing key if it "
          "cannot expire soon. " + _ROTATE,
          peers={"checkov": ("CKV_SECRET_9",)}, controls=_CREDENTIAL_CONTROLS),
    _rule("CB-SECRET-011", "Azure Storage account key in plaintext", Severity.CRITICAL,
          _formatted(formats.find_azure_account_key),
          "An account key in a connection string (`AccountKey=...`) grants full control of every "
          "container, queue, table and file share of the storage account, bypassing Azure AD and RBAC.",
          "Rotate the key in the storage account's Access keys blade, then use a managed identity with "
          "RBAC (or short-lived SAS tokens) instead of account keys; disable shared key access where "
          "possible. " + _ROTATE,
          peers={"checkov": ("CKV_SECRET_3",)}, controls=_CREDENTIAL_CONTROLS),
    _rule("CB-SECRET-012", "SendGrid API key in plaintext", Severity.HIGH, _formatted(formats.find_sendgrid),
          "A SendGrid key sends mail as your verified domains, the ideal phishing tool, and can read "
          "contact lists and email activity depending on its scopes.",
          "Delete the key in SendGrid's API Keys settings, create one with the narrowest scopes and "
          "inject it from a secret store. " + _ROTATE,
          controls=_CREDENTIAL_CONTROLS),
    _rule("CB-SECRET-013", "Twilio credentials in plaintext", Severity.HIGH, _formatted(formats.find_twilio),
          "Twilio account and API key SIDs committed with their secrets or auth token let anyone send "
          "SMS and place calls billed to the account, and read message logs containing customer data.",
          "Revoke the API key (or rotate the auth token) in the Twilio console, and load SIDs and "
          "secrets from a secret store. " + _ROTATE,
          peers={"checkov": ("CKV_SECRET_18",), "kics": ("e0f01838-b1c2-4669-b84b-981949ebe5ed",)},
          controls=_CREDENTIAL_CONTROLS),
    _rule("CB-SECRET-014", "Mailgun API key in plaintext", Severity.HIGH, _formatted(formats.find_mailgun),
          "A Mailgun private API key sends mail from your domains and reads stored messages and logs.",
          "Rotate the key in Mailgun's API security settings and inject it from a secret store. " + _ROTATE,
          peers={"kics": ("62d0025d-9575-4eff-b60b-d3b4fcec0d04",)}, controls=_CREDENTIAL_CONTROLS),
    _rule("CB-SECRET-015", "npm access token in plaintext", Severity.CRITICAL, _formatted(formats.find_npm),
          "An npm token can publish new versions of every package its owner maintains: a supply-chain "
          "attack on everyone who installs them.",
          "Revoke the token (`npm token revoke` or the npm website), use a granular, read-only or "
          "automation token from a CI secret, or trusted publishing. " + _ROTATE,
          peers={"checkov": ("CKV_SECRET_12",)}, controls=_CREDENTIAL_CONTROLS),
    _rule("CB-SECRET-016", "PyPI API token in plaintext", Severity.CRITICAL, _formatted(formats.find_pypi),
          "A PyPI token uploads releases of the projects it is scoped to (or all of its owner's): a "
          "supply-chain attack on everyone who installs them.",
          "Remove the token in PyPI's account settings and publish from CI with trusted publishing "
          "(OIDC), or a project-scoped token kept in a CI secret. " + _ROTATE,
          controls=_CREDENTIAL_CONTROLS),
    _rule("CB-SECRET-017", "Microsoft Teams incoming webhook URL in plaintext", Severity.MEDIUM,
          _formatted(formats.find_teams_webhook),
          "An incoming webhook URL is its own credential: anyone who has it can post messages, links "
          "and cards into the channel, a convincing phishing channel inside the organisation.",
          "Remove the webhook from the channel's connectors (or its workflow), create a new one and "
          "keep its URL in a secret store. " + _ROTATE,
          peers={"kics": ("d6214dca-a31b-425f-bcf7-f4faa772a1c0",)}, controls=_CREDENTIAL_CONTROLS),
)


def find_secrets(text: str, assignments: bool = True) -> Iterator[tuple[str, str]]:
    """(label, secret) for every credential the text rules would find on one line: AWS keys,
    tokens of known services, and (with `assignments`) literal passwords/secrets assigned to a
    name. For checks that look inside a resource's attribute (user data, an environment value)
    rather than at changed lines."""
    line = text[:MAX_LINE]
    finders: tuple[Finder, ...] = (
        _simple(_AWS_KEY_ID, "AWS access key id"), _find_aws_secret, _simple(_GITHUB, "GitHub token"),
        _simple(_SLACK, "Slack token"), _formatted(formats.find_slack_webhook),
        _simple(_STRIPE, "Stripe live secret key"), _simple(_GOOGLE, "Google API key"),
        _formatted(formats.find_url_credentials), _formatted(formats.find_jwt),
        _formatted(formats.find_azure_account_key), _formatted(formats.find_sendgrid),
        _formatted(formats.find_twilio), _formatted(formats.find_mailgun), _formatted(formats.find_npm),
        _formatted(formats.find_pypi), _formatted(formats.find_teams_webhook),
        *((_find_assignment,) if assignments else ()),
    )
    for finder in finders:
        for hit in finder(line):
            yield hit.label, hit.secret
