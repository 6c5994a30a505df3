"""The policy loader on hostile policies: a `Policy` that can then be used without raising, or a
`PolicyError` naming the file; never another exception, a hang or a blow-up in memory."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from bot.engine.coverage import KINDS
from bot.engine.exceptions import ExceptionSettings
from bot.engine.model import Finding, NotReviewed, Severity
from bot.engine.policy import POLICY_PATH, Policy, PolicyError, RepositoryFacts, decode_policy, parse_policy
from bot.engine.policy_merge import resolve_policy
from tests.fuzz.seeds import fuzz, mutants

FULL = """\
fail_on: high            # critical | high | medium | low
rules:
  disable: [CB-AWS-017]
  modes: {CB-AWS-020: monitor, CB-K8S-011: comment}
paths:
  ignore: ["examples/**", "**/*.md", "docs/**"]
comments:
  max: 30
drafts: false
terraform:
  var_files:
    envs/prod: [envs/prod/prod.tfvars]
    .: [common.tfvars]
regressions: notice
suppressions:
  - rule: CB-AWS-001
    path: legacy/**
    resource: aws_ebs_volume.old
    reason: "Migration tracked in OPS-12"
    expires: 2027-01-31
  - rule: "*"
    reason: accepted
not_reviewed:
  fail: [helm template, remote module]
unknown:
  fail: critical
extends: org
frameworks: [soc2, {name: hipaa, when: {topics: [phi]}}, {name: pci-dss, when: {properties: {compliance-scope: pci}}}]
data_classification:
  tag: data-classification
  frameworks: {hipaa: [phi, ephi]}
exceptions:
  approvers: [octo-org/security]
  require_expiry: true
  max_days: 90
  require_ticket: true
  ticket_pattern: "[A-Z]+-[0-9]+"
  migrate: [checkov, tfsec, trivy]
  allow_repository: true
"""
ANCHORED = """\
x-common: &why "tracked in OPS-1"
suppressions:
  - {rule: CB-AWS-001, reason: *why}
  - {rule: CB-AWS-002, reason: *why, expires: "2030-02-28"}
not_reviewed: {fail: all}
"""
SEEDS = [FULL, ANCHORED, "fail_on: low\n", "{}\n", "suppressions: []\n"]


def _bomb(levels: int, width: int = 10, where: str = "fail_on") -> str:
    """A billion laughs: each level an array of `width` aliases of the one before."""
    lines = ["x0: &a0 [" + ", ".join(['"aaaaaaaaaa"'] * width) + "]"]
    lines += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join([*lines, f"{where}: *a{levels - 1}"]) + "\n"


KEYS = st.sampled_from(["fail_on", "rules", "disable", "paths", "ignore", "comments", "max", "drafts",
                        "terraform", "var_files", "regressions", "suppressions", "rule", "path", "resource",
                        "reason", "expires", "not_reviewed", "fail", "unknown", "all", ".", "extends", "modes",
                        "frameworks", "name", "when", "topics", "properties", "data_classification", "tag",
                        "ticket", "exceptions", "allow_repository", "approvers", "require_expiry", "max_days",
                        "require_ticket", "ticket_pattern", "migrate", "x-anchor"])
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-2, 2**70), st.floats(allow_nan=True), st.text(max_size=12),
                   st.dates(), st.datetimes(), st.sampled_from(["critical", "high", "low", "all", "CB-AWS-001",
                                                                "**", "2027-01-31", "notice", "block", *KINDS,
                                                                "org", "monitor", "comment", "hipaa", "pci-dss",
                                                                "phi", "octo-org/security"]))
VALUES = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.one_of(KEYS, SCALAR), inner, max_size=4)),
                      max_leaves=20)


def _finding(path: str = "legacy/a.tf", resource: str | None = "aws_ebs_volume.old") -> Finding:
    return Finding("CB-AWS-001", "title", Severity.HIGH, path, 1, 1, resource, "message", "fix")


def _use(policy: Policy) -> None:
    """What the review does with a policy: a bad one must have failed to load, not fail here."""
    finding = _finding()
    policy.suppression_for(finding, today=dt.date(2028, 1, 1), aliases=("CB-OLD-1",))
    policy.suppression_for(_finding("x/y.tf", None))
    policy.blocks(finding)
    policy.ignores("examples/a/main.tf")
    policy.fails_unknown(Severity.MEDIUM)
    for kind in sorted(KINDS):
        policy.fails_for(NotReviewed("a.yaml", None, kind, "why"))
    assert 0 <= policy.max_comments <= 100
    policy.mode_for("CB-AWS-001", ("CB-OLD-1",))
    facts = RepositoryFacts.of(["phi"], {"compliance-scope": ["pci"], "tier": None})
    for org, repo in ((policy, policy), (policy, Policy()), (Policy(), policy)):  # a merge never raises either
        resolved = resolve_policy(repo, org, facts)
        assert all(p.message and p.source for p in resolved.problems)
        assert resolved.policy.active_frameworks is None or resolved.policy.active_frameworks
    settings = ExceptionSettings.from_mapping(policy.exceptions_settings)  # validated when the policy loaded
    settings.ticket_problem("OPS-12")
    settings.expiry_problem(dt.date(2030, 1, 1), dt.date(2028, 1, 1))


def _load(text: str) -> None:
    try:
        policy = parse_policy(text)
    except PolicyError as exc:
        assert str(exc).startswith(POLICY_PATH)
        return
    _use(policy)


@fuzz(ci=200)
@given(mutants(SEEDS))
@example(_bomb(9)).via("an alias bomb of 10**9 strings as fail_on: 100 s and 14 GB before, refused at once")
@example(_bomb(9, where="suppressions")).via("alias bomb of suppressions")
@example("suppressions:\n  - {rule: x, reason: y, expires: 2099-01-31 10:00:00}\n")
@example("suppressions:\n  - {rule: x, reason: y, expires: 2027-01-51}\n").via("found by atheris: ValueError")
@example("[" * 10_000)
@example("a: " + "[" * 10_000 + "]" * 10_000)
def test_mutated_policies_load_or_raise_policy_error(text: str) -> None:
    _load(text)


@fuzz(ci=200)
@given(st.one_of(VALUES, st.dictionaries(KEYS, VALUES, max_size=6)))
@example({"unknown": {"fail_on": None, None: None}}).via("sorting null and text keys raised TypeError")
def test_generated_policies_load_or_raise_policy_error(value: Any) -> None:
    try:
        text = yaml.safe_dump(value, allow_unicode=True)
    except (yaml.YAMLError, ValueError):
        return
    _load(text)


@fuzz(ci=100)
@given(st.binary(max_size=200), mutants(SEEDS, most=1).map(lambda s: s.encode("utf-8")),
       st.integers(0, 250), st.integers(0, 255))
@example(b"", b"fail_on: high\n", 3, 0xFF)
def test_policy_bytes_decode_or_raise_policy_error(noise: bytes, seed: bytes, at: int, byte: int) -> None:
    for data in (noise, seed[:at] + bytes([byte]) + seed[at:]):
        try:
            text = decode_policy(data)
        except PolicyError:
            continue
        _load(text)
