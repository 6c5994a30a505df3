"""Terraform object and tuple literals read from their source text, with the line of every part.

The parser hands `jsonencode({...})` over as Unknown text without positions, yet a policy finding
must land on the statement's `Action` line. So the call's argument is read again from the
resource's own source lines, with the parser's own tokenizer: literal strings, numbers, booleans,
null, objects and tuples become values with lines; anything else (a reference, a function call, a
template with interpolations, a `for` expression, an operator) becomes `Unknown(text)`. Nothing is
evaluated. Bounded by the tokenizer's nesting limit and MAX_TOKENS.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.engine.model import Node, Unknown
from bot.engine.parsers.terraform.lexer import Tok, Tokens, TooDeep, tokenize

MAX_TOKENS = 50_000
_CONSTANTS = {"true": True, "false": False, "null": None}
_ESCAPE = re.compile(r"\\(?:u(?P<hex4>[0-9a-fA-F]{4})|U(?P<hex8>[0-9a-fA-F]{8})|.)|\$\$\{|%%\{", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


class _Unreadable(Exception):
    """The text is not the literal syntax this reader knows."""


def call_argument(lines: Sequence[str], first_line: int, function: str = "jsonencode") -> Node | None:
    """The literal argument of the first `function(...)` call in `lines` (source lines starting
    at line `first_line`), as a Node tree with real lines; None when there is no such call or
    its argument is not an object or tuple literal."""
    text = "\n".join(lines)
    if len(text) > MAX_TOKENS * 8:
        return None
    try:
        tokens = tokenize(text)
    except TooDeep:
        return None
    toks = tokens.toks
    if len(toks) > MAX_TOKENS:
        return None
    for i, tok in enumerate(toks[:-1]):
        if tok.kind == "ident" and tok.text == function and toks[i + 1].text == "(":
            reader = _Reader(tokens, first_line - 1)
            try:
                node, _ = reader.value(reader.skip_newlines(i + 2), closer=")")
            except (_Unreadable, IndexError, KeyError, RecursionError):  # KeyError: an unclosed bracket
                return None
            return node if isinstance(node.value, (dict, list)) else None
    return None


def decode_string(token: str) -> str | None:
    """A quoted HCL string token's text; None when it is a template (`${`, `%{`) or malformed."""
    if len(token) < 2 or not token.startswith('"') or not token.endswith('"'):
        return None
    body = token[1:-1]
    if re.search(r"(?<![$])\$\{|(?<![%])%\{", body.replace("$${", "").replace("%%{", "")):
        return None

    def unescape(match: re.Match[str]) -> str:
        text = match.group()
        if text in ("$${", "%%{"):
            return text[1:]
        code = match.group("hex4") or match.group("hex8")
        if code is not None:
            return chr(int(code, 16))
        if text[1] in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[text[1]]
        raise _Unreadable

    try:
        return _ESCAPE.sub(unescape, body)
    except (_Unreadable, ValueError, OverflowError):
        return None


def _joined(toks: Sequence[Tok]) -> str:
    """Tokens as one expression text: `aws_iam_role.app.arn`, words kept apart by a space."""
    parts: list[str] = []
    for before, tok in zip([None, *toks[:-1]], toks, strict=True):
        if before is not None and before.kind in ("ident", "number") and tok.kind in ("ident", "number"):
            parts.append(" ")
        parts.append(tok.text)
    return "".join(parts)


class _Reader:
    def __init__(self, tokens: Tokens, offset: int) -> None:
        self.toks: list[Tok] = tokens.toks
        self.pairs = tokens.pairs
        self.offset = offset  # token lines are 1-based within the text

    def line(self, tok: Tok) -> int:
        return tok.line + self.offset

    def end_line(self, tok: Tok) -> int:
        return tok.end_line + self.offset

    def skip_newlines(self, i: int) -> int:
        while i < len(self.toks) and self.toks[i].kind == "nl":
            i += 1
        return i

    def value(self, i: int, closer: str) -> tuple[Node, int]:
        """The value starting at token `i`, and the index just after it. A value followed by
        anything but a separator is part of a larger expression: Unknown, as written."""
        node, end = self.primary(i)
        if end < len(self.toks) and self.toks[end].kind != "nl" and self.toks[end].text not in (",", closer):
            return self.expression(i, closer)
        return node, end

    def primary(self, i: int) -> tuple[Node, int]:
        tok = self.toks[i]
        if tok.text == "{" and tok.kind == "op":
            return self.object(i)
        if tok.text == "[" and tok.kind == "op":
            return self.tuple(i)
        if tok.kind == "str":
            text = decode_string(tok.text)
            value: object = Unknown(tok.text) if text is None else text
            return Node(value, self.line(tok), self.end_line(tok)), i + 1
        if tok.kind == "number":
            number = float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
            return Node(number, self.line(tok), self.line(tok)), i + 1
        if tok.kind == "ident" and tok.text in _CONSTANTS:
            return Node(_CONSTANTS[tok.text], self.line(tok), self.line(tok)), i + 1
        if tok.kind == "op" and tok.text == "-" and i + 1 < len(self.toks) and self.toks[i + 1].kind == "number":
            number_node, end = self.primary(i + 1)
            return Node(-number_node.value, self.line(tok), number_node.end_line), end
        return self.expression(i, None)

    def expression(self, i: int, closer: str | None) -> tuple[Node, int]:
        """Tokens up to the next separator at this level, as Unknown text."""
        start = i
        while i < len(self.toks):
            tok = self.toks[i]
            if tok.kind == "nl" or tok.text == "," or (closer is not None and tok.text == closer):
                break
            if tok.kind == "op" and tok.text in ("}", "]", ")"):
                break
            if tok.kind == "op" and tok.text in ("{", "[", "("):
                i = self.pairs[i]
            i += 1
        if i == start:
            raise _Unreadable
        text = _joined(self.toks[start:i])
        return Node(Unknown(text), self.line(self.toks[start]), self.end_line(self.toks[i - 1])), i

    def object(self, i: int) -> tuple[Node, int]:
        close = self.pairs[i]
        entries: dict[str, Node] = {}
        j = i + 1
        while True:
            while j < close and (self.toks[j].kind == "nl" or self.toks[j].text == ","):
                j += 1
            if j >= close:
                break
            key_tok = self.toks[j]
            if key_tok.kind == "ident":
                key = key_tok.text
                j += 1
            elif key_tok.kind == "str":
                key = decode_string(key_tok.text) or key_tok.text
                j += 1
            elif key_tok.text == "(":
                key = _joined(self.toks[j : self.pairs[j] + 1])
                j = self.pairs[j] + 1
            else:
                raise _Unreadable
            if j >= close or self.toks[j].text not in ("=", ":"):
                raise _Unreadable
            node, j = self.value(j + 1, "}")
            entries[key] = node
        return Node(entries, self.line(self.toks[i]), self.end_line(self.toks[close])), close + 1

    def tuple(self, i: int) -> tuple[Node, int]:
        close = self.pairs[i]
        first = self.skip_newlines(i + 1)
        if first < close and self.toks[first].kind == "ident" and self.toks[first].text == "for":
            return self.expression(i, None)
        items: list[Node] = []
        j = first
        while True:
            while j < close and (self.toks[j].kind == "nl" or self.toks[j].text == ","):
                j += 1
            if j >= close:
                break
            node, j = self.value(j, "]")
            items.append(node)
        return Node(items, self.line(self.toks[i]), self.end_line(self.toks[close])), close + 1
