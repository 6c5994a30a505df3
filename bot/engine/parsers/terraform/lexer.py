"""A hand-written tokenizer for HCL, exact about lines where python-hcl2 is not.

It knows just enough of the syntax to never mistake text for structure: quoted templates with
nested interpolations, heredocs, `#`, `//` and `/* */` comments, and bracket nesting. Every
token keeps its lines; brackets are paired so the outline can skip over them. Nesting deeper
than MAX_NESTING is refused here, before python-hcl2 could recurse on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["CLOSERS", "MAX_NESTING", "OPENERS", "Tok", "Tokens", "TooDeep", "blanked", "tokenize", "unquote"]

from bot.engine import limits

MAX_NESTING = limits.HCL_DEPTH  # brackets, blocks and template interpolations; real code stays far below


# Bracket pairs: the tokenizer pairs them up, the outline skips over them.
OPENERS = MappingProxyType({"{": "}", "[": "]", "(": ")"})
CLOSERS = frozenset(OPENERS.values())


class TooDeep(Exception):
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
class Tok:
    """One token with the lines it spans (a string or heredoc may span several)."""

    kind: str  # nl, ident, str, heredoc, number, op, other
    text: str
    line: int
    end_line: int


@dataclass(slots=True)
class Tokens:
    """A file's tokens, with what the outline and the hcl2 call need to know about brackets."""

    toks: list[Tok]
    pairs: dict[int, int]  # index of an opening bracket -> index of its closing bracket
    # Text spans (newlines, comments) directly inside parentheses. HCL ignores line breaks
    # there, but python-hcl2's grammar rejects most of them, so they are blanked for hcl2 only.
    in_parens: list[tuple[int, int]] = field(default_factory=list)


def _last_line(text: str, line: int, first: int) -> int:
    """The line of a template left open at the end of the file: the file's last line, not the
    one after its final line break (a line git does not count)."""
    return max(first, line - 1) if text.endswith("\n") else line


def _skip_string(text: str, pos: int, line: int) -> tuple[int, int]:
    """End position and line just after the quoted template starting at `pos` (after its quote).

    Interpolations may hold strings holding interpolations, so a small stack tracks them.
    Lenient on broken input: hcl2 reports syntax errors, this only needs spans of valid text.
    """
    stack: list[int] = [0]  # 0 = inside string text; n > 0 = inside ${...} at brace depth n
    first = line
    while stack:
        if len(stack) > MAX_NESTING:
            raise TooDeep(line)
        if stack[-1] == 0:
            m = _IN_STRING_RE.search(text, pos)
            if m is None:
                return len(text), _last_line(text, line, first)
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
                return len(text), _last_line(text, line, first)
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


def tokenize(text: str) -> Tokens:
    """Tokens (comments and blanks dropped) plus bracket pairs; raises TooDeep on hostile nesting."""
    toks: list[Tok] = []
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
            toks.append(Tok("nl", "\n", line, line))
            line += 1
            pos = m.end()
            continue
        if kind == "quote":
            end, end_line = _skip_string(text, m.end(), line)
            toks.append(Tok("str", text[pos:end], line, end_line))
            line, pos = end_line, end
            continue
        if kind == "heredoc":
            end = _skip_heredoc(text, m.end(), m.group("marker"))
            end_line = line + text.count("\n", pos, end)
            toks.append(Tok("heredoc", text[pos:end], line, end_line))
            line, pos = end_line, end
            continue
        value = m.group()
        if kind == "op" and value in OPENERS:
            stack.append(len(toks))
            if len(stack) > MAX_NESTING:
                raise TooDeep(line)
        elif kind == "op" and value in CLOSERS and stack:
            pairs[stack.pop()] = len(toks)
        toks.append(Tok(kind or "other", value, line, line))
        pos = m.end()
    return Tokens(toks, pairs, in_parens)


def blanked(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span replaced by as many spaces (lines elsewhere keep their offsets)."""
    if not spans:
        return text
    pieces, last = [], 0
    for start, end in spans:
        pieces += [text[last:start], " " * (end - start)]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def unquote(text: str) -> str:
    """A quoted label or key's text (`"a\\"b"` -> `a"b`); anything else as it is."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text
