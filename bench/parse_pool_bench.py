"""Where a pool of parse processes starts to pay, and whether a scan's cost is linear in files.

    python bench/parse_pool_bench.py [--runs 3] [--counts 8 16 24 32 64 128] [--sizes 120 240 480]

Part 1: `parse_pool.load_all` on the first N files of the generated tree (`bench/tf_tree.py`), in
the calling thread and in a pool of 2 workers (started for each call, as a review does), medians
of interleaved runs of wall-clock seconds: the smallest N where the pool wins is what
`parse_pool.MIN_FILES` should be near.
Part 2: `Engine.scan` of generated trees of growing size: seconds per file, which stays flat when
the cost is linear in the files read (sibling lookups are indexed by type: `ModuleContext`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import machine
from bench.tf_tree import layout
from bot.engine.budget import FileClock
from bot.engine.parse_pool import MIN_FILES, Parsing, load_all
from bot.engine.review import Engine
from bot.engine.tree import MemoryTree
from rules.registry import default_rule_set

SERIAL = Parsing(workers=1)
POOLED = Parsing(workers=2, min_files=1, min_bytes=0, min_file_bytes=0)


def _timed(files: dict[str, str], parsing: Parsing) -> float:
    started = time.perf_counter()
    load_all(files, FileClock(), parsing)
    return time.perf_counter() - started


def threshold(counts: Sequence[int], runs: int) -> list[str]:
    tree = layout(max(counts))
    rows = ["| files | one thread s | pool of 2 s | pool / thread |", "| ---: | ---: | ---: | ---: |"]
    for count in counts:
        files = dict(list(tree.items())[:count])
        serial, pooled = [], []
        for _ in range(runs):
            serial.append(_timed(files, SERIAL))
            pooled.append(_timed(files, POOLED))
        one, two = statistics.median(serial), statistics.median(pooled)
        rows.append(f"| {count} | {one:.3f} | {two:.3f} | {two / one:.2f} |")
    return rows


def linearity(sizes: Sequence[int], runs: int) -> list[str]:
    rule_set = default_rule_set()
    rows = ["| files | parsing | median s | ms per file |", "| ---: | --- | ---: | ---: |"]
    for size in sizes:
        tree = MemoryTree(layout(size))
        for name, parsing in (("one thread", SERIAL), ("pool", Parsing())):
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                Engine(rule_set, parsing=parsing).scan(tree)
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            rows.append(f"| {size} | {name} | {median:.2f} | {median / size * 1000:.1f} |")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--counts", type=int, nargs="+", default=[8, 16, 24, 32, 64, 128])
    parser.add_argument("--sizes", type=int, nargs="+", default=[120, 240, 480])
    args = parser.parse_args(argv)
    print("## Parsing in a pool\n")
    print(f"Machine: {machine()}. `parse_pool.MIN_FILES` = {MIN_FILES}.\n")
    for row in threshold(args.counts, args.runs):
        print(row)
    print()
    for row in linearity(args.sizes, args.runs):
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
