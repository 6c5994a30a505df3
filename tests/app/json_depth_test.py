"""The webhook's nesting limit is counted over the body's bytes (`json_depth`), not by walking the
parsed payload: the count must agree with the nesting of the value `json.loads` made, whatever
strings (brackets, quotes, escapes) the payload carries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app.server import json_depth, nests_deeper_than

pytestmark = pytest.mark.timeout(120)


def nesting(value: Any) -> int:
    """The reference: containers inside containers, counted on the parsed value."""
    if isinstance(value, dict):
        return 1 + max((nesting(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((nesting(v) for v in value), default=0)
    return 0


TRICKY_TEXT = st.text(alphabet=st.sampled_from(list('[]{}"\\/ab\u00e9\u2028\n\t:,')), max_size=12)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TRICKY_TEXT, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(VALUES, st.booleans(), st.booleans(), st.integers(min_value=0, max_value=6))
def test_the_byte_count_agrees_with_the_parsed_nesting(value: Any, ascii_only: bool, indent: bool, limit: int) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only, indent=2 if indent else None).encode()
    depth = nesting(json.loads(body))
    assert json_depth(body) == depth
    assert nests_deeper_than(body, limit) == (depth > limit)


@pytest.mark.parametrize(("body", "depth"), [
    (b"1", 0), (b'"[[[{{{"', 0), (b"[]", 1), (b'{"a": "]]]}}}", "b": [[]]}', 3),
    (b'["\\"[", ["\\\\"], {"k\\"]": {}}]', 3), (b'  {\n "a" : [ { } ]\n}  ', 3),
])
def test_strings_and_escapes_do_not_count(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth == nesting(json.loads(body))
