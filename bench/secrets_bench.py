"""What the secrets rules cost per line: every rule reading every line (as before the one pass)
against the one pass of rules/_secret_scan.py, and the pass's search itself (Aho-Corasick) against
a compiled alternation of the same words.

    python bench/secrets_bench.py [--runs N] [--lines N] [--minified CHARS] [--json]

Corpora, each cut into the engine's chunks (`TEXT_CHUNK_LINES` lines per text resource): generated
source and configuration lines with a secret now and then, a package-lock.json-like lockfile, and
one minified line of 1 MB. "Before" is the same rules with the search replaced by one handing every
line to every rule, which is what each rule did before; the rules a lockfile's `generated` type
leaves out are left out of both. Times are CPU seconds of this process
(`time.process_time`), so another process's load on a shared machine counts for little; each
figure is the median of `--runs` runs, before and after taken in turn.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass

from bot.engine.generated import GENERATED, TEXT, machine_written
from bot.engine.model import Resource
from bot.engine.review import TEXT_CHUNK_LINES, text_resources
from rules import _secret_scan, plaintext_secrets
from rules._secret_scan import WORDS, LineScan, folded, numbered_lines
from rules.registry import all_rules

SECRET_RULES = [rule for rule in all_rules() if rule.id.startswith("CB-SECRET-")]
_WORDS = ("name", "value", "config", "return", "self", "import", "data", "items", "path", "url", "port", "host",
          "enabled", "replicas", "image", "timeout", "key", "token", "user", "for", "in", "if", "=", ":", "(", ")")
_SECRETS = ("AWS_ACCESS_KEY_ID=AKIAUJZDE8GXD6NCF10E", 'db_password = "Zq7Wm2Lp9Xr4Tb6Vn1Hc"',
            "url: postgres://app:Xk9vR2mPq7Lw@db/x", "token: ghp_MFLZDe1f8rESQedUStPKR0CsTy4Qwb8DwkNh")


def source_lines(count: int, seed: int = 7) -> list[str]:
    """Lines of code and configuration, one in 200 holding a (fake) secret."""
    rng = random.Random(seed)
    lines = []
    for number in range(count):
        if number % 200 == 199:
            lines.append(rng.choice(_SECRETS))
        else:
            lines.append("    " * rng.randint(0, 3) + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 10))))
    return lines


def lockfile_lines(count: int) -> list[str]:
    """A package-lock.json's shape: package entries, resolved URLs, integrity hashes."""
    lines = []
    for number in range(count):
        package = f"js-tokens-{number}" if number % 7 == 0 else f"pkg-{number}"
        lines.extend([f'    "node_modules/{package}": {{', '      "version": "1.0.0",',
                      f'      "resolved": "https://registry.npmjs.org/{package}/-/{package}-1.0.0.tgz",',
                      f'      "integrity": "sha512-{"Ab9+Kq0pLm3Vb7Tc" * 5}==",', "    },"])
    return lines[:count]


def minified_line(size: int) -> list[str]:
    pairs = ",".join(f'"k{i}":{{"v":"x{i}","on":true}}' for i in range(size // 24))
    return ["{" + pairs + ',"key":"AKIAUJZDE8GXD6NCF10E"}']


def resources(path: str, lines: Sequence[str]) -> list[Resource]:
    """The text resources the engine makes of the file (a lockfile's are of the `generated` type)."""
    return list(text_resources(path, enumerate(lines, start=1), GENERATED if machine_written(path) else TEXT))


def run_rules(chunks: Sequence[Resource]) -> int:
    found = 0
    for resource in chunks:
        for rule in SECRET_RULES:
            if not rule.applies_to(resource):
                continue  # as the engine's rule set skips it: the `generated` type for a lockfile
            found += sum(1 for _ in rule.check(resource, _NoContext()))
    return found


class _NoContext:
    def siblings(self, resource: Resource) -> Sequence[Resource]:
        return [resource]

    def referrers(self, resource: Resource, type_: str | None = None) -> Sequence[Resource]:
        return []

    def base(self, resource: Resource) -> Resource | None:
        return None


def every_line(resource: Resource) -> LineScan:
    """Before the one pass: every line to every rule."""
    lines = list(numbered_lines(resource))
    return LineScan(lines, dict.fromkeys(range(len(lines)), -1))


def _with_scan(scan: Callable[[Resource], LineScan], chunks: Sequence[Resource]) -> int:
    original = vars(plaintext_secrets)["line_scan"]
    setattr(plaintext_secrets, "line_scan", scan)  # noqa: B010 - not exported: reached by name
    try:
        return run_rules(chunks)
    finally:
        setattr(plaintext_secrets, "line_scan", original)  # noqa: B010


def alternation_search(lines: Sequence[tuple[int, str]]) -> LineScan:
    """The same search as `scan_lines` with a compiled alternation of the words instead of the automaton:
    a lookahead at every position, so overlapping words are all seen."""
    words = sorted({w for ws in WORDS.values() for w in ws}, key=lambda w: (-len(w), w))
    bits = {name: 1 << index for index, name in enumerate(WORDS)}
    masks_of = {w: sum(b for name, b in bits.items() if any(w.startswith(x) for x in WORDS[name])) for w in words}
    pattern = re.compile("(?=(" + "|".join(re.escape(w) for w in words) + "))")
    texts = [text for _, text in lines]
    joined = folded("\n".join(texts))
    starts, offset = [], 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + 1
    masks: dict[int, int] = {}
    for match in pattern.finditer(joined):
        index = bisect.bisect_right(starts, match.start()) - 1
        masks[index] = masks.get(index, 0) | masks_of[match.group(1)]
    return LineScan(lines, masks)


def _cpu(work: Callable[[], object]) -> float:
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        work()
        return time.process_time() - started
    finally:
        gc.enable()


def interleaved(runs: int, cases: Sequence[Callable[[], object]]) -> list[float]:
    """Median CPU seconds of each case, the cases taken in turn in every run."""
    times: list[list[float]] = [[] for _ in cases]
    for _ in range(runs):
        for index, case in enumerate(cases):
            times[index].append(_cpu(case))
    return [statistics.median(t) for t in times]


def machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return (f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPU(s), "
            f"Python {platform.python_version()} ({platform.python_implementation()}), {platform.system()} "
            f"{platform.release()}, load average {load[0]:.1f}").replace("  ", " ")


def corpora(lines: int, minified: int) -> Iterator[tuple[str, str, list[str]]]:
    yield "source and configuration", "config/app.env", source_lines(lines)
    yield "lockfile (package-lock.json shape)", "app/package-lock.json", lockfile_lines(lines)
    yield f"one minified line of {minified:,} characters", "static/config.min.json", minified_line(minified)


@dataclass(frozen=True)
class Row:
    corpus: str
    lines: int
    characters: int
    findings: int
    before_us_per_line: float
    after_us_per_line: float
    automaton_ns_per_char: float
    alternation_ns_per_char: float


def measure(name: str, path: str, lines: Sequence[str], runs: int) -> Row:
    chunks = resources(path, lines)
    count = sum(len(list(numbered_lines(r))) for r in chunks)
    before_found, after_found = _with_scan(every_line, chunks), run_rules(chunks)
    if before_found != after_found:
        raise SystemExit(f"{name}: {before_found} findings before, {after_found} after: not the same rules")
    search = [list(numbered_lines(r)) for r in chunks]
    before, after, automaton, alternation = interleaved(runs, [
        lambda: _with_scan(every_line, chunks), lambda: run_rules(chunks),
        lambda: [_secret_scan.scan_lines(s) for s in search], lambda: [alternation_search(s) for s in search]])
    chars = sum(len(t) for t in lines)
    return Row(name, count, chars, after_found, before * 1e6 / count, after * 1e6 / count,
               automaton * 1e9 / chars, alternation * 1e9 / chars)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--minified", type=int, default=1_000_000, help="characters of the minified line")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    rows = [measure(name, path, lines, args.runs) for name, path, lines in corpora(args.lines, args.minified)]
    if args.json:
        print(json.dumps({"machine": machine(), "runs": args.runs, "rows": [asdict(r) for r in rows]}, indent=2))
        return 0
    print(f"secrets rules ({len(SECRET_RULES)} rules, chunks of {TEXT_CHUNK_LINES} lines), "
          f"median CPU of {args.runs} interleaved runs")
    print(f"machine: {machine()}")
    for row in rows:
        print(f"  {row.corpus}: {row.lines:,} lines, {row.characters:,} characters, {row.findings} findings")
        print(f"    every rule on every line: {row.before_us_per_line:9.2f} us/line")
        print(f"    one pass:                 {row.after_us_per_line:9.2f} us/line")
        print(f"    search alone: Aho-Corasick {row.automaton_ns_per_char:.1f} ns/char, "
              f"compiled alternation {row.alternation_ns_per_char:.1f} ns/char")
    print("ratios (before / after; alternation / Aho-Corasick):")
    for row in rows:
        print(f"  {row.corpus}: {row.before_us_per_line / row.after_us_per_line:.1f}x faster; "
              f"search {row.alternation_ns_per_char / row.automaton_ns_per_char:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
