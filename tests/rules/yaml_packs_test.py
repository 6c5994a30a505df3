"""The Kubernetes, CloudFormation, GitHub Actions, Dockerfile and secrets packs against their fixtures.

Independent of the engine: each fixture file goes through this module's own parser choice
(the rules' parsers, or the text resource for secrets) and every finding must land on exactly
the lines marked `expect: <RULE_ID>` (or listed in the fixture's `expect.txt`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.engine.model import ParsedFile, Resource, Violation
from bot.engine.parsers.dockerfile import parse_dockerfile
from bot.engine.parsers.yaml_docs import looks_like_cloudformation_json, parse_yaml
from bot.engine.review import text_resource
from bot.engine.rule import Rule
from rules.registry import all_rules

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
MARKER = re.compile(r"expect:\s*([A-Z0-9, -]+)")
PREFIXES = ("K8S", "GHA", "DOCKER", "SECRET")  # the CloudFormation CB-CFN-00x are CB-AWS-00x bindings now
RULES = {rule.id: rule for rule in all_rules() if rule.id.startswith(tuple(f"CB-{p}-" for p in PREFIXES))}


@dataclass(frozen=True)
class FileContext:
    """The RuleContext of one file: every resource parsed from it."""

    resources: tuple[Resource, ...]

    def siblings(self, resource: Resource) -> Sequence[Resource]:
        return self.resources

    def referrers(self, resource: Resource, type_: str | None = None) -> Sequence[Resource]:
        name = resource.address.removeprefix("Resources.")
        return [r for r in self.resources if name in r.references and (type_ is None or r.type == type_)]

    def base(self, resource: Resource) -> Resource | None:
        return None


def is_dockerfile(path: Path) -> bool:
    name = path.name
    return name in ("Dockerfile", "Containerfile") or name.startswith("Dockerfile.") or name.endswith(".dockerfile")


def parse(path: Path, relative: str, text: str, source: str) -> ParsedFile:
    """What the engine would make of the file for a rule of `source`."""
    if source == "text":
        resource = text_resource(relative, enumerate(text.splitlines(), start=1))
        return ParsedFile(path=relative, resources=(resource,) if resource is not None else ())
    if is_dockerfile(path):
        return parse_dockerfile(relative, text)
    if path.suffix in (".yml", ".yaml") or (path.suffix == ".json" and looks_like_cloudformation_json(text)):
        return parse_yaml(relative, text)
    return ParsedFile(path=relative)


def expected_lines(directory: Path, rule_id: str) -> set[tuple[str, int]]:
    expected: set[tuple[str, int]] = set()
    sidecar = directory / "expect.txt"
    if sidecar.exists():
        for row in sidecar.read_text().split():
            file, _, line = row.rpartition(":")
            expected.add((file, int(line)))
    for path in fixture_files(directory):
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            match = MARKER.search(text)
            if match and rule_id in {part.strip() for part in match.group(1).split(",")}:
                expected.add((path.relative_to(directory).as_posix(), number))
    return expected


def fixture_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name != "expect.txt")


def run_rule(rule: Rule, directory: Path) -> list[tuple[str, Violation]]:
    source = next(iter(rule.sources))
    found: list[tuple[str, Violation]] = []
    for path in fixture_files(directory):
        relative = path.relative_to(directory).as_posix()
        parsed = parse(path, relative, path.read_text(), source)
        assert parsed.errors == (), parsed.errors
        context = FileContext(parsed.resources)
        for resource in parsed.resources:
            if rule.applies_to(resource):
                found.extend((relative, violation) for violation in rule.check(resource, context))
    return found


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_flags_exactly_the_marked_lines(rule_id: str) -> None:
    directory = FIXTURES / rule_id
    expected = expected_lines(directory, rule_id)
    assert expected, f"{rule_id} has no marked line"
    found = {(path, violation.line) for path, violation in run_rule(RULES[rule_id], directory)
             if not violation.undecided}  # an undecided verdict is no finding (a policy may fail it)
    assert found == expected


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_metadata_is_complete(rule_id: str) -> None:
    rule = RULES[rule_id]
    assert re.fullmatch(r"CB-(K8S|GHA|DOCKER|SECRET)-\d{3}", rule.id)
    assert rule.title and rule.rationale and rule.remediation
    assert len(rule.sources) == 1


def test_rule_ids_are_unique_and_numbered_without_gaps() -> None:
    ids = [rule.id for rule in all_rules()]
    assert len(ids) == len(set(ids))
    ids += [alias for rule in all_rules() for alias in rule.aliases]  # retired ids stay taken (CB-CFN-00x)
    for prefix in ("K8S", "CFN", "GHA", "DOCKER", "SECRET"):
        numbers = sorted(int(i.rsplit("-", 1)[1]) for i in ids if i.startswith(f"CB-{prefix}-"))
        assert numbers == list(range(1, len(numbers) + 1))


def test_violations_within_a_resource_are_told_apart() -> None:
    for rule_id, rule in RULES.items():
        found = run_rule(rule, FIXTURES / rule_id)
        keys = [(path, v.line, v.key) for path, v in found]
        assert len(keys) == len(set(keys)), rule_id
