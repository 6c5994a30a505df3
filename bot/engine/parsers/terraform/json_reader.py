"""Strict JSON (RFC 8259) with lines: every object, property, array and value knows where it is.

Python's `json` gives no positions and keeps only the last of two equal keys, while a review
comment must land on the exact property and Terraform's JSON syntax repeats keys on purpose
(two `"resource"` properties are two sets of blocks). PyYAML's composer has marks, but it reads
YAML, not JSON: it accepts comments and single quotes, rejects `\\/` escapes and tabs between
tokens, and limits keys to 1024 characters. So this is a small reader of its own: regular
expressions for the tokens, `json.loads` to decode a string's escapes, and a recursive descent
bounded by MAX_NESTING. It never builds anything but plain values.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass

from bot.engine.parsers.terraform.lexer import MAX_NESTING

__all__ = ["JArray", "JObject", "JSONError", "JScalar", "JValue", "Prop", "read_json"]


class JSONError(Exception):
    """Text that is not JSON, with the line where that shows."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class JScalar:
    """A string, number, boolean or null (JSON strings cannot span lines)."""

    value: str | int | float | bool | None
    line: int

    @property
    def end_line(self) -> int:
        return self.line


@dataclass(frozen=True, slots=True)
class JArray:
    items: tuple[JValue, ...]
    line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Prop:
    """One property of an object: its key, the key's line, and its value."""

    key: str
    line: int
    value: JValue


@dataclass(frozen=True, slots=True)
class JObject:
    """An object's properties in the order written, equal keys included."""

    props: tuple[Prop, ...]
    line: int
    end_line: int


JValue = JScalar | JArray | JObject

_WS = re.compile(r"[ \t\n\r]*")
# The unrolled form keeps long strings linear: runs of plain characters between escapes.
_STRING = re.compile(r'"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WORD = re.compile(r"[A-Za-z0-9_.+-]+")
_LITERALS: dict[str, bool | None] = {"true": True, "false": False, "null": None}


def read_json(text: str) -> JValue:
    """The one JSON value of `text` (a leading byte-order mark is allowed); raises JSONError."""
    return _Reader(text).document()


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def fail(self, message: str, pos: int) -> JSONError:
        """The error at `pos`; at the end of the text, on its last line that is not blank."""
        if pos >= len(self.text):
            pos = len(self.text.rstrip())
        return JSONError(message, self.line(pos))

    def skip(self, pos: int) -> int:
        m = _WS.match(self.text, pos)
        return m.end() if m else pos

    def document(self) -> JValue:
        pos = self.skip(1 if self.text.startswith("\ufeff") else 0)
        if pos >= len(self.text):
            raise self.fail("the file is empty (a JSON value was expected)", pos)
        value, pos = self.value(pos, 0)
        pos = self.skip(pos)
        if pos < len(self.text):
            raise self.fail(f"unexpected {self.describe(pos)} after the end of the JSON value", pos)
        return value

    def describe(self, pos: int) -> str:
        """A short picture of what stands at `pos`, for messages."""
        if pos >= len(self.text):
            return "end of file"
        m = _WORD.match(self.text, pos)
        shown = m.group() if m else self.text[pos]
        return repr(shown if len(shown) <= 20 else shown[:20] + "...")

    def value(self, pos: int, depth: int) -> tuple[JValue, int]:
        """The value starting at `pos` (after whitespace) and the position after it."""
        text = self.text
        if pos >= len(text):
            raise self.eof(pos)
        char = text[pos]
        if char in "{[":
            if depth >= MAX_NESTING:
                raise self.fail(f"nesting deeper than {MAX_NESTING} levels", pos)
            return self.object(pos, depth + 1) if char == "{" else self.array(pos, depth + 1)
        if char == '"':
            string, end = self.string(pos)
            return JScalar(string, self.line(pos)), end
        m = _NUMBER.match(text, pos)
        if m and not _WORD.match(text, m.end()):
            number = m.group()
            parsed: int | float = float(number) if any(c in number for c in ".eE") else int(number)
            return JScalar(parsed, self.line(pos)), m.end()
        m = _WORD.match(text, pos)
        if m and m.group() in _LITERALS:
            return JScalar(_LITERALS[m.group()], self.line(pos)), m.end()
        raise self.fail(f"unexpected {self.describe(pos)}, expected a value{self.hint(pos)}", pos)

    def hint(self, pos: int) -> str:
        """What a reader may have meant, for the mistakes people make in JSON."""
        if self.text.startswith(("//", "/*", "#"), pos):
            return ' (JSON has no comments; Terraform reads a "//" property as one)'
        return ""

    def eof(self, pos: int) -> JSONError:
        return self.fail("unexpected end of file (an object, array or string is not closed)", pos)

    def string(self, pos: int) -> tuple[str, int]:
        m = _STRING.match(self.text, pos)
        if m is None:
            raise self._string_error(pos)
        token = m.group()
        return (json.loads(token) if "\\" in token else token[1:-1]), m.end()

    def _string_error(self, pos: int) -> JSONError:
        """Why the string at `pos` does not match: a control character, an escape, or no end."""
        text, i = self.text, pos + 1
        while i < len(text):
            char = text[i]
            if char == '"':
                break
            if char < " ":
                name = {"\n": "a line break", "\t": "a tab", "\r": "a carriage return"}.get(char, repr(char))
                return self.fail(f"{name} inside a string (write it as an escape such as \\n or \\t)", i)
            if char == "\\":
                if not re.match(r'\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})', text[i : i + 6]):
                    return self.fail(f"invalid escape {text[i : i + 2]!r} in a string", i)
                i += 2
                continue
            i += 1
        return self.fail("unterminated string", pos)

    def object(self, pos: int, depth: int) -> tuple[JObject, int]:
        start, text = pos, self.text
        props: list[Prop] = []
        pos = self.skip(pos + 1)
        if pos < len(text) and text[pos] == "}":
            return JObject((), self.line(start), self.line(pos)), pos + 1
        while True:
            if pos >= len(text):
                raise self.eof(pos)
            if text[pos] != '"':
                hint = " (a trailing comma?)" if props and text[pos] == "}" else self.hint(pos)
                raise self.fail(f"expected a property name in double quotes, found {self.describe(pos)}{hint}", pos)
            key_line = self.line(pos)
            key, pos = self.string(pos)
            pos = self.skip(pos)
            if pos >= len(text):
                raise self.eof(pos)
            if text[pos] != ":":
                raise self.fail(f"expected ':' after the property name {key!r}, found {self.describe(pos)}", pos)
            value, pos = self.value(self.skip(pos + 1), depth)
            props.append(Prop(key, key_line, value))
            pos = self.skip(pos)
            if pos < len(text) and text[pos] == ",":
                pos = self.skip(pos + 1)
                continue
            if pos < len(text) and text[pos] == "}":
                return JObject(tuple(props), self.line(start), self.line(pos)), pos + 1
            if pos >= len(text):
                raise self.eof(pos)
            raise self.fail(f"expected ',' or '}}' after the value of {key!r}, found {self.describe(pos)}"
                            f"{self.hint(pos)}", pos)

    def array(self, pos: int, depth: int) -> tuple[JArray, int]:
        start, text = pos, self.text
        items: list[JValue] = []
        pos = self.skip(pos + 1)
        if pos < len(text) and text[pos] == "]":
            return JArray((), self.line(start), self.line(pos)), pos + 1
        while True:
            if pos < len(text) and text[pos] == "]" and items:
                raise self.fail("expected a value after ',', found ']' (a trailing comma?)", pos)
            value, pos = self.value(pos, depth)
            items.append(value)
            pos = self.skip(pos)
            if pos < len(text) and text[pos] == ",":
                pos = self.skip(pos + 1)
                continue
            if pos < len(text) and text[pos] == "]":
                return JArray(tuple(items), self.line(start), self.line(pos)), pos + 1
            if pos >= len(text):
                raise self.eof(pos)
            raise self.fail(f"expected ',' or ']' in an array, found {self.describe(pos)}{self.hint(pos)}", pos)
