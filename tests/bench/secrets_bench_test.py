"""A tiny run of bench/secrets_bench.py: it measures the same findings before and after, and
prints its figures, the machine and the ratios."""

from __future__ import annotations

import json

import pytest

from bench.secrets_bench import lockfile_lines, main, measure, source_lines


def test_a_tiny_run_prints_every_corpus_then_the_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--runs", "1", "--lines", "400", "--minified", "20000"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("machine: ")
    assert sum("us/line" in line for line in out) == 6  # before and after, three corpora
    ratios = out.index("ratios (before / after; alternation / Aho-Corasick):")
    assert len(out) == ratios + 4 and all("x faster; search " in line for line in out[ratios + 1:])


def test_the_generated_source_holds_secrets_the_rules_find() -> None:
    row = measure("source", "config/app.env", source_lines(400), runs=1)
    assert row.lines == 400
    assert row.findings == 2  # lines 200 and 400 hold a secret each
    assert row.before_us_per_line > 0 and row.after_us_per_line > 0


def test_the_lockfile_corpus_is_read_as_generated_text() -> None:
    row = measure("lock", "app/package-lock.json", lockfile_lines(300), runs=1)
    assert row.findings == 0  # `js-tokens` and `integrity` are no secrets, and no generic rule reads it


def test_json_output_is_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--runs", "1", "--lines", "200", "--minified", "5000", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert [row["lines"] for row in figures["rows"]] == [200, 200, 1]
