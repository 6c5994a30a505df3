"""The organisation policy beneath a repository's: the repository may only tighten. Each way to
loosen is refused with the repository file's line, and the organisation's value stays in force."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.engine.model import Finding, NotReviewed, Severity
from bot.engine.policy import POLICY_PATH, Policy, RepositoryFacts, parse_policy
from bot.engine.policy_merge import ResolvedPolicy, org_policy_source, resolve_policy

ORG_SOURCE = org_policy_source("octo-org")


def org(text: str) -> Policy:
    return parse_policy(text, source=ORG_SOURCE)


def merged(org_text: str, repo_text: str, facts: RepositoryFacts | None = None) -> ResolvedPolicy:
    return resolve_policy(parse_policy(repo_text), org(org_text), facts)


def finding(rule: str = "CB-AWS-001", severity: Severity = Severity.MEDIUM) -> Finding:
    return Finding(rule, "t", severity, "legacy/a.tf", 1, 1, "aws_ebs_volume.old", "m", "fix")


# (organisation policy, repository policy, the problem: line and message, what stays in force)
LOOSENING = [
    ("fail_on: medium\n", "extends: org\nfail_on: high\n",
     (2, "fail_on: high would block less than the organisation policy's medium; a repository may only lower it"),
     lambda p: p.fail_on is Severity.MEDIUM),
    ("", "fail_on: critical\n",  # silent organisation: its default (everything blocks) is the floor
     (1, "fail_on: critical would block less than the organisation policy's low; a repository may only lower it"),
     lambda p: p.fail_on is Severity.LOW),
    ("rules:\n  disable: [CB-AWS-017]\n", "rules:\n  disable:\n    - CB-AWS-017\n    - CB-AWS-001\n",
     (4, "rules.disable: CB-AWS-001 is required by the organisation policy"),
     lambda p: p.disabled_rules == {"CB-AWS-017"}),
    ("rules:\n  modes: {CB-AWS-017: comment}\n", "rules:\n  modes:\n    CB-AWS-017: monitor\n",
     (3, ("rules.modes: CB-AWS-017 cannot be monitor: the organisation policy sets it to comment "
         "(a repository may only go monitor → comment → block)")),
     lambda p: p.mode_for("CB-AWS-017") == "comment"),
    ("fail_on: low\n", "rules:\n  modes: {CB-AWS-001: comment}\n",
     (2, ("rules.modes: CB-AWS-001 cannot be comment: the organisation policy sets it to block "
         "(a repository may only go monitor → comment → block)")),
     lambda p: p.mode_for("CB-AWS-001") == "block" and p.blocks(finding())),
    ("paths:\n  ignore: [examples/**]\n", "paths:\n  ignore:\n    - examples/old/**\n    - legacy/**\n",
     (4, ("paths.ignore: 'legacy/**' is not ignored by the organisation policy; a repository may not ignore more "
         "than it does")),
     lambda p: p.ignore_paths == ("examples/**",) and not p.ignores("legacy/a.tf")),
    ("fail_on: low\n", "regressions: notice\n",
     (1, "regressions: notice would let weakened controls pass where the organisation policy blocks them"),
     lambda p: p.regressions == "block"),
    ("unknown: {fail: high}\n", "unknown:\n  fail: critical\n",
     (2, "unknown.fail: critical would fail fewer unknown values than the organisation policy's high"),
     lambda p: p.fail_unknown is Severity.HIGH),
    ("drafts: true\n", "drafts: false\n",
     (1, "drafts: false would leave drafts unreviewed that the organisation policy reviews"),
     lambda p: p.review_drafts),
    ("fail_on: low\n", "secrets:\n  show_prefix: true\n",
     (2, "secrets.show_prefix: the organisation policy masks found secrets whole"),
     lambda p: not p.show_secret_prefix),
    ("fail_on: low\n", "suppressions:\n  - rule: CB-AWS-001\n    reason: accepted\n",
     (2, ("suppressions: CB-AWS-001 is not suppressed: the organisation policy does not allow repository exceptions "
         "(exceptions.allow_repository: true in its policy would)")),
     lambda p: p.suppressions == () and p.suppression_for(finding()) is None),
    ("exceptions: {allow_repository: false}\n", "exceptions:\n  allow_repository: true\n",
     (1, "exceptions: these settings are the organisation policy's; a repository cannot change them"),
     lambda p: not p.allows_repository_exceptions),
    ("fail_on: low\n", "frameworks: [hipaa]\n",
     (1, ("frameworks: the organisation policy evaluates every rule here; a repository may add frameworks to the "
         "organisation's, not limit them")),
     lambda p: p.active_frameworks is None),
    ("fail_on: low\n", "data_classification:\n  tag: data-classification\n  frameworks: {hipaa: [phi]}\n",
     (1, ("data_classification: the organisation policy blocks findings on every resource; a repository cannot make "
         "some of them notices")),
     lambda p: p.data_classification is None),
    ("data_classification: {tag: data-classification, frameworks: {hipaa: [phi]}}\n",
     "data_classification:\n  tag: sensitivity\n  frameworks: {hipaa: [phi]}\n",
     (2, "data_classification.tag: the organisation policy reads the tag 'data-classification', not 'sensitivity'"),
     lambda p: p.data_classification is not None and p.data_classification.tag == "data-classification"),
    ("data_classification: {tag: data-classification, frameworks: {hipaa: [phi]}}\n",
     "data_classification:\n  tag: data-classification\n  frameworks:\n    hipaa: [phi]\n    pci-dss: [pci]\n",
     (5, ("data_classification.frameworks: the organisation policy blocks pci-dss findings on every resource; a "
         "repository cannot limit them to some")),
     lambda p: p.data_classification is not None and set(p.data_classification.frameworks) == {"hipaa"}),
]


@pytest.mark.parametrize(("org_text", "repo_text", "problem", "in_force"), LOOSENING,
                         ids=[r[1].split(":")[0] + str(i) for i, r in enumerate(LOOSENING)])
def test_every_way_to_loosen_is_refused_with_its_line(org_text: str, repo_text: str, problem: tuple[int, str],
                                                       in_force: object) -> None:
    resolved = merged(org_text, repo_text)
    assert [(p.source, p.line, p.message) for p in resolved.problems] == [(POLICY_PATH, *problem)]
    assert str(resolved.problems[0]) == f"{POLICY_PATH}: line {problem[0]}: {problem[1]}"
    assert callable(in_force) and in_force(resolved.policy)


def test_tightening_is_taken_without_a_problem() -> None:
    resolved = merged(
        "fail_on: high\nrules:\n  disable: [CB-AWS-017, CB-AWS-020]\n  modes: {CB-K8S-011: monitor, CB-AWS-030: monitor}\n"
        "paths:\n  ignore: [examples/**]\nregressions: notice\nunknown: {fail: critical}\nnot_reviewed: {fail: [bicep]}\n"
        "secrets: {show_prefix: true}\ncomments: {max: 10}\n",
        "extends: org\nfail_on: medium\nrules:\n  disable: [CB-AWS-017]\n  modes: {CB-K8S-011: comment, CB-AWS-030: block}\n"
        "paths:\n  ignore: [examples/old/**]\nregressions: block\nunknown: {fail: high}\n"
        "not_reviewed: {fail: [helm template]}\ndrafts: true\nsecrets: {show_prefix: false}\ncomments: {max: 3}\n"
        "terraform:\n  var_files:\n    envs/prod: [envs/prod/prod.tfvars]\n")
    assert resolved.problems == ()
    policy = resolved.policy
    assert policy.fail_on is Severity.MEDIUM and policy.fail_unknown is Severity.HIGH
    assert policy.disabled_rules == {"CB-AWS-017", "CB-AWS-020"}  # re-enabling is not disabling: the org's stay
    assert policy.mode_for("CB-K8S-011") == "comment" and policy.mode_for("CB-AWS-030") == "block"
    assert policy.ignore_paths == ("examples/**",) and policy.regressions == "block"
    assert policy.fail_not_reviewed == {"bicep", "helm template"}
    assert policy.review_drafts and not policy.show_secret_prefix
    assert policy.max_comments == 3 and policy.var_files == {"envs/prod": ("envs/prod/prod.tfvars",)}
    assert policy.fails_for(NotReviewed("a.bicep", None, "bicep", "r"))


def test_a_silent_repository_takes_the_organisation_settings() -> None:
    policy = merged("fail_on: high\nrules:\n  modes: {CB-AWS-017: monitor}\ncomments: {max: 7}\ndrafts: true\n"
                    "regressions: notice\nsecrets: {show_prefix: true}\n", "extends: org\n").policy
    assert (policy.fail_on, policy.mode_for("CB-AWS-017"), policy.max_comments, policy.review_drafts) == (
        Severity.HIGH, "monitor", 7, True)
    assert policy.regressions == "notice" and policy.show_secret_prefix


def test_every_loosening_in_one_file_is_named_each_on_its_line() -> None:
    resolved = merged("fail_on: medium\n", "fail_on: critical\nrules:\n  disable: [CB-AWS-001, CB-AWS-002]\n"
                                           "regressions: notice\n")
    assert [(p.line, p.message.split(":")[0]) for p in resolved.problems] == [
        (1, "fail_on"), (3, "rules.disable"), (3, "rules.disable"), (4, "regressions")]


def test_repository_suppressions_apply_where_the_organisation_allows_them() -> None:
    resolved = merged("exceptions:\n  allow_repository: true\n  require_expiry: true\n"
                      "suppressions:\n  - {rule: CB-AWS-002, reason: org-wide}\n",
                      "suppressions:\n  - {rule: CB-AWS-001, reason: migrating, expires: 2030-01-31}\n")
    assert resolved.problems == ()
    assert [s.rule for s in resolved.policy.suppressions] == ["CB-AWS-002", "CB-AWS-001"]
    found = resolved.policy.suppression_for(finding(), today=dt.date(2029, 1, 1))
    assert found is not None and found.reason == "migrating"
    assert resolved.policy.exceptions_settings == {"allow_repository": True, "require_expiry": True}


def test_frameworks_may_be_added_to_the_organisations_never_limited() -> None:
    added = merged("frameworks: [soc2]\n", "frameworks: [hipaa]\n")
    assert added.problems == () and added.policy.active_frameworks == frozenset({"soc2", "hipaa"})
    inherited = merged("frameworks: [soc2, {name: hipaa, when: {topics: [phi]}}]\n", "extends: org\n",
                       RepositoryFacts.of(["phi", "payments"]))
    assert inherited.policy.active_frameworks == frozenset({"soc2", "hipaa"})
    # The organisation reviews every rule of this repository (its one framework is for phi repositories).
    limiting = merged("frameworks: [{name: hipaa, when: {topics: [phi]}}]\n", "frameworks: [pci-dss]\n")
    assert [p.line for p in limiting.problems] == [1] and limiting.policy.active_frameworks is None
    scoped = merged("frameworks: [{name: hipaa, when: {topics: [phi]}}]\n", "frameworks: [pci-dss]\n",
                    RepositoryFacts.of(["phi"]))
    assert scoped.problems == () and scoped.policy.active_frameworks == frozenset({"hipaa", "pci-dss"})


def test_data_classification_may_add_classes_under_the_organisations_tag() -> None:
    resolved = merged("data_classification: {tag: data-classification, frameworks: {hipaa: [phi]}}\n",
                      "data_classification: {tag: Data-Classification, frameworks: {hipaa: [ephi]}}\n")
    assert resolved.problems == ()
    classification = resolved.policy.data_classification
    assert classification is not None and dict(classification.frameworks) == {"hipaa": {"phi", "ephi"}}


def test_no_organisation_policy_leaves_the_repository_alone_unless_it_extends_one() -> None:
    alone = resolve_policy(parse_policy("fail_on: critical\n"), None)
    assert alone.problems == () and alone.policy.fail_on is Severity.CRITICAL
    missing = resolve_policy(parse_policy("fail_on: critical\nextends: org\n"), None, None, "octo-org/.github")
    assert [(p.line, p.message.split(",")[0]) for p in missing.problems] == [(2, "extends: org")]
    assert "no organisation policy was found in octo-org/.github" in missing.problems[0].message
    assert resolve_policy(None, None).policy == Policy()


def test_without_a_repository_policy_the_organisation_applies_alone() -> None:
    resolved = resolve_policy(None, org("fail_on: high\n"), RepositoryFacts.of(["x"]))
    assert resolved.problems == () and resolved.policy.fail_on is Severity.HIGH
    assert resolved.policy.facts.topics == {"x"}
    assert resolved.notes == ((f"The organisation policy ({ORG_SOURCE}) applies; this repository has no policy of "
                              "its own."),)


def test_an_organisation_policy_cannot_extend_and_its_problem_names_its_own_file() -> None:
    resolved = resolve_policy(None, org("fail_on: high\nextends: org\n"))
    assert [(p.source, p.line) for p in resolved.problems] == [(ORG_SOURCE, 2)]


def test_a_repository_without_extends_is_still_beneath_the_organisation() -> None:
    resolved = merged("fail_on: medium\n", "fail_on: critical\n")
    assert resolved.policy.fail_on is Severity.MEDIUM and len(resolved.problems) == 1
    assert resolved.notes[0].endswith("(`extends: org` in this repository's policy says so).")
