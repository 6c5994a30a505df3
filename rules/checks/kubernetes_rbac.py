"""Kubernetes RBAC checks over Role and ClusterRole rules.

A rule grants an operation when its apiGroups, resources and verbs each hold the operation's
value or `*`; `resourceNames` narrows a rule to named objects, which is the documented way to
delegate `bind`/`escalate` safely and to share one named Secret, so such rules pass. Rules with a
bare `*` everywhere are CB-K8S-017's findings, not repeated here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bot.engine.model import Node, Resource, Violation
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
    return bool(_strings(rule.get("resourceNames")))


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
