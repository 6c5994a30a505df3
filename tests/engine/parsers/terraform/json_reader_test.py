"""The JSON reader: strict RFC 8259, every value with its lines, repeated keys kept in order,
and every malformed input a JSONError with the line where it shows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.parsers.terraform import MAX_NESTING
from bot.engine.parsers.terraform.json_reader import JArray, JObject, JScalar, JSONError, JValue, read_json


def plain(value: JValue) -> Any:
    """The value as `json.loads` gives it (objects as lists of pairs, so repeats show)."""
    if isinstance(value, JObject):
        return [(prop.key, plain(prop.value)) for prop in value.props]
    if isinstance(value, JArray):
        return [plain(item) for item in value.items]
    return value.value


def test_objects_arrays_and_scalars_with_their_lines() -> None:
    text = '{\n  "a": 1,\n  "b": [\n    true,\n    {"c": null}\n  ],\n  "d": "x"\n}\n'
    root = read_json(text)
    assert isinstance(root, JObject) and (root.line, root.end_line) == (1, 8)
    a, b, d = root.props
    assert (a.key, a.line, a.value) == ("a", 2, JScalar(1, 2))
    assert b.line == 3 and isinstance(b.value, JArray) and (b.value.line, b.value.end_line) == (3, 6)
    flag, inner = b.value.items
    assert flag == JScalar(True, 4)
    assert isinstance(inner, JObject) and inner.props[0].value == JScalar(None, 5)
    assert (d.line, d.value) == (7, JScalar("x", 7))


def test_repeated_keys_are_all_kept_in_order() -> None:
    assert plain(read_json('{"resource": 1, "x": 2, "resource": 3}')) == [("resource", 1), ("x", 2), ("resource", 3)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0), ("-12", -12), ("1.5", 1.5), ("1e3", 1000.0), ("-2.5E-1", -0.25), ("123456789012345678901", 123456789012345678901),
        ('"tab\\there"', "tab\there"), ('"a\\/b"', "a/b"), ('"\\u00e9"', "é"), ('"\\ud83d\\ude00"', "\U0001f600"),
        ('"quote \\" and \\\\"', 'quote " and \\'), ("true", True), ("false", False), ("null", None), ('"${var.x}"', "${var.x}"),
    ],
)
def test_scalars_decode_as_json_does(text: str, value: Any) -> None:
    parsed = read_json(text)
    assert isinstance(parsed, JScalar) and parsed.value == value == json.loads(text)
    assert type(parsed.value) is type(json.loads(text))


def test_a_byte_order_mark_and_windows_line_ends_are_accepted() -> None:
    root = read_json('\ufeff{\r\n  "a": 1\r\n}\r\n')
    assert isinstance(root, JObject) and root.props[0].line == 2


def test_a_minified_file_with_a_very_long_line_and_long_keys_reads_on_line_one() -> None:
    """PyYAML's composer would refuse keys over 1024 characters; JSON has no such limit."""
    key = "k" * 5000
    text = json.dumps({key: [{"v": i} for i in range(20000)]}, separators=(",", ":"))
    root = read_json(text)
    assert isinstance(root, JObject) and root.props[0].key == key and root.end_line == 1
    items = root.props[0].value
    assert isinstance(items, JArray) and len(items.items) == 20000 and items.items[-1].line == 1


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{\n  "a": 1,\n}\n', 3, "a trailing comma?"),
        ("[\n  1,\n  2,\n]", 4, "a trailing comma?"),
        ('{\n  // a comment\n  "a": 1\n}', 2, "JSON has no comments"),
        ('{\n  "a": 1 # comment\n}', 2, "expected ',' or '}' after the value of 'a', found '#' (JSON has no comments"),
        ("{\n  'a': 1\n}", 2, "expected a property name in double quotes"),
        ("{\n  a: 1\n}", 2, "expected a property name in double quotes"),
        ('{\n  "a" 1\n}', 2, "expected ':' after the property name 'a'"),
        ('{\n  "a": 1\n  "b": 2\n}', 3, "expected ',' or '}' after the value of 'a'"),
        ('{"a": "raw\ttab"}', 1, "a tab inside a string"),
        ('{\n  "a": "two\nlines"\n}', 2, "a line break inside a string"),
        ('{\n\n  "a": "bad \\x escape"\n}', 3, "invalid escape '\\\\x'"),
        ('{"a": "\\u12"}', 1, "invalid escape"),
        ('{\n  "a": "open\n', 2, "a line break inside a string"),
        ('{\n  "a": "open', 2, "unterminated string"),
        ('{\n  "a": {\n    "b": 1\n\n', 3, "unexpected end of file"),
        ('{"a": 01}', 1, "unexpected '01'"),
        ('{"a": 1.}', 1, "unexpected '1.'"),
        ('{"a": NaN}', 1, "unexpected 'NaN'"),
        ('{"a": -Infinity}', 1, "unexpected '-Infinity'"),
        ('{"a": True}', 1, "unexpected 'True'"),
        ("{}\n{}", 2, "after the end of the JSON value"),
        ("  \n\n", 1, "the file is empty"),
        ("[1,,2]", 1, "expected a value"),
    ],
)
def test_malformed_json_is_an_error_with_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(JSONError) as caught:
        read_json(text)
    assert caught.value.line == line
    assert message in str(caught.value)


def test_nesting_is_bounded_by_the_parser_limit() -> None:
    read_json("[" * MAX_NESTING + "]" * MAX_NESTING)
    deep = "[\n" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1)
    with pytest.raises(JSONError) as caught:
        read_json(deep)
    assert caught.value.line == MAX_NESTING + 1 and "nesting deeper than" in str(caught.value)
    with pytest.raises(JSONError):
        read_json("[" * 100_000)  # never a RecursionError


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON)
@settings(max_examples=300, deadline=None)
def test_any_json_reads_back_and_every_scalar_sits_on_its_own_line(value: Any) -> None:
    text = json.dumps(value, indent=2)
    parsed = read_json(text)
    assert json.loads(json.dumps(_as_python(parsed))) == json.loads(text)
    lines = text.split("\n")
    for scalar in _scalars(parsed):
        assert json.dumps(scalar.value) in lines[scalar.line - 1]


@given(st.text(alphabet='{}[]":,\\ \n\tabtruefalsn0123456789.-eE/u', max_size=40))
@settings(max_examples=500, deadline=None)
def test_garbage_is_a_json_error_or_json(text: str) -> None:
    try:
        expected: Any = json.loads(text)
    except ValueError:
        expected = None
    try:
        parsed = read_json(text)
    except JSONError as exc:
        assert expected is None or text.startswith("\ufeff")
        assert 1 <= exc.line <= text.count("\n") + 1
        return
    assert _as_python(parsed) == expected


def _as_python(value: JValue) -> Any:
    if isinstance(value, JObject):
        return {prop.key: _as_python(prop.value) for prop in value.props}
    if isinstance(value, JArray):
        return [_as_python(item) for item in value.items]
    return value.value


def _scalars(value: JValue) -> list[JScalar]:
    if isinstance(value, JObject):
        return [s for prop in value.props for s in _scalars(prop.value)]
    if isinstance(value, JArray):
        return [s for item in value.items for s in _scalars(item)]
    return [value]
