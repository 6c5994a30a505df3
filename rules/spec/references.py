"""Whether one resource's attribute refers to another: what a `referrer` condition reads.

A reference the parser could not resolve is an `Unknown` whose text names what was written
(`aws_vpc.main.id`, `Ref LoggedVpc`, `Fn::Sub arn:...${Distribution}`); that text tells which
resource it points at. A literal may name the resource too (a logging configuration's `bucket =
"example-logs"` names the bucket whose `bucket` is that). A reference through a variable, a local
or a module output names nothing we can see: whether it points here is not known before apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.engine.model import Node, Resource, Unknown
from bot.engine.selection import reference_names

_INDIRECT = re.compile(r"(?<![\w.])(var|local|module|each|count|self)\.")


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


def mentions(expression: str, name: str) -> bool:
    """`name` appears in `expression` as a whole name (`aws_vpc.main`, not `aws_vpc.main2`)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w-])", expression) is not None


def names_a_resource(expression: str) -> bool:
    """Whether an unresolved value names its target directly (a Terraform resource or data
    source, a CloudFormation logical id) rather than through a variable, local or module output
    whose value we cannot see."""
    if re.match(r"\s*Ref\s", expression):
        return not re.match(r"\s*Ref\s+AWS::", expression)
    return _INDIRECT.search(expression) is None


def literal(node: Node | None) -> str | None:
    """A literal string or number as text; None when absent, unknown, a bool or a structure."""
    if node is None or isinstance(node.value, (Unknown, bool)) or node.value is None:
        return None
    if isinstance(node.value, (str, int, float)):
        return str(node.value)
    return None


def refers_to(node: Node | None, target: Resource, names: frozenset[str] = frozenset()) -> bool | None:
    """Whether the attribute `node` refers to `target`: True when one of its unresolved parts names
    it or its literal is one of `names`; None when it is unresolved but names nothing we can see (a
    variable, a module output); False when it is absent, another literal, or names other resources."""
    if node is None:
        return False
    text = literal(node)
    if text is not None and text in names:
        return True
    found = list(unknowns(node))
    if any(mentions(str(u), name) for u in found for name in reference_names(target)):
        return True
    if any(not names_a_resource(str(u)) for u in found):
        return None
    return False
