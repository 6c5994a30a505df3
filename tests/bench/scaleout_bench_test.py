"""A tiny run of bench/scaleout_bench.py (real Redis, real server and worker processes, the fake
GitHub with added latency): it prints every figure it promises, ratios last. A smoke run, never a
timing assertion."""

from __future__ import annotations

import re

import pytest

from bench.scaleout_bench import main


@pytest.mark.timeout(900)  # several server and worker processes start on a shared 2-core machine
def test_a_tiny_run_prints_throughput_ingest_and_ratios(capsys: pytest.CaptureFixture[str], redis_url: str) -> None:
    assert main(["--runs", "1", "--jobs", "2", "--latency-ms", "5", "--rates", "20", "--duration", "0.5",
                 "--large-files", "5", "--modes", "built-in"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("machine: ") and "CPU(s)" in lines[0]
    assert any(re.fullmatch(r"fake GitHub: [1-9]\d* thread\(s\) at nice 10 .*", line) for line in lines)
    throughput = [line for line in lines if line.startswith("throughput: ")]
    assert [re.search(r"(\d) worker", line).group(1) for line in throughput] == ["1", "2"]  # type: ignore[union-attr]
    assert all(re.search(r"\+5 ms per API call: \d+\.\d\d jobs/s", line) for line in throughput)
    ingest = [line for line in lines if line.startswith("ingest: ")]
    assert len(ingest) == 2 and "idle, 20/s" in ingest[0] and "while 2 large reviews run, 20/s" in ingest[1]
    assert all(re.search(r"p50 \d+\.\d ms, p99 \d+\.\d ms", line) for line in ingest)
    assert all('"202": 10' in line for line in ingest)  # every delivery of the load answered and queued
    assert re.fullmatch(r"ratio 2/1 workers, \+5 ms per API call: \d+\.\d\dx", lines[-1])
