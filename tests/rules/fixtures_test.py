"""Every rule against its fixture directory: findings on exactly the marked lines, no others.

A fixture is `tests/fixtures/rules/<RULE_ID>/`: files that form a small repository, with a
trailing `expect: <RULE_ID>` comment on each line the rule must flag (or a sidecar `expect.txt`
of `path:line` rows where a format has no comments). Every other line must pass.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli.local import FsTree
from bot.engine.review import Engine, RuleSet
from rules.registry import all_rules, default_controls

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
MARKER = re.compile(r"expect:\s*([A-Z0-9, -]+)")
RULES = {rule.id: rule for rule in all_rules()}


def expected_lines(directory: Path, rule_id: str) -> set[tuple[str, int]]:
    expected: set[tuple[str, int]] = set()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        if relative == "expect.txt":
            for row in path.read_text().splitlines():
                if row.strip():
                    file, _, line = row.strip().rpartition(":")
                    expected.add((file, int(line)))
            continue
        for number, text in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            match = MARKER.search(text)
            if match and rule_id in {part.strip() for part in match.group(1).split(",")}:
                expected.add((relative, number))
    return expected


def test_every_rule_has_a_fixture() -> None:
    missing = sorted(rule_id for rule_id in RULES if not (FIXTURES / rule_id).is_dir())
    assert missing == []


@pytest.mark.parametrize("rule_id", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_rule_flags_exactly_the_marked_lines(rule_id: str) -> None:
    assert rule_id in RULES, f"fixture for unknown rule {rule_id}"
    directory = FIXTURES / rule_id
    engine = Engine(RuleSet([RULES[rule_id]], default_controls()))
    review = engine.scan(FsTree(directory))
    assert review.errors == ()
    found = {(f.path, f.line) for f in review.findings if f.rule_id == rule_id}
    expected = expected_lines(directory, rule_id)
    assert expected, f"{rule_id}: the fixture marks no line that must be flagged"
    assert found == expected
