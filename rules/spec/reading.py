"""Reading a path from a node: what was found, where, and what an absent value's block is; and
the line a finding about it lands on.

A path through a list of blocks reads each block (one `Read` per block); a Terraform
`dynamic "x"` block whose `for_each` is known generates its `content` (read beside the blocks
written out), one whose `for_each` is not known generates `x` blocks nobody can see, so a path
through it is unknown, never absent; a step into a value not known before apply is unknown, and
so is a key missing from a mapping of templated YAML that template output adds keys to
(`Node.hidden`): nobody can tell it is absent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.engine.model import Node, Resource, Unknown
from rules.spec.model import ITEM, Segment


@dataclass(frozen=True)
class Read:
    """One value a test looked at.

    - `key`: the path read, with list items named (`ingress[1].cidr_blocks`): the violation's key.
    - `node`: the value's node; None when absent. For an unknown read: the node not known (the
      value itself, a step on the way, the `dynamic` block that generates the path's blocks, or
      the open mapping, `hidden`, the value may hide in).
    - `block`: the innermost existing block that holds the value or should (None: the scope's own
      anchor, i.e. the `for_each` item or else the resource).
    - `name`: the last path step (the attribute a fix edits or adds).
    - `missing`: how many steps of the path are missing below `block` (1: just the attribute).
    - `absent`: no value (missing, null or ""); `unknown`: not known before apply.
    - `note`: what a finding shows instead of `key = value` (a sibling condition's result).
    - `block_key`: the key `block` sits under in its parent (None for a list item or the scope's
      anchor): a YAML mapping's node starts at its first entry, the finding at its key's line.
    - `origin`: the node the path was read from (the scope's root, or `$root` / `$template`).
    """

    key: str
    node: Node | None
    block: Node | None
    name: str
    missing: int = 0
    absent: bool = False
    unknown: bool = False
    note: str | None = None
    block_key: str | None = None
    origin: Node | None = None  # the node the path started from (where a fix adds a missing top key)


def item_name(item: Node, index: int) -> str:
    """How a list item is told apart: its `name`, else its position."""
    name = item.get("name") if isinstance(item.value, dict) else None
    if name is not None and isinstance(name.value, str) and name.value.strip():
        return name.value
    return str(index)


def dynamic(block: Node, name: str) -> list[Node]:
    """The Terraform `dynamic "name"` blocks in `block` (each holds `for_each` and `content`)."""
    holder = block.get("dynamic")
    if holder is None:
        return []
    return [item.value[name] for item in holder.children() if isinstance(item.value, dict) and name in item.value]


def generated(generators: list[Node]) -> tuple[list[Node], list[Node]]:
    """What `dynamic` blocks generate: the `content` blocks of those whose `for_each` is known and
    not empty (once each: its elements only change values that read the iterator, which are not
    known before apply), and the generators whose `for_each` is not known (they may make any number)."""
    contents: list[Node] = []
    unknown: list[Node] = []
    for generator in generators:
        each = generator.get("for_each")
        if each is None or not isinstance(each.value, (list, dict)):
            unknown.append(generator)
        elif each.value:
            content = generator.get("content")
            contents += [c for c in content.children() if isinstance(c.value, dict)] if content is not None else []
    return contents, unknown


def is_absent(node: Node) -> bool:
    return node.value is None or node.value == ""


@dataclass(frozen=True)
class Reader:
    """Reads paths below `root`; `anchor` is the block absent values land on at the root (None: the
    resource's first line), `anchor_key` the key it sits under (its finding lands on that line)."""

    root: Node
    anchor: Node | None
    prefix: str
    terraform: bool
    anchor_key: str | None = None

    def read(self, path: Sequence[Segment]) -> list[Read]:
        if tuple(path) == (ITEM,):  # the item itself (a scalar list's entry)
            root = self.root
            return [Read(self.prefix.removesuffix("."), root, self.anchor, "", 0, absent=is_absent(root),
                         unknown=isinstance(root.value, Unknown), origin=root)]
        found: list[Read] = []
        self._walk(self.root, tuple(path), 0, [], self.anchor, self.anchor_key, found)
        return found

    def _key(self, parts: Sequence[str]) -> str:
        return self.prefix + ".".join(parts)

    def _walk(self, node: Node, path: tuple[Segment, ...], i: int, parts: list[str], block: Node | None,
              block_key: str | None, found: list[Read]) -> None:
        name = str(path[-1])
        rest = [str(s) for s in path[i:]]

        def read(key: list[str], node: Node | None, missing: int, absent: bool = False, unknown: bool = False) -> Read:
            return Read(self._key(key), node, block, name, missing, absent, unknown, block_key=block_key,
                        origin=self.root)

        if isinstance(node.value, Unknown):  # the value, or a step on the way (`missing` > 0)
            found.append(read([*parts, *rest], node, len(path) - i, unknown=True))
            return
        if i == len(path):
            found.append(read(parts, node, 0, absent=is_absent(node)))
            return
        step = path[i]
        if isinstance(node.value, list) and not isinstance(step, int):
            items = node.value
            if not items:
                found.append(read([*parts, *rest], None, len(path) - i, absent=True))
            for index, item in enumerate(items):
                named = [*parts[:-1], f"{parts[-1]}[{item_name(item, index)}]"] if parts and len(items) > 1 else parts
                if isinstance(item.value, dict):
                    self._walk(item, path, i, named, item, None, found)
                else:
                    self._walk(item, path, i, named, block, block_key, found)
            return
        child: Node | None = None
        if isinstance(step, int):
            if isinstance(node.value, list):
                child = node.get(step)
            elif isinstance(node.value, dict) and step == 0:
                child = node  # a lone block is a list of one
        elif isinstance(node.value, dict):
            child = node.value.get(step)
            generators = dynamic(node, step) if self.terraform else []
            if generators:  # blocks written out, and those `dynamic` blocks generate
                contents, unknown = generated(generators)
                for generator in unknown:
                    found.append(read([*parts, *rest], generator, len(path) - i, unknown=True))
                blocks = [*(child.children() if child is not None else []), *contents]
                if unknown and not blocks:
                    return
                if blocks:
                    child = Node(blocks, min(b.line for b in blocks), max(b.end_line for b in blocks))
        if child is None and node.hidden is not None:  # template output nobody sees may hold it
            found.append(read([*parts, *rest], node, len(path) - i, unknown=True))
            return
        if child is None:
            found.append(read([*parts, *rest], None, len(path) - i, absent=True))
            return
        if isinstance(child.value, dict) and child is not node:
            self._walk(child, path, i + 1, [*parts, str(step)], child, str(step), found)
        else:
            self._walk(child, path, i + 1, [*parts, str(step)], block, block_key, found)


def landing(read: Read, resource: Resource) -> int:
    """The line a finding about `read` lands on: the value's own line, else the first line of the
    block that should hold it (the resource's, at the top). A YAML mapping or list starts at its
    first entry; the finding goes to its key's line (`DistributionConfig:`)."""
    if read.node is not None:
        if isinstance(read.node.value, (dict, list)) and read.name and not read.unknown:
            return key_line(resource, read.node.line, read.name)
        return read.node.line
    if read.block is None:
        return resource.line
    if read.block_key is None:
        return read.block.line
    return key_line(resource, read.block.line, read.block_key)


def key_line(resource: Resource, line: int, key: str) -> int:
    """The line of `key:` that opens the YAML value starting at `line`: that line itself (a flow
    value) or one above it across blank, comment and template-action lines only; `line` when
    there is none (HCL, whose blocks start on their own header line)."""
    if resource.source == "terraform":
        return line
    pattern = re.compile(r"\s*(?:-\s+)?[\"']?" + re.escape(key) + r"[\"']?\s*:")
    for number in range(line, resource.line - 1, -1):
        text = resource.text_at(number)
        if text is None:
            break
        if pattern.match(text):
            return number
        stripped = text.strip()
        if number != line and stripped and not stripped.startswith("#") and not _template_only(stripped):
            break
    return line


def _template_only(stripped: str) -> bool:
    """A line of templated YAML holding only a template action (`{{- if .x }}`), which renders as
    no line at all: a key above it still opens the value below it."""
    return any(stripped.startswith(opener) and stripped.endswith(closer)
               for opener, closer in (("{{", "}}"), ("{%", "%}"), ("{#", "#}")))
