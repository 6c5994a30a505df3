"""Expressions are parsed once per text and remembered (`expressions._parsed`); the work is
charged as if each were parsed again, so an evaluation that limits stop stops exactly where it
would have, whatever the process evaluated before (a verdict never depends on the order of
reviews)."""

from __future__ import annotations

import pytest

from bot.engine.model import Unknown
from bot.engine.parsers.terraform import expressions
from bot.engine.parsers.terraform.expressions import MAX_DEPTH, Work, evaluate, sharing
from tests.engine.parsers.terraform.expressions_test import lookup

pytestmark = pytest.mark.timeout(120)

TEXTS = [
    'var.on ? "${var.name}-key" : lookup(var.tags, "team", "none")',
    "[for z in var.zones : upper(z) if z != \"b\"]",
    "merge(var.tags, local.tags, { extra = [1, 2, 3] })",
    "(" * 30 + "1" + ")" * 30,
]


def run(text: str, limit: int, depth: int = 0) -> tuple[object, int]:  # value (or ("unknown", ...)), steps
    """The value of `text` within `limit` steps, starting `depth` deep, and the steps it took."""
    work = Work(limit)
    work.depth = depth
    with sharing(work):
        value = evaluate(text, lookup).value
    return (("unknown", repr(value)) if isinstance(value, Unknown) else value), work.steps


@pytest.mark.parametrize("text", TEXTS)
def test_a_remembered_parse_charges_what_parsing_did(text: str) -> None:
    expressions._PARSED.clear()
    cold = run(text, 10_000)
    assert text in expressions._PARSED
    warm = run(text, 10_000)
    assert warm == cold and not isinstance(cold[0], tuple)  # known, and the same steps spent


@pytest.mark.parametrize("text", TEXTS)
def test_limits_stop_an_evaluation_where_they_would_without_the_memory(text: str) -> None:
    expressions._PARSED.clear()
    full_steps = run(text, 10_000)[1]
    for limit in range(1, full_steps + 2):
        expressions._PARSED.clear()
        cold = run(text, limit)
        warm_up = run(text, 10_000)  # now remembered
        assert warm_up[1] == full_steps
        assert run(text, limit) == cold, f"limit {limit}"
    for depth in range(MAX_DEPTH - 40, MAX_DEPTH + 1):
        expressions._PARSED.clear()
        cold = run(text, 10_000, depth)
        run(text, 10_000)
        assert run(text, 10_000, depth) == cold, f"depth {depth}"
