"""Small tools for the rule-language tests: a spec from text, resources from source, a context."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.engine.model import Resource, Violation
from bot.engine.parsers.terraform import parse_module
from bot.engine.parsers.yaml_docs import parse_yaml
from bot.engine.rule import CheckFn, Rule
from rules.spec.compile import compile_spec
from rules.spec.functions import FUNCTIONS
from rules.spec.loader import load_spec

HEAD = """\
id: CB-TEST-001
title: Thing is not safe
severity: high
rationale: Because it matters.
remediation: Make it safe.
"""


def spec_text(bindings: str, head: str = HEAD) -> str:
    return head + "bindings:\n" + textwrap.indent(textwrap.dedent(bindings).strip("\n"), "  ") + "\n"


def rule_of(bindings: str, functions: Mapping[str, CheckFn] = FUNCTIONS) -> Rule:
    spec = load_spec(spec_text(bindings), "rules/specs/test/CB-TEST-001.yml", functions)
    return compile_spec(spec, functions)


@dataclass(frozen=True)
class Context:
    resources: tuple[Resource, ...]

    def siblings(self, resource: Resource) -> Sequence[Resource]:
        return self.resources

    def referrers(self, resource: Resource, type_: str | None = None) -> Sequence[Resource]:
        return []

    def base(self, resource: Resource) -> Resource | None:
        return None


def terraform(text: str, name: str = "main.tf") -> tuple[Resource, ...]:
    parsed = parse_module({name: textwrap.dedent(text).lstrip("\n")})
    assert [e for f in parsed.values() for e in f.errors] == []
    return tuple(r for f in parsed.values() for r in f.resources)


def yaml_file(text: str, path: str = "template.yaml") -> tuple[Resource, ...]:
    parsed = parse_yaml(path, textwrap.dedent(text).lstrip("\n"))
    assert parsed.errors == ()
    return parsed.resources


def run(rule: Rule, resources: Sequence[Resource]) -> list[tuple[Resource, Violation]]:
    context = Context(tuple(resources))
    return [(r, v) for r in resources if rule.applies_to(r) for v in rule.check(r, context)]


def decided(rule: Rule, resources: Sequence[Resource]) -> list[Violation]:
    return [v for _, v in run(rule, resources) if not v.undecided]


def lines(rule: Rule, resources: Sequence[Resource]) -> list[int]:
    return sorted(v.line for v in decided(rule, resources))


def undecided_lines(rule: Rule, resources: Sequence[Resource]) -> list[int]:
    return sorted(v.line for _, v in run(rule, resources) if v.undecided)
