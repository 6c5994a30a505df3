"""Exceptions under the policy's `exceptions:` rules, through the engine: an inline exception the
change adds counts only with an approval; without approvers none counts; incomplete, unknown,
expired, too-long-lived and unused exceptions are blocking CB-EXC findings; migrated Checkov,
tfsec and Trivy comments; the policy's own suppressions and changes to them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import jsonschema
import pytest

from bot.engine.exceptions import (
    EXCEPTION_RULES,
    EXPIRED,
    HONOURED,
    IGNORED,
    INVALID,
    NEEDS_APPROVAL,
    SOURCES,
    STATUSES,
    UNUSED,
    Approval,
    ExceptionRecord,
)
from bot.engine.model import Finding
from bot.engine.policy import parse_policy
from bot.engine.review import Engine, Review
from bot.engine.tree import MemoryTree
from bot.report.json_report import report_schema, review_json
from bot.report.sarif import review_sarif
from rules.registry import default_rule_set
from tests.changes import diffs_between, trees

TODAY = dt.date(2026, 6, 1)
ALICE = Approval("sec-alice", "2026-06-01T09:30:00Z", "octo-org/security", 2100000001)
APPROVERS = "exceptions:\n  approvers: [octo-org/security]\n"
RULES = default_rule_set()
BASE = 'resource "aws_ebs_volume" "data" {\n  availability_zone = "eu-west-1a"\n  size = 10\n}\n'


def volume(comment: str = "", above: str = "") -> str:
    """The base volume made unencrypted, with `comment` after `encrypted = false` (line 4) or the
    line `above` it (then `encrypted = false` is line 5)."""
    lines = BASE.splitlines(keepends=True)
    added = (f"  {above}\n" if above else "") + f"  encrypted = false{'  ' + comment if comment else ''}\n"
    return "".join(lines[:3]) + added + lines[3]


def review(head: Mapping[str, str], policy: str = APPROVERS, approvals: Sequence[Approval] = (),
           base: Mapping[str, str] | None = None, today: dt.date = TODAY) -> Review:
    base = {"main.tf": BASE} if base is None else base
    engine = Engine(RULES, parse_policy(policy), today=today, approvals=approvals)
    return engine.review_change(diffs_between(base, head), *trees(base, head))


def blocking(result: Review, policy: str = APPROVERS) -> list[tuple[str, int]]:
    parsed = parse_policy(policy)
    return [(f.rule_id, f.line) for f in result.findings if parsed.blocks(f)]


def finding(result: Review, rule_id: str) -> Finding:
    (found,) = [f for f in result.findings if f.rule_id == rule_id]
    return found


def record(result: Review) -> ExceptionRecord:
    (found,) = result.exceptions
    return found


MARK = 'compliance:ignore CB-AWS-001 reason="scratch data only" until=2026-08-01'


def test_an_exception_the_change_adds_waits_for_an_approval_naming_the_approver_teams() -> None:
    result = review({"main.tf": volume(f"# {MARK}")})
    assert blocking(result) == [("CB-AWS-001", 4), ("CB-EXC-001", 4)]
    needs = finding(result, "CB-EXC-001")
    assert "@octo-org/security" in needs.message and "scratch data only" in needs.message
    assert needs.severity.value == "critical" and needs.resource == "aws_ebs_volume.data"
    assert (record(result).status, record(result).added, record(result).approver) == (NEEDS_APPROVAL, True, None)
    assert result.conclusion(parse_policy(APPROVERS)) == "failure"


def test_an_approval_at_the_head_makes_it_count_and_is_recorded() -> None:
    result = review({"main.tf": volume(f"# {MARK}")}, approvals=[ALICE])
    assert blocking(result) == []
    suppressed = finding(result, "CB-AWS-001")
    assert suppressed.suppressed and "approved by sec-alice (octo-org/security) at 2026-06-01T09:30:00Z" in (
        suppressed.suppression_reason or "")
    honoured = record(result)
    assert (honoured.status, honoured.approver, honoured.approved_at) == (HONOURED, "sec-alice", "2026-06-01T09:30:00Z")
    assert honoured.findings == (suppressed.fingerprint,) and honoured.expires == dt.date(2026, 8, 1)


def test_with_no_approvers_no_inline_exception_is_honoured() -> None:
    for approvals in ((), (ALICE,)):
        result = review({"main.tf": volume(f"# {MARK}")}, policy="", approvals=approvals)
        assert blocking(result, "") == [("CB-AWS-001", 4)]
        assert record(result).status == IGNORED
        assert any(n.startswith("Inline exception ignored: no approvers configured") for n in result.notes)


def test_the_comment_above_the_line_and_anywhere_in_the_resource_counts() -> None:
    above = review({"main.tf": volume(above=f"# {MARK}")}, approvals=[ALICE])
    assert finding(above, "CB-AWS-001").line == 5 and finding(above, "CB-AWS-001").suppressed
    inside = 'resource "aws_ebs_volume" "data" {\n  # ' + MARK + '\n  availability_zone = "eu-west-1a"\n' \
             '  size = 10\n  encrypted = false\n}\n'
    assert finding(review({"main.tf": inside}, approvals=[ALICE]), "CB-AWS-001").suppressed
    other = volume() + 'resource "aws_ebs_volume" "more" {\n  availability_zone = "a"\n  size = 1\n' \
                       f'  encrypted = false  # {MARK}\n}}\n'
    result = review({"main.tf": other}, approvals=[ALICE])
    assert [(f.line, f.suppressed) for f in result.findings] == [(4, False), (9, True)]  # only its own resource


def test_an_exception_already_in_the_repository_counts_without_a_new_approval() -> None:
    merged = volume(f"# {MARK}")
    result = review({"main.tf": merged.replace("size = 10", "size = 20")}, base={"main.tf": merged})
    assert blocking(result) == []
    assert (record(result).status, record(result).added, record(result).approver) == (HONOURED, False, None)


def test_an_exception_already_there_that_covers_nothing_in_this_change_is_not_mentioned() -> None:
    merged = volume() + '# compliance:ignore CB-AWS-002 reason="old database"\n'
    result = review({"main.tf": merged.replace("size = 10", "size = 20")}, base={"main.tf": merged}, policy="")
    assert result.exceptions == () and not any("exception" in note for note in result.notes)


def test_editing_an_exception_needs_a_new_approval() -> None:
    merged = volume(f"# {MARK}")
    result = review({"main.tf": merged.replace("until=2026-08-01", "until=2026-08-30")}, base={"main.tf": merged})
    assert blocking(result) == [("CB-AWS-001", 4), ("CB-EXC-001", 4)]


def test_an_expired_exception_brings_its_finding_back() -> None:
    merged = volume(f"# {MARK}")
    later = review({"main.tf": merged.replace("size = 10", "size = 20")}, base={"main.tf": merged},
                   today=dt.date(2026, 8, 2))
    assert blocking(later) == [("CB-AWS-001", 4)]  # not the change's doing: no CB-EXC finding
    assert record(later).status == EXPIRED
    assert "main.tf:4: it expired on 2026-08-01; its finding is back." in later.notes[-1]


@pytest.mark.parametrize(
    ("comment", "policy", "rule_id", "words"),
    [
        ("# compliance:ignore CB-AWS-001 until=2026-08-01", APPROVERS, "CB-EXC-002", "gives no reason"),
        ('# compliance:ignore CB-AWS-001 reason="x" until=2026-13-01', APPROVERS, "CB-EXC-003",
         "`until=2026-13-01` is not a date"),
        ('# compliance:ignore CB-AWS-001 reason="x" until=soon', APPROVERS, "CB-EXC-003", "`until=soon` is not a date"),
        ('# compliance:ignore CB-AWS-001 reason="x" until=2026-05-31', APPROVERS, "CB-EXC-003", "expired on 2026-05-31"),
        ('# compliance:ignore CB-AWS-001 reason="x"', APPROVERS + "  require_expiry: true\n", "CB-EXC-003",
         "no expiry date"),
        ('# compliance:ignore CB-AWS-001 reason="x" until=2026-12-01', APPROVERS + "  max_days: 90\n", "CB-EXC-003",
         "more than 90 days ahead"),
        ('# compliance:ignore CB-AWS-001 reason="x"', APPROVERS + "  require_ticket: true\n", "CB-EXC-004", "no ticket"),
        ('# compliance:ignore CB-AWS-001 reason="x" ticket=ops12', APPROVERS + '  ticket_pattern: "[A-Z]+-[0-9]+"\n',
         "CB-EXC-004", "does not match"),
        ('# compliance:ignore CB-AWS-999 reason="x"', APPROVERS, "CB-EXC-005", "`CB-AWS-999`, which is no rule"),
        ("# compliance:ignore", APPROVERS, "CB-EXC-005", "names no rule"),
        ('# compliance:ignore CB-AWS-002 reason="x"', APPROVERS, "CB-EXC-006", "matches no CB-AWS-002 finding"),
        ('# compliance:ignore CB-AWS-001 reason="x" owner=me', APPROVERS, "CB-EXC-002", "`owner=` is not a setting"),
    ],
)
def test_an_incomplete_or_pointless_exception_is_a_blocking_finding_and_never_honoured(
    comment: str, policy: str, rule_id: str, words: str,
) -> None:
    result = review({"main.tf": volume(comment)}, policy=policy, approvals=[ALICE])
    raised = finding(result, rule_id)
    assert words in raised.message and raised.line == 4 and parse_policy(policy).blocks(raised)
    if rule_id != "CB-EXC-006":  # an unused one has no finding to leave unsuppressed
        assert ("CB-AWS-001", 4) in blocking(result, policy)
    assert record(result).status in (INVALID, EXPIRED, UNUSED)


def test_a_complete_exception_within_the_policy_limits_counts() -> None:
    policy = APPROVERS + '  require_expiry: true\n  max_days: 90\n  require_ticket: true\n  ticket_pattern: "OPS-[0-9]+"\n'
    result = review({"main.tf": volume(f"# {MARK} ticket=OPS-12")}, policy=policy, approvals=[ALICE])
    assert blocking(result, policy) == [] and record(result).ticket == "OPS-12"


def test_the_rules_disabled_in_the_policy_raise_no_exception_findings() -> None:
    policy = APPROVERS + "rules:\n  disable: [CB-EXC-006]\n"
    result = review({"main.tf": volume('# compliance:ignore CB-AWS-002 reason="x"')}, policy=policy)
    assert blocking(result, policy) == [("CB-AWS-001", 4)]


def test_a_policy_wildcard_suppression_never_suppresses_an_exception_finding() -> None:
    policy = APPROVERS + 'suppressions:\n  - {rule: "*", path: other/**, reason: "sandbox"}\n'
    result = review({"main.tf": volume(f"# {MARK}")}, policy=policy)
    assert ("CB-EXC-001", 4) in blocking(result, policy)


@pytest.mark.parametrize(
    ("comment", "tool"),
    [
        ("#checkov:skip=CKV_AWS_3:scratch data only", "checkov"),
        ("#tfsec:ignore:aws-ec2-enable-volume-encryption scratch data only", "tfsec"),
        ("#tfsec:ignore:aws-ebs-enable-volume-encryption:exp:2026-08-01 scratch data only", "tfsec"),
        ("#trivy:ignore:AVD-AWS-0026 scratch data only", "trivy"),
    ],
)
def test_migrated_comments_count_for_our_equivalent_rule_under_the_same_rules(comment: str, tool: str) -> None:
    policy = APPROVERS + f"  migrate: [{tool}]\n"
    pending = review({"main.tf": volume(comment)}, policy=policy)
    assert blocking(pending, policy) == [("CB-AWS-001", 4), ("CB-EXC-001", 4)]
    approved = review({"main.tf": volume(comment)}, policy=policy, approvals=[ALICE])
    assert blocking(approved, policy) == []
    assert (record(approved).source, record(approved).rule_id) == (tool, "CB-AWS-001")
    unmigrated = review({"main.tf": volume(comment)}, approvals=[ALICE])  # migrate does not name the tool
    assert blocking(unmigrated) == [("CB-AWS-001", 4)] and unmigrated.exceptions == ()


def test_a_migrated_comment_for_a_check_we_have_no_equivalent_of_is_left_alone() -> None:
    policy = APPROVERS + "  migrate: [checkov, tfsec]\n"
    text = volume("#checkov:skip=CKV_AWS_999:other tool's business") + "# tfsec:ignore:aws-unknown-check\n"
    result = review({"main.tf": text}, policy=policy)
    assert blocking(result, policy) == [("CB-AWS-001", 4)] and result.exceptions == ()


def test_a_migrated_comment_without_a_reason_is_a_finding_when_it_would_count() -> None:
    policy = APPROVERS + "  migrate: [trivy]\n"
    result = review({"main.tf": volume("#trivy:ignore:AVD-AWS-0026")}, policy=policy, approvals=[ALICE])
    assert "gives no reason" in finding(result, "CB-EXC-002").message


def test_a_policy_suppression_the_exception_rules_refuse_is_a_finding_and_suppresses_nothing() -> None:
    policy = APPROVERS + "  require_ticket: true\nsuppressions:\n" \
             '  - {rule: CB-AWS-001, reason: "legacy"}\n  - {rule: CB-AWS-998, reason: "typo", ticket: OPS-1}\n'
    result = review({"main.tf": volume()}, policy=policy)
    assert blocking(result, policy) == [("CB-EXC-004", 1), ("CB-EXC-005", 1), ("CB-AWS-001", 4)]
    ticket = finding(result, "CB-EXC-004")
    assert ticket.path == ".github/compliance.yml" and "`suppressions[0]` (CB-AWS-001)" in ticket.message
    assert "no ticket (the policy requires `ticket:`)" in ticket.message
    assert {r.status for r in result.exceptions} == {INVALID}


def test_a_policy_suppression_that_applies_is_recorded_and_one_expired_brings_its_finding_back() -> None:
    policy = APPROVERS + 'suppressions:\n  - {rule: CB-AWS-001, reason: "legacy", expires: 2026-06-10, ticket: OPS-1}\n'
    used = review({"main.tf": volume()}, policy=policy)
    assert blocking(used, policy) == []
    assert (record(used).source, record(used).status, record(used).expires_within(TODAY)) == ("policy", HONOURED, 9)
    expired = review({"main.tf": volume()}, policy=policy, today=dt.date(2026, 6, 11))
    assert blocking(expired, policy) == [("CB-AWS-001", 4)] and record(expired).status == EXPIRED
    assert "expired on 2026-06-10: 1 finding(s) it suppressed are back" in expired.notes[-1]


def test_a_policy_suppression_expiring_soon_is_listed_even_when_it_matched_nothing() -> None:
    policy = APPROVERS + 'suppressions:\n  - {rule: CB-AWS-002, reason: "db migration", expires: 2026-06-14}\n'
    result = review({"main.tf": volume()}, policy=policy)
    assert (record(result).status, record(result).expires_within(TODAY)) == ("active", 13)


def test_changing_the_policys_exceptions_in_the_pull_request_needs_an_approval() -> None:
    base = {"main.tf": BASE, ".github/compliance.yml": APPROVERS}
    widened = APPROVERS + 'suppressions:\n  - {rule: CB-AWS-001, reason: "all volumes are scratch"}\n'
    head = {"main.tf": BASE, ".github/compliance.yml": widened}
    pending = review(head, base=base)
    assert blocking(pending) == [("CB-EXC-001", 3)]  # the first line the change adds to the policy
    assert "changes the policy's `suppressions` or `exceptions`" in finding(pending, "CB-EXC-001").message
    approved = review(head, base=base, approvals=[ALICE])
    assert blocking(approved) == [] and record(approved).approver == "sec-alice"
    other = {"main.tf": BASE, ".github/compliance.yml": APPROVERS + "fail_on: high\n"}
    assert review(other, base=base).exceptions == ()  # other settings are not exceptions
    broken = review({"main.tf": BASE, ".github/compliance.yml": "exceptions: [\n"}, base=base)
    assert blocking(broken) == [("CB-EXC-001", 1)]  # a policy that does not parse counts as changed


def test_a_scan_takes_every_exception_as_already_there() -> None:
    engine = Engine(RULES, parse_policy(APPROVERS), today=TODAY)
    result = engine.scan(MemoryTree({"main.tf": volume(f"# {MARK}")}))
    assert [(f.rule_id, f.suppressed) for f in result.findings] == [("CB-AWS-001", True)]


def test_the_json_report_and_sarif_carry_exceptions_and_their_rules() -> None:
    policy = parse_policy(APPROVERS)
    pending = review({"main.tf": volume(f"# {MARK}")})
    data = review_json(pending, policy)
    jsonschema.validate(data, report_schema())
    (entry,) = data["exceptions"]
    assert (entry["status"], entry["approver"], entry["expires"], entry["added"]) == (
        "needs_approval", None, "2026-08-01", True)
    approved = review_json(review({"main.tf": volume(f"# {MARK}")}, approvals=[ALICE]), policy)
    jsonschema.validate(approved, report_schema())
    assert (approved["exceptions"][0]["approver"], approved["exceptions"][0]["approved_at"]) == (
        "sec-alice", "2026-06-01T09:30:00Z")
    sarif = review_sarif(pending, RULES.rules, policy)
    assert "CB-EXC-001" in {d["id"] for d in sarif["runs"][0]["tool"]["driver"]["rules"]}


def test_the_report_schema_names_every_source_and_status_and_the_rules_are_documented() -> None:
    exception = report_schema()["$defs"]["exception"]["properties"]
    assert tuple(exception["source"]["enum"]) == SOURCES and tuple(exception["status"]["enum"]) == STATUSES
    assert [rule.id for rule in EXCEPTION_RULES] == [f"CB-EXC-00{i}" for i in range(1, 7)]
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert all(rule.id in readme for rule in EXCEPTION_RULES)
