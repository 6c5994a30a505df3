"""python-hcl2's value conventions, as plain functions: what a value read from HCL looks like.

The engine's values, expressions and rules were written against python-hcl2's output (version
7.3.1, the pinned one): a quoted string comes back unquoted with a few escapes processed, any
other expression as a `${...}` string, a labelled block as `{label: {label: body}}`, an object
or list inside an expression as inline HCL text, heredocs trimmed its way. Both readers of `.tf`
files give values of that shape: `grammar` by running hcl2 itself, `hcl_treesitter` by these
functions. They are restated here, not taken from hcl2's `DictTransformer`, so that reading a
`.tf` file does not import lark (~60 ms of every start); `hcl2_shape_test.py` holds each one to
the DictTransformer method it restates, over generated values.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["META_KEYS", "heredoc_template", "heredoc_template_trim", "is_string_dollar", "is_type_keyword",
           "process_escape_sequences", "reverse_quotes_within_interpolation", "strip_quotes", "to_string_dollar",
           "to_tf_inline", "unwrap", "unwrap_string_dollar"]

# Position keys hcl2 adds to bodies when asked for metadata; never part of a value.
META_KEYS = frozenset({"__start_line__", "__end_line__"})

# Type names hcl2 leaves bare where any other bare word becomes `${word}` (`type = string`).
_TYPE_KEYWORDS = frozenset({"bool", "number", "string"})

# A heredoc token: `<<MARKER\n`, its text, the marker again (the last one: the text is greedy).
_HEREDOC = re.compile(r"<<([a-zA-Z][a-zA-Z0-9._-]+)\n([\s\S]*)\1")
_HEREDOC_TRIM = re.compile(r"<<-([a-zA-Z][a-zA-Z0-9._-]+)\n([\s\S]*)\1")
_HEREDOC_TAIL = "\n\t "  # stripped off the end of a heredoc's text

# The escapes hcl2 processes in a quoted string, in its order (order matters: `\\n` is `\` + a
# line break, because `\n` is replaced before `\\`). Unicode escapes stay as written.
_ESCAPES = (("\\n", "\n"), ("\\r", "\r"), ("\\t", "\t"), ('\\"', '"'), ("\\\\", "\\"))

# From the first `${` to the last `}` of a line: where inline HCL keeps quotes unescaped.
_INTERPOLATED = re.compile(r"\$\{(.*)}")


def is_type_keyword(value: str) -> bool:
    """`bool`, `number` and `string` stay bare words; hcl2 wraps every other one in `${...}`."""
    return value in _TYPE_KEYWORDS


def is_string_dollar(value: Any) -> bool:
    """A string hcl2 treats as an expression already: `${` ... `}`."""
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def process_escape_sequences(value: Any) -> Any:
    """A quoted string's escapes as hcl2 processes them (`\\n`, `\\r`, `\\t`, `\\"`, `\\\\`, one
    after the other over the whole text); anything else, and Unicode escapes, left as given."""
    if not isinstance(value, str) or "\\" not in value:  # every escape starts with a backslash
        return value
    for escape, char in _ESCAPES:
        value = value.replace(escape, char)
    return value


def strip_quotes(value: Any) -> Any:
    """A string written in quotes unquoted, its escapes processed; anything else as given."""
    if isinstance(value, str) and value.startswith('"') and value.endswith('"'):
        return process_escape_sequences(value[1:-1])
    return value


def to_string_dollar(value: Any) -> Any:
    """A value as hcl2 stores it: a quoted string unquoted (escapes processed), a `${...}`
    string or a type keyword as it is, any other string wrapped in `${...}`, a non-string as it
    is. (hcl2 tests `${...}` first; no string both starts with `"` and with `$`, so the order,
    quotes first as the most common case, changes nothing.)"""
    if not isinstance(value, str):
        return value
    if value.startswith('"') and value.endswith('"'):
        return process_escape_sequences(value[1:-1])
    if (value.startswith("${") and value.endswith("}")) or value in _TYPE_KEYWORDS:
        return value
    return f"${{{value}}}"


def unwrap_string_dollar(value: Any) -> Any:
    """The expression inside `${...}`; anything else as given (the left side of an operator)."""
    if is_string_dollar(value):
        return value[2:-1]
    return value


def reverse_quotes_within_interpolation(text: str) -> str:
    """JSON text with the quotes escaped inside its interpolations put back: hcl2 renders an
    object as `json.dumps` output, which escapes every quote, also those of an expression."""
    return _INTERPOLATED.sub(lambda m: m.group(0).replace('\\"', '"'), text)


def to_tf_inline(value: Any) -> str:
    """A value as hcl2 writes it inside an expression (a call's argument, an operand, a `for`):
    an object as JSON (interpolations' quotes unescaped), a list as `[a, b]` of inline items,
    bools `true`/`false`, numbers as Python prints them, strings as they are, None as `None`."""
    if isinstance(value, dict):
        return reverse_quotes_within_interpolation(json.dumps(value))
    if isinstance(value, list):
        return f"[{', '.join(to_tf_inline(item) for item in value)}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return "None"
    raise RuntimeError(f"Invalid type to convert to inline HCL: {type(value)}")


def heredoc_template(token: str) -> str:
    """A `<<MARKER` heredoc (its whole token, the closing marker included) as hcl2 gives it:
    the text, trailing spaces, tabs and line breaks removed, in quotes (unquoted, and its
    escapes processed, where it becomes a value)."""
    match = _HEREDOC.match(token)
    if match is None:
        raise RuntimeError(f"Invalid Heredoc token: {token}")
    return f'"{match.group(2).rstrip(_HEREDOC_TAIL)}"'


def heredoc_template_trim(token: str) -> str:
    """A `<<-MARKER` heredoc as hcl2 gives it: as `heredoc_template`, then the fewest leading
    spaces (spaces only, not tabs) of any line, blank lines included, cut from every line."""
    match = _HEREDOC_TRIM.match(token)
    if match is None:
        raise RuntimeError(f"Invalid Heredoc token: {token}")
    lines = match.group(2).rstrip(_HEREDOC_TAIL).split("\n")
    indent = min(len(line) - len(line.lstrip(" ")) for line in lines)
    return '"' + "\n".join(line[indent:] for line in lines) + '"'


def unwrap(raw: Any, labels: tuple[str, ...]) -> Any:
    """The body of a labelled block from hcl2's `{label: {label: body}}` shape, or None."""
    for label in labels:
        if not isinstance(raw, dict) or label not in raw:
            return None
        raw = raw[label]
    return raw
