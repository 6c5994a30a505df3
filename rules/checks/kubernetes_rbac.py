"""Kubernetes RBAC checks over Role and ClusterRole rules.

A rule grants an operation when its apiGroups, resources and verbs each hold the operation's
value or `*`; `resourceNames` narrows a rule to named objects, which is the documented way to
delegate `bind`/`escalate` safely and to share one named Secret, so such rules pass. Rules with a
bare `*` everywhere are CB-K8S-017's findings, not repeated here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import RuleContext

_RBAC_GROUP = "rbac.authorization.k8s.io"
_ROLE_RESOURCES = frozenset({"roles", "clusterroles"})
_READ_VERBS = frozenset({"get", "list", "watch"})


def _strings(node: Node | None) -> list[tuple[str, Node]]:
    """The string items of a list (or a lone string), each with its node."""
    if node is None:
        return []
    items = node.value if isinstance(node.value, list) else [node]
    return [(item.value.strip(), item) for item in items if isinstance(item.value, str)]


def _rules(resource: Resource) -> Iterator[tuple[int, Node]]:
    listed = resource.body.get("rules")
    for index, rule in enumerate(listed.children() if listed is not None else []):
        if isinstance(rule.value, dict):
            yield index, rule


def _named_objects_only(rule: Node) -> bool:
    """`resourceNames` narrows the rule, or may (a templated value, or template output nobody sees)."""
    names = rule.get("resourceNames")
    return bool(_strings(names)) or rule.unseen("resourceNames") or (names is not None and _opaque(names))


def _opaque(node: Node) -> bool:
    """Templated YAML whose items a template writes: an open mapping, or a list with an unknown item."""
    return node.hidden is not None or any(isinstance(item.value, Unknown) for item in node.children())


def _holds(rule: Node, key: str, wanted: Iterable[str]) -> bool:
    values = {value.lower() for value, _ in _strings(rule.get(key))}
    return "*" in values or any(w in values for w in wanted)


def check_rbac_escalation(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CB-K8S-018: `bind` or `escalate` on roles/clusterroles, not narrowed by resourceNames."""
    for index, rule in _rules(resource):
        if _named_objects_only(rule):
            continue
        if not (_holds(rule, "apiGroups", [_RBAC_GROUP]) and _holds(rule, "resources", _ROLE_RESOURCES)):
            continue
        for verb, node in _strings(rule.get("verbs")):
            if verb.lower() in ("bind", "escalate"):
                yield Violation(
                    message=f"RBAC rule {index} grants `{verb}` on roles: the subject can grant itself "
                    "permissions it does not hold.",
                    line=node.line, end_line=node.end_line, key=f"{index}:{verb.lower()}",
                )


def check_rbac_secret_read(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CB-K8S-020: get/list/watch on core `secrets`, not narrowed by resourceNames."""
    for index, rule in _rules(resource):
        if _named_objects_only(rule) or not _holds(rule, "apiGroups", [""]):
            continue
        verbs = {value.lower() for value, _ in _strings(rule.get("verbs"))}
        granted = sorted(verbs & _READ_VERBS) or (["*"] if "*" in verbs else [])
        if not granted:
            continue
        for resource_name, node in _strings(rule.get("resources")):
            if resource_name.lower() == "secrets":
                yield Violation(
                    message=f"RBAC rule {index} lets the subject read every Secret in its scope "
                    f"({', '.join(granted)} on secrets).",
                    line=node.line, end_line=node.end_line, key=str(index),
                )


@dataclass(frozen=True)
class _Operation:
    """An API operation a role may grant: any of `verbs` (empty: any verb at all) on any of
    `resources` (named, or by a sub-resource pattern such as `*/approval`; a bare `*` resource is
    CB-K8S-017's finding) in any of `groups`."""

    groups: frozenset[str]
    resources: frozenset[str]
    verbs: frozenset[str] = frozenset()


def _names(value: str, wanted: frozenset[str], *, everything: bool) -> bool:
    """The rule's resource item covers one of `wanted`: by name, by a sub-resource pattern
    (`*/approval` is the approval sub-resource of every resource, as RBAC matches it), or, when
    `everything`, by a bare `*` (elsewhere CB-K8S-017's finding)."""
    item = value.lower()
    if item in wanted or (everything and item == "*"):
        return True
    return item.startswith("*/") and any(w.endswith(item[1:]) and "/" in w for w in wanted)


def _granting(rule: Node, operation: _Operation, *, everything: bool = False) -> list[Node]:
    """The resource items through which `rule` grants `operation` (none when it does not)."""
    if not _holds(rule, "apiGroups", operation.groups):
        return []
    verbs = _strings(rule.get("verbs"))
    if not verbs or (operation.verbs and not _holds(rule, "verbs", operation.verbs)):
        return []
    return [node for value, node in _strings(rule.get("resources"))
            if _names(value, operation.resources, everything=everything)]


def _grants(resource: Resource, operation: _Operation, *, named_narrows: bool,
            message: str) -> Iterator[Violation]:
    for index, rule in _rules(resource):
        if named_narrows and _named_objects_only(rule):
            continue
        for node in _granting(rule, operation):
            yield Violation(message=message.format(index=index, resource=node.value),
                            line=node.line, end_line=node.end_line, key=f"{index}:{node.value}")


_WEBHOOKS = _Operation(frozenset({"admissionregistration.k8s.io"}),
                       frozenset({"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}),
                       frozenset({"create", "update", "patch"}))
_CSR_APPROVAL = _Operation(frozenset({"certificates.k8s.io"}),
                           frozenset({"certificatesigningrequests/approval"}), frozenset({"update", "patch"}))
_SIGNER_APPROVE = _Operation(frozenset({"certificates.k8s.io"}), frozenset({"signers"}), frozenset({"approve"}))
_NODE_PROXY = _Operation(frozenset({""}), frozenset({"nodes/proxy"}))
_TOKEN_CREATE = _Operation(frozenset({""}), frozenset({"serviceaccounts/token"}), frozenset({"create"}))
_PV_CREATE = _Operation(frozenset({""}), frozenset({"persistentvolumes"}), frozenset({"create"}))


def check_rbac_webhooks(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CB-K8S-028: write access to admission webhook configurations (resourceNames narrows it to
    the subject's own configurations, which passes)."""
    return _grants(resource, _WEBHOOKS, named_narrows=True,
                   message="RBAC rule {index} can rewrite {resource}: it decides what every API request "
                   "is checked or mutated by.")


def check_rbac_csr_approval(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CB-K8S-029: approving CertificateSigningRequests needs both `update` on the approval
    sub-resource and `approve` on a signer; a role holding both can issue cluster credentials
    (resourceNames on signers only chooses which credentials)."""
    if not any(_granting(rule, _SIGNER_APPROVE, everything=True) for _, rule in _rules(resource)):
        return []
    return _grants(resource, _CSR_APPROVAL, named_narrows=False,
                   message="RBAC rule {index} can approve certificate signing requests (with `approve` on "
                   "signers elsewhere in the role): it can issue client certificates for the cluster.")


def check_rbac_node_proxy(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CB-K8S-030: any verb on nodes/proxy reaches the kubelet API of every node."""
    return _grants(resource, _NODE_PROXY, named_narrows=False,
                   message="RBAC rule {index} grants {resource}: direct access to the kubelet API "
                   "(logs, exec, pod control) on every node, outside API-server audit.")


def check_rbac_token_create(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CB-K8S-031: `create` on serviceaccounts/token mints tokens for service accounts (resourceNames
    narrows it to named accounts, which passes)."""
    return _grants(resource, _TOKEN_CREATE, named_narrows=True,
                   message="RBAC rule {index} can mint API tokens for any service account in its scope "
                   "(create on {resource}).")


def check_rbac_pv_create(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """CB-K8S-032: `create` on persistentvolumes lets the subject define host-path volumes."""
    return _grants(resource, _PV_CREATE, named_narrows=False,
                   message="RBAC rule {index} can create PersistentVolumes, which may point at any host path "
                   "of a node.")
