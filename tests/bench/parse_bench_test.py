"""A tiny run of bench/parse_bench.py: it reads its corpora with both readers and prints a line
per corpus with both speeds and the ratio last (figures come from real runs, not from here)."""

from __future__ import annotations

import re

import pytest

from bench.hcl_corpus import difference
from bench.parse_bench import generated, main, measure

LINE = re.compile(r"^(.+): (\d+) files, [\d,]+ lines; hcl2 [\d,]+ lines/s, tree-sitter [\d,]+ lines/s; ratio \d+\.\d\dx$")


def test_the_generated_corpus_is_terraform_both_readers_read_alike() -> None:
    (text,) = generated(1)
    assert 'dynamic "ingress"' in text and "<<-EOT" in text and "for r in" in text
    assert difference("generated.tf", text) is None


def test_measure_gives_two_speeds() -> None:
    old, new = measure(generated(2), runs=1)
    assert old > 0 and new > 0


def test_a_tiny_run_prints_one_line_per_corpus_ratio_last(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--runs", "1", "--modules", "2"]) == 0
    matches = [LINE.match(line) for line in capsys.readouterr().out.splitlines()]
    assert [match.group(1) if match else None for match in matches] == ["generated", "repository fixtures"]
