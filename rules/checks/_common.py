"""Reading values and references for the AWS Python checks (pure helpers, no rule logic).

Terraform and CloudFormation both arrive as `Node` trees; a value the parser could not resolve is
an `Unknown` whose text names what was written (`aws_vpc.main.id`, `Ref Vpc`,
`Fn::GetAtt ['Trail', 'Arn']`). That text is what tells which resource an attribute points at.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.engine.context import siblings_of_types
from bot.engine.model import Node, Resource, Unknown
from bot.engine.rule import RuleContext
from rules.spec.references import literal, refers_to


def text(node: Node | None) -> str | None:
    """A literal string or number as text; None when absent, unknown, a bool or a structure."""
    return literal(node)


def is_unknown(node: Node | None) -> bool:
    return node is not None and isinstance(node.value, Unknown)


def points_at(node: Node | None, target: Resource) -> bool | None:
    """Whether the attribute `node` refers to `target`: True when one of its unresolved parts
    names it, None when it is unresolved but names nothing we can see (a variable, a module
    output), False when it is absent, literal, or names other resources."""
    return refers_to(node, target)


def live_siblings(resource: Resource, ctx: RuleContext, types: Sequence[str]) -> list[Resource]:
    """Sibling resources of `types` that will exist (managed Terraform blocks not counted away,
    any CloudFormation resource)."""
    found = []
    for other in siblings_of_types(ctx, resource, types):
        if other is resource:
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
