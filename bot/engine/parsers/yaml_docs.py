"""YAML (and JSON CloudFormation) files to `Resource`s with a line on every value.

PyYAML composes the documents (safe loading only: no tag ever builds a Python object); we
turn the composed node graph into `Node` trees ourselves, so every mapping value and list item
keeps the lines it spans and CloudFormation short-form tags (`!Ref`, `!GetAtt`...) become the
long-form mappings that rules already understand.

Classification:
- `.github/workflows/*.yml|*.yaml` -> one GitHub Actions resource per workflow *file*
  (address "workflow"), body = the whole document, so triggers (`on`) and every job are
  visible to a rule in one place. Mapping keys keep their source text, so the YAML 1.1
  boolean key `on` stays "on".
- a document with `AWSTemplateFormatVersion`, or a `Resources` mapping whose entries have
  `Type: AWS::...` -> one CloudFormation resource per entry of `Resources`.
- a document with `apiVersion` and `kind` -> one Kubernetes resource (a `kind: List`
  contributes one per item).
- anything else (docker-compose, Helm values...) -> no resources and no error.

Hostile input is bounded: nesting depth, the size of the tree after alias expansion
(billion laughs) and recursive aliases all end in a `FileError`, never a hang or a crash.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from bot.engine.model import FileError, Node, ParsedFile, Resource, Unknown

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_NODES = 250_000  # values in a file after alias expansion
MAX_DEPTH = 200  # nesting of mappings / sequences

_WORKFLOW_PATH = re.compile(r"(?:^|/)\.github/workflows/[^/]+\.ya?ml$")
# Helm / Jinja / Go templates, but not GitHub Actions `${{ }}` expressions.
_TEMPLATE_MARK = re.compile(r"(?<!\$)\{\{|\{%-?\s|\{#")

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"

# Short-form CloudFormation tags whose long form is not simply "Fn::<Name>".
_CFN_PLAIN_KEYS = {"!Ref": "Ref", "!Condition": "Condition"}


class _Loader(_BaseLoader):  # type: ignore[misc]
    """Safe loader used for composition only; we never call its constructor on a document."""


class _TooBig(Exception):
    """The document would expand beyond our limits (alias bombs, absurd nesting)."""


@dataclass
class _Converter:
    """Turns one composed YAML node graph into `Node`s, bounded in size and depth."""

    lines: list[str]
    count: int = 0
    memo: dict[int, tuple[yaml.Node, Node, int]] = field(default_factory=dict)
    active: set[int] = field(default_factory=set)
    key_lines: dict[int, tuple[Node, int]] = field(default_factory=dict)  # id(value) -> (value, key line)
    scalars: SafeConstructor = field(default_factory=SafeConstructor)

    def document(self, root: yaml.Node) -> Node:
        """Convert one document; anchors never cross documents, so the memo starts afresh."""
        self.memo.clear()
        self.active.clear()
        return self.convert(root)

    def convert(self, node: yaml.Node, depth: int = 0) -> Node:
        """Convert with memoisation: an alias reuses the anchor's `Node` but counts its size."""
        key = id(node)
        if key in self.memo:
            _, built, size = self.memo[key]
            self._charge(size)
            return built
        if key in self.active:
            raise _TooBig("recursive YAML alias")
        if depth > MAX_DEPTH:
            raise _TooBig(f"YAML nesting deeper than {MAX_DEPTH} levels")
        self.active.add(key)
        before = self.count
        try:
            built = self._build(node, depth)
        finally:
            self.active.discard(key)
        self.memo[key] = (node, built, self.count - before)  # holding `node` keeps its id unique
        return built

    def _charge(self, size: int) -> None:
        self.count += size
        if self.count > MAX_NODES:
            raise _TooBig(f"YAML document expands to more than {MAX_NODES} values (alias bomb?)")

    def _build(self, node: yaml.Node, depth: int) -> Node:
        self._charge(1)
        if isinstance(node, ScalarNode):
            built = Node(_scalar_value(self.scalars, node), *self._scalar_lines(node))
        elif isinstance(node, SequenceNode):
            items = [self.convert(child, depth + 1) for child in node.value]
            built = Node(items, *self._collection_lines(node, items))
        elif isinstance(node, MappingNode):
            built = self._mapping(node, depth)
        else:
            raise _TooBig(f"unexpected YAML node {type(node).__name__}")
        return _apply_tag(node, built)

    def _mapping(self, node: MappingNode, depth: int) -> Node:
        merged: dict[str, Node] = {}
        own: dict[str, Node] = {}
        children: list[Node] = []
        for key_node, value_node in node.value:
            value = self.convert(value_node, depth + 1)
            if value_node.start_mark.line > key_node.start_mark.line and _is_empty_scalar(value_node):
                value = Node(value.value, key_node.start_mark.line + 1, key_node.start_mark.line + 1)
            children.append(value)
            self.key_lines[id(value)] = (value, key_node.start_mark.line + 1)
            if key_node.tag == _MERGE or (isinstance(key_node, ScalarNode) and key_node.value == "<<"
                                          and key_node.style is None):
                for source in value.children():
                    for merged_key, merged_value in source.items():
                        merged.setdefault(merged_key, merged_value)
                continue
            own[self._key_text(key_node)] = value
        body = {**merged, **own}
        start, end = self._collection_lines(node, children)
        if node.value:
            start = min(start, node.value[0][0].start_mark.line + 1)
        return Node(body, start, end)

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


def _is_empty_scalar(node: yaml.Node) -> bool:
    return isinstance(node, ScalarNode) and node.value == "" and node.style is None



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


def _apply_tag(node: yaml.Node, built: Node) -> Node:
    """CloudFormation short forms to long forms; unknown tags are ignored (never constructed)."""
    tag = node.tag or ""
    if not tag.startswith("!") or tag.startswith("!!"):
        return built
    line, end = built.line, built.end_line
    if tag in _CFN_PLAIN_KEYS:
        return Node({_CFN_PLAIN_KEYS[tag]: built}, line, end)
    name = tag[1:]
    if name == "GetAtt" and isinstance(built.value, str):
        logical, _, attribute = built.value.partition(".")
        parts = [Node(logical, line, end), Node(attribute, line, end)]
        return Node({"Fn::GetAtt": Node(parts, line, end)}, line, end)
    return Node({f"Fn::{name}": built}, line, end)


def looks_like_cloudformation_json(text: str) -> bool:
    """A cheap sniff so that package.json and friends are never claimed as templates."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head.startswith("{"):
        return False
    if '"AWSTemplateFormatVersion"' in text:
        return True
    return '"Resources"' in text and re.search(r'"Type"\s*:\s*"AWS::', text) is not None


def _looks_like_template(text: str) -> bool:
    return _TEMPLATE_MARK.search(text) is not None


def parse_yaml(path: str, text: str) -> ParsedFile:
    """Parse a YAML/JSON file into resources; errors become `FileError`s, never exceptions."""
    try:
        return _parse(path, text)
    except yaml.MarkedYAMLError as exc:
        if _looks_like_template(text):
            return ParsedFile(path=path)
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part) or "invalid YAML"
        return ParsedFile(path=path, errors=(FileError(path, line, f"invalid YAML: {message}"),))
    except _TooBig as exc:
        return ParsedFile(path=path, errors=(FileError(path, None, str(exc)),))
    except RecursionError:
        return ParsedFile(path=path, errors=(FileError(path, None, "YAML nesting too deep"),))
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        if _looks_like_template(text):
            return ParsedFile(path=path)
        return ParsedFile(path=path, errors=(FileError(path, None, f"invalid YAML: {exc}"),))
    except Exception as exc:  # noqa: BLE001 - a parser bug is reported on the file, never raised
        return ParsedFile(path=path, errors=(FileError(path, None, f"could not parse YAML: {type(exc).__name__}"),))


def _parse(path: str, text: str) -> ParsedFile:
    source = text
    if looks_like_cloudformation_json(text):
        source = text.replace("\t", " ")  # JSON forbids raw tabs in strings; YAML forbids them as indentation
    lines = source.splitlines()
    converter = _Converter(lines)
    documents = [converter.document(root) for root in yaml.compose_all(source, Loader=_Loader)
                 if root is not None]
    is_workflow = _WORKFLOW_PATH.search(path.replace("\\", "/")) is not None
    resources: list[Resource] = []
    used: set[str] = set()
    for index, document in enumerate(documents, start=1):
        if is_workflow:
            resources.extend(_workflow_resources(path, document, lines))
        elif _is_cloudformation(document):
            resources.extend(_cloudformation_resources(path, document, lines, converter.key_lines))
        else:
            resources.extend(_kubernetes_resources(path, document, index, lines, used))
    return ParsedFile(path=path, resources=tuple(resources))


def _slice(lines: list[str], start: int, end: int) -> tuple[str, ...]:
    return tuple(lines[start - 1 : end])


def _workflow_resources(path: str, document: Node, lines: list[str]) -> Iterator[Resource]:
    if not isinstance(document.value, dict) or "jobs" not in document.value:
        return
    yield Resource(
        source="github_actions", kind="workflow", type="workflow", address="workflow", path=path,
        line=document.line, end_line=document.end_line, body=document,
        lines=_slice(lines, document.line, document.end_line),
    )


def _kubernetes_resources(
    path: str, document: Node, index: int, lines: list[str], used: set[str]
) -> Iterator[Resource]:
    kind = document.get("kind")
    if document.get("apiVersion") is None or kind is None or not isinstance(kind.value, str):
        return
    items = document.get("items")
    if kind.value.endswith("List") and items is not None and isinstance(items.value, list):
        for item in items.value:
            yield from _kubernetes_resources(path, item, index, lines, used)
        return
    name = document.get("metadata", "name")
    label = name.value if name is not None and isinstance(name.value, (str, int)) else f"<document {index}>"
    address = f"{kind.value}/{label}"
    if address in used:
        address = f"{address}@{index}"
    used.add(address)
    yield Resource(
        source="kubernetes", kind="manifest", type=kind.value, address=address, path=path,
        line=document.line, end_line=document.end_line, body=document,
        lines=_slice(lines, document.line, document.end_line),
    )


def _is_cloudformation(document: Node) -> bool:
    if not isinstance(document.value, dict):
        return False
    if "AWSTemplateFormatVersion" in document.value:
        return True
    resources = document.get("Resources")
    if resources is None:
        return False
    for entry in resources.value.values() if isinstance(resources.value, dict) else []:
        type_ = entry.get("Type")
        if type_ is not None and isinstance(type_.value, str) and type_.value.startswith("AWS::"):
            return True
    return False


def _cloudformation_resources(
    path: str, document: Node, lines: list[str], key_lines: dict[int, tuple[Node, int]]
) -> Iterator[Resource]:
    resources = document.get("Resources")
    if resources is None:
        return
    defaults = _parameter_defaults(document)
    for logical_id, entry in resources.items():
        type_ = entry.get("Type")
        if not isinstance(entry.value, dict) or type_ is None or not isinstance(type_.value, str):
            continue
        key_line = min(key_lines.get(id(entry), (entry, entry.line))[1], entry.line)
        yield Resource(
            source="cloudformation", kind="resource", type=type_.value, address=f"Resources.{logical_id}",
            path=path, line=key_line, end_line=entry.end_line, body=_resolve(entry, defaults),
            references=frozenset(_references(entry)), lines=_slice(lines, key_line, entry.end_line),
        )


def _parameter_defaults(document: Node) -> dict[str, Node]:
    defaults: dict[str, Node] = {}
    for name, parameter in (document.get("Parameters") or Node({}, 0, 0)).items():
        default = parameter.get("Default")
        if default is not None and not isinstance(default.value, (dict, list)):
            defaults[name] = default
    return defaults


def _intrinsic(node: Node) -> tuple[str, Node] | None:
    """(name, argument) when `node` is a one-key intrinsic mapping like {"Ref": ...}."""
    if isinstance(node.value, dict) and len(node.value) == 1:
        name, argument = next(iter(node.value.items()))
        if name == "Ref" or name.startswith("Fn::"):
            return name, argument
    return None


def _resolve(node: Node, defaults: dict[str, Node]) -> Node:
    """Replace intrinsics: Ref to a parameter with a default -> that value, others -> Unknown."""
    intrinsic = _intrinsic(node)
    if intrinsic is not None:
        name, argument = intrinsic
        if name == "Ref" and isinstance(argument.value, str) and argument.value in defaults:
            return Node(defaults[argument.value].value, node.line, node.end_line)
        return Node(Unknown(_describe(name, argument)), node.line, node.end_line)
    if isinstance(node.value, dict):
        return Node({k: _resolve(v, defaults) for k, v in node.value.items()}, node.line, node.end_line)
    if isinstance(node.value, list):
        return Node([_resolve(v, defaults) for v in node.value], node.line, node.end_line)
    return node


def _describe(name: str, argument: Node) -> str:
    plain = argument.plain()
    text = plain if isinstance(plain, str) else repr(plain)
    return f"{name} {text}"[:200]


def _references(node: Node) -> Iterator[str]:
    """Logical ids (and parameters) named by Ref, Fn::GetAtt and Fn::Sub anywhere in `node`."""
    intrinsic = _intrinsic(node)
    if intrinsic is not None:
        name, argument = intrinsic
        if name == "Ref" and isinstance(argument.value, str) and not argument.value.startswith("AWS::"):
            yield argument.value
        elif name == "Fn::GetAtt":
            first = argument.get(0) if isinstance(argument.value, list) else argument
            if first is not None and isinstance(first.value, str):
                yield first.value.split(".", 1)[0]
        elif name == "Fn::Sub":
            template = argument.get(0) if isinstance(argument.value, list) else argument
            if template is not None and isinstance(template.value, str):
                for match in re.finditer(r"\$\{([A-Za-z0-9]+)[.}]", template.value):
                    yield match.group(1)
    if isinstance(node.value, dict):
        for child in node.value.values():
            yield from _references(child)
    elif isinstance(node.value, list):
        for child in node.value:
            yield from _references(child)
