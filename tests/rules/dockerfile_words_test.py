"""ENV, ARG, ADD and exec-form words of a Dockerfile: split like a POSIX shell, in time linear in
the line (`shlex.split` is quadratic on one long word: a 1 MB ENV value took 8-23 s, 3 MB minutes,
and the App's job timed out with its check run left "Reviewing")."""

from __future__ import annotations

import shlex
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.parsers.dockerfile import parse_dockerfile
from bot.engine.review import Engine
from bot.engine.tree import MemoryTree
from rules._shell import split_words
from rules.registry import all_rules, default_rule_set
from tests.rules.linearity import assert_linear
from tests.rules.yaml_packs_test import FileContext


@pytest.mark.parametrize("text", [
    "", "   ", "a b  c", "A=1 B='two words' C=\"three \\\"quoted\\\" words\"", "a\\ b", "a\\\\b", "'a\\b'",
    "\"a\\b\"", "\"a\\\\b\"", "\"a\\$b\"", "a''b", "''", "\"\"", "x '' y", "a\"b c\"d", "a\tb\rc", "#not-a-comment x",
    "a\\", "'unclosed", "\"unclosed", "\"ends with escape\\\"", "é\u00a0ü x",
])
def test_words_are_shlex_words(text: str) -> None:
    try:
        expected: list[str] | None = shlex.split(text, posix=True)
    except ValueError:
        expected = None
    try:
        found: list[str] | None = split_words(text)
    except ValueError:
        found = None
    assert found == expected


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.text(alphabet=st.sampled_from(list("ab =\"'\\\t#$\u00a0é")), max_size=40))
def test_words_agree_with_shlex_on_generated_lines(text: str) -> None:
    try:
        expected: list[str] | None = shlex.split(text, posix=True)
    except ValueError:
        expected = None
    try:
        found: list[str] | None = split_words(text)
    except ValueError:
        found = None
    assert found == expected


def _dockerfile(size: int, keyword: str = "ENV") -> str:
    return f'FROM alpine:3.20\n{keyword} DB_PASSWORD="{"Zq7W m2Lp" * (size // 9)}"\nUSER 10001\n'


@pytest.mark.timeout(90)  # a hang guard only; how the work grows is the test below
@pytest.mark.parametrize("keyword", ["ENV", "ARG"])
def test_a_3_mb_env_line_is_reviewed(keyword: str) -> None:
    review = Engine(default_rule_set()).scan(MemoryTree({"Dockerfile": _dockerfile(3_000_000, keyword)}))
    assert not review.errors
    assert [(f.rule_id, f.line) for f in review.findings if f.rule_id.startswith("CB-DOCKER")] == [("CB-DOCKER-002", 2)]


DOCKER_RULES = [rule for rule in all_rules() if rule.id.startswith("CB-DOCKER-")]
BASE = 250_000  # characters of the long value at 1x: 4 MB at 16x


@pytest.mark.timeout(240)
@pytest.mark.parametrize(("name", "make"), [
    ("quoted ENV value", lambda n: _dockerfile(n, "ENV")),
    ("unquoted ARG value", lambda n: f"FROM alpine:3.20\nARG TOKEN={'Zq7Wm2Lp' * (n // 8)}\n"),
    ("many ENV pairs", lambda n: "FROM alpine:3.20\nENV " + " ".join(f"K{i}='v {i}'" for i in range(n // 10)) + "\n"),
    ("long ADD source", lambda n: f"FROM alpine:3.20\nADD https://example.com/{'a' * n} /x\n"),
    ("long exec-form RUN", lambda n: 'FROM alpine:3.20\nRUN ["sh", "-c", "' + "echo a; " * (n // 8) + '"]\n'),
])
def test_dockerfile_rules_are_linear_in_line_length(name: str, make: Callable[[int], str]) -> None:
    parsed = {n: make(n) for n in (BASE, BASE * 4, BASE * 16)}  # the parser is timed elsewhere
    resources = {n: parse_dockerfile("Dockerfile", text).resources for n, text in parsed.items()}

    def run(n: int) -> None:
        for resource in resources[n]:
            for rule in DOCKER_RULES:
                list(rule.check(resource, FileContext(resources[n])))

    assert_linear(f"dockerfile rules: {name}", lambda n: n, run, BASE)
