"""Where a finding lands, and where its value came from: on the change that made it.

A rule reports the line of the resource that is wrong. When that value was written somewhere
else (a module call's argument, a variable file, a variable's default) and that is what the
change touched, the finding moves there: the line is in the diff, so an inline comment can go
on it, and a developer sees the line they wrote. When the resource itself changed (a module's
own file), the finding stays on it and names the module calls whose inputs make it fail.
Either way the finding says where its value came from ("provenance").
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot.engine.diff import FileDiff
from bot.engine.model import Node, Origin, Resource


@dataclass(frozen=True)
class Landing:
    """- `path`, `line`, `end_line`: where the finding is shown.
    - `span`: lines around it a comment may move to when `line` is not in the diff.
    - `moved`: it is not on the resource's own line (so the rule's suggestion does not apply).
    - `provenance`: where the value came from, and through which module calls, in words.
    - `address`: the resource as seen from where the finding lands: its address within that
      file's module (`module.db.aws_db_instance.this` on the root's call to `db`), so instances
      made by different callers of that module share one finding."""

    path: str
    line: int
    end_line: int
    span: tuple[int, int]
    moved: bool
    provenance: str | None
    address: str


def landing(resource: Resource, line: int, end_line: int, changes: Mapping[str, FileDiff],
            quote: bool = True) -> Landing:
    """Where a violation of `resource` on `line`..`end_line` lands, given what changed. Without
    `quote`, the provenance names the places the value came from without quoting their lines."""
    origin = origin_at(resource.body, line)
    callers = "; ".join(f"with the inputs of {call}" for call in reversed(resource.calls)) or None
    provenance = "; ".join(p for p in (origin.describe(quote) if origin else None, callers) if p) or None
    stay = Landing(resource.path, line, end_line, (resource.line, resource.end_line), False, provenance,
                   resource.address)
    diff = changes.get(resource.path)
    if diff is not None and diff.touches_span(resource.line, resource.end_line):
        return stay  # the resource itself changed: the finding belongs on it
    if origin is not None:
        for hop in origin.chain():
            hop_diff = changes.get(hop.path)
            if hop_diff is not None and hop.line in hop_diff.added_lines:
                return Landing(hop.path, hop.line, hop.line, (hop.line, hop.line), True, provenance,
                               _seen_from(resource, hop.path))
    for call in reversed(resource.calls):
        call_diff = changes.get(call.path)
        if call_diff is not None and call_diff.touches_span(call.line, call.end_line):
            return Landing(call.path, call.line, call.line, (call.line, call.end_line), True, provenance,
                           _seen_from(resource, call.path))
    return stay


def _seen_from(resource: Resource, path: str) -> str:
    """The resource's address within the module of `path` (the calls made from there on)."""
    directory = posixpath.dirname(path)
    for index in range(len(resource.calls) - 1, -1, -1):
        if posixpath.dirname(resource.calls[index].path) == directory:
            inner = resource.calls[index:]
            return ".".join([*(f"module.{call.name}" for call in inner), resource.address])
    return resource.full_address


def origin_at(body: Node, line: int) -> Origin | None:
    """The origin of the innermost value written on `line` that has one."""
    best: tuple[int, Origin] | None = None
    for node in _walk(body):
        if node.origin is not None and node.line <= line <= node.end_line:
            width = node.end_line - node.line
            if best is None or width < best[0]:
                best = (width, node.origin)
    return best[1] if best else None


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node.value, dict):
        for child in node.value.values():
            yield from _walk(child)
    elif isinstance(node.value, list):
        for child in node.value:
            yield from _walk(child)
