"""Smoke runs of bench/checkov_bench.py and its generated tree: the script runs end to end without
Checkov (`--smoke` installs nothing), and the tree it times is the realistic one it claims."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import checkov_bench
from bench.measure import Figure, run
from bench.tf_tree import MIN_FILES, change, generate, layout
from bot.engine.review import Engine
from bot.engine.tree import MemoryTree
from rules.registry import default_rule_set


def test_the_generated_tree_has_modules_stacks_and_findings() -> None:
    tree = layout(120)
    assert len(tree) == 120 and all(path.endswith(".tf") for path in tree)
    assert layout(120) == tree  # deterministic
    assert sum(1 for p in tree if p.startswith("modules/")) == 30
    review = Engine(default_rule_set()).scan(MemoryTree(tree))
    assert not review.errors
    rules = {f.rule_id for f in review.findings}
    assert len(rules) >= 5  # unencrypted storage, open ports, short retention, ... from the weak stacks


def test_the_change_edits_three_files(tmp_path: Path) -> None:
    generate(tmp_path, MIN_FILES)
    before = {p: (tmp_path / p).read_text() for p in layout(MIN_FILES)}
    changed = change(tmp_path)
    assert len(changed) == 3
    assert sorted(p for p in before if (tmp_path / p).read_text() != before[p]) == changed


@pytest.mark.timeout(600)  # two fresh command-line processes on a shared machine
def test_the_smoke_run_times_compliance_bot_without_checkov(capsys: pytest.CaptureFixture[str]) -> None:
    assert checkov_bench.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    assert "## Engine vs Checkov" in out and "Checkov not run" in out
    assert "| compliance-bot scan (generated) |" in out and "| compliance-bot check (3-file change) |" in out
    assert "`python -m bot.cli scan TREE`" in out  # the command behind the figure, without temporary paths
    assert not (checkov_bench.CHECKOV_ENV / "bin" / "checkov").exists() or "checkov -d" not in out


def test_ratios_pair_each_checkov_figure_with_ours() -> None:
    ours = Figure("compliance-bot scan (generated)", "x", 2.0, 1.0, 100.0, 3, frozenset({1}))
    theirs = Figure("checkov -d (generated)", "y", 10.0, 5.0, 300.0, 3, frozenset({1}))
    check = Figure("compliance-bot check (3-file change)", "z", 1.0, 0.5, 50.0, 3, frozenset({1}))
    whole = Figure("checkov -d (3-file change: whole tree)", "w", 10.0, 4.0, 300.0, 3, frozenset({1}))
    lines = checkov_bench.ratios([ours, theirs, check, whole])
    assert lines == [
        ("- checkov -d (generated) / compliance-bot scan (generated): 5.0x the wall-clock time, 5.0x the CPU time, "
        "3.0x the peak memory"),
        ("- checkov -d (3-file change: whole tree) / compliance-bot check (3-file change): 10.0x the wall-clock time, "
        "8.0x the CPU time, 6.0x the peak memory"),
    ]


def test_a_run_reports_exit_code_time_and_memory() -> None:
    measured = run(["python3", "-c", "b = bytearray(60 * 1024 * 1024); raise SystemExit(3)"])
    assert measured.code == 3 and measured.peak_mb >= 60 and measured.seconds > 0
