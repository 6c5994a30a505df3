"""Terraform (HCL2) parser: the `.tf` files of one module directory in, one `ParsedFile` per file out.

python-hcl2 turns text into values but only knows the lines of blocks, while a review comment
must land on the exact attribute. So each file is read twice: hcl2 gives the values, and a small
scanner (strings, heredocs, comments and bracket nesting aware) gives every attribute, object
entry, list item and nested block its own lines. The two are joined by name and by order.

Values are never evaluated: literals stay Python values, `var.x` becomes the variable's default
and `local.x` the local's value when that is itself resolvable, and anything else becomes
`Unknown(expression)` so rules can tell "false" from "cannot tell".
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import hcl2.parser
import lark
from hcl2.transformer import DictTransformer
from lark import Discard, Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from bot.engine.model import FileError, Node, ParsedFile, Resource, Unknown

SOURCE = "terraform"
MAX_NESTING = 64  # brackets, blocks and template interpolations; real code stays far below
MAX_FILE_CHARS = 4_000_000
MAX_RESOLVE_DEPTH = 8  # local -> local -> ... chains followed before giving up

_META_KEYS = frozenset({"__start_line__", "__end_line__"})
_OPENERS = MappingProxyType({"{": "}", "[": "]", "(": ")"})
_CLOSERS = frozenset(_OPENERS.values())
_CONTINUING_OPS = frozenset({"?", ":", "&&", "||", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%"})


# --------------------------------------------------------------------------------------------
# The one call into python-hcl2 (swap the parser here).
# --------------------------------------------------------------------------------------------


def _dropping_discard(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Tree-mode lark removes children that returned `Discard` (hcl2's newlines and comments);
    inside the parser nothing does, so each callback drops them itself."""

    def run(self: Any, args: list[Any]) -> Any:
        return callback(self, [arg for arg in args if arg is not Discard])

    return run


def _block_without_meta(self: Any, args: list[Any]) -> Any:
    """hcl2's `block` without positions (it asks lark for meta, which inline callbacks lack)."""
    *labels, body = args
    for label in reversed(labels):
        body = {self.strip_quotes(label): body}
    return body


@functools.lru_cache(maxsize=1)
def _hcl_parser() -> Lark:
    """python-hcl2's own grammar and DictTransformer, run inside the LALR parser.

    `hcl2.loads(text, with_meta=True)` builds a parse tree with positions, then transforms it.
    We need neither (our scanner supplies every line), and applying the transformer's callbacks
    while parsing gives the same values about 3x faster, with no recursion over deep trees.
    Lark caches the grammar tables on disk (`cache=True`): a fresh process starts in ~0.2 s.
    """
    grammar = Path(hcl2.parser.__file__).with_name("hcl2.lark").read_text(encoding="utf-8")
    rules = set(re.findall(r"^[?!]?([a-z_][a-z0-9_]*)\s*:", grammar, re.MULTILINE))
    callbacks = {
        name: _dropping_discard(getattr(DictTransformer, name))
        for name in rules
        if callable(getattr(DictTransformer, name, None))
    }
    callbacks["block"] = _dropping_discard(_block_without_meta)
    transformer = type("_InlineDictTransformer", (DictTransformer,), callbacks)(with_meta=False)
    return Lark(grammar, parser="lalr", propagate_positions=False, transformer=transformer,
                cache=_grammar_cache_file())


def _grammar_cache_file() -> str | bool:
    """A private place for lark's pickled grammar tables, or no cache at all.

    lark's default cache is a predictable file in the shared temp directory, and it is loaded
    with pickle: anyone who can write there first could run code in this process. A directory
    only this user can write to closes that door; if there is none, parse without a cache.
    """
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "compliance-bot"
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = base.stat()
    except OSError:
        return False
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        return False
    return str(base / f"hcl2-grammar-lark{lark.__version__}.cache")


def _load_hcl(text: str) -> dict[str, Any]:
    """Values of one file as `hcl2.loads` gives them; the only place that knows about hcl2."""
    return cast("dict[str, Any]", _hcl_parser().parse(text + "\n"))  # hcl2.loads appends it too


# --------------------------------------------------------------------------------------------
# Scanner: tokens with lines, then an outline of blocks/attributes with their spans.
# --------------------------------------------------------------------------------------------


class _TooDeep(Exception):
    """Input nests deeper than MAX_NESTING; refused before hcl2 can recurse on it."""

    def __init__(self, line: int) -> None:
        super().__init__(f"nesting deeper than {MAX_NESTING} levels")
        self.line = line


_TOKEN_RE = re.compile(
    r"""
     (?P<ws>[ \t\r\f\v]+)
    |(?P<nl>\n)
    |(?P<comment>\#[^\n]*|//[^\n]*)
    |(?P<bcomment>/\*.*?\*/)
    |(?P<heredoc><<-?(?P<marker>[A-Za-z_][\w.-]*)[ \t]*\r?\n)
    |(?P<quote>")
    |(?P<ident>[A-Za-z_][\w-]*)
    |(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |(?P<op>==|!=|<=|>=|=>|&&|\|\||\.\.\.|::|[{}\[\]()=:,?.!<>+\-*/%])
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_IN_STRING_RE = re.compile(r'\\.|"|\n|\$\$\{|%%\{|\$\{|%\{', re.DOTALL)
_IN_TEMPLATE_EXPR_RE = re.compile(r'["{}\n]')


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # nl, ident, str, heredoc, number, op, other
    text: str
    line: int
    end_line: int


@dataclass(slots=True)
class _Tokens:
    toks: list[_Tok]
    pairs: dict[int, int]  # index of an opening bracket -> index of its closing bracket
    # Text spans (newlines, comments) directly inside parentheses. HCL ignores line breaks
    # there, but python-hcl2's grammar rejects most of them, so they are blanked for hcl2 only.
    in_parens: list[tuple[int, int]] = field(default_factory=list)


def _skip_string(text: str, pos: int, line: int) -> tuple[int, int]:
    """End position and line just after the quoted template starting at `pos` (after its quote).

    Interpolations may hold strings holding interpolations, so a small stack tracks them.
    Lenient on broken input: hcl2 reports syntax errors, this only needs spans of valid text.
    """
    stack: list[int] = [0]  # 0 = inside string text; n > 0 = inside ${...} at brace depth n
    while stack:
        if len(stack) > MAX_NESTING:
            raise _TooDeep(line)
        if stack[-1] == 0:
            m = _IN_STRING_RE.search(text, pos)
            if m is None:
                return len(text), line
            tok, pos = m.group(), m.end()
            if tok == '"':
                stack.pop()
            elif tok == "\n":
                line += 1
                if len(stack) == 1:  # quoted strings end at the line's end
                    return pos - 1, line - 1
            elif tok in ("${", "%{"):
                stack.append(1)
            elif tok.startswith("\\") and "\n" in tok:
                line += 1
        else:
            m = _IN_TEMPLATE_EXPR_RE.search(text, pos)
            if m is None:
                return len(text), line
            tok, pos = m.group(), m.end()
            if tok == '"':
                stack.append(0)
            elif tok == "{":
                stack[-1] += 1
            elif tok == "}":
                stack[-1] -= 1
                if stack[-1] == 0:
                    stack.pop()
            else:
                line += 1
    return pos, line


def _skip_heredoc(text: str, pos: int, marker: str) -> int:
    """Position of the end of the heredoc's closing-marker line (or of the text)."""
    end = re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*\r?$", re.MULTILINE).search(text, pos)
    return len(text) if end is None else end.end()


def _tokenize(text: str) -> _Tokens:
    """Tokens (comments and blanks dropped) plus bracket pairs; raises _TooDeep on hostile nesting."""
    toks: list[_Tok] = []
    pairs: dict[int, int] = {}
    stack: list[int] = []
    in_parens: list[tuple[int, int]] = []
    pos, line, size = 0, 1, len(text)
    match = _TOKEN_RE.match
    while pos < size:
        m = match(text, pos)
        assert m is not None  # the last alternative matches any character
        kind = m.lastgroup
        if kind == "ws":
            pos = m.end()
            continue
        parenthesised = bool(stack) and toks[stack[-1]].text == "("
        if kind == "comment" or kind == "bcomment":
            if parenthesised:
                in_parens.append((pos, m.end()))
            line += m.group().count("\n")
            pos = m.end()
            continue
        if kind == "nl":
            if parenthesised and not (toks and toks[-1].kind == "heredoc"):  # hcl2 wants a heredoc's newline
                in_parens.append((pos, pos + 1))
            toks.append(_Tok("nl", "\n", line, line))
            line += 1
            pos = m.end()
            continue
        if kind == "quote":
            end, end_line = _skip_string(text, m.end(), line)
            toks.append(_Tok("str", text[pos:end], line, end_line))
            line, pos = end_line, end
            continue
        if kind == "heredoc":
            end = _skip_heredoc(text, m.end(), m.group("marker"))
            end_line = line + text.count("\n", pos, end)
            toks.append(_Tok("heredoc", text[pos:end], line, end_line))
            line, pos = end_line, end
            continue
        value = m.group()
        if kind == "op" and value in _OPENERS:
            stack.append(len(toks))
            if len(stack) > MAX_NESTING:
                raise _TooDeep(line)
        elif kind == "op" and value in _CLOSERS and stack:
            pairs[stack.pop()] = len(toks)
        toks.append(_Tok(kind or "other", value, line, line))
        pos = m.end()
    return _Tokens(toks, pairs, in_parens)


def _blanked(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span replaced by as many spaces (lines elsewhere keep their offsets)."""
    if not spans:
        return text
    pieces, last = [], 0
    for start, end in spans:
        pieces += [text[last:start], " " * (end - start)]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


@dataclass(frozen=True, slots=True)
class _Expr:
    """Where an expression sits, and where its parts sit when it is an object or a tuple."""

    line: int
    end_line: int
    entries: dict[str, _Expr] | None = None
    items: tuple[_Expr, ...] | None = None


@dataclass(slots=True)
class _Block:
    """A block's header, its span, its attributes and its nested blocks in source order."""

    type: str
    labels: tuple[str, ...]
    line: int
    end_line: int
    attrs: dict[str, _Expr] = field(default_factory=dict)
    blocks: list[_Block] = field(default_factory=list)


class _Outliner:
    """Recursive descent over tokens; recursion is bounded by MAX_NESTING from the tokenizer."""

    def __init__(self, tokens: _Tokens) -> None:
        self.toks = tokens.toks
        self.pairs = tokens.pairs

    def file(self) -> _Block:
        last = self.toks[-1].end_line if self.toks else 1
        root = _Block("", (), 1, last)
        self._body(0, root, top=True)
        return root

    def _body(self, i: int, block: _Block, top: bool) -> int:
        """Fill `block` from tokens at `i`; returns the index after the closing brace."""
        toks, n = self.toks, len(self.toks)
        while i < n:
            tok = toks[i]
            if tok.kind == "op" and tok.text == "}" and not top:
                block.end_line = tok.line
                return i + 1
            if tok.kind == "ident":
                nxt = toks[i + 1] if i + 1 < n else None
                if nxt is not None and nxt.kind == "op" and nxt.text == "=":
                    stop = self._expr_end(i + 2)
                    block.attrs.setdefault(tok.text, self._expr(i + 2, stop, tok.line))
                    i = stop
                    continue
                j, labels = i + 1, []
                while j < n and toks[j].kind in ("str", "ident"):
                    labels.append(_unquote(toks[j].text))
                    j += 1
                if j < n and toks[j].kind == "op" and toks[j].text == "{":
                    child = _Block(tok.text, tuple(labels), tok.line, toks[-1].end_line)
                    block.blocks.append(child)
                    i = self._body(j + 1, child, top=False)
                    continue
            i += 1
        return i

    def _expr_end(self, i: int) -> int:
        """Index of the token ending the expression at `i`: newline or closer at depth 0."""
        toks, n = self.toks, len(self.toks)
        while i < n:
            tok = toks[i]
            if tok.kind == "nl":
                if self._continues(i):
                    i += 1
                    continue
                return i
            if tok.kind == "op":
                if tok.text in _OPENERS:
                    close = self.pairs.get(i)
                    if close is None:
                        return n
                    i = close + 1
                    continue
                if tok.text in _CLOSERS:
                    return i
            i += 1
        return n

    def _continues(self, nl: int) -> bool:
        """Whether the expression goes on past the newline at `nl`: the grammar allows a line
        break after a binary operator, `?` or `:`, and before the `:` of a conditional."""
        toks = self.toks
        before = toks[nl - 1] if nl > 0 else None
        if before is not None and before.kind == "op" and before.text in _CONTINUING_OPS:
            splat = before.text == "*" and nl > 1 and toks[nl - 2].text == "."
            if not splat:
                return True
        j = nl + 1
        while j < len(toks) and toks[j].kind == "nl":
            j += 1
        return j < len(toks) and toks[j].kind == "op" and toks[j].text == ":"

    def _expr(self, a: int, b: int, fallback_line: int) -> _Expr:
        """Outline of tokens[a:b]."""
        if a >= b:
            return _Expr(fallback_line, fallback_line)
        toks = self.toks
        first, last = toks[a], toks[b - 1]
        line, end_line = first.line, last.end_line
        if first.kind == "op" and self.pairs.get(a) == b - 1 and not self._is_for(a + 1, b - 1):
            if first.text == "{":
                return _Expr(line, end_line, entries=self._entries(a + 1, b - 1))
            if first.text == "[":
                return _Expr(line, end_line, items=tuple(self._items(a + 1, b - 1)))
        return _Expr(line, end_line)

    def _is_for(self, a: int, b: int) -> bool:
        i = self._skip_nl(a, b)
        return i < b and self.toks[i].kind == "ident" and self.toks[i].text == "for"

    def _skip_nl(self, i: int, b: int) -> int:
        while i < b and (self.toks[i].kind == "nl" or self.toks[i].text == ","):
            i += 1
        return i

    def _split(self, a: int, b: int, stop_at_newline: bool) -> Iterator[tuple[int, int]]:
        """Index ranges of the comma (and optionally newline) separated parts of tokens[a:b]."""
        i = self._skip_nl(a, b)
        start = i
        while i < b:
            tok = self.toks[i]
            if tok.kind == "op" and tok.text in _OPENERS:
                i = self.pairs.get(i, b - 1) + 1
                continue
            if tok.text == "," or (stop_at_newline and tok.kind == "nl"):
                if i > start:
                    yield start, i
                i = self._skip_nl(i + 1, b)
                start = i
                continue
            i += 1
        if b > start:
            yield start, self._trim_nl(start, b)

    def _trim_nl(self, a: int, b: int) -> int:
        while b > a and self.toks[b - 1].kind == "nl":
            b -= 1
        return b

    def _items(self, a: int, b: int) -> Iterator[_Expr]:
        for start, stop in self._split(a, b, stop_at_newline=False):
            yield self._expr(start, self._trim_nl(start, stop), self.toks[start].line)

    def _entries(self, a: int, b: int) -> dict[str, _Expr]:
        entries: dict[str, _Expr] = {}
        for start, stop in self._split(a, b, stop_at_newline=True):
            sep = next(
                (k for k in range(start, stop) if self.toks[k].kind == "op" and self.toks[k].text in "=:"),
                None,
            )
            if sep is None or sep == start:
                continue
            key_toks = self.toks[start:sep]
            key = _unquote(key_toks[0].text) if len(key_toks) == 1 else ""
            if key:
                value = self._expr(sep + 1, stop, key_toks[0].line)
                entries.setdefault(key, _Expr(key_toks[0].line, value.end_line, value.entries, value.items))
        return entries


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


# --------------------------------------------------------------------------------------------
# Values: resolving var/local, collecting references.
# --------------------------------------------------------------------------------------------

_MISSING = object()
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_PATH_RE = re.compile(
    r"(var|local)\.([A-Za-z_][\w-]*)((?:\.[A-Za-z_][\w-]*|\[\d+\]|\[\"[^\"\\]*\"\])*)"
)
_STEP_RE = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[\"([^\"\\]*)\"\]")
_REF_RE = re.compile(
    r"(?<![\w.:\"-])(?:(var|local|module)\.([A-Za-z_][\w-]*)"
    r"|data\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)"
    r"|([A-Za-z][A-Za-z0-9-]*_[\w-]*)\.([A-Za-z_][\w-]*))"
)


def _template_parts(text: str) -> list[tuple[bool, str]] | None:
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


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and ("${" in value or "%{" in value)


@dataclass(frozen=True)
class _Scope:
    """Variable defaults and local values of one module, as raw hcl2 values."""

    variables: Mapping[str, Any]  # name -> default, or _MISSING
    locals: Mapping[str, Any]

    def resolve(self, raw: Any, depth: int = 0, seen: frozenset[str] = frozenset()) -> Any:
        """A raw hcl2 value with every resolvable reference replaced, the rest Unknown."""
        if isinstance(raw, dict):
            return {k: self.resolve(v, depth, seen) for k, v in raw.items() if k not in _META_KEYS}
        if isinstance(raw, list):
            return [self.resolve(v, depth, seen) for v in raw]
        if _is_expression(raw):
            return self._template(raw, depth, seen)
        return raw

    def _template(self, text: str, depth: int, seen: frozenset[str]) -> Any:
        parts = _template_parts(text)
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
            value = self.variables.get(name, _MISSING)
            if value is _MISSING:
                return Unknown(expr)
            value = self.resolve(value, depth + 1, seen)
        else:
            if name in seen or name not in self.locals:
                return Unknown(expr)
            value = self.resolve(self.locals[name], depth + 1, seen | {name})
        value = _walk(value, path, expr)
        return Unknown(expr) if isinstance(value, Unknown) else value  # name what was written here


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


def _strings(raw: Any) -> Iterator[str]:
    """Every string (keys included) inside a raw hcl2 value."""
    if isinstance(raw, str):
        yield raw
    elif isinstance(raw, dict):
        for key, value in raw.items():
            if isinstance(key, str):
                yield key
            yield from _strings(value)
    elif isinstance(raw, list):
        for value in raw:
            yield from _strings(value)


def _direct_references(raw: Any) -> set[str]:
    """Addresses named by the expressions inside a raw hcl2 value."""
    refs: set[str] = set()
    for text in _strings(raw):
        if not _is_expression(text):
            continue
        parts = _template_parts(text)
        exprs = [p for is_expr, p in parts if is_expr] if parts is not None else [text]
        for expr in exprs:
            for m in _REF_RE.finditer(expr):
                kind, name, dtype, dname, rtype, rname = m.groups()
                if kind:
                    refs.add(f"{kind}.{name}")
                elif dtype:
                    refs.add(f"data.{dtype}.{dname}")
                else:
                    refs.add(f"{rtype}.{rname}")
    return refs


def _references(raw: Any, scope: _Scope) -> frozenset[str]:
    """Direct references plus what the named locals refer to, so a resource reached through a
    local (`bucket = local.bucket_id`) still counts as referenced."""
    refs = _direct_references(raw)
    pending = [r[len("local.") :] for r in refs if r.startswith("local.")]
    visited: set[str] = set()
    while pending and len(visited) < 1000:
        name = pending.pop()
        if name in visited or name not in scope.locals:
            continue
        visited.add(name)
        more = _direct_references(scope.locals[name])
        refs |= more
        pending.extend(r[len("local.") :] for r in more if r.startswith("local."))
    return frozenset(refs)


# --------------------------------------------------------------------------------------------
# Joining values and outline into Nodes.
# --------------------------------------------------------------------------------------------


def _plain_node(value: Any, line: int, end_line: int) -> Node:
    """A resolved value (e.g. a variable's default map) placed on the referring lines."""
    if isinstance(value, dict):
        return Node({k: _plain_node(v, line, end_line) for k, v in value.items()}, line, end_line)
    if isinstance(value, list):
        return Node([_plain_node(v, line, end_line) for v in value], line, end_line)
    return Node(value, line, end_line)


def _value_node(raw: Any, where: _Expr, scope: _Scope) -> Node:
    if isinstance(raw, dict):
        entries = where.entries or {}
        return Node(
            {
                k: _value_node(v, entries.get(k) or _Expr(where.line, where.end_line), scope)
                for k, v in raw.items()
                if k not in _META_KEYS
            },
            where.line,
            where.end_line,
        )
    if isinstance(raw, list):
        items = where.items if where.items is not None and len(where.items) == len(raw) else None
        return Node(
            [
                _value_node(v, items[i] if items else _Expr(where.line, where.end_line), scope)
                for i, v in enumerate(raw)
            ],
            where.line,
            where.end_line,
        )
    if _is_expression(raw):
        return _plain_node(scope.resolve(raw), where.line, where.end_line)
    return Node(raw, where.line, where.end_line)


def _body_node(values: Mapping[str, Any], outline: _Block, scope: _Scope) -> Node:
    """A block body: attributes by name, nested blocks matched to the outline by type and order."""
    by_type: dict[str, list[_Block]] = {}
    for child in outline.blocks:
        by_type.setdefault(child.type, []).append(child)
    out: dict[str, Node] = {}
    for key, raw in values.items():
        if key in _META_KEYS:
            continue
        where = outline.attrs.get(key)
        children = by_type.get(key)
        if where is None and children and isinstance(raw, list) and len(children) == len(raw):
            items = [_nested_block_node(v, b, scope) for v, b in zip(raw, children)]
            out[key] = Node(items, items[0].line, items[-1].end_line)
        else:
            out[key] = _value_node(raw, where or _Expr(outline.line, outline.end_line), scope)
    return Node(out, outline.line, outline.end_line)


def _nested_block_node(raw: Any, outline: _Block, scope: _Scope) -> Node:
    """One nested block; labelled ones (`dynamic "x"`) keep hcl2's {label: body} shape."""
    body = _unwrap(raw, outline.labels)
    node = _body_node(body if isinstance(body, dict) else {}, outline, scope)
    for label in reversed(outline.labels):
        node = Node({label: node}, outline.line, outline.end_line)
    return node


def _unwrap(raw: Any, labels: tuple[str, ...]) -> Any:
    for label in labels:
        if not isinstance(raw, dict) or label not in raw:
            return None
        raw = raw[label]
    return raw


# --------------------------------------------------------------------------------------------
# Files and modules.
# --------------------------------------------------------------------------------------------

_LABELS = MappingProxyType(
    {"resource": 2, "data": 2, "module": 1, "variable": 1, "provider": 1, "output": 1, "locals": 0}
)


@dataclass(frozen=True)
class _Loaded:
    """One file that parsed: its text lines, hcl2 values and outline."""

    path: str
    lines: tuple[str, ...]
    values: dict[str, Any]
    outline: _Block

    def blocks(self) -> Iterator[tuple[_Block, Any]]:
        """Top-level blocks of the kinds we model, each with its hcl2 body."""
        seen: dict[str, int] = {}
        for block in self.outline.blocks:
            index = seen.get(block.type, 0)
            seen[block.type] = index + 1
            if _LABELS.get(block.type) != len(block.labels):
                continue
            raws = self.values.get(block.type)
            if not isinstance(raws, list) or index >= len(raws):
                continue
            body = _unwrap(raws[index], block.labels)
            if isinstance(body, dict):
                yield block, body


def _load(path: str, text: str) -> _Loaded | FileError:
    """Parse one file; every failure becomes a FileError with the best line we know."""
    if len(text) > MAX_FILE_CHARS:
        return FileError(path, None, f"file too large to parse ({len(text)} characters)")
    text = text.replace("\r\n", "\n")  # the hcl2 grammar rejects CRLF; Terraform does not
    try:
        tokens = _tokenize(text)
        values = _load_hcl(_blanked(text, tokens.in_parens))
        outline = _Outliner(tokens).file()
    except _TooDeep as exc:
        return FileError(path, exc.line, f"cannot parse: {exc}")
    except UnexpectedInput as exc:
        return _syntax_error(path, text, exc)
    except RecursionError:
        return FileError(path, None, "cannot parse: expression nests too deeply")
    except (VisitError, RuntimeError) as exc:  # hcl2's own checks, e.g. "x already defined"
        reason = str(exc.orig_exc if isinstance(exc, VisitError) else exc)
        return FileError(path, _duplicate_line(text, reason), f"invalid HCL: {reason}")
    except Exception as exc:  # noqa: BLE001 - a parser bug must never stop the review
        return FileError(path, None, f"cannot parse: {type(exc).__name__}: {exc}")
    if not isinstance(values, dict):
        return FileError(path, None, "cannot parse: unexpected parser output")
    lines = tuple(line.rstrip("\r") for line in text.split("\n"))
    return _Loaded(path, lines, values, outline)


_TERMINALS = MappingProxyType({
    "DBLQUOTE": '"', "LBRACE": "{", "RBRACE": "}", "LSQB": "[", "RSQB": "]", "LPAR": "(",
    "RPAR": ")", "EQ": "=", "COMMA": ",", "COLON": ":", "DOT": ".", "BANG": "!", "QMARK": "?",
    "NAME": "a name", "DECIMAL": "a number", "NL_OR_COMMENT": "a new line", "BINARY_OP": "an operator",
    "STRING_LIT": "a string", "$END": "end of file",
})


def _describe_token(text: str) -> str:
    """A short, single-line picture of the token lark choked on."""
    if not text.strip():
        return "a new line" if "\n" in text else "a space"
    first = text.strip().split("\n", 1)[0]
    return repr(first if len(first) <= 30 else first[:30] + "...")


def _syntax_error(path: str, text: str, exc: UnexpectedInput) -> FileError:
    """A readable message and line from a lark exception."""
    last_line = max(1, len(text.rstrip().split("\n")))
    line = getattr(exc, "line", None)
    line = min(line, last_line) if isinstance(line, int) and line >= 1 else last_line
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        message = f"unexpected {_describe_token(str(exc.token))}"
        expected = sorted({_TERMINALS.get(name, name.lower()) for name in exc.expected if name[:2] != "__"})
        if expected:
            message += f", expected {' or '.join(expected[:6])}"
    elif isinstance(exc, UnexpectedCharacters):
        message = f"unexpected character {exc.char!r}"
    elif isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        message = "unexpected end of file (unclosed block, bracket or string?)"
    else:
        message = type(exc).__name__
    return FileError(path, line, f"syntax error: {message}")


def _duplicate_line(text: str, reason: str) -> int | None:
    """hcl2 rejects `x` defined twice without a line; find the second definition ourselves."""
    m = re.match(r"(\S+) already defined", reason)
    if m is None:
        return None
    hits = [i for i, line in enumerate(text.split("\n"), 1) if re.match(rf"\s*{re.escape(m.group(1))}\s*=", line)]
    return hits[1] if len(hits) > 1 else (hits[0] if hits else None)


def _scope(files: list[_Loaded]) -> _Scope:
    """Variable defaults and locals from every file of the module (first definition wins)."""
    variables: dict[str, Any] = {}
    local_values: dict[str, Any] = {}
    for loaded in files:
        for block, body in loaded.blocks():
            if block.type == "variable":
                variables.setdefault(block.labels[0], body.get("default", _MISSING))
            elif block.type == "locals":
                for name, raw in body.items():
                    if name not in _META_KEYS:
                        local_values.setdefault(name, raw)
    return _Scope(variables, local_values)


def _resources(loaded: _Loaded, scope: _Scope) -> Iterator[Resource]:
    for block, body in loaded.blocks():
        if block.type == "locals":
            for name, where in block.attrs.items():
                if name in body:
                    yield _resource(loaded, "locals", "locals", f"local.{name}", where.line, where.end_line,
                                    Node({name: _value_node(body[name], where, scope)}, where.line, where.end_line),
                                    _references({name: body[name]}, scope))
            continue
        node = _body_node(body, block, scope)
        yield _resource(loaded, block.type, _type_of(block), _address(block, node), block.line,
                        block.end_line, node, _references(body, scope))


def _type_of(block: _Block) -> str:
    return block.labels[0] if block.type in ("resource", "data") else block.type


def _address(block: _Block, body: Node) -> str:
    if block.type == "resource":
        return ".".join(block.labels)
    if block.type == "data":
        return "data." + ".".join(block.labels)
    if block.type == "variable":
        return f"var.{block.labels[0]}"
    if block.type == "provider":
        alias = body.get("alias")
        if alias is not None and isinstance(alias.value, str):
            return f"provider.{block.labels[0]}.{alias.value}"
    return f"{block.type}.{block.labels[0]}"


def _resource(loaded: _Loaded, kind: str, type_: str, address: str, line: int, end_line: int,
              body: Node, references: frozenset[str]) -> Resource:
    return Resource(
        source=SOURCE,
        kind=kind,
        type=type_,
        address=address,
        path=loaded.path,
        line=line,
        end_line=end_line,
        body=body,
        references=references,
        lines=loaded.lines[line - 1 : end_line],
    )


def parse_module(files: Mapping[str, str]) -> dict[str, ParsedFile]:
    """Parse the `.tf` files of one module directory (path -> text); never raises.

    Variables and locals are shared by every file of a module, so they are collected from all
    files that parse before any resource is built. A file that fails gets a FileError and the
    others are still parsed.
    """
    result: dict[str, ParsedFile] = {}
    loaded: list[_Loaded] = []
    for path, text in files.items():
        outcome = _load(path, text)
        if isinstance(outcome, FileError):
            result[path] = ParsedFile(path, errors=(outcome,))
        else:
            loaded.append(outcome)
    try:
        scope = _scope(loaded)
    except Exception as exc:  # noqa: BLE001
        scope = _Scope({}, {})
        for item in loaded:
            result[item.path] = ParsedFile(item.path, errors=(FileError(item.path, None, f"cannot resolve: {exc}"),))
        return result
    for item in loaded:
        try:
            result[item.path] = ParsedFile(item.path, resources=tuple(_resources(item, scope)))
        except RecursionError:
            result[item.path] = ParsedFile(item.path, errors=(FileError(item.path, None, "cannot parse: nests too deeply"),))
        except Exception as exc:  # noqa: BLE001 - never raise out of the parser
            result[item.path] = ParsedFile(
                item.path, errors=(FileError(item.path, None, f"cannot parse: {type(exc).__name__}: {exc}"),)
            )
    return {path: result[path] for path in files if path in result}
