"""The outline of a file: every block, attribute, object entry and list item with its lines.

python-hcl2 only knows where blocks are, while a review comment must land on the exact
attribute. This recursive descent over the lexer's tokens finds blocks (type, labels, span),
their attributes and nested blocks in source order, and the spans inside object and tuple
expressions. It reads no values: `nodes` joins this outline with hcl2's values by name and
order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.engine.parsers.terraform.lexer import CLOSERS, OPENERS, Tokens, unquote

__all__ = ["Block", "Expr", "outline_file"]

# Operators after which an expression may go on on the next line.
_CONTINUING_OPS = frozenset({"?", ":", "&&", "||", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%"})


@dataclass(frozen=True, slots=True)
class Expr:
    """Where an expression sits, and where its parts sit when it is an object or a tuple."""

    line: int
    end_line: int
    entries: dict[str, Expr] | None = None
    items: tuple[Expr, ...] | None = None


@dataclass(slots=True)
class Block:
    """A block's header, its span, its attributes and its nested blocks in source order."""

    type: str
    labels: tuple[str, ...]
    line: int
    end_line: int
    attrs: dict[str, Expr] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


def outline_file(tokens: Tokens) -> Block:
    """The whole file as a root block (type "") holding its top-level attributes and blocks."""
    return _Outliner(tokens).file()


class _Outliner:
    """Recursive descent over tokens; recursion is bounded by MAX_NESTING from the tokenizer."""

    def __init__(self, tokens: Tokens) -> None:
        self.toks = tokens.toks
        self.pairs = tokens.pairs

    def file(self) -> Block:
        last = self.toks[-1].end_line if self.toks else 1
        root = Block("", (), 1, last)
        self._body(0, root, top=True)
        return root

    def _body(self, i: int, block: Block, top: bool) -> int:
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
                    labels.append(unquote(toks[j].text))
                    j += 1
                if j < n and toks[j].kind == "op" and toks[j].text == "{":
                    child = Block(tok.text, tuple(labels), tok.line, toks[-1].end_line)
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
                if tok.text in OPENERS:
                    close = self.pairs.get(i)
                    if close is None:
                        return n
                    i = close + 1
                    continue
                if tok.text in CLOSERS:
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

    def _expr(self, a: int, b: int, fallback_line: int) -> Expr:
        """Outline of tokens[a:b]."""
        if a >= b:
            return Expr(fallback_line, fallback_line)
        toks = self.toks
        first, last = toks[a], toks[b - 1]
        line, end_line = first.line, last.end_line
        if first.kind == "op" and self.pairs.get(a) == b - 1 and not self._is_for(a + 1, b - 1):
            if first.text == "{":
                return Expr(line, end_line, entries=self._entries(a + 1, b - 1))
            if first.text == "[":
                return Expr(line, end_line, items=tuple(self._items(a + 1, b - 1)))
        return Expr(line, end_line)

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
            if tok.kind == "op" and tok.text in OPENERS:
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

    def _items(self, a: int, b: int) -> Iterator[Expr]:
        for start, stop in self._split(a, b, stop_at_newline=False):
            yield self._expr(start, self._trim_nl(start, stop), self.toks[start].line)

    def _entries(self, a: int, b: int) -> dict[str, Expr]:
        entries: dict[str, Expr] = {}
        for start, stop in self._split(a, b, stop_at_newline=True):
            sep = next(
                (k for k in range(start, stop) if self.toks[k].kind == "op" and self.toks[k].text in "=:"),
                None,
            )
            if sep is None or sep == start:
                continue
            key_toks = self.toks[start:sep]
            key = unquote(key_toks[0].text) if len(key_toks) == 1 else ""
            if key:
                value = self._expr(sep + 1, stop, key_toks[0].line)
                entries.setdefault(key, Expr(key_toks[0].line, value.end_line, value.entries, value.items))
        return entries
