"""The one-click suggestion of a `fix: {set: ...}`: the failing literal becomes the text, or, when
the attribute is absent, `key = value` (`key: value` in YAML) is added to the block that should
hold it. Only where the edit is mechanical; otherwise None."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.engine.model import Node, Resource
from rules._edits import add_lines, replace_literal
from rules._support import replace_value
from rules.spec.model import Fix
from rules.spec.reading import Read, landing

MAX_KEPT_LINES = 8  # a YAML insertion reproduces the lines above it: keep suggestions short


@dataclass(frozen=True)
class Edit:
    """Replacement text for the finding's lines, down to `end_line` (None: the finding's own end)."""

    text: str
    end_line: int | None = None


def edit_for(fix: Fix, read: Read, resource: Resource, root: Node, terraform: bool) -> Edit | None:
    if read.note is not None or read.unknown or not read.name:
        return None
    if read.node is not None:
        if terraform:
            text = replace_literal(resource, read.node, read.name, fix.set)
        else:
            text = replace_value(resource, read.node, read.name, fix.set)
        return Edit(text) if text is not None else None
    if read.missing != 1:
        return None
    if terraform:
        text = add_lines(resource, read.block, [f"{read.name} = {fix.set}"])
        return Edit(text) if text is not None else None
    parent = read.block if read.block is not None else read.origin if read.origin is not None else root
    return _yaml_insertion(resource, parent, read, fix.set)


def _yaml_insertion(resource: Resource, parent: Node, read: Read, text: str) -> Edit | None:
    """`name: text` added to the YAML mapping `parent`, replacing the lines from the finding's down to
    where the new line goes; None in JSON, in a flow mapping, or when the lines do not look plain."""
    if resource.path.endswith(".json") or not isinstance(parent.value, dict) or not parent.value:
        return None
    start = landing(read, resource)
    first_child = min((child for _, child in parent.items()), key=lambda child: child.line)
    first = first_child.line
    if isinstance(first_child.value, (dict, list)):
        return None  # a nested value's node starts below its key: where the entry starts is unclear
    first_text = resource.text_at(first)
    if first_text is None or ":" not in first_text or "{" in first_text or first < start:
        return None
    if first == start:  # the block's first line is its first entry (`- name: app`): add after it
        if first_child.end_line != first:
            return None
        match = re.match(r"\s*(?:-\s+)?", first_text)
        indent = " " * (match.end() if match else 0)
        return Edit("\n".join([first_text, f"{indent}{read.name}: {text}"]), first)
    if first_text.lstrip().startswith("-"):
        return None
    indent = first_text[: len(first_text) - len(first_text.lstrip())]
    kept = [resource.text_at(n) for n in range(start, first)]
    if len(kept) > MAX_KEPT_LINES or any(line is None for line in kept):
        return None
    return Edit("\n".join([*(line for line in kept if line is not None), f"{indent}{read.name}: {text}"]), first - 1)
