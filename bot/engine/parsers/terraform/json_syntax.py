"""Terraform's JSON syntax (`*.tf.json`): read into the very values and outline the HCL path makes.

`module` turns hcl2's values plus an outline into resources. A `.tf.json` file is turned into
the same two things, so scope, resolution, references and nodes are shared: the values in
hcl2's shape (`{"resource": [{type: {name: body}}]}`, one list item per block; expressions as
`${...}` strings, each expression rendered by hcl2 itself so `Unknown`s read alike), and a root
`Block` whose blocks carry the JSON's own lines (a property spans its key's line to the end of
its value).

What Terraform's JSON syntax says (developer.hashicorp.com/terraform/language/syntax/json, and
HCL's JSON specification), and how it maps:

- Top-level properties are block types; each label is one more level of object (or array of
  objects); the body is an object, or an array of objects for several blocks.
- Strings are templates (`"${var.x}"`, `"a-${local.b}"`), as quoted strings are in HCL. Where
  Terraform reads a string as a reference or a type instead (`depends_on`, `provider`, a
  variable's `type`, `lifecycle.ignore_changes`, ...), it becomes the `${...}` hcl2 gives for the
  bare HCL expression; where it reads a literal (a variable's `default`, a module's `source`),
  `${` stays text.
- `"//"` properties in a block body are comments.
- Whether an object is a nested block or an object value is decided by the provider's schema,
  which we do not have. An array of objects reads the same either way (hcl2 gives a list of
  dicts for repeated blocks too); a lone object stays a mapping, which rules read as one block
  (`Node.children`); the nested blocks Terraform itself defines (`lifecycle`, `dynamic`,
  `provisioner`, ...) become one-item lists exactly as in HCL.

Anything else (not JSON, a wrong shape, an expression hcl2 cannot parse) is a `FileError` with
the line; nothing here evaluates an expression.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bot.engine.model import FileError, failure_reason
from bot.engine.parsers.terraform.errors import load_error
from bot.engine.parsers.terraform.grammar import load_hcl
from bot.engine.parsers.terraform.json_reader import JArray, JObject, JSONError, JValue, read_json
from bot.engine.parsers.terraform.lexer import TooDeep, blanked, tokenize
from bot.engine.parsers.terraform.outline import Block, Expr
from bot.engine.parsers.terraform.values import is_expression, template_parts

__all__ = ["read_json_syntax"]

COMMENT = "//"


class _ShapeError(Exception):
    """Valid JSON that is not Terraform's JSON syntax."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


# How a string is read: a template (the default), a bare expression, or literal text.
_TEMPLATE, _EXPRESSION, _LITERAL = "template", "expression", "literal"


@dataclass(frozen=True)
class _Schema:
    """What Terraform itself defines in one kind of block: arguments that are not templates,
    its own nested blocks (name -> (labels, schema)), and how other objects inside are read
    (`nested` schema name: maybe nested blocks; None: object values, where `//` is a key)."""

    expressions: frozenset[str] = frozenset()
    literals: frozenset[str] = frozenset()
    blocks: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    nested: str | None = None


_RESOURCE = _Schema(
    expressions=frozenset({"depends_on", "provider"}),
    blocks=MappingProxyType({"lifecycle": (0, "lifecycle"), "connection": (0, "values"),
                             "provisioner": (1, "provisioner"), "dynamic": (1, "dynamic")}),
    nested="nested",
)
_SCHEMAS: Mapping[str, _Schema] = MappingProxyType({
    "resource": _RESOURCE,
    "data": _RESOURCE,
    "ephemeral": _RESOURCE,
    "module": _Schema(expressions=frozenset({"depends_on", "providers"}), literals=frozenset({"source", "version"})),
    "variable": _Schema(expressions=frozenset({"type"}),
                        literals=frozenset({"default", "description", "sensitive", "nullable", "ephemeral"}),
                        blocks=MappingProxyType({"validation": (0, "values")})),
    "output": _Schema(expressions=frozenset({"depends_on"}), literals=frozenset({"description", "sensitive"}),
                      blocks=MappingProxyType({"precondition": (0, "values")})),
    "provider": _Schema(literals=frozenset({"alias"}), nested="nested"),
    "locals": _Schema(),
    "lifecycle": _Schema(expressions=frozenset({"ignore_changes", "replace_triggered_by"}),
                         blocks=MappingProxyType({"precondition": (0, "values"), "postcondition": (0, "values")})),
    "provisioner": _Schema(expressions=frozenset({"when", "on_failure"}),
                           blocks=MappingProxyType({"connection": (0, "values")})),
    "dynamic": _Schema(expressions=frozenset({"iterator"}), blocks=MappingProxyType({"content": (0, "nested")})),
    "nested": _Schema(blocks=MappingProxyType({"dynamic": (1, "dynamic")}), nested="nested"),
    "values": _Schema(),
    "settings": _Schema(nested="nested"),
})

# Top-level block types and their labels. `module` models only some of them; the outline, like
# the HCL one, describes every block.
_TOP_LEVEL = MappingProxyType({
    "resource": 2, "data": 2, "ephemeral": 2, "module": 1, "variable": 1, "provider": 1, "output": 1,
    "check": 1, "locals": 0, "terraform": 0, "moved": 0, "import": 0, "removed": 0,
})

# `${a.b[0]}`-like traversals, which hcl2 renders as written; anything else goes through hcl2.
_TRAVERSAL = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[[0-9]+\])+")


def read_json_syntax(path: str, text: str) -> tuple[dict[str, Any], Block] | FileError:
    """The values and outline of one `.tf.json` file, or why it cannot be read."""
    try:
        root = read_json(text)
        return _file(root)
    except JSONError as exc:
        return FileError(path, exc.line, f"invalid JSON: {exc}")
    except _ShapeError as exc:
        return FileError(path, exc.line, f"invalid Terraform JSON: {exc}")
    except Exception as exc:  # noqa: BLE001 - a reader bug must never stop the review
        return FileError(path, None, f"cannot parse: {failure_reason(exc)}")


def _file(root: JValue) -> tuple[dict[str, Any], Block]:
    if not isinstance(root, JObject):
        raise _ShapeError("a .tf.json file holds one JSON object, with block types as its properties", root.line)
    values: dict[str, list[Any]] = {}
    outline = Block("", (), 1, root.end_line)
    for prop in root.props:
        labels = _TOP_LEVEL.get(prop.key)
        if labels is None:
            continue  # "//" and block types Terraform may add later: not modelled, as in HCL
        schema = _SCHEMAS.get(prop.key, _SCHEMAS["settings"])
        for names, body, line, end_line in _blocks(prop.key, prop.value, labels, prop.line):
            raw, attrs = _body(body, schema)
            for name in reversed(names):
                raw = {name: raw}
            values.setdefault(prop.key, []).append(raw)
            outline.blocks.append(Block(prop.key, names, line, end_line, attrs))
    return values, outline


def _blocks(kind: str, value: JValue, labels: int, line: int,
            names: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], JObject, int, int]]:
    """(labels, body, line, end_line) of each block one property defines: one object level per
    label (an array of objects at any level), then a body or an array of bodies."""
    if labels == 0:
        if isinstance(value, JObject):
            yield names, value, line, value.end_line
            return
        for item in _objects(kind, value, "a block body"):
            yield names, item, item.line, item.end_line
        return
    for level in [value] if isinstance(value, JObject) else _objects(kind, value, "an object of block labels"):
        for prop in level.props:
            if prop.key != COMMENT:
                yield from _blocks(kind, prop.value, labels - 1, prop.line, (*names, prop.key))


def _objects(kind: str, value: JValue, what: str) -> list[JObject]:
    items = value.items if isinstance(value, JArray) else (value,)
    for item in items:
        if not isinstance(item, JObject):
            raise _ShapeError(f'"{kind}" needs {what} (a JSON object, or an array of them) here, '
                              f"not {_kind_of(item)}", item.line)
    return [item for item in items if isinstance(item, JObject)]


def _kind_of(value: JValue) -> str:
    if isinstance(value, JArray):
        return "an array"
    if isinstance(value, JObject):
        return "an object"
    return {str: "a string", bool: "a boolean", type(None): "null"}.get(type(value.value), "a number")


def _body(obj: JObject, schema: _Schema) -> tuple[dict[str, Any], dict[str, Expr]]:
    """A block body: arguments and nested blocks by name, `//` comments dropped. A name given
    twice is allowed only for blocks (each object one more block), as Terraform allows."""
    raw: dict[str, Any] = {}
    attrs: dict[str, Expr] = {}
    for prop in obj.props:
        if prop.key == COMMENT:
            continue
        if prop.key in schema.blocks:
            labels, name = schema.blocks[prop.key]
            value, where = _nested_blocks(prop.key, prop.value, labels, _SCHEMAS[name], prop.line)
        else:
            mode = _EXPRESSION if prop.key in schema.expressions else (
                _LITERAL if prop.key in schema.literals else _TEMPLATE)
            nested = _SCHEMAS[schema.nested] if schema.nested and mode == _TEMPLATE else None
            value, where = _value(prop.value, mode, nested)
        where = Expr(prop.line, where.end_line, where.entries, where.items)
        if prop.key in raw:
            value, where = _repeated(prop.key, prop.line, (raw[prop.key], attrs[prop.key]), (value, where))
        raw[prop.key], attrs[prop.key] = value, where
    return raw, attrs


def _nested_blocks(kind: str, value: JValue, labels: int, schema: _Schema, key_line: int) -> tuple[list[Any], Expr]:
    """A nested block Terraform defines, as hcl2 gives it: a list of bodies ({label: body} when labelled)."""
    bodies: list[Any] = []
    items: list[Expr] = []
    for names, body, line, end_line in _blocks(kind, value, labels, key_line):
        raw, attrs = _body(body, schema)
        where = Expr(line, end_line, entries=attrs)
        for name in reversed(names):
            raw, where = {name: raw}, Expr(line, end_line, entries={name: where})
        bodies.append(raw)
        items.append(Expr(line, end_line, where.entries))
    return bodies, Expr(value.line, value.end_line, items=tuple(items))


def _repeated(key: str, line: int, first: tuple[Any, Expr], second: tuple[Any, Expr]) -> tuple[list[Any], Expr]:
    """Two properties of one name in a body: blocks repeat (one list of every block), arguments do not."""
    values: list[Any] = []
    items: list[Expr] = []
    for value, where in (first, second):
        if isinstance(value, dict):
            values.append(value)
            items.append(where)
        elif isinstance(value, list) and where.items is not None and all(isinstance(v, dict) for v in value):
            values.extend(value)
            items.extend(where.items)
        else:
            raise _ShapeError(f'duplicate argument "{key}" (only blocks may be given more than once)', line)
    return values, Expr(first[1].line, second[1].end_line, items=tuple(items))


def _value(value: JValue, mode: str, schema: _Schema | None) -> tuple[Any, Expr]:
    """An argument's value in hcl2's shape, with its lines. `schema` is how objects inside are
    read: as possible nested blocks (comments dropped, repeats allowed) or, if None, as values."""
    if isinstance(value, JObject):
        if schema is not None:
            raw, attrs = _body(value, schema)
            return raw, Expr(value.line, value.end_line, entries=attrs)
        entries: dict[str, Any] = {}
        where: dict[str, Expr] = {}
        for prop in value.props:
            if prop.key in entries:
                raise _ShapeError(f'duplicate key "{prop.key}" in an object', prop.line)
            entries[prop.key], inner = _value(prop.value, mode, None)
            where[prop.key] = Expr(prop.line, inner.end_line, inner.entries, inner.items)
        return entries, Expr(value.line, value.end_line, entries=where)
    if isinstance(value, JArray):
        pairs = [_value(item, mode, schema) for item in value.items]
        return [raw for raw, _ in pairs], Expr(value.line, value.end_line, items=tuple(e for _, e in pairs))
    where_ = Expr(value.line, value.line)
    if not isinstance(value.value, str):
        return value.value, where_
    return _string(value.value, mode, value.line), where_


def _string(text: str, mode: str, line: int) -> Any:
    """A JSON string as hcl2 would hold the HCL it stands for: a template as the quoted HCL
    string (a lone interpolation as its bare expression), an expression as the bare HCL
    expression, a literal as text."""
    if mode == _LITERAL:
        return _escape(text)
    if mode == _EXPRESSION and not is_expression(text):
        return _bare(text, line)
    if not is_expression(text):
        return text
    parts = template_parts(text)
    if parts is None:
        return text  # a %{ } directive: kept as written, as hcl2 keeps it (never resolved)
    if all(not is_expr for is_expr, _ in parts):
        return text
    if len(parts) == 1:  # "${expr}" is the expression itself (HCL's template unwrapping): as if bare
        return _bare(parts[0][1], line)
    return "".join("${" + _canonical(part, line) + "}" if is_expr else _escape(part) for is_expr, part in parts)


def _escape(literal: str) -> str:
    """Literal text as a template holds it: `${` and `%{` escaped, as HCL writes them."""
    return literal.replace("${", "$${").replace("%{", "%%{")


def _canonical(expression: str, line: int) -> str:
    """One interpolation's expression as hcl2 renders it (`aws_x.y.0.id` -> `aws_x.y[0].id`,
    `{a = 1}` -> `{"a": 1}`), so an Unknown reads as the HCL form's does; parsed, never run."""
    if _TRAVERSAL.fullmatch(expression):
        return expression
    rendered = _hcl_value(f'"${{{expression}}}"', expression, line)
    if not (isinstance(rendered, str) and rendered.startswith("${") and rendered.endswith("}")):
        raise _ShapeError(f"cannot read the expression {_shown(expression)}", line)
    return rendered[2:-1]


def _bare(expression: str, line: int) -> Any:
    """A string Terraform reads as an expression (`"aws_kms_key.k"`, `"list(string)"`), as hcl2
    gives the same text written bare in HCL (`${aws_kms_key.k}`, but `bool` stays `bool`)."""
    if _TRAVERSAL.fullmatch(expression):
        return "${" + expression + "}"
    return copy.deepcopy(_hcl_value(expression, expression, line))


def _hcl_value(source: str, expression: str, line: int) -> Any:
    """hcl2's value of `e = <source>`; a FileError-worthy _ShapeError when it is not one value."""
    try:
        return _parsed(source, expression)
    except TooDeep as exc:
        raise _ShapeError(str(exc), line) from None
    except _NotOne:
        raise _ShapeError(f"cannot read the expression {_shown(expression)} (it holds more than one)", line) from None
    except Exception as exc:  # noqa: BLE001 - whatever hcl2 raises, the string is not an expression it reads
        message = load_error("", f"e = {source}", exc).message
        raise _ShapeError(f"cannot read the expression {_shown(expression)} ({message})", line) from None


def _shown(expression: str) -> str:
    return repr(expression if len(expression) <= 40 else expression[:40] + "...")


def _parsed(source: str, expression: str) -> Any:
    """hcl2's value of `e = <source>`. Generated JSON repeats short expressions (`merge(local.tags,
    ...)`), so those are remembered; long ones are not, to keep the memory held small."""
    if len(source) <= _CACHED_CHARS:
        return _parsed_short(source, expression)
    return _parse(source, expression)


_CACHED_CHARS = 400


@functools.lru_cache(maxsize=2048)
def _parsed_short(source: str, expression: str) -> Any:
    return _parse(source, expression)


def _parse(source: str, expression: str) -> Any:
    tokenize(expression)  # refuses nesting deeper than MAX_NESTING before hcl2 could recurse on it
    text = f"e = {source}\n"
    values = load_hcl(blanked(text, tokenize(text).in_parens))
    if list(values) != ["e"]:  # the text held more than one expression (a line break and `x = ...`)
        raise _NotOne
    return values["e"]


class _NotOne(Exception):
    """The text of one expression parsed as several attributes."""
