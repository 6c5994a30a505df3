"""Kubernetes workload checks the rule language cannot say in a few comparisons.

- service-account token: whether the token is mounted depends on the ServiceAccount the pod
  names, which is another manifest of the same file.
- literal secrets in env: a name that says "secret" with a literal value that is not an obvious
  placeholder; the value itself never appears in a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from bot.engine.context import siblings_of_types
from bot.engine.model import SECRET_SLOT, Node, Resource, Unknown, Violation
from bot.engine.rule import RuleContext
from rules._support import is_placeholder, masked, secret_key
from rules._workloads import containers, pod_specs


def _text(node: Node | None) -> str | None:
    """A node's string value; None when absent, unknown or not a string."""
    if node is None or isinstance(node.value, Unknown) or not isinstance(node.value, str):
        return None
    return node.value


def _name(container: Node) -> str:
    return _text(container.get("name")) or "<unnamed>"


def _named(resource: Resource, name: str) -> bool:
    found = resource.body.get("metadata", "name")
    return found is not None and found.value == name


def _namespace(resource: Resource) -> str | None:
    return _text(resource.body.get("metadata", "namespace"))


def _account_disables_mount(resource: Resource, account: str, ctx: RuleContext) -> bool:
    """The same file defines the ServiceAccount the pod runs as, with its token mount off."""
    namespace = _namespace(resource)
    for sibling in siblings_of_types(ctx, resource, ("ServiceAccount",)):
        if not _named(sibling, account):
            continue
        theirs = _namespace(sibling)
        if namespace is not None and theirs is not None and namespace != theirs:
            continue
        setting = sibling.body.get("automountServiceAccountToken")
        if setting is not None and setting.value in (False, "false"):
            return True
    return False


def check_token_automount(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CB-K8S-012: the pod mounts its service-account token only when someone decided it should.

    An explicit `automountServiceAccountToken` on the pod spec (false, or true for a workload that
    calls the API) is a decision and passes; without one, the pod inherits its ServiceAccount's
    setting, which passes only when that account is in the same file with the mount off."""
    for spec in pod_specs(resource):
        if spec.get("automountServiceAccountToken") is not None:
            continue
        if spec.unseen("automountServiceAccountToken"):  # template output may set it
            yield Violation(message="Cannot tell whether the pod mounts its API token: template output nobody "
                            "sees may set automountServiceAccountToken.", line=spec.line, end_line=spec.line,
                            key="unseen", undecided=True)
            continue
        named = spec.get("serviceAccountName") or spec.get("serviceAccount")
        account = _text(named)
        if named is not None and account is None:
            continue  # a computed name: cannot tell which account
        account = (account or "").strip() or "default"
        if _account_disables_mount(resource, account, ctx):
            continue
        where = named if named is not None else spec  # the account's line, else the pod spec's first
        yield Violation(
            message=f"The pod mounts the API token of ServiceAccount `{account}` by default "
            "(automountServiceAccountToken is not set on the pod, nor false on that account in this file).",
            line=where.line, end_line=where.line, key=account,
        )


# A name that ends in a credential word holds the credential; one that goes on (`..._FILE`,
# `..._URL`, `..._NAME`, `..._TTL`) only says something about it.
_SECRET_NAME = re.compile(
    r"(?i)(?:^|[_.-])(?:PASSWORD|PASSWD|PASS|PWD|PASSPHRASE|SECRET|SECRET_?KEY|TOKEN|API_?KEY|ACCESS_?KEY"
    r"|AUTH_?KEY|PRIVATE_?KEY|CREDENTIALS?)(?:_?VALUE)?$"
)
_SHELL_NAMES = frozenset({"PWD", "OLDPWD"})  # the working directory, not a password
_ENV_REFERENCE = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_]*\)")


def _literal_secret(item: Node) -> tuple[str, Node, str] | None:
    """(name, value node, value) of an env entry whose literal value looks like a credential."""
    name = _text(item.get("name"))
    value_node = item.get("value")
    value = _text(value_node)
    if name is None or value_node is None or value is None:
        return None
    if not _SECRET_NAME.search(name) or name.upper() in _SHELL_NAMES:
        return None
    stripped = value.strip()
    if not stripped or is_placeholder(stripped) or _ENV_REFERENCE.fullmatch(stripped):
        return None
    return name, value_node, stripped


def _env_items(container: Node) -> Iterator[Node]:
    env = container.get("env")
    for item in env.children() if env is not None else []:
        if isinstance(item.value, dict):
            yield item


def check_env_literal_secret(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CB-K8S-013: no credential written as a literal `env[].value`."""
    for spec in pod_specs(resource):
        for container in containers(spec):
            for item in _env_items(container):
                found = _literal_secret(item)
                if found is None:
                    continue
                name, node, value = found
                yield Violation(
                    message=f"Container `{_name(container)}` sets `{name}` to a literal value "
                    f"(`{SECRET_SLOT}`, masked here) in the manifest.",
                    line=node.line, end_line=node.end_line,
                    key=f"{_name(container)}:{name}:{secret_key(value)}", secret=masked(value),
                )
