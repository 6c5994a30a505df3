"""Static values of hcl2 expressions, through `var.x` defaults and `local.x` values.

python-hcl2 renders every expression as a `${...}` string. Each one is evaluated statically by
`expressions.evaluate` (literals, paths, operators, conditionals and a set of functions), with
variables' defaults and the module's locals (themselves resolved) as the values it names;
what cannot be known becomes `Unknown(expression)`, so rules can tell "false" from "cannot
tell". Local chains stop after MAX_RESOLVE_DEPTH steps and cycles stop at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.engine.model import Unknown
from bot.engine.parsers.terraform.expressions import Resolved, evaluate, interpolated
from bot.engine.parsers.terraform.grammar import META_KEYS

__all__ = ["MAX_RESOLVE_DEPTH", "MISSING", "Scope", "is_expression", "template_parts"]

MAX_RESOLVE_DEPTH = 8  # local -> local -> ... chains followed before giving up


MISSING = object()  # no value: a variable without a default, or not declared


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
class Scope:
    """Variable defaults and local values of one module, as raw hcl2 values."""

    variables: Mapping[str, Any]  # name -> default, or MISSING
    locals: Mapping[str, Any]

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
            piece = interpolated(self._expression(part, depth, seen))
            if piece is None:
                return Unknown(text)
            pieces.append(piece)
        return "".join(pieces)

    def _expression(self, expr: str, depth: int, seen: frozenset[str]) -> Any:
        """Value of one `${...}` body, evaluated with this module's variables and locals."""
        while _parenthesised(expr):
            expr = expr[1:-1].strip()  # `(var.x)`: hcl2 keeps the parentheses of a parenthesised term

        def lookup(kind: str, name: str) -> Resolved | None:
            if kind == "var":
                if name not in self.variables:
                    return None
                value = self.variables[name]
                if value is MISSING or depth >= MAX_RESOLVE_DEPTH:
                    return Resolved(Unknown(f"var.{name}"), None)
                return Resolved(self.resolve(value, depth + 1, seen), None)
            if name not in self.locals:
                return None
            if name in seen or depth >= MAX_RESOLVE_DEPTH:
                return Resolved(Unknown(f"local.{name}"), None)  # a cycle, or a chain too long
            return Resolved(self.resolve(self.locals[name], depth + 1, seen | {name}), None)

        return evaluate(expr, lookup).value


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
