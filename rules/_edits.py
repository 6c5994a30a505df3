"""Mechanical edits of Terraform source lines, shared by the rule packs and the rule language.

A suggestion is only offered where the edit is mechanical: a literal written on one line, or a
block whose first line can take new lines after it; everything else returns None.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.engine.model import Node, Resource
from bot.engine.parsers import is_terraform_json

_LITERAL = r'"(?:[^"\\$]++|\\.)*+"|-?\d+(?:\.\d+)?|true|false|null'
_TRAILER = r"\s*(?:(?:#|//).*)?"


def replace_literal(resource: Resource, node: Node, key: str, new: str) -> str | None:
    """`key = <old literal>` on one line with the literal swapped for `new`; None when the value
    is not a literal written on that line (a variable, a function, a multi-line value).

    In Terraform's JSON syntax the line reads `"key": <old literal>,` and `new` (a bool, number
    or quoted string) is valid JSON as it stands."""
    if node.line != node.end_line:
        return None
    text = resource.text_at(node.line)
    if text is None:
        return None
    if is_terraform_json(resource.path):
        pattern = rf'(\s*"{re.escape(key)}"\s*:\s*)({_LITERAL})(\s*,?\s*)'
    else:
        pattern = rf"(\s*{re.escape(key)}\s*=\s*)({_LITERAL})({_TRAILER})"
    match = re.fullmatch(pattern, text)
    if match is None:
        return None
    return f"{match.group(1)}{new}{match.group(3)}"


def _header(resource: Resource, line: int) -> str | None:
    """The block header line when it opens the block and does not also close it."""
    text = resource.text_at(line)
    if text is None or not re.fullmatch(rf"[^{{}}]*\{{{_TRAILER}", text):
        return None
    return text


def _child_indent(resource: Resource, block: Node | None, line: int, header: str) -> str:
    """The indentation of the block's first attribute, else the header's plus two spaces."""
    children = sorted(n.line for _, n in block.items() if n.line > line) if block is not None else []
    for child_line in children:
        text = resource.text_at(child_line)
        if text is not None and text.strip():
            return text[: len(text) - len(text.lstrip())]
    return header[: len(header) - len(header.lstrip())] + "  "


def add_lines(resource: Resource, block: Node | None, new_lines: Sequence[str]) -> str | None:
    """The block's header followed by `new_lines`, indented like the block's attributes. None in
    Terraform's JSON syntax, where HCL lines would not fit (and commas depend on neighbours)."""
    if is_terraform_json(resource.path):
        return None
    line = block.line if block is not None else resource.line
    header = _header(resource, line)
    if header is None:
        return None
    body = block if block is not None else resource.body
    indent = _child_indent(resource, body, line, header)
    return "\n".join([header, *(indent + text for text in new_lines)])
