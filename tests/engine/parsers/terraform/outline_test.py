"""The outline: every attribute, object entry and list item on its own lines, also when an
expression is broken over lines."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.parsers.terraform.support import VOLUME, at, spans


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (("availability_zone",), ("eu-west-1a", 2, 2)),
        (("size",), (10, 3, 3)),
        (("encrypted",), (False, 8, 8)),
        (("tags",), ({"Name": ("data", 10, 10), "team-name": ("storage", 11, 11)}, 9, 12)),
        (("zones",), ([("a", 14, 14), ("b", 15, 15)], 13, 16)),
    ],
)
def test_attributes_carry_their_own_lines(keys: tuple[str, ...], expected: Any) -> None:
    assert spans(at(VOLUME, "aws_ebs_volume.data", *keys)) == expected


MULTILINE = """\
resource "a_b" "c" {
  when = var.a ?
    1 : 2
  both = var.b &&
    var.c
  next = 3
  tail = var.d ? 4
    : 5
  all  = aws_instance.x.*
  last = 6
}
"""


@pytest.mark.parametrize(
    ("key", "span"),
    [("when", (2, 3)), ("both", (4, 5)), ("next", (6, 6)), ("tail", (7, 8)), ("all", (9, 9)), ("last", (10, 10))],
)
def test_expressions_broken_over_lines_span_them(key: str, span: tuple[int, int]) -> None:
    node = at(MULTILINE, "a_b.c", key)
    assert (node.line, node.end_line) == span
