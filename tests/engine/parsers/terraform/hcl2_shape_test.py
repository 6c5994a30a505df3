"""`hcl2_shape` restates python-hcl2's value conventions so that reading `.tf` files does not
import lark; each function must give exactly what the DictTransformer method (or hcl2 helper) it
restates gives, raising the same where that raises, over generated values: nested dicts and
lists, strings with quotes, `${...}`, escapes and backslashes, bools, ints, floats, None, and
heredoc tokens of either kind with varied indentation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hcl2.reconstructor import reverse_quotes_within_interpolation
from hcl2.transformer import DictTransformer
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.parsers.terraform import hcl2_shape

pytestmark = pytest.mark.timeout(120)

HCL2 = DictTransformer(with_meta=False)

# The pieces hcl2's helpers look at: quotes, backslashes and what follows them, `${` and `}`,
# type keywords, line breaks, tabs, spaces and a few ordinary characters.
PIECES = ['"', "\\", "\\n", "\\r", "\\t", '\\"', "\\\\", "\\u00e9", "$", "${", "{", "}", "[", "]", "n", "t", "r",
          "bool", "number", "string", " ", "\n", "\t", "x", "var.a", ":", ",", "é"]
pieces = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
plain_text = st.one_of(pieces, st.text(max_size=12))
strings = st.one_of(
    plain_text,
    plain_text.map(lambda s: f'"{s}"'),
    plain_text.map(lambda s: "${" + s + "}"),
    plain_text.map(lambda s: f'"${{{s}}}"'),
    st.sampled_from(["", '"', '""', "${", "}", "${}", '"${}"', "bool", "number", "string", '"string"']),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), strings)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(strings, inner, max_size=4)), max_leaves=20)


def outcome(function: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """What a call gives: its value (by repr, so NaN equals NaN) or its exception's type and words."""
    try:
        return "value", repr(function(*args))
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome compared
        return type(exc).__name__, str(exc)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(values)
def test_every_value_convention_is_hcl2s(value: Any) -> None:
    for ours, theirs in [(hcl2_shape.to_string_dollar, HCL2.to_string_dollar),
                         (hcl2_shape.strip_quotes, HCL2.strip_quotes),
                         (hcl2_shape.process_escape_sequences, HCL2.process_escape_sequences),
                         (hcl2_shape.unwrap_string_dollar, HCL2.unwrap_string_dollar),
                         (hcl2_shape.is_string_dollar, HCL2.is_string_dollar),
                         (hcl2_shape.to_tf_inline, HCL2.to_tf_inline)]:
        assert outcome(ours, value) == outcome(theirs, value), ours.__name__


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(strings)
def test_string_conventions_are_hcl2s(text: str) -> None:
    for ours, theirs in [(hcl2_shape.to_string_dollar, HCL2.to_string_dollar),
                         (hcl2_shape.strip_quotes, HCL2.strip_quotes),
                         (hcl2_shape.process_escape_sequences, HCL2.process_escape_sequences),
                         (hcl2_shape.unwrap_string_dollar, HCL2.unwrap_string_dollar)]:
        assert outcome(ours, text) == outcome(theirs, text), ours.__name__
    assert hcl2_shape.is_type_keyword(text) == HCL2.is_type_keyword(text)
    assert hcl2_shape.reverse_quotes_within_interpolation(text) == reverse_quotes_within_interpolation(text)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.dictionaries(strings, values, max_size=4))
def test_an_object_inline_is_hcl2s_json_with_interpolations_quotes_unescaped(value: dict[str, Any]) -> None:
    assert hcl2_shape.to_tf_inline(value) == HCL2.to_tf_inline(value)


def test_a_value_hcl2_cannot_inline_is_refused_alike() -> None:
    for odd in [(1, 2), {1}, b"x", [1, (2,)]]:
        assert outcome(hcl2_shape.to_tf_inline, odd)[0] == "RuntimeError"
        assert outcome(hcl2_shape.to_tf_inline, odd) == outcome(HCL2.to_tf_inline, odd)


markers = st.from_regex(r"[a-zA-Z][a-zA-Z0-9._-]{1,5}", fullmatch=True) | st.sampled_from(["EOF", "EOT", "END"])
line_text = st.lists(st.sampled_from(["x", "${var.a}", '"q"', "\\n", "\t", " ", "EOF", "%{ if a }", "é"]),
                     max_size=5).map("".join)
lines = st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["", "\t", " \t"]), line_text), max_size=6)


@st.composite
def heredocs(draw: st.DrawFn) -> str:
    """A heredoc token as the tree-sitter reader hands it over (its text plus a line break):
    `<<` or `<<-`, a marker, lines indented by spaces and tabs (blank ones too), the closing
    marker indented or not; sometimes broken (no line break after the marker, another marker)."""
    marker = draw(markers)
    body = "".join(" " * spaces + tabs + text + "\n" for spaces, tabs, text in draw(lines))
    closing = " " * draw(st.integers(0, 4)) + draw(st.sampled_from([marker, marker, marker, "OTHER"]))
    opening = draw(st.sampled_from(["<<", "<<-"])) + marker + draw(st.sampled_from(["\n", "\n", " "]))
    return opening + body + closing + draw(st.sampled_from(["\n", " \n", "\n\n"]))


@settings(max_examples=600, deadline=None, derandomize=True)
@given(heredocs())
def test_heredocs_are_trimmed_as_hcl2_trims_them(token: str) -> None:
    assert outcome(hcl2_shape.heredoc_template, token) == outcome(HCL2.heredoc_template, [token])
    assert outcome(hcl2_shape.heredoc_template_trim, token) == outcome(HCL2.heredoc_template_trim, [token])


@pytest.mark.parametrize(("token", "plain", "trimmed"), [
    ("<<EOF\n  a\n    b\n  EOF\n", '"  a\n    b"', None),
    ("<<-EOF\n  a\n    b\n  EOF\n", None, '"a\n  b"'),
    ("<<-EOF\n    a\n\n    b\nEOF\n", None, '"    a\n\n    b"'),  # a blank line has no indent: none is cut
    ("<<-EOT\n\t\ta\n\t\tb\nEOT\n", None, '"\t\ta\n\t\tb"'),  # tabs are not cut
])
def test_heredoc_examples(token: str, plain: str | None, trimmed: str | None) -> None:
    """Worked cases, so the property above is seen to compare something real."""
    if plain is not None:
        assert hcl2_shape.heredoc_template(token) == plain
    if trimmed is not None:
        assert hcl2_shape.heredoc_template_trim(token) == trimmed


def test_escapes_are_processed_one_after_the_other_as_hcl2_does() -> None:
    """`\\\\n` (backslash, backslash, n) is a backslash and a line break: hcl2 replaces `\\n` before `\\\\`."""
    assert hcl2_shape.to_string_dollar('"a\\\\nb"') == "a\\\nb" == HCL2.to_string_dollar('"a\\\\nb"')
    assert hcl2_shape.to_string_dollar('"say \\"hi\\"\\t\\u00e9"') == 'say "hi"\t\\u00e9'
    assert hcl2_shape.to_string_dollar("var.a") == "${var.a}"
    assert hcl2_shape.to_string_dollar("string") == "string"
    # An object is JSON; from its first `${` to the line's last `}` (greedy, as hcl2's pattern is) quotes are unescaped.
    inline = '{"a": "\\"${x["k"]}"", "b": [true, null, 1.5]}'
    assert hcl2_shape.to_tf_inline({"a": '"${x["k"]}"', "b": [True, None, 1.5]}) == inline
