"""Values joined with the outline: nested blocks by type and order, and no hcl2 bookkeeping
in the bodies."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.model import Node, Unknown
from tests.engine.parsers.terraform.support import MODULE, NESTED, VOLUME, at, parse, spans


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (("ingress", 0, "from_port"), (443, 5, 5)),
        (("ingress", 0, "cidr_blocks", 0), ("0.0.0.0/0", 7, 7)),
        (("ingress", 1, "to_port"), (80, 12, 12)),
        (("egress", 0, "from_port"), (0, 15, 15)),
        (("lifecycle", 0, "create_before_destroy"), (True, 25, 25)),
        (("dynamic", 0, "ingress", "content", 0, "from_port"), (Unknown("ingress.value"), 20, 20)),
    ],
)
def test_nested_block_values_and_lines(keys: tuple[str | int, ...], expected: Any) -> None:
    assert spans(at(NESTED, "aws_security_group.web", *keys)) == expected


@pytest.mark.parametrize(
    ("key", "blocks"),
    [
        ("ingress", [(4, 8), (10, 13)]),
        ("egress", [(15, 15)]),  # a block that appears once is still a list of one
        ("lifecycle", [(24, 26)]),
        ("dynamic", [(17, 22)]),
    ],
)
def test_nested_blocks_are_lists_of_mappings(key: str, blocks: list[tuple[int, int]]) -> None:
    node = at(NESTED, "aws_security_group.web", key)
    assert isinstance(node.value, list)
    assert [(child.line, child.end_line) for child in node.value] == blocks
    assert all(isinstance(child.value, dict) for child in node.value)


def test_no_parser_bookkeeping_leaks_into_bodies() -> None:
    def keys(node: Node) -> set[str]:
        found: set[str] = set()
        for key, child in node.items():
            found |= {key} | keys(child)
        for child in node.value if isinstance(node.value, list) else []:
            found |= keys(child)
        return found

    for resource in parse(VOLUME + MODULE + NESTED):
        assert not any(key.startswith("__") for key in keys(resource.body))
