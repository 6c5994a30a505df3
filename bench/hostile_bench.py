"""How long the parsers and the secrets rules take on hostile input (ReDoS, alias bombs, nesting).

    python bench/hostile_bench.py [--runs N] [--budget SECONDS]

The tests only require these inputs to finish and to be refused or ignored; how fast is measured
here, on a quiet machine, because a wall-clock budget inside the test suite fails whenever the
machine is busy. Prints the median of N runs per case and exits 1 if one exceeds the budget.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.engine.parsers.yaml_docs import parse_yaml
from bot.engine.review import text_resource
from rules import plaintext_secrets


def billion_laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


YAML = {
    "billion laughs": billion_laughs(10),
    "recursive alias": "a: &a [*a]\n",
    "deep block nesting": "- " * 400 + "x\n",
    "deep flow nesting": "[" * 5000 + "]" * 5000,
}
LINES = {
    "200k letters": "a" * 200_000,
    "password= x20k": "password=" * 20_000,
    "AKIA x50k": "AKIA" * 50_000,
    "-----BEGIN x20k": "-----BEGIN " * 20_000,
    "x_..password x2k": ("x_" * 40 + "password") * 2_000,
    "password: + 100k quotes": "password: " + "'" * 100_000,
}


class _NoContext:
    def siblings(self, resource: object) -> list[object]:
        return [resource]


def _scan_all(rule: Any) -> None:
    for line in LINES.values():
        resource = text_resource("config/app.env", enumerate([line], start=1))
        list(rule.check(resource, _NoContext()))


def cases() -> dict[str, Callable[[], object]]:
    found: dict[str, Callable[[], object]] = {}
    for name, text in YAML.items():
        found[f"yaml: {name}"] = functools.partial(parse_yaml, "k8s/bomb.yaml", text)
    for rule in plaintext_secrets.RULES:
        found[f"secrets: {rule.id} on {len(LINES)} lines"] = functools.partial(_scan_all, rule)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds per case (median)")
    args = parser.parse_args(argv)
    over = 0
    for name, run in cases().items():
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        flag = "  OVER BUDGET" if median > args.budget else ""
        over += bool(flag)
        print(f"{median * 1000:9.1f} ms  (max {max(times) * 1000:.1f})  {name}{flag}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
