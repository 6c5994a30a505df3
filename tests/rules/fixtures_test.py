"""Every rule against its fixture directory: findings on exactly the marked lines, no others.

A fixture is `tests/fixtures/rules/<RULE_ID>/`: files that form a small repository, with a
trailing `expect: <RULE_ID>` comment on each line the rule must flag (or a sidecar `expect.txt`
of `path:line` rows where a format has no comments). Every other line must pass.

A rule that compares a change with its base (the regression pack) has a fixture of two trees,
`base/` and `head/`, reviewed as the change base -> head: the markers sit in the head files,
and `ok: <RULE_ID>` marks the clean cases beside them (a resize, a retag, a value that got
stronger...), each of which must be there and must pass.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli.local import FsTree
from bot.engine.review import Engine, Review, RuleSet
from rules.registry import all_rules, default_controls
from tests.changes import diffs_between, trees

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
MARKER = re.compile(r"expect:\s*([A-Z0-9, -]+)")
CLEAN = re.compile(r"ok:\s*([A-Z0-9, -]+)")
RULES = {rule.id: rule for rule in all_rules()}


def marked_lines(directory: Path, rule_id: str, marker: re.Pattern[str] = MARKER) -> set[tuple[str, int]]:
    expected: set[tuple[str, int]] = set()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        if relative == "expect.txt":
            if marker is MARKER:
                for row in path.read_text().splitlines():
                    if row.strip():
                        file, _, line = row.strip().rpartition(":")
                        expected.add((file, int(line)))
            continue
        for number, text in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            match = marker.search(text)
            if match and rule_id in {part.strip() for part in match.group(1).split(",")}:
                expected.add((relative, number))
    return expected


def expected_lines(directory: Path, rule_id: str) -> set[tuple[str, int]]:
    return marked_lines(directory, rule_id)


def is_change(directory: Path) -> bool:
    """A fixture of two trees, base/ and head/, reviewed as a change."""
    return (directory / "base").is_dir() and (directory / "head").is_dir()


def read_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def review_fixture(rule_id: str, directory: Path) -> Review:
    """The fixture as the engine would review it: a change base -> head, or a whole-tree scan."""
    engine = Engine(RuleSet([RULES[rule_id]], default_controls()))
    if not is_change(directory):
        return engine.scan(FsTree(directory))
    base, head = read_tree(directory / "base"), read_tree(directory / "head")
    head_tree, base_tree = trees(base, head)
    return engine.review_change(diffs_between(base, head), head_tree, base_tree)


def test_every_rule_has_a_fixture() -> None:
    missing = sorted(rule_id for rule_id in RULES if not (FIXTURES / rule_id).is_dir())
    assert missing == []


@pytest.mark.parametrize("rule_id", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_rule_flags_exactly_the_marked_lines(rule_id: str) -> None:
    assert rule_id in RULES, f"fixture for unknown rule {rule_id}"
    directory = FIXTURES / rule_id
    review = review_fixture(rule_id, directory)
    assert review.errors == ()
    found = {(f.path, f.line) for f in review.findings if f.rule_id == rule_id}
    marked = directory / "head" if is_change(directory) else directory
    expected = expected_lines(marked, rule_id)
    assert expected, f"{rule_id}: the fixture marks no line that must be flagged"
    assert found == expected
    if is_change(directory):
        assert marked_lines(directory / "base", rule_id) == set(), "markers belong in the head files"
        clean = marked_lines(marked, rule_id, CLEAN)
        assert clean, f"{rule_id}: a change fixture needs clean cases (ok: {rule_id})"
        assert found.isdisjoint(clean)
