"""How long the parsers and the secrets rules take on hostile input (ReDoS, alias bombs, nesting,
expression floods).

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

from bot.engine.parsers.terraform import parse_module
from bot.engine.parsers.terraform.expressions import evaluate
from bot.engine.parsers.yaml_docs import parse_yaml
from bot.engine.review import text_resource
from rules.registry import all_rules


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


EXPRESSIONS = {
    "99k nested parentheses": "(" * 49_999 + "1" + ")" * 49_999,
    "20k chained conditionals": "true ? " * 10_000 + "1" + " : 2" * 10_000,
    "20k-term sum": " + ".join(["1"] * 20_000),
    "20k-item repr list": "[" + ", ".join(["'a'"] * 20_000) + "]",
    "format() nested 2k deep": 'format("%s%s", ' * 2_000 + '"a", "a"' + ")" * 2_000,
    "90k-character string": '"' + "a" * 90_000 + '"',
    "50k unclosed brackets": "[" * 50_000,
    "for 4 deep over 1k items": "[for a in {l} : [for b in {l} : [for c in {l} : [for d in {l} : d]]]]".format(
        l="([" + ", ".join(["'a'"] * 1_000) + "])"),
    "for if over 5k-term &&": "[for x in ([" + ", ".join(["'a'"] * 1_000) + "]) : x if "
    + " && ".join(["x == x"] * 5_000) + "]",
    "for 2k deep": "[for x in " * 2_000 + "['a']" + " : x]" * 2_000,
}


def _locals_bomb(fanout: int = 60, levels: int = 9) -> dict[str, str]:
    """Each local lists the previous one `fanout` times: a value of fanout^levels elements."""
    lines = ["  l0 = concat([1], [2])"]
    lines += [f"  l{i} = [{', '.join([f'local.l{i - 1}'] * fanout)}]" for i in range(1, levels)]
    body = "\n".join(lines)
    return {"main.tf": f"locals {{\n{body}\n}}\nresource \"x_y\" \"z\" {{\n  v = length(local.l{levels - 1})\n}}\n"}


def _no_values(kind: str, name: str) -> None:
    return None


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
    for name, text in EXPRESSIONS.items():
        found[f"terraform expression: {name}"] = functools.partial(evaluate, text, _no_values)
    found["terraform: locals naming locals 60x, 9 deep"] = functools.partial(parse_module, _locals_bomb())
    for rule in (r for r in all_rules() if r.id.startswith("CB-SECRET-")):
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
