"""docs/rules.md, generated from the registry: what an auditor reads about every rule.

    python -m rules.docs > docs/rules.md

Each rule's entry says what it checks (id, title, severity, formats and resource types), why
(rationale), the controls it enforces, the peer checks it is scored against, a failing example
taken from its fixture (`tests/fixtures/rules/<ID>/`, the first line marked `expect: <ID>` with a
few lines around it) and the fix (its remediation). The output depends only on the registry, the
framework files and the fixtures, so a test can regenerate it and compare.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.engine.review import Engine, RuleSet
from bot.engine.rule import Rule
from bot.engine.tree import MemoryTree
from rules.registry import Framework, all_rules, default_controls, load_frameworks

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "rules"
REGENERATE = "python -m rules.docs > docs/rules.md"
_MARKER = re.compile(r"(?P<space>\s*)(?P<comment>#|//|;|--)?\s*\b(?P<kind>expect|ok):\s*(?P<ids>[A-Z0-9, -]+?)"
                     r"(?:\s*\(.*\))?\s*$")
_POINTER = re.compile(r"\s*(?:#|//|;|--) <- CB-[A-Z0-9]+-\d+$")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s/]+@")
_BEFORE, _AFTER, _MAX_BACK, _MAX_BLOCK = 3, 2, 8, 14
_SECRET_RUN = re.compile(r"[A-Za-z0-9+/_\-]{12,}")
_ABOUT_SECRETS = re.compile(r"secret|password|token|private key|plaintext", re.IGNORECASE)
_FORMATS = {"terraform": "Terraform", "cloudformation": "CloudFormation", "kubernetes": "Kubernetes",
            "github-actions": "GitHub Actions workflows", "github_actions": "GitHub Actions workflows",
            "dockerfile": "Dockerfile", "text": "the lines of any file"}
_LANGUAGES = {".tf": "hcl", ".json": "json", ".yml": "yaml", ".yaml": "yaml", ".py": "python", ".ini": "ini",
              ".sh": "sh", ".env": "sh", ".js": "javascript", ".ts": "typescript"}
_PEERS = {"checkov": "Checkov", "kics": "KICS"}


@dataclass(frozen=True)
class Example:
    """A flagged line of a fixture with the lines around it."""

    path: str  # relative to the rule's fixture directory
    line: int
    first: int  # number of the first line shown
    lines: tuple[str, ...]
    language: str
    base: tuple[str, ...] = ()  # a change fixture: the same block before the change


def _marked(text: str, rule_id: str) -> bool:
    match = _MARKER.search(text)
    return match is not None and match["kind"] == "expect" and rule_id in {
        part.strip() for part in match["ids"].split(",")}


def _flagged_lines(directory: Path, rule_id: str) -> Iterator[tuple[Path, int]]:
    """(file, line) of every line the fixture says the rule flags, in path order."""
    expect = directory / "expect.txt"
    rows: list[tuple[Path, int]] = []
    if expect.is_file():
        for row in expect.read_text(encoding="utf-8").splitlines():
            file, _, line = row.strip().rpartition(":")
            if file and line.isdigit():
                rows.append((directory / file, int(line)))
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and p.name != "expect.txt"):
        for number, text in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            if _marked(text, rule_id):
                rows.append((path, number))
    yield from sorted(rows, key=lambda row: (row[0].relative_to(directory).as_posix(), row[1]))


def _language(path: Path) -> str:
    if path.name.startswith("Dockerfile"):
        return "dockerfile"
    suffix = path.suffix.lower()
    return _LANGUAGES.get(suffix, "text")


def _clean(text: str, rule_id: str, flagged: bool, secret: bool) -> str:
    """A fixture line as a reader should see it: test markers removed, (fake) credentials cut to
    their first characters, the flagged line pointed at."""
    match = _MARKER.search(text)
    code = text[: match.start()] if match is not None else text.rstrip()
    if secret:
        code = _SECRET_RUN.sub(_redact, _URL_PASSWORD.sub(r"\1****@", code))
    if flagged and match is not None and match["comment"]:
        return f"{code}{match['space'] or '  '}{match['comment']} <- {rule_id}"
    return code


def _scrubbed(lines: list[str], name: str) -> list[str]:
    """Lines no secrets rule of ours flags any more: where a cut credential still reads as one,
    every value on its line is cut further (the page must not teach a scanner false alarms)."""
    rules = [r for r in all_rules() if "text" in r.sources]
    engine = Engine(RuleSet(rules, {}))
    for _ in range(3):
        hits = {f.line for f in engine.scan(MemoryTree({name: "\n".join(lines) + "\n"})).findings}
        if not hits:
            break
        for number in hits:
            text = lines[number - 1]
            pointer = _POINTER.search(text)
            code, kept = (text[: pointer.start()], pointer.group(0)) if pointer else (text, "")
            head, sep, tail = _split_value(code)
            lines[number - 1] = head + sep + re.sub(r"[^\s\"'`,;()]{3,}", lambda m: m.group(0)[:2] + "...", tail) + kept
    return lines


def _split_value(line: str) -> tuple[str, str, str]:
    """(name, separator, value) of an assignment-like line; the whole line as value otherwise."""
    match = re.match(r"^(.*?)(\s*(?:=|:)\s*)(.*)$", line)
    return (match.group(1), match.group(2), match.group(3)) if match else ("", "", line)


def _redact(match: re.Match[str]) -> str:
    run = match.group(0)
    return run[:4] + "..." if len(run) >= 24 or any(c.isdigit() for c in run) else run


def _excerpt(texts: Sequence[str], line: int) -> tuple[int, int]:
    """First and last line to show around `line`: back to the line opening its block (a few lines
    up at most), and on to the block's end when the flagged line opens one, else two lines on."""
    start = max(1, line - _BEFORE)
    for number in range(line, max(0, line - _MAX_BACK), -1):
        candidate = texts[number - 1]
        if candidate.strip() and not candidate[0].isspace() and not candidate.lstrip().startswith(("#", "//")):
            start = number
            break
    end = min(len(texts), line + _AFTER)
    opened = _MARKER.sub("", texts[line - 1]).rstrip()
    if opened.endswith("{"):
        indent = len(opened) - len(opened.lstrip())
        for number in range(line + 1, min(len(texts), line + _MAX_BLOCK) + 1):
            text = texts[number - 1]
            if text.strip().startswith("}") and len(text) - len(text.lstrip()) == indent:
                end = number
                break
    return start, end


def failing_example(rule: Rule, fixtures: Path = FIXTURES) -> Example | None:
    """The rule's first flagged fixture line (the head side of a change fixture, with the same
    block at base) and the lines around it."""
    directory = fixtures / rule.id
    change = (directory / "head").is_dir() and (directory / "base").is_dir()
    if change:
        directory = directory / "head"
    if not directory.is_dir():
        return None
    first = next(_flagged_lines(directory, rule.id), None)
    if first is None:
        return None
    path, line = first
    texts = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if not 1 <= line <= len(texts):
        return None
    secret = "text" in rule.sources or bool(_ABOUT_SECRETS.search(rule.title))
    start, end = _excerpt(texts, line)
    shown = [_clean(texts[n - 1], rule.id, n == line or _marked(texts[n - 1], rule.id), secret)
             for n in range(start, end + 1)]
    base: list[str] = []
    base_path = directory.parent / "base" / path.relative_to(directory)
    if change and base_path.is_file():
        header = _clean(texts[start - 1], rule.id, False, secret)
        before = base_path.read_text(encoding="utf-8", errors="replace").splitlines()
        at = next((n for n, t in enumerate(before, start=1) if _clean(t, rule.id, False, secret) == header), None)
        if at is not None:
            _, last = _excerpt(before, at)
            base = [_clean(before[n - 1], rule.id, False, secret) for n in range(at, last + 1)]
    # Any rule's fixture may hold a (fake) credential (provider blocks, user data, environments):
    # the page must not show one our own secrets rules would flag.
    shown, base = _scrubbed(shown, path.name), _scrubbed(base, path.name) if base else base
    return Example(path.relative_to(fixtures / rule.id).as_posix(), line, start, tuple(_trimmed(shown)),
                   _language(path), tuple(_trimmed(base)))


def _trimmed(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _anchor(rule_id: str) -> str:
    return rule_id.lower()


def _formats(rule: Rule) -> str:
    formats = ", ".join(_FORMATS.get(s, s) for s in sorted(rule.sources))
    types = ", ".join(f"`{t}`" for t in sorted(rule.types)) if rule.types else "every resource of the format"
    return f"{formats}: {types}"


def _controls(rule: Rule, controls: Mapping[str, Sequence[str]], frameworks: Mapping[str, Framework]) -> list[str]:
    lines = []
    for key in sorted(controls):
        framework = frameworks.get(key)
        parts = []
        for control_id in controls[key]:
            control = framework.control(control_id) if framework is not None else None
            parts.append(f"{control_id} {control.name}" if control is not None and control.name else control_id)
        lines.append(f"  - {framework.name if framework is not None else key}: {'; '.join(parts)}")
    return lines


def _peers(rule: Rule) -> str:
    parts = [f"{_PEERS.get(peer, peer)} {', '.join(f'`{i}`' for i in ids)}"
             for peer, ids in sorted(rule.peers.items()) if ids]
    return "; ".join(parts) if parts else "none recorded"


def rule_section(rule: Rule, controls: Mapping[str, Sequence[str]], frameworks: Mapping[str, Framework],
                 fixtures: Path = FIXTURES) -> list[str]:
    out = [f'### <a id="{_anchor(rule.id)}"></a>{rule.id}: {rule.title}', ""]
    out.append(f"- **Severity:** {rule.severity.value}")
    out.append(f"- **Checks:** {_formats(rule)}")
    if rule.regression:
        out.append("- **Kind:** regression (what a change weakened against its base)")
    if rule.aliases:
        out.append(f"- **Earlier ids:** {', '.join(rule.aliases)}")
    out.append("- **Controls:**" if controls else "- **Controls:** none")
    out += _controls(rule, controls, frameworks)
    out.append(f"- **Peer checks:** {_peers(rule)}")
    out += ["", f"**Why:** {rule.rationale}", ""]
    example = failing_example(rule, fixtures)
    if example is None:
        out += ["**Failing example:** none in the fixtures.", ""]
    elif example.base:
        head = example.path.removeprefix("head/")
        out += [f"**Failing example**, a change to `{head}` (`tests/fixtures/rules/{rule.id}/`): before,", "",
                f"```{example.language}", *example.base, "```", "",
                f"and after (line {example.line} flagged):", "",
                f"```{example.language}", *example.lines, "```", ""]
    else:
        out += [f"**Failing example** (`tests/fixtures/rules/{rule.id}/{example.path}`, line {example.line}):", "",
                f"```{example.language}", *example.lines, "```", ""]
    out += [f"**Fix:** {rule.remediation}", ""]
    return out


def _framework_summary(frameworks: Iterable[Framework]) -> list[str]:
    out = ["| framework | version | controls | automated | manual | out of scope |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for f in frameworks:
        count = {c: sum(1 for x in f.controls if x.coverage == c) for c in ("automated", "manual", "out-of-scope")}
        out.append(f"| {f.name} (`{f.key}`) | {f.version} | {len(f.controls)} | {count['automated']} | "
                   f"{count['manual']} | {count['out-of-scope']} |")
    return out


def render(rules: Sequence[Rule] | None = None, fixtures: Path = FIXTURES) -> str:
    """The whole of docs/rules.md."""
    rules = tuple(all_rules() if rules is None else rules)
    frameworks = {f.key: f for f in load_frameworks()}
    controls = default_controls()
    out = ["# Rules", "",
           f"<!-- Generated from the rule registry by `{REGENERATE}`; do not edit by hand. -->", "",
           (f"{len(rules)} rules. Each entry gives what the rule checks, why, the regulation controls it "
            "enforces, the equivalent Checkov and KICS checks it is scored against (`bench/peer_score.py`), "
            "a failing example from its fixture and the fix. `compliance-bot rules --framework KEY` prints a "
            "framework's full coverage matrix, including the controls no rule automates and why."), "",
           *_framework_summary(frameworks.values()), "", "## Index", ""]
    out += [f"- [{r.id}](#{_anchor(r.id)}): {r.title} ({r.severity.value})" for r in rules]
    out += ["", "## Rules", ""]
    for rule in rules:
        out += rule_section(rule, controls.get(rule.id, {}), frameworks, fixtures)
    return "\n".join(out).rstrip() + "\n"


README_BEGIN = "<!-- rules:begin (generated by `python -m rules.docs --readme README.md`; do not edit by hand) -->"
README_END = "<!-- rules:end -->"


def readme_block(rules: Sequence[Rule] | None = None) -> str:
    """The README's coverage table, between its markers: what a reader deciding whether the App
    fits their audit wants first, kept current by a test instead of by hand."""
    rules = tuple(all_rules() if rules is None else rules)
    frameworks = load_frameworks()
    lines = [README_BEGIN, "",
             (f"{len(rules)} rules over {len(frameworks)} frameworks; a control is `automated` when a rule enforces "
              "it, else the framework file says why not (`manual`: a person must check it; `out of scope`: not a "
              "property of code)."), "",
             *_framework_summary(frameworks), "", README_END]
    return "\n".join(lines)


def with_readme_block(readme: str, block: str) -> str:
    """`readme` with its generated block replaced by `block`; an error when the markers are missing."""
    start, end = readme.find(README_BEGIN), readme.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no generated block: add the lines {README_BEGIN!r} and {README_END!r}")
    return readme[:start] + block + readme[end + len(README_END):]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print docs/rules.md, generated from the rule registry.")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES, help="the rules' fixture directories")
    parser.add_argument("--readme", type=Path, metavar="FILE",
                        help="instead, rewrite the generated coverage table of FILE (the README) in place")
    args = parser.parse_args(argv)
    if args.readme is not None:
        try:
            args.readme.write_text(with_readme_block(args.readme.read_text(encoding="utf-8"), readme_block()),
                                   encoding="utf-8")
        except OSError as exc:
            print(f"{args.readme}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        except ValueError as exc:
            print(f"{args.readme}: {exc}", file=sys.stderr)
            return 2
        return 0
    sys.stdout.write(render(fixtures=args.fixtures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
