"""What the policy's rule modes, frameworks and data classification do to a review, with small
in-test rules mapped to frameworks: which rules run, which findings block, and why not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

import pytest

from bot.engine.model import Finding, Resource, Severity, Violation
from bot.engine.policy import Policy, RepositoryFacts, parse_policy
from bot.engine.review import Engine, Review, RuleSet
from bot.engine.rule import Rule, RuleContext
from bot.engine.tree import MemoryTree


def _flagged(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    node = resource.body.get("bad") or resource.body.get("spec", "bad") or resource.body.get("Properties", "Bad")
    if node is not None and node.value is True:
        yield Violation("bad is set", node.line)


def _secret(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for node in resource.body.value.values():
        if "SECRET" in str(node.value):
            yield Violation("secret word", node.line, key=str(node.line))


def _rule(rule_id: str, sources: set[str], check=_flagged) -> Rule:  # type: ignore[no-untyped-def]
    return Rule(rule_id, f"title {rule_id}", Severity.HIGH, frozenset(sources), frozenset(), "why", "fix", check)


SOURCES = {"terraform", "kubernetes", "cloudformation"}
RULES = (_rule("T-HIPAA", SOURCES), _rule("T-BOTH", SOURCES), _rule("T-PCI", SOURCES),
         _rule("T-SECRET", {"text"}, _secret))
CONTROLS = {"T-HIPAA": {"hipaa": ("164.312(b)",)}, "T-BOTH": {"hipaa": ("164.312(b)",), "soc2": ("CC7.2",)},
            "T-PCI": {"pci-dss": ("10.2.1",)}, "T-SECRET": {"hipaa": ("164.312(a)(1)",)}}


def terraform(tags: str = "") -> str:
    return f'resource "aws_thing" "t" {{\n  bad = true\n{tags}}}\n'


def scan(policy: Policy, files: dict[str, str] | None = None) -> Review:
    tree = MemoryTree(files or {"main.tf": terraform()})
    return Engine(RuleSet(RULES, CONTROLS), policy, today=dt.date(2026, 6, 1)).scan(tree)


def by_rule(review: Review) -> dict[str, Finding]:
    return {f.rule_id: f for f in review.findings}


def test_rule_modes_keep_findings_but_only_block_mode_blocks() -> None:
    policy = parse_policy("rules:\n  modes: {T-HIPAA: monitor, T-BOTH: comment}\n")
    review = scan(policy)
    found = by_rule(review)
    assert {rule: f.mode for rule, f in found.items()} == {"T-HIPAA": "monitor", "T-BOTH": "comment", "T-PCI": "block"}
    assert [rule for rule, f in found.items() if policy.blocks(f)] == ["T-PCI"]
    relaxed = parse_policy("rules:\n  modes: {T-HIPAA: monitor, T-BOTH: comment, T-PCI: comment}\n")
    assert scan(relaxed).conclusion(relaxed) == "success" and len(scan(relaxed).findings) == 3


def test_a_mode_may_name_a_rule_by_an_earlier_id() -> None:
    renamed = Rule("T-NEW", "t", Severity.HIGH, frozenset({"terraform"}), frozenset(), "why", "fix", _flagged,
                   aliases=("T-OLD",))
    review = Engine(RuleSet((renamed,), {}), parse_policy("rules:\n  modes: {T-OLD: monitor}\n")).scan(
        MemoryTree({"main.tf": terraform()}))
    assert [f.mode for f in review.findings] == ["monitor"]


def test_frameworks_limit_the_rules_evaluated_and_say_so() -> None:
    review = scan(parse_policy("frameworks: [pci-dss]\n"))
    assert sorted(by_rule(review)) == ["T-PCI"]
    assert "Only rules mapping to pci-dss were evaluated (`frameworks` in the policy): 1 of 4 rules." in review.notes
    assert sorted(by_rule(scan(parse_policy("frameworks: [soc2, pci-dss]\n")))) == ["T-BOTH", "T-PCI"]
    assert sorted(by_rule(scan(Policy()))) == ["T-BOTH", "T-HIPAA", "T-PCI"]


@pytest.mark.parametrize(("facts", "rules"), [
    (RepositoryFacts(), ["T-BOTH", "T-HIPAA", "T-PCI"]),  # no entry applies: every rule, as without frameworks
    (RepositoryFacts.of(["PHI"]), ["T-BOTH", "T-HIPAA"]),
    (RepositoryFacts.of([], {"Compliance-Scope": "PCI"}), ["T-PCI"]),
    (RepositoryFacts.of(["phi"], {"compliance-scope": ["pci", "sox"]}), ["T-BOTH", "T-HIPAA", "T-PCI"]),
    (RepositoryFacts.of([], {"compliance-scope": None}), ["T-BOTH", "T-HIPAA", "T-PCI"]),
])
def test_framework_entries_apply_by_topics_and_custom_properties(facts: RepositoryFacts, rules: list[str]) -> None:
    text = ("frameworks:\n  - {name: hipaa, when: {topics: [phi, ephi]}}\n"
            "  - name: pci-dss\n    when:\n      properties: {compliance-scope: pci}\n")
    policy = parse_policy(text)
    assert policy.needs_topics and policy.needs_properties
    assert sorted(by_rule(scan(replace(policy, facts=facts)))) == rules


CLASSIFIED = "data_classification:\n  tag: data-classification\n  frameworks: {hipaa: [phi]}\n"


@pytest.mark.parametrize(("tags", "hipaa_mode"), [
    ('  tags = {\n    data-classification = "phi"\n  }\n', "block"),
    ('  tags = {\n    Data-Classification = "PHI"\n  }\n', "block"),  # neither key nor class minds the case
    ('  tags = {\n    data-classification = "public"\n  }\n', "monitor"),
    ("", "monitor"),
    ("  tags = var.tags\n", "block"),  # not known before apply: it may be phi, so it blocks
    ('  tags = {\n    data-classification = var.class\n  }\n', "block"),
    ('  labels = {\n    data-classification = "phi"\n  }\n', "block"),  # GCP's labels
])
def test_hipaa_only_findings_block_only_on_resources_tagged_phi(tags: str, hipaa_mode: str) -> None:
    policy = parse_policy(CLASSIFIED)
    found = by_rule(scan(policy, {"main.tf": 'variable "tags" {}\nvariable "class" {}\n' + terraform(tags)}))
    assert found["T-HIPAA"].mode == hipaa_mode
    assert found["T-BOTH"].mode == "block" and found["T-PCI"].mode == "block"  # they serve other frameworks too
    if hipaa_mode == "monitor":
        assert not policy.blocks(found["T-HIPAA"])
        assert found["T-HIPAA"].mode_reason is not None
        assert found["T-HIPAA"].mode_reason.startswith(
            "hipaa findings block only on resources tagged data-classification=phi; this one has ")


def test_a_rule_serving_only_classified_frameworks_here_is_spared_too() -> None:
    """With frameworks [hipaa], T-BOTH serves HIPAA alone in this repository."""
    found = by_rule(scan(parse_policy("frameworks: [hipaa]\n" + CLASSIFIED)))
    assert {rule: f.mode for rule, f in found.items()} == {"T-HIPAA": "monitor", "T-BOTH": "monitor"}


def test_kubernetes_labels_and_cloudformation_tags_classify_too() -> None:
    manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {data-classification: phi}\nspec:\n  bad: true\n"
    template = ("Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Bad: true\n"
                "      Tags:\n        - {Key: data-classification, Value: public}\n")
    review = scan(parse_policy(CLASSIFIED), {"pod.yaml": manifest, "db.yaml": template})
    modes = {(f.path, f.rule_id): f.mode for f in review.findings}
    assert modes[("pod.yaml", "T-HIPAA")] == "block" and modes[("db.yaml", "T-HIPAA")] == "monitor"


def test_what_cannot_carry_a_tag_is_never_spared() -> None:
    review = scan(parse_policy(CLASSIFIED), {"notes.txt": "password SECRET here\n"})
    assert [(f.rule_id, f.mode) for f in review.findings] == [("T-SECRET", "block")]
