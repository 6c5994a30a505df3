"""docs/rules.md is generated from the registry and stays current; every rule shows a real
failing example from its fixture; the page itself trips none of our rules (secrets are cut)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from bot.engine.review import Engine
from bot.engine.tree import MemoryTree
from rules.docs import REGENERATE, failing_example, readme_block, render, with_readme_block
from rules.docs import main as docs_main
from rules.registry import all_rules, default_rule_set

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
MARKER = re.compile(r"\b(?:expect|ok):\s*CB-")


@pytest.fixture(scope="module")
def page() -> str:
    return render()


def test_docs_rules_md_is_current(page: str) -> None:
    assert DOCS.is_file(), f"docs/rules.md is missing: run `{REGENERATE}`"
    committed = DOCS.read_text(encoding="utf-8")
    if committed != page:
        diff = difflib.unified_diff(committed.splitlines(), page.splitlines(), "docs/rules.md", "generated", lineterm="")
        pytest.fail(f"docs/rules.md is stale: run `{REGENERATE}`\n" + "\n".join(list(diff)[:30]), pytrace=False)


def test_every_rule_is_documented_with_its_metadata(page: str) -> None:
    for rule in all_rules():
        section = page.split(f'<a id="{rule.id.lower()}"></a>{rule.id}: {rule.title}\n', 1)
        assert len(section) == 2, rule.id
        body = section[1].split("\n### ", 1)[0]
        assert f"**Severity:** {rule.severity.value}" in body, rule.id
        assert f"**Why:** {rule.rationale}" in body and f"**Fix:** {rule.remediation}" in body, rule.id
        for ids in rule.peers.values():
            assert all(f"`{i}`" in body for i in ids), rule.id
        assert "**Failing example**" in body and "none in the fixtures" not in body, rule.id


def test_every_example_is_the_fixture_line_the_rule_flags() -> None:
    for rule in all_rules():
        example = failing_example(rule)
        assert example is not None, rule.id
        assert example.first <= example.line < example.first + len(example.lines), rule.id
        shown = example.lines[example.line - example.first]
        assert not any(MARKER.search(text) for text in example.lines), rule.id
        fixture = Path(__file__).resolve().parents[1] / "fixtures" / "rules" / rule.id / example.path
        if (fixture.parent / "expect.txt").exists() or not fixture.read_text().splitlines()[example.line - 1].rstrip().endswith(rule.id):
            continue  # formats without comments: the caption names the line
        assert shown.endswith(f"<- {rule.id}"), (rule.id, shown)


def test_the_page_trips_none_of_our_rules(page: str) -> None:
    review = Engine(default_rule_set()).scan(MemoryTree({"docs/rules.md": page}))
    assert [(f.rule_id, f.line) for f in review.findings] == []


README = DOCS.parents[1] / "README.md"


def test_the_readme_coverage_table_is_current() -> None:
    readme = README.read_text(encoding="utf-8")
    assert with_readme_block(readme, readme_block()) == readme, \
        "README.md's coverage table is stale: run `python -m rules.docs --readme README.md`"


def test_the_readme_counts_every_pack_as_the_registry_does() -> None:
    pack_row = re.compile(r"^\| [^|]*\(`(CB-[A-Z0-9]+)-\*`\) \| (\d+) \|", re.MULTILINE)
    rows = pack_row.findall(README.read_text(encoding="utf-8"))
    counted = {prefix: int(count) for prefix, count in rows}
    registry: dict[str, int] = {}
    for rule in all_rules():
        prefix = rule.id.rsplit("-", 1)[0]
        registry[prefix] = registry.get(prefix, 0) + 1
    assert counted == registry
    assert f"{len(all_rules())} rules, one per control" in README.read_text(encoding="utf-8")


def test_a_readme_without_the_markers_is_refused_in_words(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# nothing generated here\n", encoding="utf-8")
    assert docs_main(["--readme", str(readme)]) == 2
    assert readme.read_text(encoding="utf-8") == "# nothing generated here\n"
