"""Joining hcl2's values with the outline's lines into `Node` trees.

hcl2 gives values without lines and the outline gives lines without values; they meet here, by
attribute and entry name, by list position, and for nested blocks by type and order. Where the
two disagree (odd input), a value falls back to the lines of what encloses it. Expressions are
resolved through the module's `Scope` on the way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.engine.model import Node, Origin
from bot.engine.parsers.terraform.hcl2_shape import META_KEYS, unwrap
from bot.engine.parsers.terraform.outline import Block, Expr
from bot.engine.parsers.terraform.values import Scope, is_expression

__all__ = ["body_node", "value_node"]

def _plain_node(value: Any, line: int, end_line: int, origin: Origin | None = None) -> Node:
    """A resolved value (e.g. a variable's default map) placed on the referring lines, each part
    saying where the value came from."""
    if isinstance(value, dict):
        return Node({k: _plain_node(v, line, end_line, origin) for k, v in value.items()}, line, end_line, origin)
    if isinstance(value, list):
        return Node([_plain_node(v, line, end_line, origin) for v in value], line, end_line, origin)
    return Node(value, line, end_line, origin)


def value_node(raw: Any, where: Expr, scope: Scope) -> Node:
    """An attribute's value as a Node tree: entries and items on their own lines, resolved."""
    if isinstance(raw, dict):
        entries = where.entries or {}
        return Node(
            {
                k: value_node(v, entries.get(k) or Expr(where.line, where.end_line), scope)
                for k, v in raw.items()
                if k not in META_KEYS
            },
            where.line,
            where.end_line,
        )
    if isinstance(raw, list):
        items = where.items if where.items is not None and len(where.items) == len(raw) else None
        return Node(
            [
                value_node(v, items[i] if items else Expr(where.line, where.end_line), scope)
                for i, v in enumerate(raw)
            ],
            where.line,
            where.end_line,
        )
    if is_expression(raw):
        value, origin = scope.resolve_with_origin(raw)
        return _plain_node(value, where.line, where.end_line, origin)
    return Node(raw, where.line, where.end_line)


def body_node(values: Mapping[str, Any], outline: Block, scope: Scope) -> Node:
    """A block body: attributes by name, nested blocks matched to the outline by type and order."""
    by_type: dict[str, list[Block]] = {}
    for child in outline.blocks:
        by_type.setdefault(child.type, []).append(child)
    out: dict[str, Node] = {}
    for key, raw in values.items():
        if key in META_KEYS:
            continue
        where = outline.attrs.get(key)
        children = by_type.get(key)
        if where is None and children and isinstance(raw, list) and len(children) == len(raw):
            items = [_nested_block_node(v, b, scope) for v, b in zip(raw, children)]
            out[key] = Node(items, items[0].line, items[-1].end_line)
        else:
            out[key] = value_node(raw, where or Expr(outline.line, outline.end_line), scope)
    return Node(out, outline.line, outline.end_line)


def _nested_block_node(raw: Any, outline: Block, scope: Scope) -> Node:
    """One nested block; labelled ones (`dynamic "x"`) keep hcl2's {label: body} shape."""
    body = unwrap(raw, outline.labels)
    node = body_node(body if isinstance(body, dict) else {}, outline, scope)
    for label in reversed(outline.labels):
        node = Node({label: node}, outline.line, outline.end_line)
    return node
