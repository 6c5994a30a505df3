"""The bounds in `bot.engine.limits` are the ones enforced, and each one past its value is an error
naming the file while the other files are still reviewed: the review's byte budget, the lines of
one file, the CPU time of one file."""

from __future__ import annotations

import itertools
import time
from collections.abc import Collection, Iterable
from pathlib import Path

import pytest

from bot.app import server
from bot.engine import limits, policy_yaml
from bot.engine.budget import BudgetedTree, FileClock, ReadBudget
from bot.engine.diff import whole_file_added
from bot.engine.model import ENGINE_BUG, Resource, Severity, Violation, failure_reason
from bot.engine.parsers import MAX_PARSE_BYTES, parse_terraform
from bot.engine.parsers.terraform.lexer import MAX_NESTING
from bot.engine.parsers.yaml_docs import loader
from bot.engine.review import MAX_TERRAFORM_FILES, Engine, RuleSet
from bot.engine.rule import Rule, RuleContext
from bot.engine.tree import MAX_FILE_BYTES, MAX_SCAN_BYTES, MemoryTree
from rules.registry import default_rule_set


def test_every_module_takes_its_bound_from_the_one_table() -> None:
    assert (MAX_PARSE_BYTES, MAX_FILE_BYTES, MAX_SCAN_BYTES) == (limits.FILE_BYTES, limits.FILE_BYTES, limits.SCAN_BYTES)
    assert (MAX_NESTING, MAX_TERRAFORM_FILES) == (limits.HCL_DEPTH, limits.TERRAFORM_FILES)
    assert (loader.MAX_NODES, loader.MAX_ALIAS_EXPANSION, loader.MAX_DEPTH) == (
        limits.YAML_NODES, limits.YAML_ALIAS_EXPANSION, limits.YAML_DEPTH)
    assert (policy_yaml.MAX_POLICY_BYTES, policy_yaml.MAX_POLICY_DEPTH, policy_yaml.MAX_POLICY_NODES) == (
        limits.POLICY_BYTES, limits.POLICY_DEPTH, limits.POLICY_NODES)
    assert (server.MAX_BODY_BYTES, server.MAX_JSON_DEPTH, server.MAX_HEADERS) == (
        limits.WEBHOOK_BODY_BYTES, limits.WEBHOOK_JSON_DEPTH, limits.WEBHOOK_HEADERS)


def test_the_described_table_names_every_kind_of_bound() -> None:
    names = [bound.name for bound in limits.described()]
    assert len(names) == len(set(names))
    for wanted in ("infrastructure file", "lines of one file", "work on one file", "text read by one review",
                   "YAML values added by aliases", "HCL and .tf.json nesting", "webhook JSON nesting"):
        assert wanted in names


class _CountingTree(MemoryTree):
    """A tree that records every batch asked of it and whether it can tell sizes."""

    def __init__(self, contents: dict[str, str | None], sized: bool) -> None:
        super().__init__(contents)
        self.batches: list[list[str]] = []
        self._sized = sized

    def read_many(self, paths: Collection[str]) -> dict[str, str | None]:
        self.batches.append(sorted(paths))
        return super().read_many(paths)

    def size_of(self, path: str) -> int | None:
        return super().size_of(path) if self._sized else None


def test_reads_stop_when_the_review_budget_is_spent_and_say_why() -> None:
    files: dict[str, str | None] = {f"f{i}.txt": "x" * 1000 for i in range(10)}
    inner = _CountingTree(files, sized=True)
    tree = BudgetedTree(inner, ReadBudget(limit=3500))
    texts = tree.read_many(sorted(files))
    read = [p for p, t in texts.items() if t is not None]
    assert read == ["f0.txt", "f1.txt", "f2.txt"]
    assert inner.batches == [["f0.txt", "f1.txt", "f2.txt"]]  # never more than what is left
    assert "the limit for one review is" in tree.unread_reason("f9.txt")


def test_files_of_unknown_size_are_read_in_batches_that_fit_what_is_left() -> None:
    files: dict[str, str | None] = {f"f{i}.txt": "x" for i in range(5)}
    inner = _CountingTree(files, sized=False)
    BudgetedTree(inner, ReadBudget(limit=2 * limits.FILE_BYTES + 10)).read_many(sorted(files))
    assert [len(batch) for batch in inner.batches] == [2, 2, 1]


def _volume(name: str) -> str:
    return f'resource "aws_ebs_volume" "{name}" {{\n  size      = 10\n  encrypted = false\n}}\n'


def test_a_changed_file_past_the_review_budget_fails_the_review_and_the_others_are_reviewed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts = {"a/main.tf": _volume("a"), "b/main.tf": _volume("b") + "#" * 5000}
    monkeypatch.setattr(limits, "REVIEW_BYTES", len(texts["a/main.tf"]) + 10)
    diffs = [whole_file_added(path, text) for path, text in texts.items()]
    review = Engine(default_rule_set()).review_change(diffs, MemoryTree(texts))
    assert {f.path for f in review.findings if f.rule_id == "CB-AWS-001"} == {"a/main.tf"}
    [error] = review.errors
    assert error.path == "b/main.tf" and "the limit for one review is" in error.message


def test_a_file_of_more_lines_than_the_limit_is_an_error_at_once() -> None:
    text = "\n" * (limits.FILE_LINES + 1)  # 5 MB of line breaks took 136 s and 1.7 GB before
    started = time.process_time()
    review = Engine(default_rule_set()).scan(MemoryTree({"deploy.yaml": text, "main.tf": _volume("v")}))
    assert time.process_time() - started < 30
    [error] = review.errors
    assert error.path == "deploy.yaml" and f"too many lines ({limits.FILE_LINES + 1:,}" in error.message
    assert [f.rule_id for f in review.findings if f.path == "main.tf"] == ["CB-AWS-001"]


def _slow(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """A rule that costs 20 ms of CPU per resource, and flags each one."""
    until = time.thread_time() + 0.02
    while time.thread_time() < until:
        continue
    yield Violation("slow", resource.line)


def test_a_file_that_has_used_its_time_stops_there_and_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "FILE_SECONDS", 0.1)
    rule = Rule(id="CB-TEST-001", title="slow", severity=Severity.HIGH, sources=frozenset({"terraform"}),
                types=frozenset({"aws_ebs_volume"}), rationale="r", remediation="f", check=_slow)
    texts = {"big/main.tf": "".join(_volume(f"v{i}") for i in range(40)), "small/main.tf": _volume("one")}
    review = Engine(RuleSet([rule], {})).scan(MemoryTree(texts))
    flagged_big = [f for f in review.findings if f.path == "big/main.tf"]
    assert 5 <= len(flagged_big) < 40  # stopped within one resource past 0.1 s
    assert [f.path for f in review.findings if f.path == "small/main.tf"] == ["small/main.tf"]
    [error] = review.errors
    assert error.path == "big/main.tf" and "stopped after" in error.message and "limit is 0.1 s" in error.message


def test_the_clock_counts_only_the_file_it_is_charged_for() -> None:
    clock = FileClock(limit=0.0)
    started = clock.now() - 1.0  # a second already spent on a.tf
    clock.charge("a.tf", started)
    assert clock.over("a.tf") and not clock.over("b.tf")
    assert list(clock.stopped_paths()) == ["a.tf"]


def test_a_parser_failure_is_told_in_words_without_python_type_names() -> None:
    parsed = parse_terraform({"main.tf": "locals {\n  x = " + "9" * 5000 + "\n}\n"})["main.tf"]
    [error] = parsed.errors
    assert error.message == "cannot parse: a number with more than 4,300 digits"  # was "ValueError: Exceeds ..."
    assert failure_reason(KeyError()) == ENGINE_BUG


def test_security_md_shows_the_bounds_as_they_are() -> None:
    text = (Path(__file__).resolve().parents[2] / "SECURITY.md").read_text(encoding="utf-8")
    for bound in limits.described():
        assert f"| {bound.name} | {bound.value} | {bound.past_it} |" in text, bound


def test_hcl_syntax_has_its_own_bound_for_python_hcl2s_memory_and_tf_json_the_general_one() -> None:
    pad = "x" * limits.HCL_FILE_BYTES
    hcl = parse_terraform({"main.tf": f'locals {{\n  pad = "{pad}"\n}}\n'})["main.tf"]
    [error] = hcl.errors
    assert error.message.endswith(f"the limit is {limits.HCL_FILE_BYTES:,})")
    as_json = parse_terraform({"main.tf.json": f'{{"locals": {{"pad": "{pad}"}}}}'})["main.tf.json"]
    assert not as_json.errors


def test_the_engine_says_which_file_it_works_on() -> None:
    """Whoever runs the engine (an engine process killed at its deadline) can name the file it was on."""
    files = {"a/main.tf": 'resource "aws_ebs_volume" "v" {\n  size = 1\n}\n', "k8s/app.yaml": "kind: Pod\n",
             "notes.txt": "hello\n"}
    seen: list[str] = []
    Engine(default_rule_set(), progress=seen.append).review_change(
        [whole_file_added(p, t) for p, t in files.items()], MemoryTree(files))
    assert set(seen) == set(files)
    assert all(a != b for a, b in itertools.pairwise(seen))  # told when work moves, not per unit
