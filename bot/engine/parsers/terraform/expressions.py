"""A small, static and safe evaluator of one Terraform expression, as python-hcl2 renders it.

Rules must tell "false" from "cannot tell", so an expression gets a value only when Terraform
would certainly give it that value; anything else is `Unknown(expression)`. Semantics follow
Terraform, read from HCL's and cty's sources and checked against `terraform console` (1.11):
conversions (`tobool("true")`, `"5" + 1`), `"1" == 1` is false, `coalesce` skips null and "",
`try` takes the first argument without an error (an Unknown is not an error), `false && x` is
false for an Unknown `x`. Where Terraform versions differ, the answer is Unknown.

The input is the text hcl2 renders inside `${...}`, which is not quite HCL:

- a container directly inside a conditional, parentheses or an interpolation is a Python repr
  (`['a', True, None]`); inside a call or an operation an object is JSON (`{"k": "v"}`) and a list
  is "inline", its strings without quotes (`[a, ${var.x}]`): `["1"]` and `[1]`, `[""]` and `[]`
  render alike, so those stay Unknown;
- `true`, `false` and `null` may read `True`, `False` and `None`, and a number `${1e3}`;
- a call's `...` is dropped, so `concat`, `coalesce`, `coalescelist`, `merge`, `format` and `join`
  are evaluated with and without it: a value only when both agree, or only one can work;
- a `for` is its tokens joined by single spaces (`[for i , x in coll : x if c]`, `{for k , v in
  m : v => k ... if c}`), each part rendered as a call argument; that is also how a call writes
  a list of one string reading as a `for` (`["for x in l : x"]`), a risk taken: nobody writes it.

Plain HCL containers (`{ k = v }`, `[var.a, 1]`) are read too where hcl2 never writes that shape.

`for` expressions follow hclsyntax's ForExpr: a list or tuple gives (index, element), a set
(element, element) in its order, a map or object (key, value) by key; the iteration variables
exist only inside the `for` and shadow any other name there (`var` too, as in Terraform). An
Unknown collection, a condition Unknown for an element, or an Unknown key make the result Unknown
(the length or the keys are not known); a condition false for every element gives an empty one.

Variable type constraints are not applied by the caller, so `==` between a string and a number
or bool that would convert to each other is Unknown unless both are written literally.

Safety: no `eval`; a hand-written scanner and recursive-descent parser with Terraform's operator
precedence; at most MAX_EXPRESSION_CHARS characters, MAX_DEPTH levels of nesting and MAX_STEPS
units of work per expression (each element a `for` takes is one), counting the evaluations nested
in it through `lookup` (a local naming a local); a caller can make many evaluations share one
budget (`sharing(Work(limit))`).
Nothing here raises: any failure is Unknown.
"""

from __future__ import annotations

import contextvars
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from bot.engine import limits
from bot.engine.model import Origin, Unknown

__all__ = [
    "INSTANCE_KINDS", "MAX_DEPTH", "MAX_EXPRESSION_CHARS", "MAX_STEPS", "Lookup", "OutOfWork", "Resolved", "Work", "evaluate",
    "interpolated", "sharing",
]

MAX_EXPRESSION_CHARS = limits.EXPRESSION_CHARS
MAX_DEPTH = limits.EXPRESSION_DEPTH  # nested brackets, calls, operators, templates and values, across nested lookups
MAX_STEPS = limits.EXPRESSION_STEPS  # units of work (tokens, nodes, items, 64 characters) for one evaluation


@dataclass(frozen=True)
class Resolved:
    """A value (str/int/float/bool/None/list/dict, or Unknown) and where it came from when it
    is a referenced value passed through (steps, picks, conversions); None when computed."""

    value: Any
    origin: Origin | None


Lookup = Callable[[str, str], Resolved | None]  # (kind, name) -> its whole value; None: not declared (unknown)
INSTANCE_KINDS = frozenset({"count", "each"})
"""`count.index`, `each.key`, `each.value`: known in one instance of a resource with `count` or
`for_each` (`values.Scope.for_instance`), unknown elsewhere."""
_REFERENCE_KINDS = frozenset({"var", "local"}) | INSTANCE_KINDS


def evaluate(expression: str, lookup: Lookup) -> Resolved:
    """The value of one expression body; `Unknown(expression)` when it cannot be known. Never raises."""
    work = _WORK.get()
    token = None
    if work is None:
        work = Work()
        token = _WORK.set(work)
    depth, outermost = work.depth, work.active == 0
    if outermost:
        work.mark = work.steps
    work.active += 1
    try:
        if not isinstance(expression, str) or len(expression) > MAX_EXPRESSION_CHARS:
            raise _Abort
        result = _Evaluator(lookup, work).top(_parsed(expression, work))
        if isinstance(result.value, Unknown):
            return Resolved(Unknown(expression), result.origin)
        return result
    except Exception:  # noqa: BLE001 - limits, syntax, Terraform errors, a bug: never raise to the parser
        return Resolved(Unknown(expression if isinstance(expression, str) else repr(expression)), None)
    finally:
        work.depth = depth
        work.active -= 1
        if token is not None:
            _WORK.reset(token)


@dataclass(frozen=True)
class _Parse:
    """A parsed expression and what parsing it cost: steps, and how deep it nested."""

    node: _Node
    steps: int
    depth: int


_PARSED: dict[str, _Parse] = {}
_PARSED_MAX = 8192


def _parsed(expression: str, work: Work) -> _Node:
    """The syntax tree of a whole expression, remembered by its text: a module called from
    hundreds of stacks is evaluated once per call with the same texts, and parsing was most of
    each evaluation. A tree is not changed once parsed (the evaluator reads slices of it with
    parsers of its own), so one serves every evaluation.

    The work is charged as if the text were parsed again, so limits stop an evaluation exactly
    where they would have (a verdict never depends on what the process reviewed before): a
    remembered parse is used only when its steps and depth fit, else the text is parsed anew and
    stops where it stops. Only parses that succeeded are kept."""
    known = _PARSED.get(expression)
    if known is not None and work.depth + known.depth <= MAX_DEPTH:
        steps = work.steps + known.steps
        if steps <= work.limit and not (work.active and steps - work.mark > MAX_STEPS):
            work.steps = steps
            return known.node
    steps, depth, deepest = work.steps, work.depth, work.deepest
    work.deepest = depth
    try:
        node = _Parser(expression, work).parse()
        if known is None:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[expression] = _Parse(node, work.steps - steps, work.deepest - depth)
    finally:
        work.deepest = max(deepest, work.deepest)
    return node


def sharing(work: Work) -> _Sharing:
    """Evaluations inside draw on `work` (and callers may `work.charge` their own steps)."""
    return _Sharing(work)


class _Sharing:
    """`sharing` as a plain context manager: entered once per resolved value of every module
    instance (tens of thousands in a review of a shared module), where `contextmanager`'s
    generator was a large share of the evaluation's time."""

    __slots__ = ("_token", "_work")

    def __init__(self, work: Work) -> None:
        self._work = work

    def __enter__(self) -> Work:
        self._token = _WORK.set(self._work)
        return self._work

    def __exit__(self, *exc: object) -> None:
        _WORK.reset(self._token)


def interpolated(value: Any) -> str | None:
    """`value` as Terraform writes it into a string template; None where it cannot be."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and value - value == 0:  # not an infinity or NaN
        return _number_text(value)
    return None


# --- limits and outcomes -----------------------------------------------------------------------


class _Abort(Exception):
    """A limit was hit: the whole evaluation is Unknown (`try` cannot catch this)."""


class OutOfWork(_Abort):
    """The shared work is used up; raised by `Work.charge`, it makes the evaluation Unknown."""


class _Syntax(Exception):
    """Text this parser does not read."""


class _Error(Exception):
    """An error Terraform would report; `try` and `can` catch it."""


class _Unknowable(Exception):
    """A value whose Terraform semantics are not modelled here: that value is Unknown."""


class _Unreadable(Exception):
    """A container that does not read as hcl2 renders one (it may still read as plain HCL)."""


class _Ambiguous(Exception):
    """A container hcl2 renders alike for different values: it is Unknown."""


class Work:
    """Steps and nesting, shared by an evaluation and those nested in it through `lookup`, or by
    every evaluation inside `sharing(work)`: together they stop at `limit` steps, and each
    outermost evaluation at MAX_STEPS."""

    def __init__(self, limit: int = MAX_STEPS) -> None:
        self.limit = limit
        self.steps = 0
        self.depth = 0
        self.mark = 0  # steps when the outermost running evaluation started
        self.active = 0  # evaluations running
        self.deepest = 0  # the greatest depth reached (what a remembered parse needs to know)

    def charge(self, units: int = 1) -> None:
        """Count `units` of work; OutOfWork once a limit is passed."""
        self.steps += units
        if self.steps > self.limit or (self.active and self.steps - self.mark > MAX_STEPS):
            raise OutOfWork

    def nested(self) -> _Nesting:
        """One level deeper while inside; _Abort past MAX_DEPTH."""
        return _Nesting(self)


class _Nesting:
    """`Work.nested` as a plain context manager: it wraps every evaluated node, so it must be cheap."""

    __slots__ = ("_work",)

    def __init__(self, work: Work) -> None:
        self._work = work

    def __enter__(self) -> None:
        work = self._work
        work.depth += 1
        work.deepest = max(work.deepest, work.depth)
        if work.depth > MAX_DEPTH:
            work.depth -= 1
            raise _Abort

    def __exit__(self, *exc: object) -> None:
        self._work.depth -= 1


_WORK: contextvars.ContextVar[Work | None] = contextvars.ContextVar("terraform_expression_work", default=None)


# --- syntax tree -------------------------------------------------------------------------------


@dataclass(eq=False)
class _Node:
    src: str
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.src[self.start : self.end]


@dataclass(eq=False)
class _Lit(_Node):
    value: Any


@dataclass(eq=False)
class _Tmpl(_Node):
    parts: list[str | _Node]
    directive: bool  # holds a %{ } directive: not evaluated


@dataclass(eq=False)
class _Ref(_Node):
    kind: str  # "var" | "local" | "count" | "each"
    name: str


@dataclass(eq=False)
class _Sym(_Node):
    """An iteration variable of an enclosing `for`: it shadows any other name, `var` and `local` too."""

    name: str


@dataclass(eq=False)
class _Opaque(_Node):
    """Never evaluated: other references, splats, provider functions."""


@dataclass(eq=False)
class _Attr(_Node):
    base: _Node
    name: str


@dataclass(eq=False)
class _Index(_Node):
    base: _Node
    key: _Node


@dataclass(eq=False)
class _Call(_Node):
    name: str
    args: list[_Node]
    expand: bool  # written with `...` (hcl2 drops it; plain HCL may have it)


@dataclass(eq=False)
class _Unary(_Node):
    op: str
    operand: _Node


@dataclass(eq=False)
class _Chain(_Node):
    """`a op b op c ...` at one precedence level, evaluated left to right without recursion."""

    level: int
    first: _Node
    rest: list[tuple[str, _Node]]


@dataclass(eq=False)
class _Cond(_Node):
    cond: _Node
    yes: _Node
    no: _Node


@dataclass(eq=False)
class _Group(_Node):
    """`(x)` or hcl2's `${x}`: the inner value (a container inside stays a Python repr)."""

    inner: _Node


@dataclass(eq=False)
class _Container(_Node):
    """A `[...]` or `{...}` as hcl2 rendered it, read when evaluated (see the module docstring)."""

    inline: bool = False  # a call argument or an operand: hcl2's inline rendering


@dataclass(eq=False)
class _Tuple(_Node):
    items: list[_Node]


@dataclass(eq=False)
class _Object(_Node):
    pairs: list[tuple[_Node, _Node]]


@dataclass(eq=False)
class _For(_Node):
    """`[for k, v in coll : value if cond]`, or `{for k, v in coll : key => value... if cond}` when
    `key` is set (`group`: written with `...`)."""

    key_var: str | None
    value_var: str
    collection: _Node
    key: _Node | None
    value: _Node
    group: bool
    cond: _Node | None


# Terraform's binary operators, lowest precedence first; all left-associative.
_LEVELS = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "/", "%"))
_PRECEDENCE = {op: level for level, ops in enumerate(_LEVELS) for op in ops}
_LOGICAL, _EQUALITY, _COMPARISON = 1, 2, 3
_MULTI_CHAR = ("...", "==", "!=", "<=", ">=", "&&", "||", "=>", "::", "${")
_NAME_RE = re.compile(r"[A-Za-z_][\w-]*")
_DIGITS_RE = re.compile(r"\d+", re.ASCII)  # ASCII digits only, as HCL and Go read numbers
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", re.ASCII)
_SPACE_RE = re.compile(r"\s*")
_FOR_RE = re.compile(r"[\[{]\s*for\s")
_CONSTANTS = {"true": True, "True": True, "false": False, "False": False, "null": None, "None": None}


def _mark_inline(node: _Node) -> None:
    """A container written directly as a call argument or operand is rendered inline."""
    if isinstance(node, _Container):
        node.inline = True


class _Parser:
    """Recursive descent over one text (or a slice of it); containers are scanned, read later.

    `symbols` are the iteration variables of the `for` expressions around the text: a name among
    them is a `_Sym`, whatever else it could be (Terraform's child scope shadows `var` too)."""

    def __init__(
        self, src: str, work: Work, start: int = 0, end: int | None = None, symbols: frozenset[str] = frozenset()
    ) -> None:
        self.src, self.work, self.pos = src, work, start
        self.end = len(src) if end is None else end
        self.symbols = symbols
        self._peeked = -1

    def parse(self) -> _Node:
        node = self.expression()
        if self.peek():
            raise _Syntax
        return node

    def value_template(self) -> _Tmpl:
        """The whole text as an hcl2 value string: a template with no escapes but `$${` and `%%{`."""
        parts, directive, _ = self.template_parts(self.pos, quoted=False)
        return _Tmpl(self.src, 0, self.end, parts, directive)

    # tokens

    def peek(self) -> str:
        """The next token: an operator or character as itself, "num", "name", or "" at the end."""
        m = _SPACE_RE.match(self.src, self.pos, self.end)
        if m is not None:
            self.pos = m.end()
        if self.pos >= self.end:
            return ""
        if self._peeked != self.pos:
            self._peeked = self.pos
            self.work.charge()
        for op in _MULTI_CHAR:
            if self.src.startswith(op, self.pos, self.end):
                return op
        ch = self.src[self.pos]
        if ch.isdigit():
            return "num"
        if ch.isalpha() or ch == "_":
            return "name"
        return ch

    def take(self, token: str) -> None:
        if self.peek() != token:
            raise _Syntax
        self.pos += len(token)

    def match(self, pattern: re.Pattern[str]) -> str:
        self.peek()
        m = pattern.match(self.src, self.pos, self.end)
        if m is None:
            raise _Syntax
        self.pos = m.end()
        return m.group()

    # expressions

    def expression(self) -> _Node:
        """A conditional or anything binding tighter; `a ? b : c ? d : e` nests to the right."""
        with self.work.nested():
            start = self.pos
            cond = self.binary()
            if self.peek() != "?":
                return cond
            self.pos += 1
            yes = self.expression()
            self.take(":")
            no = self.expression()
            return _Cond(self.src, start, self.pos, cond, yes, no)

    def binary(self) -> _Node:
        """Operators by precedence (shunting-yard); a run at one level becomes one `_Chain`."""
        operands = [self.unary()]
        ops: list[str] = []
        while (op := self.peek()) in _PRECEDENCE:
            self.pos += len(op)
            ops.append(op)
            operands.append(self.unary())
        if not ops:
            return operands[0]
        for operand in operands:
            _mark_inline(operand)
        out: list[_Node] = [operands[0]]
        pending: list[str] = []
        built: set[int] = set()  # chains made here (a parenthesised chain must not be extended)

        def reduce() -> None:
            op = pending.pop()
            right, left = out.pop(), out.pop()
            if isinstance(left, _Chain) and id(left) in built and left.level == _PRECEDENCE[op]:
                left.rest.append((op, right))
                left.end = right.end
                out.append(left)
                return
            chain = _Chain(self.src, left.start, right.end, _PRECEDENCE[op], left, [(op, right)])
            built.add(id(chain))
            out.append(chain)

        for op, operand in zip(ops, operands[1:]):
            while pending and _PRECEDENCE[pending[-1]] >= _PRECEDENCE[op]:
                reduce()
            pending.append(op)
            out.append(operand)
        while pending:
            reduce()
        return out[0]

    def unary(self) -> _Node:
        op = self.peek()
        if op not in ("!", "-"):
            return self.postfix()
        start = self.pos
        self.pos += 1
        with self.work.nested():
            operand = self.unary()
        _mark_inline(operand)
        return _Unary(self.src, start, operand.end, op, operand)

    def postfix(self) -> _Node:
        node = self.primary()
        start = node.start
        while True:
            token = self.peek()
            if token == ".":
                self.pos += 1
                after = self.peek()
                if after == "name":
                    node = _Attr(self.src, start, 0, node, self.match(_NAME_RE))
                elif after == "num":  # legacy `list.0`
                    digits = self.match(_DIGITS_RE)
                    node = _Index(self.src, start, 0, node, _Lit(self.src, self.pos - len(digits), self.pos, int(digits)))
                elif after == "*":  # attribute splat
                    self.pos += 1
                    node = _Opaque(self.src, start, 0)
                else:
                    raise _Syntax
            elif token == "[":
                self.pos += 1
                if self.peek() == "*":  # full splat
                    self.pos += 1
                    self.take("]")
                    node = _Opaque(self.src, start, 0)
                else:
                    key = self.expression()
                    self.take("]")
                    node = _Index(self.src, start, 0, node, key)
            else:
                return node
            node.end = self.pos

    def primary(self) -> _Node:
        token, start = self.peek(), self.pos
        if token == "num":
            text = self.match(_NUMBER_RE)
            return _Lit(self.src, start, self.pos, _number_literal(text))
        if token == "name":
            return self.named(self.match(_NAME_RE), start)
        if token == '"':
            parts, directive, end = self.template_parts(self.pos + 1, quoted=True)
            self.pos = end
            return _Tmpl(self.src, start, end, parts, directive)
        if token in ("(", "${"):
            self.pos += len(token)
            inner = self.expression()
            self.take(")" if token == "(" else "}")
            return _Group(self.src, start, self.pos, inner)
        if token in ("[", "{"):
            self.pos = _Scanner(self.src, self.end, self.work).container_end(self.pos)
            if _FOR_RE.match(self.src, start, self.pos):
                return self.for_expression(start, self.pos)
            return _Container(self.src, start, self.pos)
        raise _Syntax

    def for_expression(self, start: int, end: int) -> _Node:
        """The `for` expression in `src[start:end]` (brackets included), as hcl2 renders it: its
        tokens joined by single spaces (`for k , v in coll : k => v ... if c`), each part rendered
        like a call argument (inline lists, JSON objects); plain HCL reads alike. What does not
        read as a `for` (an inline list `[for x, y]` of two strings) is Unknown, not an error."""
        inner = _Parser(self.src, self.work, start + 1, end - 1, self.symbols)
        try:
            with self.work.nested():
                return inner.for_parts(start, end, self.src.startswith("{", start))
        except _Syntax:
            return _Opaque(self.src, start, end)

    def for_parts(self, start: int, end: int, is_object: bool) -> _For:
        if self.word() != "for":
            raise _Syntax
        names = [self.word()]
        if self.peek() == ",":
            self.pos += 1
            names.append(self.word())
        if self.word() != "in" or any(name in _CONSTANTS for name in names):
            raise _Syntax  # `for null in ...`: hcl2 renders `null` and `None` alike
        collection = self.expression()
        self.take(":")
        self.symbols = self.symbols | frozenset(names)  # this parser reads only the for's own text
        key = None
        if is_object:
            key = self.expression()
            self.take("=>")
        value = self.expression()
        group = is_object and self.peek() == "..."
        if group:
            self.pos += 3
        cond = None
        if self.peek() == "name":
            if self.word() != "if":
                raise _Syntax
            cond = self.expression()
        if self.peek():
            raise _Syntax
        for part in (collection, key, value, cond):
            if part is not None:
                _mark_inline(part)  # hcl2 renders each part as it renders a call argument
        key_var = names[0] if len(names) == 2 else None
        return _For(self.src, start, end, key_var, names[-1], collection, key, value, group, cond)

    def word(self) -> str:
        """The next name (an identifier or keyword)."""
        if self.peek() != "name":
            raise _Syntax
        return self.match(_NAME_RE)

    def named(self, name: str, start: int) -> _Node:
        if name in _CONSTANTS:
            return _Lit(self.src, start, self.pos, _CONSTANTS[name])
        after = self.peek()
        if after == "(":
            return self.call(name, start)
        if after == "::":  # provider::name::function(...)
            while self.peek() == "::":
                self.pos += 2
                self.match(_NAME_RE)
            self.call(name, start)
            return _Opaque(self.src, start, self.pos)
        if name in self.symbols:
            return _Sym(self.src, start, self.pos, name)
        if name in _REFERENCE_KINDS and after == ".":
            self.pos += 1
            if self.peek() != "name":
                raise _Syntax
            attr = self.match(_NAME_RE)
            return _Ref(self.src, start, self.pos, name, attr)
        return _Opaque(self.src, start, self.pos)  # resources, data., module., path., self., ...

    def call(self, name: str, start: int) -> _Node:
        self.take("(")
        args: list[_Node] = []
        expand = False
        while self.peek() != ")":
            args.append(self.expression())
            token = self.peek()
            if token == "...":
                self.pos += 3
                expand = True
                break
            if token != ",":
                break
            self.pos += 1
        self.take(")")
        for arg in args:
            _mark_inline(arg)
        return _Call(self.src, start, self.pos, name, args, expand)

    def hcl_container(self) -> _Node:
        """A plain HCL tuple `[a, b]` or object `{ k = v, "k2" : v }` (never rendered by hcl2)."""
        start = self.pos
        if self.peek() == "[":
            self.pos += 1
            items: list[_Node] = []
            while self.peek() != "]":
                items.append(self.expression())
                if self.peek() != ",":
                    break
                self.pos += 1
            self.take("]")
            return _Tuple(self.src, start, self.pos, items)
        self.take("{")
        pairs: list[tuple[_Node, _Node]] = []
        while self.peek() != "}":
            key_start = self.pos
            if self.peek() == "name":
                name = self.match(_NAME_RE)
                if self.peek() in ("=", ":"):
                    key: _Node = _Lit(self.src, key_start, self.pos, name)  # a bare name is a literal key
                else:
                    self.pos = key_start
                    key = self.expression()
            else:
                key = self.expression()
            if self.peek() not in ("=", ":"):
                raise _Syntax
            self.pos += 1
            pairs.append((key, self.expression()))
            if self.peek() == ",":
                self.pos += 1
        self.take("}")
        return _Object(self.src, start, self.pos, pairs)

    def template_parts(self, i: int, quoted: bool) -> tuple[list[str | _Node], bool, int]:
        """A template's parts from `i`: up to the closing quote of an HCL string (escapes decoded)
        or, not quoted, to the end (an hcl2 value string, whose escapes hcl2 already decoded)."""
        src, end = self.src, self.end
        parts: list[str | _Node] = []
        literal: list[str] = []
        directive = False
        stop = re.compile(r'["\\$%\n]' if quoted else r"[$%]")
        while True:
            m = stop.search(src, i, end)
            self.work.charge(1 + ((m.start() if m else end) - i) // 64)
            if m is None:
                if quoted:
                    raise _Syntax
                literal.append(src[i:end])
                i = end
                break
            j = m.start()
            literal.append(src[i:j])
            ch = src[j]
            if ch == '"':
                i = j + 1
                break
            if ch == "\n":
                raise _Syntax  # a quoted string never spans lines (hcl2 renders heredocs so)
            if ch == "\\":
                decoded, i = _hcl_escape(src, j, end)
                literal.append(decoded)
                continue
            if src.startswith(ch * 2 + "{", j, end):  # $${ and %%{: a literal ${ and %{
                literal.append(ch + "{")
                i = j + 3
                continue
            if not src.startswith("{", j + 1, end):
                literal.append(ch)
                i = j + 1
                continue
            close = _Scanner(src, end, self.work).interpolation_end(j + 2)
            if ch == "%":
                directive = True
            else:
                if literal:
                    parts.append("".join(literal))
                    literal = []
                with self.work.nested():
                    parts.append(_Parser(src, self.work, j + 2, close, self.symbols).parse())
            i = close + 1
        if literal:
            parts.append("".join(literal))
        return [p for p in parts if p != ""], directive, i


_HCL_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_HEX_RE = re.compile(r"[0-9a-fA-F]+")


def _hcl_escape(src: str, i: int, end: int) -> tuple[str, int]:
    """The HCL string escape at `src[i]` (a backslash): its character and the index after it."""
    code = src[i + 1 : i + 2]
    if code in _HCL_ESCAPES:
        return _HCL_ESCAPES[code], i + 2
    width = {"u": 4, "U": 8}.get(code, 0)
    digits = src[i + 2 : i + 2 + width]
    if width and i + 2 + width <= end and _HEX_RE.fullmatch(digits):
        point = int(digits, 16)
        if point <= 0x10FFFF and not 0xD800 <= point < 0xE000:
            return chr(point), i + 2 + width
    raise _Syntax


_JSON_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "'": "'", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _json_escape(src: str, i: int, end: int) -> tuple[str, int]:
    """The JSON or Python-repr escape at `src[i]`: its character and the index after it."""
    code = src[i + 1 : i + 2]
    if code in _JSON_ESCAPES:
        return _JSON_ESCAPES[code], i + 2
    width = {"x": 2, "u": 4, "U": 8}.get(code, 0)
    digits = src[i + 2 : i + 2 + width]
    if not width or i + 2 + width > end or not _HEX_RE.fullmatch(digits):
        raise _Syntax
    point, i = int(digits, 16), i + 2 + width
    if 0xD800 <= point < 0xDC00 and src.startswith("\\u", i, end) and _HEX_RE.fullmatch(src[i + 2 : i + 6]):
        low = int(src[i + 2 : i + 6], 16)  # a JSON surrogate pair
        if 0xDC00 <= low < 0xE000:
            return chr(0x10000 + ((point - 0xD800) << 10) + (low - 0xDC00)), i + 6
    if point > 0x10FFFF or 0xD800 <= point < 0xE000:
        raise _Syntax
    return chr(point), i


class _Scanner:
    """Finds where strings, interpolations and containers end, without parsing them."""

    _CONTAINER_STOP = re.compile(r"""[\[\]{}()"']""")
    _INTERPOLATION_STOP = re.compile(r"""[{}"']""")
    _SINGLE_QUOTED = re.compile(r"'(?:[^'\\\n]++|\\.)*+'")
    _IN_TEXT = re.compile(r'["\\$%]')
    _IN_EXPRESSION = re.compile(r'[{}"\\]')

    def __init__(self, src: str, end: int, work: Work) -> None:
        self.src, self.end, self.work = src, end, work

    def container_end(self, i: int) -> int:
        """Index just after the bracket matching the `[` or `{` at `src[i]`."""
        closers = {"[": "]", "{": "}", "(": ")"}
        stack: list[str] = []
        while True:
            m = self._CONTAINER_STOP.search(self.src, i, self.end)
            if m is None:
                raise _Syntax
            self.work.charge(1 + (m.start() - i) // 64)
            ch, j = m.group(), m.start()
            if ch in closers:
                stack.append(closers[ch])
                if len(stack) > MAX_DEPTH:
                    raise _Abort
                i = j + 1
            elif ch in ")]}":
                if not stack or stack.pop() != ch:
                    raise _Syntax
                if not stack:
                    return j + 1
                i = j + 1
            elif ch == "'":
                i = self.single_quoted_end(j)
            else:
                i = self.double_quoted(j, json_level=True)[1]

    def single_quoted_end(self, i: int) -> int:
        """Index just after the Python-repr `'...'` string at `src[i]`."""
        m = self._SINGLE_QUOTED.match(self.src, i, self.end)
        if m is None:
            raise _Syntax
        self.work.charge(1 + (m.end() - i) // 64)
        return m.end()

    def interpolation_end(self, i: int) -> int:
        """Index of the `}` closing an interpolation whose expression starts at `src[i]`."""
        depth = 0
        while True:
            m = self._INTERPOLATION_STOP.search(self.src, i, self.end)
            if m is None:
                raise _Syntax
            self.work.charge(1 + (m.start() - i) // 64)
            ch, j = m.group(), m.start()
            if ch == "{":
                depth += 1
                i = j + 1
            elif ch == "}":
                if depth == 0:
                    return j
                depth -= 1
                i = j + 1
            elif ch == "'":
                i = self.single_quoted_end(j)
            else:
                with self.work.nested():
                    i = self.double_quoted(j, json_level=False)[1]

    def double_quoted(self, i: int, json_level: bool) -> tuple[str, int]:
        """The `"` string at `src[i]`: its decoded text and the index just after it.

        `json_level`: a JSON or Python-repr string (hcl2's rendering of a value string), with
        JSON/Python escapes; interpolations inside may hold unescaped quotes (hcl2 "reverses"
        them), so the end is found by following the template and the strings nested in it.
        Otherwise an HCL string, whose escapes are kept as written (only its end is wanted).
        """
        src, end = self.src, self.end
        i += 1
        out: list[str] = []
        stack: list[int] = []  # per open interpolation its brace depth; -1: a string nested in one
        while i < end:
            in_text = not stack or stack[-1] == -1
            m = (self._IN_TEXT if in_text else self._IN_EXPRESSION).search(src, i, end)
            if m is None:
                break
            self.work.charge(1 + (m.start() - i) // 64)
            out.append(src[i : m.start()])
            i, ch, raw = m.start(), m.group(), True
            if ch == "\\":
                if not json_level:
                    out.append(src[i : i + 2])  # an HCL escape: never ends or opens anything
                    i += 2
                    continue
                ch, i = _json_escape(src, i, end)
                raw = False
                if stack and stack[-1] == -1 and ch == "\\" and i < end:
                    # a backslash escaping the next character of a string nested in an interpolation
                    nxt, i = _json_escape(src, i, end) if src[i] == "\\" else (src[i], i + 1)
                    out.append(ch + nxt)
                    continue
            else:
                i += 1
            out.append(ch)
            if ch == '"':
                if not stack:
                    if raw:
                        out.pop()
                        return "".join(out), i
                elif stack[-1] == -1:
                    stack.pop()  # a nested string ends
                else:
                    stack.append(-1)  # a nested string starts
            elif in_text and ch in "$%" and src.startswith("{", i, end):
                out.append("{")
                i += 1
                if len(stack) >= MAX_DEPTH:
                    raise _Abort
                stack.append(0)
            elif in_text and ch in "$%" and src.startswith(ch + "{", i, end):
                out.append(ch + "{")  # $${ and %%{ stay escapes in a value string
                i += 2
            elif not in_text and ch == "{":
                stack[-1] += 1
            elif not in_text and ch == "}":
                if stack[-1] == 0:
                    stack.pop()
                else:
                    stack[-1] -= 1
        raise _Syntax


def _number_literal(text: str) -> int | float:
    """A number as written: an int unless written with a point or exponent (as hcl2 does)."""
    if len(text) > 400:
        raise _Abort
    if "." not in text and "e" not in text.lower():
        return int(text)
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise _Unknowable
    return number


# --- values --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Set:
    """A Terraform set (from `toset`): sorted, cannot be indexed; a list once evaluation is over."""

    items: tuple[Any, ...]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_container(value: Any) -> bool:
    return isinstance(value, (list, dict, _Set))


def _items(value: list[Any] | _Set) -> list[Any]:
    return list(value.items) if isinstance(value, _Set) else value


def _unknown_key(key: Any) -> bool:
    """A key hcl2 left as the text of an expression (`(var.k) = 1`): which key it is is unknown."""
    return not isinstance(key, str) or "${" in key


def _kind(value: Any) -> str:
    if isinstance(value, Unknown):
        return "unknown"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, _Set):
        return "set"
    if isinstance(value, dict):
        return "map"
    raise _Unknowable  # not a value a lookup should return


def _number_text(value: float) -> str:
    """A number as Terraform converts it to a string (never an exponent; `2.0` is "2")."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text else text


def _decimal(value: float) -> Fraction:
    """The number as its decimal text reads (Terraform parsed the literal hcl2 made a float of)."""
    return Fraction(value) if isinstance(value, int) else Fraction(repr(value))


_NUMBER_TEXT_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?", re.ASCII)
# Go might read these (infinities, binary exponents, huge exponents): not worth guessing.
_DOUBTFUL_NUMBER_RE = re.compile(r"(?ai)[+-]?(?:inf|infinity|nan)|[+-]?(?:\d+\.?\d*|\.\d+)[ep][+-]?\d+")


def _parse_number(text: str) -> int | float:
    """cty's string -> number conversion (Go's big.ParseFloat, base 10)."""
    if _NUMBER_TEXT_RE.fullmatch(text) and len(text) <= 400:
        exact = Fraction(text)
        if exact.denominator == 1:
            if abs(exact) >= 2**500:
                raise _Unknowable
            return int(exact)
        number = float(text)
        if Fraction(repr(number)) != exact:
            raise _Unknowable  # more digits than a float keeps
        return number
    if len(text) > 400 or _DOUBTFUL_NUMBER_RE.fullmatch(text):
        raise _Unknowable  # infinities, other bases, huge exponents: Go may read them
    raise _Error("a number is required")


def _from_fraction(exact: Fraction) -> int | float:
    """A computed number, when Terraform's 512-bit result is exactly this and prints alike."""
    if abs(exact) >= 2**500:
        raise _Unknowable
    if exact.denominator == 1:
        return int(exact)
    number = float(exact)
    if Fraction(number) != exact or Fraction(repr(number)) != exact:
        raise _Unknowable
    return number


def _dyadic(value: float) -> Fraction:
    """An arithmetic operand Terraform holds exactly (not a decimal such as 0.1 that binary rounds)."""
    exact = _decimal(value)
    if isinstance(value, float) and Fraction(value) != exact:
        raise _Unknowable
    return exact


def _to_bool(value: Any) -> bool:
    """cty's conversion to bool ("1" and "0" convert too); null is an error where used."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false", "1", "0"):
        return value in ("true", "1")
    if value is None:
        raise _Error("a bool is required, not null")
    raise _Error("a bool is required")


def _to_number(value: Any) -> int | float:
    if _is_number(value):
        number: int | float = value
        return number
    if isinstance(value, str):
        return _parse_number(value)
    raise _Error("a number is required")


def _to_string(value: Any) -> str:
    text = interpolated(value)
    if text is None:
        raise _Error("a string is required")
    return text


def _nfc(text: str) -> str:
    """cty keeps every string in Unicode normal form C."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


# Go's unicode.IsSpace, which trimspace uses (Python's str.strip also strips \x1c-\x1f).
_WHITESPACE = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))


def _grapheme_count(text: str) -> int:
    """Terraform's string length (grapheme clusters), where that is plainly the character count."""
    text = _nfc(text)
    if not text.isascii():
        for ch in text:
            point = ord(ch)
            if (
                unicodedata.category(ch) in ("Mn", "Mc", "Me", "Cf", "Cs", "Co", "Cn")
                or 0x1100 <= point <= 0x11FF
                or 0xA960 <= point <= 0xD7FF
                or 0x1F1E6 <= point <= 0x1F1FF
                or 0x1F3FB <= point <= 0x1F3FF
            ):
                raise _Unknowable  # combining marks, joiners, Hangul jamo, emoji sequences
    return len(text) - text.count("\r\n")


def _is_literal(node: _Node) -> bool:
    """A constant written in the expression, whose type is certain (unlike a variable's)."""
    if isinstance(node, _Group):
        return _is_literal(node.inner)
    if isinstance(node, _Unary):
        return node.op == "-" and isinstance(node.operand, _Lit)
    return isinstance(node, _Lit) or (isinstance(node, _Tmpl) and all(isinstance(p, str) for p in node.parts))


class _Evaluator:
    """Evaluates a parsed expression; every step charges the shared work."""

    def __init__(self, lookup: Lookup, work: Work) -> None:
        self.lookup, self.work = lookup, work
        self.made_set = False
        self.scope: dict[str, Any] = {}  # the iteration variables bound by the `for`s being evaluated

    def top(self, node: _Node) -> Resolved:
        try:
            result = self.eval(node)
        except _Error:
            return Resolved(Unknown(node.text), None)  # Terraform would fail here: no value to report
        if self.made_set:
            return Resolved(self.plain(result.value), result.origin)
        return result

    def plain(self, value: Any, depth: int = 0) -> Any:
        """The value with its sets as (sorted) lists."""
        self.work.charge()
        if depth > MAX_DEPTH:
            raise _Abort
        if isinstance(value, (list, _Set)):
            return [self.plain(v, depth + 1) for v in _items(value)]
        if isinstance(value, dict):
            return {k: self.plain(v, depth + 1) for k, v in value.items()}
        return value

    # dispatch

    def eval(self, node: _Node) -> Resolved:
        self.work.charge()
        try:
            with self.work.nested():
                result = self.dispatch(node)
        except _Unknowable:
            return Resolved(Unknown(node.text), None)
        if isinstance(result.value, Unknown) and result.value.expression != node.text:
            return Resolved(Unknown(node.text), result.origin)  # name what is written here
        return result

    def dispatch(self, node: _Node) -> Resolved:
        if isinstance(node, _Lit):
            return Resolved(node.value, None)
        if isinstance(node, _Ref):
            return self.reference(node)
        if isinstance(node, _Sym):
            if node.name not in self.scope:
                raise _Unknowable  # parsed where the name was bound, evaluated elsewhere: a bug
            return Resolved(self.scope[node.name], None)
        if isinstance(node, _Group):
            return self.eval(node.inner)
        if isinstance(node, _Tmpl):
            return self.template(node)
        if isinstance(node, _Attr):
            base = self.eval(node.base)
            return Resolved(self.step(base.value, node.name, attribute=True), base.origin)
        if isinstance(node, _Index):
            base, key = self.eval(node.base), self.eval(node.key)
            if isinstance(key.value, Unknown):
                return Resolved(Unknown(node.text), None)
            return Resolved(self.step(base.value, key.value, attribute=False), base.origin)
        if isinstance(node, _Call):
            return self.call(node)
        if isinstance(node, _Unary):
            return Resolved(self.unary(node.op, self.eval(node.operand).value), None)
        if isinstance(node, _Chain):
            return self.chain(node)
        if isinstance(node, _Cond):
            return self.conditional(node)
        if isinstance(node, _Container):
            return self.container(node)
        if isinstance(node, _Tuple):
            return Resolved([self.eval(item).value for item in node.items], None)
        if isinstance(node, _Object):
            return self.object(node)
        if isinstance(node, _For):
            return Resolved(self.for_expression(node), None)
        return Resolved(Unknown(node.text), None)  # _Opaque

    def reference(self, node: _Ref) -> Resolved:
        found = self.lookup(node.kind, node.name)
        self.work.charge(0)  # the lookup may have spent the work (nested evaluations catch it)
        if not isinstance(found, Resolved):
            return Resolved(Unknown(node.text), None)  # not declared (in what parsed): cannot tell
        return found

    def step(self, value: Any, key: Any, attribute: bool) -> Any:
        """hcl.GetAttr / hcl.Index: a missing key or a bad index is an error; Unknown stays Unknown."""
        if isinstance(value, Unknown):
            return value
        if value is None:
            raise _Error("attempt to get an attribute or index of null")
        if key is None:
            raise _Error("index is null")
        if isinstance(value, dict):
            if not attribute and _is_container(key):
                raise _Error("a string key is required")
            name = key if attribute else _to_string(key)
            if name in value:
                return value[name]
            if any(_unknown_key(k) for k in value):
                return Unknown(name)  # one of the unknown keys may be this one
            raise _Error(f"no attribute {name!r}")
        if isinstance(value, _Set):
            raise _Unknowable  # sets cannot be indexed; that error is not modelled
        if isinstance(value, list) and not attribute:
            if _is_container(key) or isinstance(key, bool):
                raise _Error("a number index is required")
            number = _to_number(key)
            if isinstance(number, float) and not number.is_integer():
                raise _Error("an integer index is required")
            if not 0 <= number < len(value):
                raise _Error("index out of range")
            return value[int(number)]
        raise _Error("this value has no attributes or indices")

    # templates and containers

    def template(self, node: _Tmpl) -> Resolved:
        if node.directive:
            return Resolved(Unknown(node.text), None)
        if len(node.parts) == 1 and isinstance(node.parts[0], _Node):
            return self.eval(node.parts[0])  # "${x}" is x itself, whatever its type
        pieces: list[str] = []
        unknown = False
        for part in node.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = self.eval(part).value
            if isinstance(value, Unknown):
                unknown = True
                continue
            text = interpolated(value)
            if text is None:
                raise _Error("cannot include this value in a string template")
            pieces.append(text)
        if unknown:
            return Resolved(Unknown(node.text), None)
        return Resolved(self.string("".join(pieces)), None)

    def string(self, text: str) -> str:
        self.work.charge(1 + len(text) // 64)
        return _nfc(text)

    def value_string(self, text: str) -> Any:
        """An hcl2 value string read back from a rendered container: a template."""
        if "{" not in text:
            return self.string(text)
        try:
            with self.work.nested():
                node = _Parser(text, self.work, symbols=frozenset(self.scope)).value_template()
                if len(node.parts) == 1 and isinstance(node.parts[0], _Node) and not node.directive:
                    return self.eval(node.parts[0]).value  # named by its expression, as Scope does
                return self.eval(node).value
        except _Syntax:
            return Unknown(text)

    def container(self, node: _Container) -> Resolved:
        reader = _Reader(self, node.src, node.start, node.end)
        try:
            if node.inline and node.src.startswith("[", node.start):
                value = reader.inline_list()
            else:
                value = reader.value()
                reader.skip()
            if reader.pos != node.end:
                raise _Unreadable
            return Resolved(value, None)
        except _Ambiguous:
            return Resolved(Unknown(node.text), None)
        except (_Unreadable, _Syntax):
            if node.inline and node.src.startswith("[", node.start):
                return Resolved(Unknown(node.text), None)  # plain HCL would render `[a]` alike
        try:
            parser = _Parser(node.src, self.work, node.start, node.end, frozenset(self.scope))
            plain = parser.hcl_container()
            if parser.peek():
                raise _Syntax
        except _Syntax:
            return Resolved(Unknown(node.text), None)
        return self.eval(plain)

    def object(self, node: _Object) -> Resolved:
        out: dict[str, Any] = {}
        for key_node, value_node in node.pairs:
            key = self.eval(key_node).value
            if isinstance(key, Unknown):
                return Resolved(Unknown(node.text), None)
            if key is None or _is_container(key):
                raise _Error("object keys must be strings")
            name = _to_string(key)
            if name in out:
                raise _Unknowable  # a duplicate key
            out[name] = self.eval(value_node).value
        return Resolved(out, None)

    # for expressions

    def for_expression(self, node: _For) -> Any:
        """hclsyntax's ForExpr, judged on what Terraform computes once every value is known: an
        element that certainly fails fails the whole expression, whatever Unknowns are beside it.

        The `if` clause is evaluated for each element even when it reads the same for all: a
        false for an Unknown element does not say it is false for a known one (`false && x`
        fails for `x = "b"`). A condition false for every element gives a known empty result."""
        collection = self.eval(node.collection).value
        if collection is None:
            raise _Error("iteration over a null value")
        if node.cond is not None:
            # HCL first checks the condition with unknown elements: a null, a non-bool or an
            # error there fails even an empty (or an Unknown) collection.
            self.condition(node, Unknown(node.key_var or node.value_var), Unknown(node.value_var))
        if isinstance(collection, Unknown):
            return Unknown(node.text)  # it may yet be null, a string, or hold anything
        elements = self.elements(collection)
        if elements is None:
            return Unknown(node.text)
        known = True
        items: list[Any] = []
        table: dict[str, Any] = {}
        groups: dict[str, list[Any]] = {}
        saved = self.scope
        try:
            for key, value in elements:
                self.work.charge()
                include: bool | Unknown = True if node.cond is None else self.condition(node, key, value)
                if isinstance(include, Unknown):
                    known = False  # it may or may not be kept: the length is unknown
                    continue
                if not include:
                    continue
                self.scope = self.bound(saved, node, key, value)
                if node.key is None:
                    items.append(self.eval(node.value).value)
                    continue
                name = self.eval(node.key).value
                if isinstance(name, Unknown):
                    known = False
                    continue
                if name is None or _is_container(name):
                    raise _Error("invalid object key")
                name = _nfc(_to_string(name))
                element = self.eval(node.value).value
                if node.group:
                    groups.setdefault(name, []).append(element)
                elif name in table:
                    raise _Error(f"duplicate object key {name!r}")
                else:
                    table[name] = element
        finally:
            self.scope = saved
        if not known:
            return Unknown(node.text)
        if node.key is None:
            return items
        if node.group:
            return {name: groups[name] for name in sorted(groups)}
        return {name: table[name] for name in sorted(table)}  # cty orders attributes by name

    def elements(self, collection: Any) -> Iterator[tuple[Any, Any]] | None:
        """(key, value) pairs in Terraform's order: a list's (index, element), a set's (element,
        element) in its order, a map's (key, value) by key; None when the keys are not known.
        Lazily: each pair is charged as the loop takes it (a map's sort is charged first)."""
        if isinstance(collection, list):
            return enumerate(collection)
        if isinstance(collection, _Set):
            return ((item, item) for item in collection.items)
        if isinstance(collection, dict):
            self.work.charge(1 + len(collection) // 16)
            if any(_unknown_key(k) for k in collection):
                return None
            return ((k, collection[k]) for k in sorted(collection))
        raise _Error("a for expression can only iterate over collections")

    def bound(self, outer: dict[str, Any], node: _For, key: Any, value: Any) -> dict[str, Any]:
        scope = dict(outer)  # an inner `for` may shadow an outer one's names
        if node.key_var is not None:
            scope[node.key_var] = key
        scope[node.value_var] = value  # `for x, x in ...`: the value wins, as in HCL
        return scope

    def condition(self, node: _For, key: Any, value: Any) -> bool | Unknown:
        """The `if` clause for one element: a bool, or Unknown; null or a non-bool fails."""
        assert node.cond is not None
        saved = self.scope
        self.scope = self.bound(saved, node, key, value)
        try:
            result = self.eval(node.cond).value
        finally:
            self.scope = saved
        if isinstance(result, Unknown):
            return result
        if result is None:
            raise _Error("the for condition is null")
        return _to_bool(result)

    # operators

    def unary(self, op: str, value: Any) -> Any:
        if isinstance(value, Unknown):
            return value
        if value is None:
            raise _Error("the operand is null")
        if op == "!":
            return not _to_bool(value)
        return -_to_number(value)

    def chain(self, node: _Chain) -> Resolved:
        if node.level <= _LOGICAL:
            return self.logical(node)
        left = self.eval(node.first).value
        left_literal = _is_literal(node.first)
        for op, right_node in node.rest:
            right = self.eval(right_node).value
            if node.level == _EQUALITY:
                equal = self.equal(left, right, left_literal and _is_literal(right_node))
                left = Unknown(node.text) if equal is None else equal == (op == "==")
            else:
                left = self.arithmetic(op, left, right)
            left_literal = False
        return Resolved(left, None)

    def arithmetic(self, op: str, left: Any, right: Any) -> Any:
        """Numbers (strings convert); conversion errors come first, then Unknowns."""
        numbers: list[int | float | None] = []
        for value in (left, right):
            if value is None:
                raise _Error("the operand is null")
            numbers.append(None if isinstance(value, Unknown) else _to_number(value))
        a, b = numbers
        if a is None or b is None:
            return Unknown(op)
        if op in ("<", "<=", ">", ">="):
            x, y = _decimal(a), _decimal(b)
            return x < y if op == "<" else x <= y if op == "<=" else x > y if op == ">" else x >= y
        x, y = _dyadic(a), _dyadic(b)
        if op in ("+", "-", "*"):
            return _from_fraction(x + y if op == "+" else x - y if op == "-" else x * y)
        if y == 0:
            raise _Unknowable  # Terraform: infinity for /, the left operand for %
        if op == "/":
            return _from_fraction(x / y)
        quotient = x / y
        whole = quotient.numerator // quotient.denominator
        if whole < 0 and whole * quotient.denominator != quotient.numerator:
            whole += 1  # truncate toward zero, as cty does (the result has the sign of x)
        return _from_fraction(x - y * whole)

    def logical(self, node: _Chain) -> Resolved:
        """&& and ||: both sides evaluated; a deciding value (false for &&, true for ||) wins over
        an Unknown. Over an error it wins only in newer HCL (Terraform 1.11 fails): Unknown."""
        is_and = node.rest[0][0] == "&&"
        left = self.logical_operand(node.first)
        for _, right_node in node.rest:
            left = self.combine(is_and, left, self.logical_operand(right_node))
        if isinstance(left, _Error):
            raise left
        return Resolved(left, None)

    def logical_operand(self, node: _Node) -> Any:
        """A bool, an Unknown, or the `_Error` evaluating it raised (the other side may decide)."""
        try:
            value = self.eval(node).value
        except _Error as error:
            return error
        if isinstance(value, Unknown):
            return value
        if value is None:
            raise _Unknowable  # what HCL does with a null here is not modelled
        return _to_bool(value)  # a conversion error fails the operation whatever the other side

    @staticmethod
    def combine(is_and: bool, left: Any, right: Any) -> Any:
        decisive = not is_and  # && is decided by a false, || by a true
        failed = isinstance(left, _Error) or isinstance(right, _Error)
        if left is decisive or right is decisive:
            return Unknown("") if failed else decisive
        if isinstance(left, bool) and isinstance(right, bool):
            return left and right if is_and else left or right
        if isinstance(left, _Error) or (isinstance(left, bool) and isinstance(right, _Error)):
            return left if isinstance(left, _Error) else right  # every HCL version fails here
        return Unknown("")

    def conditional(self, node: _Cond) -> Resolved:
        branches: list[Resolved | _Error] = []
        for branch in (node.yes, node.no):
            try:
                branches.append(self.eval(branch))
            except _Error as error:
                branches.append(error)
        cond = self.eval(node.cond).value
        if cond is None:
            raise _Error("the condition is null")
        yes, no = branches
        if isinstance(cond, Unknown):
            if isinstance(yes, Resolved) and isinstance(no, Resolved) and self.identical(yes.value, no.value):
                return Resolved(yes.value, yes.origin if yes.origin == no.origin else None)
            return Resolved(Unknown(node.text), None)
        picked, other = (yes, no) if _to_bool(cond) else (no, yes)
        if isinstance(picked, _Error):
            raise picked
        if isinstance(other, Resolved):
            return Resolved(self.unify_branches(picked.value, other.value), picked.origin)
        return picked

    def unify_branches(self, picked: Any, other: Any) -> Any:
        """The picked branch converted to the type both branches share (cty's UnifyUnsafe)."""
        if picked is None or other is None or isinstance(other, Unknown) or isinstance(picked, Unknown):
            return picked
        kinds = {_kind(picked), _kind(other)}
        primitive = {"string", "number", "bool"}
        if kinds <= primitive:
            if kinds == {"number", "bool"}:
                raise _Error("inconsistent conditional result types")
            return _to_string(picked) if len(kinds) > 1 else picked
        if kinds & primitive:
            raise _Error("inconsistent conditional result types")
        if len(kinds) > 1 or "set" in kinds:
            raise _Unknowable  # a list beside a map or set: not modelled
        leaves = self.leaf_kinds(picked) | self.leaf_kinds(other)
        if "string" in leaves and leaves & {"number", "bool"}:
            raise _Unknowable  # unifying may turn some elements into strings
        return picked

    def leaf_kinds(self, value: Any, depth: int = 0) -> set[str]:
        self.work.charge()
        if depth > MAX_DEPTH:
            raise _Abort
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, (list, _Set)):
            return set().union(*(self.leaf_kinds(v, depth + 1) for v in _items(value)))
        return {_kind(value)} - {"null", "unknown"}

    def wholly_known(self, value: Any, depth: int = 0) -> bool:
        self.work.charge()
        if depth > MAX_DEPTH:
            raise _Abort
        if isinstance(value, Unknown):
            return False
        if isinstance(value, dict):
            return all(not _unknown_key(k) and self.wholly_known(v, depth + 1) for k, v in value.items())
        if isinstance(value, (list, _Set)):
            return all(self.wholly_known(v, depth + 1) for v in _items(value))
        return True

    def identical(self, a: Any, b: Any, depth: int = 0) -> bool:
        """Known and the same value of the same kind."""
        self.work.charge()
        if depth > MAX_DEPTH:
            raise _Abort
        if isinstance(a, Unknown) or isinstance(b, Unknown) or _kind(a) != _kind(b):
            return False
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(self.identical(a[k], b[k], depth + 1) for k in a)
        if isinstance(a, (list, _Set)):
            xs, ys = _items(a), _items(b)
            return len(xs) == len(ys) and all(self.identical(x, y, depth + 1) for x, y in zip(xs, ys))
        if _is_number(a):
            return _decimal(a) == _decimal(b)
        if isinstance(a, str):
            return _nfc(a) == _nfc(b)
        return bool(a == b)

    def equal(self, a: Any, b: Any, literal: bool, depth: int = 0) -> bool | None:
        """cty's Equals, None when unknown. Values of different types are unequal, except that a
        string beside a number or bool it converts to is unknown unless both are written literally:
        the caller does not apply variable type constraints, which would convert one of them."""
        self.work.charge()
        if depth > MAX_DEPTH:
            raise _Abort
        if isinstance(a, Unknown) or isinstance(b, Unknown):
            return None
        if a is None or b is None:
            return a is None and b is None
        ka, kb = _kind(a), _kind(b)
        if ka != kb:
            if {ka, kb} <= {"string", "number", "bool"} and "string" in (ka, kb) and not literal:
                text, other = (a, b) if ka == "string" else (b, a)
                try:
                    same = _decimal(_parse_number(text)) == _decimal(other) if _is_number(other) else _to_bool(text) is other
                except (_Error, _Unknowable):
                    same = False
                if same:
                    return None
            return False
        if ka in ("string", "number", "bool"):
            return self.identical(a, b)
        if isinstance(a, dict):
            if any(_unknown_key(k) for k in (*a, *b)):
                return None
            if a.keys() != b.keys():
                return False
            pairs = [(a[k], b[k]) for k in a]
        else:
            xs, ys = _items(a), _items(b)
            if len(xs) != len(ys):
                return False
            pairs = list(zip(xs, ys))
        if any(self.equal(x, y, False, depth + 1) is False for x, y in pairs):
            return False
        return None  # equal elements, yet a list and a tuple (a map and an object) differ in type

    # functions

    def call(self, node: _Call) -> Resolved:
        if node.name in ("try", "can"):
            return self.try_or_can(node)
        impl = _FUNCTIONS.get(node.name)
        if impl is None:
            return Resolved(Unknown(node.text), None)  # not evaluated here (file, templatefile, ...)
        args = [self.eval(arg) for arg in node.args]
        if node.expand:
            return self.spread(impl, args)
        if node.name not in _VARIADIC or not args or not isinstance(args[-1].value, (list, _Set)):
            return impl(self, args)
        # hcl2 drops `...`, so the last argument may have been spread: try both readings.
        written, spread = self.attempt(lambda: impl(self, args)), self.attempt(lambda: self.spread(impl, args))
        if isinstance(written, _Error):
            if isinstance(spread, _Error):
                raise written
            return spread
        if isinstance(spread, _Error) or self.identical(written.value, spread.value):
            return written
        return Resolved(Unknown(node.text), None)

    @staticmethod
    def attempt(run: Callable[[], Resolved]) -> Resolved | _Error:
        try:
            return run()
        except _Error as error:
            return error

    def spread(self, impl: _Function, args: list[Resolved]) -> Resolved:
        last = args[-1].value if args else None
        if isinstance(last, Unknown):
            return Resolved(last, None)
        if not isinstance(last, (list, _Set)):
            raise _Error("the expanded argument must be a list, set or tuple")
        items = _items(last)
        self.work.charge(len(items))
        return impl(self, [*args[:-1], *(Resolved(v, None) for v in items)])

    def try_or_can(self, node: _Call) -> Resolved:
        if node.name == "can" and len(node.args) != 1:
            raise _Error("can takes exactly one argument")
        for arg in node.args:
            try:
                result = self.eval(arg)
            except _Error:
                continue
            if not self.wholly_known(result.value):
                return Resolved(Unknown(node.text), None)  # an Unknown may yet fail: cannot tell
            return result if node.name == "try" else Resolved(True, None)
        if node.name == "can":
            return Resolved(False, None)
        raise _Error("no expression succeeded")


class _Reader:
    """Reads back a container hcl2 rendered: a Python repr or JSON value, or an inline list."""

    _SCALAR = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z]+", re.ASCII)
    _INLINE_STOP = re.compile(r"""\$\{|, |[\]\[{}'"]""")
    _DOTTED_KEY = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+")

    def __init__(self, ev: _Evaluator, src: str, start: int, end: int) -> None:
        self.ev, self.src, self.pos, self.end = ev, src, start, end
        self.scanner = _Scanner(src, end, ev.work)

    def skip(self) -> None:
        m = _SPACE_RE.match(self.src, self.pos, self.end)
        if m is not None:
            self.pos = m.end()

    def expect(self, ch: str) -> None:
        self.skip()
        if not self.src.startswith(ch, self.pos, self.end):
            raise _Unreadable
        self.pos += 1

    def value(self) -> Any:
        self.ev.work.charge()
        self.skip()
        if self.pos >= self.end:
            raise _Unreadable
        ch = self.src[self.pos]
        if ch in ("[", "{"):
            with self.ev.work.nested():
                return self.sequence() if ch == "[" else self.mapping()
        if ch in ("'", '"'):
            return self.ev.value_string(self.string())
        m = self._SCALAR.match(self.src, self.pos, self.end)
        if m is None:
            raise _Unreadable
        self.pos, text = m.end(), m.group()
        if text in _CONSTANTS:
            return _CONSTANTS[text]
        if text[0].isalpha():
            raise _Unreadable  # inf, nan, or not a value hcl2 writes
        number = _number_literal(text.lstrip("-"))
        return -number if text.startswith("-") else number

    def string(self) -> str:
        if self.src.startswith("'", self.pos, self.end):
            end = self.scanner.single_quoted_end(self.pos)
            out: list[str] = []
            i = self.pos + 1
            while i < end - 1:
                if self.src[i] == "\\":
                    ch, i = _json_escape(self.src, i, end)
                else:
                    ch, i = self.src[i], i + 1
                out.append(ch)
            self.pos = end
            return "".join(out)
        text, self.pos = self.scanner.double_quoted(self.pos, json_level=True)
        return text

    def sequence(self) -> list[Any]:
        self.pos += 1
        items: list[Any] = []
        self.skip()
        if self.src.startswith("]", self.pos, self.end):
            self.pos += 1
            return items
        while True:
            items.append(self.value())
            self.skip()
            if self.src.startswith("]", self.pos, self.end):
                self.pos += 1
                return items
            self.expect(",")

    def mapping(self) -> dict[str, Any]:
        self.pos += 1
        out: dict[str, Any] = {}
        self.skip()
        if self.src.startswith("}", self.pos, self.end):
            self.pos += 1
            return out
        while True:
            self.skip()
            if not self.src.startswith(("'", '"'), self.pos, self.end):
                raise _Unreadable
            raw_key = self.string()
            if self._DOTTED_KEY.fullmatch(raw_key):
                raise _Ambiguous  # `a.b = 1` (a reference as key) and `"a.b" = 1` render alike
            key = self.ev.value_string(raw_key)
            if isinstance(key, Unknown) or key is None or _is_container(key):
                raise _Ambiguous
            key = _to_string(key)
            if key in out:
                raise _Ambiguous  # a duplicate key
            self.expect(":")
            out[key] = self.value()
            self.skip()
            if self.src.startswith("}", self.pos, self.end):
                self.pos += 1
                return out
            self.expect(",")

    def inline_list(self) -> list[Any]:
        """`[a, ${var.x}, [b], {"k": 1}]`: strings lost their quotes; ", " separates items."""
        self.pos += 1
        if self.src.startswith("]", self.pos, self.end):
            raise _Ambiguous  # `[]` is also how hcl2 renders `[""]`
        items: list[Any] = []
        with self.ev.work.nested():
            while True:
                items.append(self.inline_item())
                if self.src.startswith("]", self.pos, self.end):
                    self.pos += 1
                    return items
                if not self.src.startswith(", ", self.pos, self.end):
                    raise _Unreadable
                self.pos += 2

    def inline_item(self) -> Any:
        self.ev.work.charge()
        start, src = self.pos, self.src
        if src.startswith("[", start, self.end):
            return self.inline_list()
        if src.startswith("{", start, self.end):
            return self.value()
        i = start
        while True:
            m = self._INLINE_STOP.search(src, i, self.end)
            if m is None:
                raise _Unreadable
            if m.group() == "${":
                i = self.scanner.interpolation_end(m.end()) + 1
                continue
            if m.group() not in (", ", "]"):
                raise _Unreadable  # brackets or quotes in a string: where it ends is a guess
            break
        self.pos = m.start()
        text = src[start : self.pos]
        if text in ("true", "false", "None") or _NUMBER_TEXT_RE.fullmatch(text):
            return Unknown(text)  # `1` and `"1"`, `true` and `"true"`, null and "None" render alike
        return self.ev.value_string(text)


# --- functions -----------------------------------------------------------------------------------

_Function = Callable[[_Evaluator, list[Resolved]], Resolved]
_FUNCTIONS: dict[str, _Function] = {}
_VARIADIC = frozenset({"concat", "coalesce", "coalescelist", "merge", "format", "join"})


def _function(name: str, low: int, high: int | None, known: bool = True) -> Callable[[_Function], _Function]:
    """Register a function taking low..high arguments; `known`: an Unknown argument -> Unknown."""

    def register(impl: _Function) -> _Function:
        def checked(ev: _Evaluator, args: list[Resolved]) -> Resolved:
            if len(args) < low or (high is not None and len(args) > high):
                raise _Error(f"{name}: wrong number of arguments")
            if known and any(isinstance(a.value, Unknown) for a in args):
                return Resolved(Unknown(name), None)
            return impl(ev, args)

        _FUNCTIONS[name] = checked
        return impl

    return register


def _not_null(value: Any) -> Any:
    if value is None:
        raise _Error("the argument must not be null")
    return value


def _sequence(value: Any, sets: bool = False) -> list[Any]:
    """A list or tuple argument (or a set, where `sets`: elsewhere sets are not modelled)."""
    if isinstance(value, list):
        return value
    if isinstance(value, _Set):
        if sets:
            return list(value.items)
        raise _Unknowable
    raise _Error("a list is required" if value is not None else "the argument must not be null")


def _mapping(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise _Error("a map is required" if value is not None else "the argument must not be null")


def _strings_of(ev: _Evaluator, items: list[Any]) -> list[str]:
    """The elements of a list(string) parameter: numbers and bools convert, null is an error."""
    ev.work.charge(len(items))
    if any(item is None for item in items):
        raise _Error("a null element")
    return [_to_string(item) for item in items]


def _unify(ev: _Evaluator, items: list[Any]) -> list[Any]:
    """Elements converted to one type, as tolist/toset/tomap/distinct do (cty's UnifyUnsafe)."""
    kinds = {_kind(v) for v in items} - {"null"}
    if "unknown" in kinds:
        if kinds - {"unknown", "string"}:
            raise _Unknowable  # an Unknown may be a string, turning the others into strings
        return items
    if kinds <= {"string", "number", "bool"}:
        if kinds == {"number", "bool"}:
            raise _Error("the elements have no common type")
        if "string" in kinds and len(kinds) > 1:
            return [None if v is None else _to_string(v) for v in items]
        return items
    if kinds & {"string", "number", "bool"} or len(kinds) > 1 or "set" in kinds:
        raise _Unknowable  # primitives beside containers, or lists beside maps: not modelled
    leaves = set().union(*(ev.leaf_kinds(v) for v in items))
    if "string" in leaves and leaves & {"number", "bool"}:
        raise _Unknowable
    return items


@_function("coalesce", 0, None, known=False)
def _coalesce(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    """The first argument neither null nor "", converted to the type all arguments share."""
    kinds = {_kind(a.value) for a in args} - {"null", "unknown"}
    if kinds - {"string", "number", "bool"}:
        raise _Unknowable  # how lists and maps unify is not modelled
    if kinds == {"number", "bool"}:
        raise _Error("all arguments must have the same type")
    for arg in args:
        if isinstance(arg.value, Unknown):
            return Resolved(Unknown("coalesce"), None)
        if arg.value is None or arg.value == "":
            continue
        if "string" in kinds and not isinstance(arg.value, str):
            return Resolved(_to_string(arg.value), arg.origin)
        return arg
    raise _Error("no non-null, non-empty-string arguments")


@_function("coalescelist", 1, None, known=False)
def _coalescelist(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    """The first non-empty list; cty checks the types of the arguments before the first Unknown."""
    for arg in args:
        if isinstance(arg.value, (Unknown, _Set)):
            break
        if arg.value is not None and not isinstance(arg.value, list):
            raise _Error("coalescelist arguments must be lists or tuples")
    for arg in args:
        if isinstance(arg.value, (Unknown, _Set)):
            return Resolved(Unknown("coalescelist"), None)
        if arg.value:
            return arg
    raise _Error("no non-null arguments")


@_function("lookup", 2, 3, known=False)
def _lookup(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    table, key = args[0].value, args[1].value
    if isinstance(table, Unknown) or isinstance(key, Unknown):
        return Resolved(Unknown("lookup"), None)
    table = _mapping(table)
    name = _to_string(_not_null(key))
    if name in table:
        return Resolved(table[name], args[0].origin)
    if any(_unknown_key(k) for k in table):
        return Resolved(Unknown("lookup"), None)
    if len(args) == 3:
        return args[2]
    raise _Error(f"lookup failed to find key {name!r}")


@_function("merge", 0, None)
def _merge(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    out: dict[str, Any] = {}
    for arg in args:
        if arg.value is None:
            continue
        table = _mapping(arg.value)
        if any(_unknown_key(k) for k in table):
            return Resolved(Unknown("merge"), None)
        ev.work.charge(len(table))
        out.update(table)
    return Resolved({k: out[k] for k in sorted(out)}, None)  # cty orders attributes by name


@_function("concat", 1, None)
def _concat(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    out: list[Any] = []
    for arg in args:
        if isinstance(arg.value, _Set):
            raise _Error("all arguments must be lists or tuples")
        items = _sequence(arg.value)
        ev.work.charge(len(items))
        out.extend(items)
    return Resolved(out, None)


@_function("contains", 2, 2, known=False)
def _contains(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    collection, value = args[0].value, args[1].value
    if isinstance(collection, Unknown):
        return Resolved(Unknown("contains"), None)
    items = _sequence(collection, sets=True)
    if not items:
        return Resolved(False, None)
    if isinstance(value, Unknown):
        return Resolved(Unknown("contains"), None)
    unknown = False
    for item in items:
        equal = ev.equal(value, item, literal=False)
        if equal:
            return Resolved(True, None)
        unknown = unknown or equal is None
    return Resolved(Unknown("contains") if unknown else False, None)


@_function("length", 1, 1)
def _length(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    value = _not_null(args[0].value)
    if isinstance(value, str):
        return Resolved(_grapheme_count(value), None)
    if isinstance(value, dict):
        if any(_unknown_key(k) for k in value):
            return Resolved(Unknown("length"), None)
        return Resolved(len(value), None)
    if isinstance(value, (list, _Set)):
        return Resolved(len(_items(value)), None)
    raise _Error("the argument must be a string, a collection type, or a structural type")


def _conversion(name: str, convert: Callable[[_Evaluator, Any], Any]) -> None:
    """tobool & co.: null stays null, and the value keeps its origin (it is the same value)."""

    def impl(ev: _Evaluator, args: list[Resolved]) -> Resolved:
        value = args[0].value
        return Resolved(None if value is None else convert(ev, value), args[0].origin)

    _function(name, 1, 1)(impl)


def _tonumber(ev: _Evaluator, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Error("cannot convert this value to number")
    return _to_number(value)


def _toset(ev: _Evaluator, value: Any) -> _Set:
    items = _unify(ev, _sequence(value, sets=True))
    kinds = {_kind(v) for v in items}
    ev.made_set = True
    if not items:
        return _Set(())
    if kinds == {"string"}:
        return _Set(tuple(sorted({_nfc(v) for v in items})))
    if kinds == {"number"}:
        distinct = {_decimal(v): v for v in items}
        return _Set(tuple(distinct[k] for k in sorted(distinct)))
    raise _Unknowable  # sets of bools, nulls or containers: order and equality not modelled


def _tomap(ev: _Evaluator, value: Any) -> dict[str, Any]:
    table = _mapping(value)
    if any(_unknown_key(k) for k in table):
        raise _Unknowable
    return dict(zip(table, _unify(ev, list(table.values()))))


_conversion("tobool", lambda ev, value: _to_bool(value))
_conversion("tostring", lambda ev, value: _to_string(value))
_conversion("tonumber", _tonumber)
_conversion("tolist", lambda ev, value: _unify(ev, _sequence(value, sets=True)))
_conversion("toset", _toset)
_conversion("tomap", _tomap)


def _string_function(name: str, apply: Callable[[str], str]) -> None:
    def impl(ev: _Evaluator, args: list[Resolved]) -> Resolved:
        return Resolved(ev.string(apply(_to_string(_not_null(args[0].value)))), None)

    _function(name, 1, 1)(impl)


def _case(convert: Callable[[str], str]) -> Callable[[str], str]:
    """Go's strings.ToLower/ToUpper map a character to one character; Python's may to several."""

    def apply(text: str) -> str:
        if text.isascii():
            return convert(text)
        mapped = [convert(ch) for ch in text]
        if any(len(m) != 1 for m in mapped):
            raise _Unknowable
        return "".join(mapped)

    return apply


_string_function("lower", _case(str.lower))
_string_function("upper", _case(str.upper))
_string_function("trimspace", lambda text: text.strip(_WHITESPACE))


@_function("keys", 1, 1)
def _keys(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    table = _mapping(args[0].value)
    if any(_unknown_key(k) for k in table):
        return Resolved(Unknown("keys"), None)
    return Resolved(sorted(table), None)


@_function("values", 1, 1)
def _values(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    table = _mapping(args[0].value)
    if any(_unknown_key(k) for k in table):
        return Resolved(Unknown("values"), None)
    return Resolved([table[k] for k in sorted(table)], None)


@_function("element", 2, 2)
def _element(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    collection = args[0].value
    if not isinstance(collection, list):
        raise _Error("cannot read elements from this value")
    index = _to_number(_not_null(args[1].value))
    if isinstance(index, float) and not index.is_integer():
        raise _Error("invalid index: an integer is required")
    if not collection:
        raise _Error("cannot use element function with an empty list")
    if index < 0:
        raise _Unknowable  # Terraform 1.11 refuses a negative index, newer versions count from the end
    return Resolved(collection[int(index) % len(collection)], args[0].origin)  # wraps around


@_function("compact", 1, 1)
def _compact(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    items = _sequence(args[0].value)
    if not ev.wholly_known(items):
        return Resolved(Unknown("compact"), None)
    return Resolved([s for s in _strings_of(ev, [v for v in items if v is not None]) if s != ""], None)


@_function("distinct", 1, 1)
def _distinct(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    items = _sequence(args[0].value)
    if not ev.wholly_known(items):
        return Resolved(Unknown("distinct"), None)
    out: list[Any] = []
    for item in _unify(ev, items):
        ev.work.charge(1 + len(out) // 16)
        if not any(ev.identical(item, seen) for seen in out):
            out.append(item)
    return Resolved(out, None)


@_function("flatten", 1, 1)
def _flatten(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    out: list[Any] = []

    def walk(items: list[Any], depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _Abort
        for item in items:
            ev.work.charge()
            if isinstance(item, Unknown):
                raise _Unknowable  # it may be a list to flatten
            if isinstance(item, (list, _Set)):
                walk(_items(item), depth + 1)
            else:
                out.append(item)

    walk(_sequence(args[0].value, sets=True), 0)
    return Resolved(out, None)


@_function("join", 2, None)
def _join(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    separator = _to_string(_not_null(args[0].value))
    pieces: list[str] = []
    for arg in args[1:]:
        items = _sequence(arg.value)
        if not ev.wholly_known(items):
            return Resolved(Unknown("join"), None)
        pieces.extend(_strings_of(ev, items))
    return Resolved(ev.string(separator.join(pieces)), None)


@_function("format", 1, None)
def _format(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    """Only the verbs %s, %d and %v (and %%), as cty formats them."""
    spec = _to_string(_not_null(args[0].value))
    values = [a.value for a in args[1:]]
    if not all(ev.wholly_known(v) for v in values):
        return Resolved(Unknown("format"), None)
    out: list[str] = []
    used = i = 0
    while (j := spec.find("%", i)) >= 0:
        out.append(spec[i:j])
        verb = spec[j + 1 : j + 2]
        i = j + 2
        if verb == "%":
            out.append("%")
            continue
        if verb == "":
            raise _Error("invalid format string")
        if verb not in ("s", "d", "v"):
            raise _Unknowable  # other verbs, flags, widths, argument indexes: not evaluated here
        if used >= len(values):
            raise _Error("not enough arguments for format")
        out.append(_format_verb(verb, values[used]))
        used += 1
    out.append(spec[i:])
    if used < len(values):
        raise _Error("too many arguments for format")
    return Resolved(ev.string("".join(out)), None)


def _format_verb(verb: str, value: Any) -> str:
    if verb == "v":
        if value is None:
            raise _Unknowable  # Terraform leaves format("%v", null) unknown
        if isinstance(value, (str, bool)):
            return _to_string(value)
        if _is_number(value):
            return _shortest_g(value)
        raise _Unknowable  # containers print as JSON
    if value is None:
        raise _Error("a null value cannot be formatted")
    if _is_container(value) or (verb == "d" and isinstance(value, bool)):
        raise _Error("unsupported value for this verb")
    if verb == "s":
        return _to_string(value)
    number = _to_number(value)
    if isinstance(number, float) and not number.is_integer():
        raise _Error("an integer is required")
    return str(int(number))


def _shortest_g(value: float) -> str:
    """Go's big.Float Text('g', -1): shortest digits, an exponent below 1e-4 or from 1e6."""
    text = _number_text(value)
    digits = text.lstrip("-").replace(".", "")
    whole = text.lstrip("-").split(".")[0]
    exponent = len(whole) - 1 if whole != "0" else -(len(digits) - len(digits.lstrip("0")))
    if -4 <= exponent < 6:
        return text
    significant = digits.strip("0") or "0"
    mantissa = significant[0] + ("." + significant[1:] if len(significant) > 1 else "")
    return f"{'-' if text.startswith('-') else ''}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


@_function("startswith", 2, 2, known=False)
def _startswith(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    text, prefix = args[0].value, args[1].value
    if isinstance(prefix, Unknown):
        return Resolved(Unknown("startswith"), None)
    prefix = _nfc(_to_string(_not_null(prefix)))
    if isinstance(text, Unknown):
        return Resolved(True if prefix == "" else Unknown("startswith"), None)  # "" prefixes anything
    return Resolved(_nfc(_to_string(_not_null(text))).startswith(prefix), None)


@_function("endswith", 2, 2)
def _endswith(ev: _Evaluator, args: list[Resolved]) -> Resolved:
    text, suffix = (_nfc(_to_string(_not_null(a.value))) for a in args)
    return Resolved(text.endswith(suffix), None)
