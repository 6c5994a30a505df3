"""Static values of hcl2 expressions: literals, `var.x` defaults and `local.x` values.

python-hcl2 renders every expression as a `${...}` string. Nothing here ever evaluates one:
an interpolation that is a literal, or a path into a variable's default or a module local
(itself resolvable), becomes that value; anything else becomes `Unknown(expression)`, so rules
can tell "false" from "cannot tell". Local chains stop after MAX_RESOLVE_DEPTH steps and
cycles stop at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.engine.model import Origin, Unknown
from bot.engine.parsers.terraform.grammar import META_KEYS

__all__ = ["MAX_RESOLVE_DEPTH", "MISSING", "Bound", "Scope", "is_expression", "template_parts"]

MAX_RESOLVE_DEPTH = 8  # local -> local -> ... chains followed before giving up


MISSING = object()  # no value: a variable without a default, or not declared
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_PATH_RE = re.compile(
    r"(var|local)\.([A-Za-z_][\w-]*)((?:\.[A-Za-z_][\w-]*|\[\d+\]|\[\"[^\"\\]*\"\])*)"
)
_STEP_RE = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[\"([^\"\\]*)\"\]")


def template_parts(text: str) -> list[tuple[bool, str]] | None:
    """Split an hcl2 string into (is_expression, text) parts; None for %{ } directives.

    `$${` is HCL's escape for a literal `${`.
    """
    parts: list[tuple[bool, str]] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = text.find("{", i)
        if j < 0:
            literal.append(text[i:])
            break
        if j == 0 or text[j - 1] not in "$%":
            literal.append(text[i : j + 1])
            i = j + 1
            continue
        if j >= 2 and text[j - 2] == text[j - 1]:  # $${ or %%{: an escaped literal
            literal.append(text[i : j - 1] + "{")
            i = j + 1
            continue
        if text[j - 1] == "%":
            return None
        literal.append(text[i : j - 1])
        end = _interpolation_end(text, j + 1)
        if end is None:
            return None
        if literal:
            parts.append((False, "".join(literal)))
            literal = []
        parts.append((True, text[j + 1 : end].strip()))
        i = end + 1
    if literal:
        parts.append((False, "".join(literal)))
    return [p for p in parts if p[0] or p[1]]


_INTERPOLATION_STOP = re.compile(r'\\.|["{}]', re.DOTALL)


def _interpolation_end(text: str, pos: int) -> int | None:
    """Index of the `}` closing an interpolation whose body starts at `pos` (quotes respected)."""
    depth, in_string = 1, False
    for m in _INTERPOLATION_STOP.finditer(text, pos):
        tok = m.group()
        if tok == '"':
            in_string = not in_string
        elif in_string or tok[0] == "\\":
            continue
        elif tok == "{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return m.start()
    return None


def is_expression(value: Any) -> bool:
    """Whether an hcl2 value is an expression (hcl2 renders expressions as `${...}` strings)."""
    return isinstance(value, str) and ("${" in value or "%{" in value)


@dataclass(frozen=True)
class Bound:
    """A variable's value set from outside its module (a module call's argument, a variable
    file): already resolved where it was written, with where that is."""

    value: Any
    origin: Origin | None


@dataclass(frozen=True)
class Scope:
    """Variable values and local values of one module instance.

    A variable maps to its raw hcl2 default, MISSING, or a `Bound` value from the caller or a
    variable file (which wins over the default). `origins` says where each variable's default
    and each local is written, so a value resolved through them can say where it came from.
    """

    variables: Mapping[str, Any]  # name -> raw default, MISSING, or Bound
    locals: Mapping[str, Any]
    origins: Mapping[str, Origin] = field(default_factory=dict)  # "var.x" / "local.y" -> where written

    def origin_of(self, raw: Any, depth: int = 0) -> Origin | None:
        """Where a raw value that is one reference (`${var.x}`, `${local.y.z}`) came from; None for
        a literal or a computed value (the value is then written where it is used)."""
        if not is_expression(raw) or depth >= MAX_RESOLVE_DEPTH:
            return None
        parts = template_parts(raw)
        if parts is None or len(parts) != 1 or not parts[0][0]:
            return None
        expr = parts[0][1]
        while _parenthesised(expr):
            expr = expr[1:-1].strip()
        m = _PATH_RE.fullmatch(expr)
        if m is None:
            return None
        kind, name, _ = m.groups()
        if kind == "var":
            value = self.variables.get(name, MISSING)
            if isinstance(value, Bound):
                return _named(value.origin, expr)
            written = self.origins.get(f"var.{name}")
            return _named(written, expr) if value is not MISSING else None
        written = self.origins.get(f"local.{name}")
        if written is None or name not in self.locals:
            return None
        inner = self.origin_of(self.locals[name], depth + 1)
        return Origin(expr, written.path, written.line, written.text, written.context, inner)

    def resolve(self, raw: Any, depth: int = 0, seen: frozenset[str] = frozenset()) -> Any:
        """A raw hcl2 value with every resolvable reference replaced, the rest Unknown."""
        if isinstance(raw, dict):
            return {k: self.resolve(v, depth, seen) for k, v in raw.items() if k not in META_KEYS}
        if isinstance(raw, list):
            return [self.resolve(v, depth, seen) for v in raw]
        if is_expression(raw):
            return self._template(raw, depth, seen)
        return raw

    def _template(self, text: str, depth: int, seen: frozenset[str]) -> Any:
        parts = template_parts(text)
        if parts is None:
            return Unknown(text)
        if len(parts) == 1 and parts[0][0]:
            return self._expression(parts[0][1], depth, seen)
        pieces: list[str] = []
        for is_expr, part in parts:
            if not is_expr:
                pieces.append(part)
                continue
            value = self._expression(part, depth, seen)
            if isinstance(value, bool):
                pieces.append("true" if value else "false")
            elif isinstance(value, (str, int, float)):
                pieces.append(str(value))
            else:
                return Unknown(text)
        return "".join(pieces)

    def _expression(self, expr: str, depth: int, seen: frozenset[str]) -> Any:
        """Value of one `${...}` body: a literal or a var/local path, else Unknown."""
        while _parenthesised(expr):
            expr = expr[1:-1].strip()  # `(var.x)`: hcl2 keeps the parentheses of a parenthesised term
        lowered = expr.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null":
            return None
        if _NUMBER_RE.fullmatch(expr):
            number = float(expr)
            return int(number) if number.is_integer() and "." not in expr and "e" not in lowered else number
        m = _PATH_RE.fullmatch(expr)
        if m is None or depth >= MAX_RESOLVE_DEPTH:
            return Unknown(expr)
        kind, name, path = m.groups()
        if kind == "var":
            value = self.variables.get(name, MISSING)
            if value is MISSING:
                return Unknown(expr)
            value = value.value if isinstance(value, Bound) else self.resolve(value, depth + 1, seen)
        else:
            if name in seen or name not in self.locals:
                return Unknown(expr)
            value = self.resolve(self.locals[name], depth + 1, seen | {name})
        value = _walk(value, path, expr)
        return Unknown(expr) if isinstance(value, Unknown) else value  # name what was written here


def _named(origin: Origin | None, expression: str) -> Origin | None:
    """`origin` as seen from where `expression` is written (the same place, the reader's words)."""
    if origin is None:
        return None
    return Origin(expression, origin.path, origin.line, origin.text, origin.context, origin.via)


def _parenthesised(expr: str) -> bool:
    """True when one pair of parentheses wraps the whole expression (`(var.x)`, not `(a) + (b)`)."""
    if not (expr.startswith("(") and expr.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(expr):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and i < len(expr) - 1:
                return False
        elif ch == '"':
            return False  # strings may hold brackets; not worth a full lexer here
    return True


def _walk(value: Any, path: str, expr: str) -> Any:
    """Follow `.attr`, `[0]` and `["key"]` steps into a resolved value."""
    for m in _STEP_RE.finditer(path):
        attr, index, key = m.groups()
        if isinstance(value, dict) and (attr or key) is not None and (attr or key) in value:
            value = value[attr or key]
        elif isinstance(value, list) and index is not None and int(index) < len(value):
            value = value[int(index)]
        else:
            return Unknown(expr)
    return value
