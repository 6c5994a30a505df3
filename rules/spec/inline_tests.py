"""A custom rule's own examples, run as the built-in rules' fixtures are: each example is a one-file
repository scanned by the engine (`Engine.scan`, what tests/rules/fixtures_test.py does with
tests/fixtures/rules/<ID>/), and the rule's findings must land on exactly the lines the example
lists (a pass example: on none)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.engine.model import Finding
from bot.engine.review import Engine, RuleSet
from bot.engine.rule import Rule
from bot.engine.tree import MemoryTree

HOW_FILES_ARE_READ = "its path decides how it is read, as in a repository: main.tf, deploy.yaml, Dockerfile, " \
                     ".github/workflows/ci.yml"


@dataclass(frozen=True)
class Example:
    """One example: a small file, and the lines the rule must flag in it (none for a pass one);
    `line`: where the example is written in the rule file, which is where a failure is reported."""

    kind: Literal["flag", "pass"]
    index: int
    path: str
    content: str
    lines: tuple[int, ...]
    line: int

    @property
    def name(self) -> str:
        return f"tests.{self.kind}[{self.index}] ({self.path})"


def failures(rule: Rule, examples: tuple[Example, ...]) -> list[tuple[Example, str]]:
    """Each example the rule gets wrong, with what happened in words."""
    engine = Engine(RuleSet([rule], {}))
    problems = []
    for example in examples:
        problem = _judge(engine, rule, example)
        if problem is not None:
            problems.append((example, problem))
    return problems


def _judge(engine: Engine, rule: Rule, example: Example) -> str | None:
    review = engine.scan(MemoryTree({example.path: example.content}))
    if review.errors:
        error = review.errors[0]
        where = f" line {error.line}" if error.line else ""
        return f"{example.name}: the example could not be read ({example.path}{where}: {error.message})"
    found: dict[int, Finding] = {}
    for finding in review.findings:
        if finding.rule_id == rule.id:
            found.setdefault(finding.line, finding)
    expected = set(example.lines)
    if set(found) == expected:
        return None
    unexpected = sorted(set(found) - expected)
    if example.kind == "pass":
        return f"{example.name} must pass, but the rule flagged {_lines(found)}: {found[unexpected[0]].message}"
    flagged = _lines(found) if found else "nothing"
    extra = f" (line {unexpected[0]}: {found[unexpected[0]].message})" if unexpected else ""
    hint = f"; the example holds nothing the rule reads ({HOW_FILES_ARE_READ})" \
        if not found and review.stats.resources_parsed == 0 and "text" not in rule.sources else ""
    return f"{example.name} must be flagged on {_lines(expected)}, but the rule flagged {flagged}{extra}{hint}"


def _lines(numbers: Iterable[int]) -> str:
    ordered = sorted(numbers)
    return ("line " if len(ordered) == 1 else "lines ") + ", ".join(str(n) for n in ordered)
