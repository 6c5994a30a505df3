"""Variable files (`terraform.tfvars`, `*.auto.tfvars`, `*.tfvars.json`): the values a root
module's variables take, each with where it is written.

A variable file holds only `name = value` assignments of literals (Terraform allows no
references there). Each assignment becomes a `Bound` value for the module's scope, and a
resource of kind "variable_value" named `var.<name>`, so that a changed line re-checks the
readers of that variable like a changed variable default does.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from bot.engine.lines import git_lines
from bot.engine.model import FileError, Node, Origin, ParsedFile, Resource
from bot.engine.parsers.terraform.hcl2_shape import META_KEYS
from bot.engine.parsers.terraform.json_reader import JArray, JObject, JSONError, JValue, read_json
from bot.engine.parsers.terraform.module import MAX_FILE_CHARS, SOURCE, load_file
from bot.engine.parsers.terraform.nodes import value_node
from bot.engine.parsers.terraform.outline import Expr
from bot.engine.parsers.terraform.values import Bound, Scope

__all__ = ["VariableFile", "is_auto_variable_file", "is_variable_file", "load_variable_file"]

KIND = "variable_value"
_EMPTY_SCOPE = Scope({}, {})


def is_variable_file(path: str) -> bool:
    name = posixpath.basename(path).lower()
    return name.endswith((".tfvars", ".tfvars.json"))


def is_auto_variable_file(path: str) -> bool:
    """Files Terraform loads by itself in a root module (the others must be named with -var-file)."""
    name = posixpath.basename(path).lower()
    return name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith((".auto.tfvars", ".auto.tfvars.json"))


def load_order(paths: list[str]) -> list[str]:
    """Terraform's order: terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars(.json) by
    name; a later file wins."""
    def rank(path: str) -> tuple[int, str]:
        name = posixpath.basename(path).lower()
        return ({"terraform.tfvars": 0, "terraform.tfvars.json": 1}.get(name, 2), name)

    return sorted(paths, key=rank)


@dataclass(frozen=True)
class VariableFile:
    """The values of one variable file, and the file as the engine reviews it."""

    path: str
    values: Mapping[str, Bound]
    parsed: ParsedFile


def load_variable_file(path: str, text: str) -> VariableFile:
    """Read one variable file; a file that cannot be read is a FileError on it and sets nothing."""
    if path.lower().endswith(".json"):
        return _json_file(path, text)
    loaded = load_file(path, text)
    if isinstance(loaded, FileError):
        return VariableFile(path, {}, ParsedFile(path, errors=(loaded,)))
    values: dict[str, Bound] = {}
    resources = []
    for name, raw in loaded.values.items():
        where = loaded.outline.attrs.get(name)
        if name in META_KEYS or where is None:
            continue
        node = value_node(raw, where, _EMPTY_SCOPE)
        text_of_line = loaded.lines[where.line - 1]
        values[name] = Bound(node.plain(), Origin(f"var.{name}", path, where.line, text_of_line, "variable file"))
        resources.append(_resource(path, name, node, where, loaded.lines))
    return VariableFile(path, values, ParsedFile(path, resources=tuple(resources)))


def _json_file(path: str, text: str) -> VariableFile:
    """A `.tfvars.json`: one object of literal values, each with the lines it is written on."""
    if len(text) > MAX_FILE_CHARS:
        return VariableFile(path, {}, ParsedFile(path, errors=(FileError(path, None, "file too large to parse"),)))
    try:
        document = read_json(text)
    except JSONError as exc:
        return VariableFile(path, {}, ParsedFile(path, errors=(FileError(path, exc.line, f"invalid JSON: {exc}"),)))
    if not isinstance(document, JObject):
        return VariableFile(path, {}, ParsedFile(path, errors=(FileError(path, document.line,
                                                                         "a variable file must be a JSON object"),)))
    lines = tuple(git_lines(text))
    values: dict[str, Bound] = {}
    resources = []
    for prop in document.props:
        node = _json_node(prop.value)
        where = Expr(prop.line, node.end_line)
        values[prop.key] = Bound(node.plain(), Origin(f"var.{prop.key}", path, prop.line, lines[prop.line - 1],
                                                      "variable file"))
        resources.append(_resource(path, prop.key, node, where, lines))
    return VariableFile(path, values, ParsedFile(path, resources=tuple(resources)))


def _json_node(value: JValue) -> Node:
    """A JSON value as a Node tree with its lines (variable files hold literals, never templates)."""
    if isinstance(value, JObject):
        return Node({prop.key: _json_node(prop.value) for prop in value.props}, value.line, value.end_line)
    if isinstance(value, JArray):
        return Node([_json_node(item) for item in value.items], value.line, value.end_line)
    return Node(value.value, value.line, value.line)


def _resource(path: str, name: str, node: Node, where: Expr, lines: tuple[str, ...]) -> Resource:
    return Resource(source=SOURCE, kind=KIND, type=KIND, address=f"var.{name}", path=path, line=where.line,
                    end_line=where.end_line, body=Node({name: node}, where.line, where.end_line),
                    lines=lines[where.line - 1 : where.end_line])
