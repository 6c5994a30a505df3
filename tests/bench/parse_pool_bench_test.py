"""A smoke run of bench/parse_pool_bench.py: both tables, one row per count and per size and mode."""

from __future__ import annotations

import pytest

from bench import parse_pool_bench


@pytest.mark.timeout(600)  # scans in a fresh pool on a shared machine
def test_the_smoke_run_prints_both_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_pool_bench.main(["--runs", "1", "--counts", "4", "--sizes", "36"]) == 0
    out = capsys.readouterr().out
    assert "## Parsing in a pool" in out
    assert [line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| 4 |")] == ["4"]
    modes = [line.split("|")[2].strip() for line in out.splitlines() if line.startswith("| 36 |")]
    assert modes == ["one thread", "pool"]
