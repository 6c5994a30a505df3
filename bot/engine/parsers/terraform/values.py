"""Static values of hcl2 expressions, through `var.x` defaults and `local.x` values.

python-hcl2 renders every expression as a `${...}` string. Each one is evaluated statically by
`expressions.evaluate` (literals, paths, operators, conditionals and a set of functions), with
variables' defaults and the module's locals (themselves resolved) as the values it names;
what cannot be known becomes `Unknown(expression)`, so rules can tell "false" from "cannot
tell". Local chains stop after MAX_RESOLVE_DEPTH steps and cycles stop at once.

A module's evaluations share one budget (MAX_MODULE_STEPS); each resolved variable or local is
remembered, and every use of it costs its size, so locals naming locals many times over (whose
values Terraform would make exponentially large) become Unknown instead of exhausting the parser.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.engine import limits
from bot.engine.model import Origin, Unknown
from bot.engine.parsers.terraform.expressions import (
    INSTANCE_KINDS,
    MAX_STEPS,
    Resolved,
    Work,
    evaluate,
    interpolated,
    sharing,
)
from bot.engine.parsers.terraform.hcl2_shape import META_KEYS

__all__ = ["MAX_MODULE_STEPS", "MAX_RESOLVE_DEPTH", "MISSING", "Bound", "Scope", "is_expression", "template_parts"]

MAX_RESOLVE_DEPTH = limits.RESOLVE_DEPTH  # local -> local -> ... chains followed before giving up
MAX_MODULE_STEPS = limits.MODULE_STEPS  # evaluation work (and resolved values' sizes) for a whole module


MISSING = object()  # no value: a variable without a default, or not declared


@functools.lru_cache(maxsize=8192)
def template_parts(text: str) -> tuple[tuple[bool, str], ...] | None:
    """Split an hcl2 string into (is_expression, text) parts; None for %{ } directives.

    `$${` is HCL's escape for a literal `${`. Remembered by text: a module called from hundreds of
    stacks is evaluated once per call, and its strings are the same each time.
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
    return tuple(p for p in parts if p[0] or p[1])


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
    work: Work = field(default_factory=lambda: Work(MAX_MODULE_STEPS), compare=False, repr=False)
    # One instance of a resource with `count` or `for_each`: "count.index", or "each.key" and
    # "each.value", resolved (`for_instance`); empty elsewhere, where they are unknown.
    instance: Mapping[str, Any] = field(default_factory=dict, compare=False)
    _resolved: dict[tuple[str, str, int, frozenset[str]], tuple[Resolved, int]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def for_instance(self, binding: Mapping[str, Any]) -> Scope:
        """This scope for one instance of a resource: its own `count.index` or `each.key` and
        `each.value`; the same variables, locals and work. Terraform lets no variable or local
        read an instance's values, so what they resolved to is the same for every instance and
        is shared, and `count`/`each` are read only in the resource's own expressions."""
        scope = Scope(self.variables, self.locals, self.origins, self.work, binding)
        object.__setattr__(scope, "_resolved", self._resolved)
        return scope

    def resolve(self, raw: Any, depth: int = 0, seen: frozenset[str] = frozenset()) -> Any:
        """A raw hcl2 value with every resolvable reference replaced, the rest Unknown."""
        with sharing(self.work):
            return self._resolve(raw, depth, seen)

    def resolve_with_origin(self, raw: Any) -> tuple[Any, Origin | None]:
        """`resolve`, and where the value came from when `raw` is one expression whose value is a
        referenced one (`${var.x}`, `${tobool(var.flag)}`, `${coalesce(var.a, "b")}`): None for a
        literal or a computed value, which are written where they are used."""
        with sharing(self.work):
            single = self._single(raw, 0, frozenset())
            if single is not None:
                return single.value, single.origin
            return self._resolve(raw, 0, frozenset()), None

    def _single(self, raw: Any, depth: int, seen: frozenset[str]) -> Resolved | None:
        """The evaluated value and origin of a raw value that is one `${...}`, else None."""
        if not is_expression(raw):
            return None
        parts = template_parts(raw)
        if parts is None or len(parts) != 1 or not parts[0][0]:
            return None
        return self._evaluated(parts[0][1], depth, seen)

    def _resolve(self, raw: Any, depth: int, seen: frozenset[str]) -> Any:
        if depth and self.work.active:
            self.work.charge()  # a referenced value, read for an evaluation: it pays
        if isinstance(raw, dict):
            return {k: self._resolve(v, depth, seen) for k, v in raw.items() if k not in META_KEYS}
        if isinstance(raw, list):
            return [self._resolve(v, depth, seen) for v in raw]
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
        return self._evaluated(expr, depth, seen).value

    def _evaluated(self, expr: str, depth: int, seen: frozenset[str]) -> Resolved:
        while _parenthesised(expr):
            expr = expr[1:-1].strip()  # `(var.x)`: hcl2 keeps the parentheses of a parenthesised term

        def lookup(kind: str, name: str) -> Resolved | None:
            if kind in INSTANCE_KINDS:
                found = self.instance.get(f"{kind}.{name}", MISSING) if depth == 0 else MISSING
                if found is MISSING:
                    return None
                self.work.charge(_size(found, MAX_STEPS + 1))
                return Resolved(found, None)
            if name not in (self.variables if kind == "var" else self.locals):
                return None
            key = (kind, name, depth, seen)
            if key not in self._resolved:
                resolved = self._referenced(kind, name, depth, seen)
                self.work.charge(0)  # not remembered if the work ran out on the way
                self._resolved[key] = (resolved, _size(resolved.value, MAX_STEPS + 1))
            resolved, size = self._resolved[key]
            self.work.charge(size)  # what the caller may copy or expand of it
            return resolved

        return evaluate(expr, lookup)

    def _referenced(self, kind: str, name: str, depth: int, seen: frozenset[str]) -> Resolved:
        """The value of `var.name` or `local.name`, named at `depth` with `seen` locals above it,
        and where it came from (a caller, a variable file, a default, a local)."""
        if kind == "var":
            value = self.variables[name]
            if isinstance(value, Bound):
                return Resolved(value.value, value.origin)
            if value is MISSING or depth >= MAX_RESOLVE_DEPTH:
                return Resolved(Unknown(f"var.{name}"), None)
            return Resolved(self._resolve(value, depth + 1, seen), self.origins.get(f"var.{name}"))
        if name in seen or depth >= MAX_RESOLVE_DEPTH:
            return Resolved(Unknown(f"local.{name}"), None)  # a cycle, or a chain too long
        raw = self.locals[name]
        inner = self._single(raw, depth + 1, seen | {name})
        value = inner.value if inner is not None else self._resolve(raw, depth + 1, seen | {name})
        written = self.origins.get(f"local.{name}")
        origin = None if written is None else Origin(
            f"local.{name}", written.path, written.line, written.text, written.context,
            inner.origin if inner is not None else None)
        return Resolved(value, origin)


def _size(value: Any, cap: int) -> int:
    """How many values `value` holds, counting shared parts each time they appear; at most `cap`."""
    count, stack = 0, [value]
    while stack and count < cap:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


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
