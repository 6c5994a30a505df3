"""Why a file could not be read, in words a pull request author can act on, with a line.

lark's exceptions name grammar terminals (`LBRACE`, `$END`) and hcl2's own checks give no line
at all; this turns every failure of the lexer, outline, tree-sitter reader or hcl2 into one
`FileError`. lark is imported only by the first hcl2 parse (`grammar`), which reading valid
`.tf` files never runs; until then no exception can be one of lark's, so lark's exception
classes are looked up only once lark is loaded, and this module does not load it.
"""

from __future__ import annotations

import re
import sys
from types import MappingProxyType
from typing import TYPE_CHECKING

from bot.engine.model import FileError, failure_reason
from bot.engine.parsers.terraform.hcl_treesitter import Duplicate, SyntaxProblem
from bot.engine.parsers.terraform.lexer import TooDeep

if TYPE_CHECKING:
    from lark.exceptions import UnexpectedInput

__all__ = ["load_error"]

# What lark's terminal names mean to a reader.
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


def _lark_error(path: str, text: str, exc: Exception) -> FileError | None:
    """The FileError for one of lark's exceptions (hcl2's syntax errors, and its own checks
    wrapped in lark's VisitError), or None for any other exception."""
    if "lark.exceptions" not in sys.modules:  # lark never loaded: nothing it raised
        return None
    from lark.exceptions import UnexpectedInput, VisitError  # loaded already: a dictionary look-up

    if isinstance(exc, UnexpectedInput):
        return _syntax_error(path, text, exc)
    if isinstance(exc, VisitError):
        return _invalid(path, text, str(exc.orig_exc))
    return None


def _invalid(path: str, text: str, reason: str) -> FileError:
    """hcl2's own checks, e.g. "x already defined", with the line we find."""
    return FileError(path, _duplicate_line(text, reason), f"invalid HCL: {reason}")


def _syntax_error(path: str, text: str, exc: UnexpectedInput) -> FileError:
    """A readable message and line from a lark exception."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken  # loaded: exc is lark's

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


def load_error(path: str, text: str, exc: Exception) -> FileError:
    """The FileError, with the best line we know, for anything raised while reading a file."""
    if isinstance(exc, TooDeep):
        return FileError(path, exc.line, f"cannot parse: {exc}")
    if isinstance(exc, SyntaxProblem):
        return FileError(path, exc.line, str(exc))
    if isinstance(exc, Duplicate):
        return FileError(path, exc.line, f"invalid HCL: {exc}")
    if (from_lark := _lark_error(path, text, exc)) is not None:
        return from_lark
    if isinstance(exc, RecursionError):
        return FileError(path, None, "cannot parse: expression nests too deeply")
    if isinstance(exc, RuntimeError):  # hcl2's own checks raised inside the parser
        return _invalid(path, text, str(exc))
    return FileError(path, None, f"cannot parse: {failure_reason(exc)}")
