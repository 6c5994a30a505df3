"""The policy file's YAML as plain data, with the line of every setting, safely.

The schema check (`policy_schema`) finds what is wrong by its path in the data (`suppressions`,
0, `expires`); the line map turns that path back into the line a person edits. Dates stay the
text they are written as, so the schema can say `expires must be a date like 2027-01-31, not
'2027-13-01'` instead of YAML's date reader raising on a day that does not exist.

A policy comes from a repository, so it is hostile input: nesting and alias expansion are
bounded before anything is built, and a file that is not UTF-8 is an error, never a garbled
policy whose settings silently differ from what its author wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from bot.engine import limits

MAX_POLICY_DEPTH = limits.POLICY_DEPTH  # a policy is a few levels deep; more is an attack or a mistake
MAX_POLICY_BYTES = limits.POLICY_BYTES
MAX_POLICY_NODES = limits.POLICY_NODES  # values after alias expansion; a real policy has a few hundred

Path = tuple[str | int, ...]
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class YamlProblem(ValueError):
    """What is wrong with the text itself, and on which line (None: the whole file)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class LoadedYaml:
    """The document as plain data (keys are text as written) and the line of each path in it."""

    data: Any
    lines: dict[Path, int]

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, else of the nearest setting above it that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text (the schema checks them, with the line)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def decode(data: bytes) -> str:
    """The file's text; bytes that are not UTF-8 are an error naming their line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlProblem(line, f"not UTF-8 text (byte {exc.start + 1})") from None


def load(text: str) -> LoadedYaml:
    """Parse `text` (one YAML document) into plain data and its line map; YamlProblem if it is
    not valid YAML, too big, too deep, or expands to too many values."""
    if len(text) > MAX_POLICY_BYTES:
        raise YamlProblem(None, f"larger than {MAX_POLICY_BYTES // 1024} KiB")
    if "\ufffd" in text:  # what a reader that replaces undecodable bytes leaves behind
        raise YamlProblem(text.count("\n", 0, text.index("\ufffd")) + 1, "not UTF-8 text")
    try:
        _check_shape(text)
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return LoadedYaml(None, {(): 1})
            lines: dict[Path, int] = {(): _line(root)}
            data = _Builder(loader, lines).value(root, (), 0)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise YamlProblem(mark.line + 1 if mark is not None else None, _yaml_words(exc)) from None
    return LoadedYaml(data, lines)


def _yaml_words(exc: yaml.YAMLError) -> str:
    """YAML's own reason in words (`found undefined alias`, `mapping values are not allowed
    here`), never the exception's class or a mark dump."""
    problem = str(getattr(exc, "problem", "") or "").strip()
    return f"not valid YAML ({problem})" if problem else "not valid YAML"


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1 if node.start_mark is not None else 0


class _Builder:
    """Builds plain data from composed nodes, recording the line of every key and item. Keys
    become the text they are written as (`3`, `null`, `on` stay words a message can quote)."""

    def __init__(self, loader: _Loader, lines: dict[Path, int]) -> None:
        self.loader = loader
        self.lines = lines
        self.open: set[int] = set()  # nodes being built: an alias back into one is a loop
        self.flattened: set[int] = set()
        self.built = 0

    def value(self, node: yaml.Node, path: Path, depth: int) -> Any:
        if depth > MAX_POLICY_DEPTH:
            raise YamlProblem(_line(node), f"nested deeper than {MAX_POLICY_DEPTH} levels")
        self.built += 1
        if self.built > MAX_POLICY_NODES:
            raise YamlProblem(_line(node), f"more than {MAX_POLICY_NODES} values once aliases are expanded")
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.loader.construct_object(node, deep=True)
            except (ValueError, OverflowError):  # `!!timestamp 2027-13-01`, `!!int many`: an explicit tag that lies
                kind = node.tag.rsplit(":", 1)[-1]
                raise YamlProblem(_line(node), f"'{node.value[:60]}' is not a valid {kind}, as its tag says") from None
        if id(node) in self.open:
            raise YamlProblem(_line(node), "an alias refers to the value that holds it")
        if node.tag not in (_MAP, _SEQ):
            raise YamlProblem(_line(node), f"the tag {node.tag} is not allowed here (plain mappings and lists only)")
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return self._items(node, path, depth)
            assert isinstance(node, yaml.MappingNode)
            return self._mapping(node, path, depth)
        finally:
            self.open.discard(id(node))

    def _items(self, node: yaml.SequenceNode, path: Path, depth: int) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            self.lines.setdefault((*path, index), _line(item))
            items.append(self.value(item, (*path, index), depth + 1))
        return items

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        if id(node) not in self.flattened:  # `<<: *defaults` merges; an alias walks the node again
            self._refuse_duplicates(node, path)
            self.loader.flatten_mapping(node)
            self.flattened.add(id(node))
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            self.lines[(*path, key)] = _line(key_node)
            result[key] = self.value(value_node, (*path, key), depth + 1)
        return result

    def _refuse_duplicates(self, node: yaml.MappingNode, path: Path) -> None:
        """`fail_on` written twice: YAML keeps the last silently; a policy says which it meant."""
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self._key(key_node)
            if key in seen:
                where = ".".join(str(p) for p in (*path, key) if isinstance(p, str))
                raise YamlProblem(_line(key_node), f"'{where}' is set twice (first on line {seen[key]})")
            seen[key] = _line(key_node)

    @staticmethod
    def _key(node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise YamlProblem(_line(node), "a setting's name must be plain text, not a list or mapping")
        return str(node.value)


def _check_shape(text: str) -> None:
    """Refuse nesting deeper than any policy needs, and more values than any policy needs once
    aliases are expanded, before composing: the composer recurses per level (10,000 brackets
    would end in a RecursionError), and an alias bomb of a billion items would take minutes and
    gigabytes. The event stream read here is produced without recursion, and an alias is counted
    at the size of what it names."""
    depth = nodes = 0
    open_nodes: list[tuple[str | None, int]] = []  # anchor and node count where each collection starts
    sizes: dict[str, int] = {}  # anchor -> values it stands for
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            nodes += sizes.get(event.anchor or "", 1)
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            nodes += 1
            open_nodes.append((event.anchor, nodes))
            if depth > MAX_POLICY_DEPTH:
                raise YamlProblem(_event_line(event), f"nested deeper than {MAX_POLICY_DEPTH} levels")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
            anchor, start = open_nodes.pop()
            if anchor:
                sizes[anchor] = nodes - start + 1
        if nodes > MAX_POLICY_NODES:
            raise YamlProblem(_event_line(event), f"more than {MAX_POLICY_NODES} values once aliases are expanded")


def _event_line(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 0
