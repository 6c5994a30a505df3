"""YAML text to `Node` trees with a line on every value, within fixed limits.

PyYAML composes the documents (safe loading only: no tag ever builds a Python object); we
turn the composed node graph into `Node` trees ourselves, so every mapping value and list item
keeps the lines it spans. Plain scalars resolve like `safe_load` (int, float, bool, null),
mapping keys keep their source text, merge keys (`<<`) merge, and tags go to
`cloudformation.long_form`. Hostile input is bounded: nesting deeper than MAX_DEPTH, aliases that
repeat more than MAX_ALIAS_EXPANSION values (billion laughs), more than MAX_NODES values written
and recursive aliases raise TooBig. Plain size is bounded by the file's bytes, not counted as a bomb.

Rendered template text (`templated.render`) is read with its placeholders: a scalar holding one is
`Unknown`, a key holding one is dropped and its mapping marked open (`Node.hidden`), as is every
mapping when the rendering could not place what a template emits. Both branches of a template's
if/else are in the text, so a key may be written twice in one mapping: each occurrence is judged,
in one rendering (variant) each; variant k takes the k-th occurrence (the last where there are
fewer), so a document whose keys repeat at most n times is read n times. More than
MAX_TEMPLATE_VARIANTS occurrences raise TooBig. Plain YAML keeps YAML's rule: the last one wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from bot.engine import limits
from bot.engine.model import Node, Unknown
from bot.engine.parsers.yaml_docs.cloudformation import long_form
from bot.engine.parsers.yaml_docs.templated import Rendered, is_emitted, is_marked

__all__ = ["MAX_ALIAS_EXPANSION", "MAX_DEPTH", "MAX_NODES", "MAX_TEMPLATE_VARIANTS", "TooBig", "compose"]

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_NODES = limits.YAML_NODES  # values written in a file: a 5 MiB file cannot hold many more, so this only backstops
MAX_ALIAS_EXPANSION = limits.YAML_ALIAS_EXPANSION  # values that aliases add by repeating an anchor (billion laughs)
MAX_DEPTH = limits.YAML_DEPTH  # nesting of mappings / sequences
MAX_TEMPLATE_VARIANTS = 16  # occurrences of one key in one mapping of rendered template text
_TEMPLATE_OUTPUT = "template output"  # what an open mapping's hidden keys come from, without a placeholder

_MERGE = "tag:yaml.org,2002:merge"


class _Loader(_BaseLoader):  # type: ignore[misc]
    """Safe loader used for composition only; we never call its constructor on a document."""


class TooBig(Exception):
    """The document would expand beyond our limits (alias bombs, absurd nesting)."""


@dataclass
class _Converter:
    """Turns one composed YAML node graph into `Node`s, bounded in size and depth."""

    lines: list[str]
    count: int = 0
    expanded: int = 0
    memo: dict[int, tuple[yaml.Node, Node, int]] = field(default_factory=dict)
    active: set[int] = field(default_factory=set)
    key_lines: dict[int, tuple[Node, int]] = field(default_factory=dict)  # id(value) -> (value, key line)
    scalars: SafeConstructor = field(default_factory=SafeConstructor)
    template: Rendered | None = None  # rendered template text: placeholders stand for unknown values
    choice: int = 0  # which occurrence of a repeated key this rendering takes (template text only)
    variants: int = 1  # the most occurrences of one key seen in one mapping

    def document(self, root: yaml.Node, choice: int = 0) -> Node:
        """Convert one document; anchors never cross documents, so the memo starts afresh."""
        self.memo.clear()
        self.active.clear()
        self.expanded = 0
        self.choice = choice
        if choice == 0:
            self.variants = 1
        return self.convert(root)

    def convert(self, node: yaml.Node, depth: int = 0) -> Node:
        """Convert with memoisation: an alias reuses the anchor's `Node` but counts its size."""
        key = id(node)
        if key in self.memo:
            _, built, size = self.memo[key]
            self.expanded += size
            if self.expanded > MAX_ALIAS_EXPANSION:
                raise TooBig(f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION} values (alias bomb)")
            return built
        if key in self.active:
            raise TooBig("recursive YAML alias")
        if depth > MAX_DEPTH:
            raise TooBig(f"YAML nesting deeper than {MAX_DEPTH} levels")
        self.active.add(key)
        before = self.count + self.expanded
        try:
            built = self._build(node, depth)
        finally:
            self.active.discard(key)
        # the values this node stands for, its aliases' expansion included: what a reuse repeats
        self.memo[key] = (node, built, self.count + self.expanded - before)  # holding `node` keeps its id unique
        return built

    def _charge(self, size: int) -> None:
        self.count += size
        if self.count > MAX_NODES:
            raise TooBig(f"YAML document holds more than {MAX_NODES} values")

    def _build(self, node: yaml.Node, depth: int) -> Node:
        self._charge(1)
        if isinstance(node, ScalarNode):
            if self.template is not None and is_marked(str(node.value)):
                built = Node(Unknown(self.template.restore(str(node.value))), *self._scalar_lines(node))
            else:
                built = Node(_scalar_value(self.scalars, node), *self._scalar_lines(node))
        elif isinstance(node, SequenceNode):
            items = [self.convert(child, depth + 1) for child in node.value]
            built = Node(items, *self._collection_lines(node, items))
        elif isinstance(node, MappingNode):
            built = self._mapping(node, depth)
        else:
            raise TooBig(f"unexpected YAML node {type(node).__name__}")
        return long_form(node.tag, built)

    def _mapping(self, node: MappingNode, depth: int) -> Node:
        merged: dict[str, Node] = {}
        own: dict[str, Node] = {}
        children: list[Node] = []
        template = self.template
        hidden: Unknown | None = None if template is None or template.emissions else Unknown(_TEMPLATE_OUTPUT)
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if template is not None and isinstance(key_node, ScalarNode) and is_marked(str(key_node.value)):
                # a key a template writes (`{{ $k }}:`) or emits (a line of `toYaml`): keys nobody sees
                text = str(key_node.value)
                hidden = hidden or Unknown(template.restore(text if is_emitted(text) else f"{text}: ..."))
                continue
            value = self.convert(value_node, depth + 1)
            if value_node.start_mark.line > key_node.start_mark.line and _is_empty_scalar(value_node):
                value = Node(value.value, key_node.start_mark.line + 1, key_node.start_mark.line + 1)
            if template is not None and key_node.start_mark.line + 1 in template.opens:
                value = _opened(value, template, template.opens[key_node.start_mark.line + 1])
            children.append(value)
            self.key_lines[id(value)] = (value, key_node.start_mark.line + 1)
            if key_node.tag == _MERGE or (isinstance(key_node, ScalarNode) and key_node.value == "<<"
                                          and not key_node.style):
                if isinstance(value.value, Unknown):
                    hidden = hidden or value.value
                for source in value.children():
                    for merged_key, merged_value in source.items():
                        merged.setdefault(merged_key, merged_value)
                    hidden = hidden or source.hidden
                continue
            key = self._key_text(key_node)
            if template is None or key not in own:
                own[key] = value
                continue
            seen[key] = seen.get(key, 1) + 1  # template branches both writing it: one rendering per occurrence
            if seen[key] > MAX_TEMPLATE_VARIANTS:
                raise TooBig(f"the template writes `{key}` more than {MAX_TEMPLATE_VARIANTS} times in one mapping "
                             f"(line {key_node.start_mark.line + 1}): too many renderings to review")
            self.variants = max(self.variants, seen[key])
            if seen[key] <= self.choice + 1:
                own[key] = value
        body = {**merged, **own}
        start, end = self._collection_lines(node, children)
        if node.value:
            start = min(start, node.value[0][0].start_mark.line + 1)
        return Node(body, start, end) if hidden is None else Node(body, start, end, hidden=hidden)

    def _scalar_lines(self, node: ScalarNode) -> tuple[int, int]:
        start = node.start_mark.line + 1
        end_mark = node.end_mark
        end = end_mark.line if end_mark.column == 0 and end_mark.line > node.start_mark.line else end_mark.line + 1
        while end > start and not self._text(end).strip():
            end -= 1
        return start, max(start, end)

    def _collection_lines(self, node: yaml.Node, children: list[Node]) -> tuple[int, int]:
        start = node.start_mark.line + 1
        if getattr(node, "flow_style", False) or not children:
            end = node.end_mark.line + 1
            if node.end_mark.column == 0 and node.end_mark.line > node.start_mark.line:
                end -= 1
        else:
            end = max(child.end_line for child in children)
        return start, max(start, end)

    def _key_text(self, node: yaml.Node) -> str:
        """Keys keep their source text: `on` stays "on" (YAML 1.1 would say True), `80` stays "80".

        A collection used as a key (rare, never meaningful to a rule) is named by its source text.
        """
        if isinstance(node, ScalarNode):
            return str(node.value)
        start, end = node.start_mark, node.end_mark
        if start.line == end.line:
            return self._text(start.line + 1)[start.column : end.column]
        return f"<key at line {start.line + 1}>"

    def _text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""


def _opened(value: Node, template: Rendered, index: int) -> Node:
    """The value of a key whose YAML a template emits (`labels: {{- include "x" . | nindent 4 }}`),
    with the entries written below it: a mapping that may hold more, a list with an item nobody
    sees, or, with nothing written, a value nobody knows."""
    emitted = Unknown(template.expressions[index] if index < len(template.expressions) else "{{ }}")
    if isinstance(value.value, dict):
        return replace(value, hidden=emitted)
    if isinstance(value.value, list):
        return replace(value, value=[*value.value, Node(emitted, value.end_line, value.end_line)])
    if value.value is None or value.value == "":
        return replace(value, value=emitted)
    return value


def _is_empty_scalar(node: yaml.Node) -> bool:
    """An empty plain scalar (a key with nothing after it); libyaml calls plain style '', PyYAML None."""
    return isinstance(node, ScalarNode) and node.value == "" and not node.style


def _scalar_value(constructor: SafeConstructor, node: ScalarNode) -> Any:
    """Plain scalars resolve like safe_load (int, float, bool, null); everything else is text."""
    constructors = {
        "tag:yaml.org,2002:null": SafeConstructor.construct_yaml_null,
        "tag:yaml.org,2002:bool": SafeConstructor.construct_yaml_bool,
        "tag:yaml.org,2002:int": SafeConstructor.construct_yaml_int,
        "tag:yaml.org,2002:float": SafeConstructor.construct_yaml_float,
    }
    construct = constructors.get(node.tag)
    if construct is None:
        return node.value
    try:
        return construct(constructor, node)
    except (ConstructorError, ValueError, OverflowError):
        return node.value


def compose(source: str, lines: list[str], template: Rendered | None = None
            ) -> tuple[list[list[Node]], dict[int, tuple[Node, int]]]:
    """Every non-empty document of `source` as `Node`s, and the line of each mapping value's key.

    Each document is a list of its renderings: one, unless `source` is rendered `template` text
    whose branches write a key twice (see the module docstring). `lines` are the source's lines.
    The key lines map id(value node) to (value node, key line): a CloudFormation resource starts
    on its logical id's line, not on its first attribute's. Raises PyYAML's errors on invalid YAML
    and TooBig beyond the limits.
    """
    converter = _Converter(lines, template=template)
    documents: list[list[Node]] = []
    for root in yaml.compose_all(source, Loader=_Loader):
        if root is None:
            continue
        renderings = [converter.document(root)]
        renderings += [converter.document(root, choice) for choice in range(1, converter.variants)]
        documents.append(renderings)
    return documents, converter.key_lines
