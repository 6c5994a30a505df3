"""Reading values and references for the AWS Python checks (pure helpers, no rule logic).

Terraform and CloudFormation both arrive as `Node` trees; a value the parser could not resolve is
an `Unknown` whose text names what was written (`aws_vpc.main.id`, `Ref Vpc`,
`Fn::GetAtt ['Trail', 'Arn']`). That text is what tells which resource an attribute points at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from bot.engine.model import Node, Resource, Unknown
from bot.engine.rule import RuleContext
from bot.engine.selection import reference_names


def text(node: Node | None) -> str | None:
    """A literal string or number as text; None when absent, unknown, a bool or a structure."""
    if node is None or isinstance(node.value, (Unknown, bool)) or node.value is None:
        return None
    if isinstance(node.value, (str, int, float)):
        return str(node.value)
    return None


def is_unknown(node: Node | None) -> bool:
    return node is not None and isinstance(node.value, Unknown)


def unknowns(node: Node | None) -> Iterator[Unknown]:
    """Every unresolved value inside `node` (the node itself, list items, mapping values)."""
    if node is None:
        return
    if isinstance(node.value, Unknown):
        yield node.value
    elif isinstance(node.value, dict):
        for child in node.value.values():
            yield from unknowns(child)
    elif isinstance(node.value, list):
        for child in node.value:
            yield from unknowns(child)


def _mentions(expression: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w-])", expression) is not None


def points_at(node: Node | None, target: Resource) -> bool | None:
    """Whether the attribute `node` refers to `target`: True when one of its unresolved parts
    names it, None when it is unresolved but names nothing we can see (a variable, a module
    output), False when it is absent, literal, or names other resources."""
    if node is None:
        return False
    names = reference_names(target)
    found = list(unknowns(node))
    if any(_mentions(str(u), name) for u in found for name in names):
        return True
    if any(not _names_a_resource(str(u)) for u in found):
        return None
    return False


_INDIRECT = re.compile(r"(?<![\w.])(var|local|module|each|count|self)\.")


def _names_a_resource(expression: str) -> bool:
    """Whether an unresolved value names its target directly (a Terraform resource or data
    source, a CloudFormation logical id) rather than through a variable, local or module output
    whose value we cannot see."""
    if re.match(r"\s*Ref\s", expression):
        return not re.match(r"\s*Ref\s+AWS::", expression)
    return _INDIRECT.search(expression) is None


def live_siblings(resource: Resource, ctx: RuleContext, types: Sequence[str]) -> list[Resource]:
    """Sibling resources of `types` that will exist (managed Terraform blocks not counted away,
    any CloudFormation resource)."""
    found = []
    for other in ctx.siblings(resource):
        if other is resource or other.type not in types:
            continue
        if other.source == "terraform" and other.kind != "resource":
            continue
        if not other.exists:
            continue
        found.append(other)
    return found


def properties(resource: Resource) -> Node:
    """Where a resource's attributes live: the Terraform body, CloudFormation `Properties`."""
    if resource.source == "cloudformation":
        props = resource.body.get("Properties")
        if props is not None and isinstance(props.value, dict):
            return props
        return Node({}, resource.line, resource.line)
    return resource.body


def attribute(resource: Resource, terraform: str, cloudformation: str) -> Node | None:
    """The same attribute under its Terraform or CloudFormation name."""
    key = cloudformation if resource.source == "cloudformation" else terraform
    return properties(resource).get(*key.split("."))
