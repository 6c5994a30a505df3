"""Regular expressions that run in time linear in the text, whatever the pattern: RE2.

The shipped specs' patterns are Python `re`, reviewed with the code. An organisation's custom
rule is not: its pattern meets text a pull request author chose, and Python's backtracking
engine takes exponential time on patterns such as `(a+)+$`. RE2 (Google's engine, through its
own bindings) compiles a pattern into an automaton, so matching is linear in the text for every
pattern it accepts; it refuses what cannot be matched that way (backreferences, lookaround),
and its memory budget bounds what a pattern may compile to (`{1000}{1000}` is refused).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

MAX_PATTERN_CHARS = 1000
MAX_PROGRAM_BYTES = 1 << 20  # RE2's budget for one compiled pattern (its default is 8 MiB)
NO_BACKTRACKING = ("custom rules' regexes are RE2, so matching stays linear in the text: no backreferences "
                   "(\\1), lookahead or lookbehind ((?=, (?!, (?<=, (?<!), \\Z or possessive quantifiers")
# RE2's words for what only a backtracking engine offers: the hint above says why it is refused.
_BACKTRACKING_ONLY = ("invalid escape sequence", "invalid perl operator", "bad repetition operator")


def _options(insensitive: bool) -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would write each refused pattern to stderr
    options.max_mem = MAX_PROGRAM_BYTES
    options.case_sensitive = not insensitive
    return options


@lru_cache(maxsize=1024)
def _compiled(pattern: str, insensitive: bool) -> Any:
    return re2.compile(pattern, _options(insensitive))


def problem(pattern: str) -> str | None:
    """Why `pattern` is not a linear regex, in words; None when RE2 compiles it."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"longer than {MAX_PATTERN_CHARS} characters"
    try:
        _compiled(pattern, False)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        reason = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        reason = reason or "not a valid pattern"
        return f"{reason} ({NO_BACKTRACKING})" if reason.startswith(_BACKTRACKING_ONLY) else reason
    return None


def fullmatch(pattern: str, text: str, insensitive: bool = False) -> bool:
    """Whether the whole of `text` matches `pattern` (validated by `problem` when it was loaded)."""
    compiled = _compiled(pattern, insensitive)
    try:
        return compiled.fullmatch(text) is not None
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form: match what the text can say
        return compiled.fullmatch(text.encode("utf-8", "replace").decode("utf-8")) is not None
