"""The regression pack beyond its fixtures: suggestions that restore the base, placement of a
deleted attribute's finding, weakenings that add lines or come through a variable, controls and
severities shared with the minimum rules, and no crash on any pair of fixture trees."""

from __future__ import annotations

import pytest

from bot.engine.model import Finding, Severity
from bot.engine.policy import parse_policy
from bot.engine.review import Engine, Review, RuleSet
from bot.report.placement import placement
from rules.registry import all_rules, default_controls
from tests.changes import diffs_between, trees
from tests.rules.fixtures_test import FIXTURES, read_tree

BY_ID = {rule.id: rule for rule in all_rules()}
PACK = {rule.id: rule for rule in all_rules() if rule.id.startswith("CB-REG-")}
CHANGE_FIXTURES = sorted(rule_id for rule_id in PACK if (FIXTURES / rule_id / "base").is_dir())


def review(base: dict[str, str], head: dict[str, str], *rule_ids: str, policy_text: str | None = None) -> Review:
    rules = [BY_ID[r] for r in rule_ids] if rule_ids else list(PACK.values())
    engine = Engine(RuleSet(rules, default_controls()), parse_policy(policy_text))
    head_tree, base_tree = trees(base, head)
    return engine.review_change(diffs_between(base, head), head_tree, base_tree)


def fixture(rule_id: str) -> tuple[dict[str, str], dict[str, str]]:
    directory = FIXTURES / rule_id
    return read_tree(directory / "base"), read_tree(directory / "head")


# --- the pack as data ---------------------------------------------------------------------------


def test_pack_is_numbered_without_gaps_and_every_rule_is_a_regression_rule() -> None:
    assert list(PACK) == [f"CB-REG-{n:03d}" for n in range(1, len(PACK) + 1)]
    for rule in PACK.values():
        assert rule.regression and rule.types and rule.sources <= {"terraform", "cloudformation"}, rule.id
    assert not any(rule.regression for rule in all_rules() if rule.id not in PACK)


# The minimum rules whose controls a regression rule guards: it maps to their control ids only
# and takes the severity of the first.
MINIMUMS = {
    # (the CloudFormation CB-CFN-001/002/003/004/005 are now bindings of CB-AWS-001/002/003/004/006)
    "CB-REG-001": ("CB-AWS-001", "CB-AWS-002", "CB-AWS-009", "CB-AWS-016", "CB-AWS-017", "CB-AWS-024"),
    "CB-REG-002": ("CB-AWS-006",),
    "CB-REG-003": ("CB-AWS-023",),
    "CB-REG-006": ("CB-AWS-008",),
    "CB-REG-007": ("CB-AWS-014", "CB-AWS-015"),
    "CB-REG-008": ("CB-AWS-003",),
    "CB-REG-010": ("CB-AWS-012",),
    "CB-REG-011": ("CB-AWS-004", "CB-AWS-005"),
}


@pytest.mark.parametrize("rule_id", sorted(MINIMUMS))
def test_controls_and_severity_follow_the_minimum_rules(rule_id: str) -> None:
    controls = default_controls()
    allowed: dict[str, set[str]] = {}
    for minimum in MINIMUMS[rule_id]:
        for framework, ids in controls[minimum].items():
            allowed.setdefault(framework, set()).update(ids)
    mapped = controls[rule_id]
    assert mapped and all(set(ids) <= allowed.get(framework, set()) for framework, ids in mapped.items())
    assert PACK[rule_id].severity == BY_ID[MINIMUMS[rule_id][0]].severity


# --- suggestions put the base back ------------------------------------------------------------------


def _apply(text: str, finding: Finding) -> str:
    assert finding.suggestion is not None
    lines = text.split("\n")
    return "\n".join(lines[: finding.line - 1] + finding.suggestion.split("\n") + lines[finding.end_line:])


@pytest.mark.parametrize("rule_id", CHANGE_FIXTURES)
def test_every_suggestion_restores_the_base_and_clears_the_finding(rule_id: str) -> None:
    base, head = fixture(rule_id)
    findings = [f for f in review(base, head, rule_id).findings if f.suggestion is not None]
    assert findings, f"{rule_id}: no suggestion to try"
    for finding in findings:
        patched = {**head, finding.path: _apply(head[finding.path], finding)}
        after = review(base, patched, rule_id)
        assert after.errors == (), finding.suggestion
        still = [f for f in after.findings if (f.resource, f.key) == (finding.resource, finding.key)]
        assert still == [], f"{finding.resource}: {finding.suggestion!r} did not restore the base"


@pytest.mark.parametrize("rule_id", CHANGE_FIXTURES)
def test_no_rule_crashes_on_any_fixture_change_either_way(rule_id: str) -> None:
    base, head = fixture(rule_id)
    for old, new in ((base, head), (head, base)):
        found = review(old, new).findings
        assert not [f.message for f in found if "rule failed" in f.message]


def test_a_strengthening_is_never_a_regression() -> None:
    """The reverse of a retention cut and of a CIDR widening: both got stronger."""
    base, head = fixture("CB-REG-002")
    assert [f for f in review(head, base, "CB-REG-002").findings if f.resource == "aws_cloudwatch_log_group.audit"] == []
    base, head = fixture("CB-REG-011")
    assert [f for f in review(head, base, "CB-REG-011").findings if f.resource == "aws_security_group.db"] == []


# --- what a change looks like to the rules ------------------------------------------------------------

DATABASE = """\
resource "aws_db_instance" "records" {
  identifier          = "records"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  deletion_protection = true
  storage_encrypted   = true
  kms_key_id          = aws_kms_key.data.arn
  multi_az            = true
  tags = {
    Team = "data"
  }
}
"""


def test_deleted_attributes_are_found_on_the_nearest_line_of_the_diff() -> None:
    """`deletion_protection = true` and the KMS key deleted: the base is read (lines were removed),
    the findings sit on the resource's first line and GitHub gets them on the nearest diff line."""
    head_text = DATABASE.replace("  deletion_protection = true\n", "").replace(
        "  kms_key_id          = aws_kms_key.data.arn\n", "")
    base, head = {"db/main.tf": DATABASE}, {"db/main.tf": head_text}
    (diff,) = diffs_between(base, head)
    assert diff.removed_base_lines == {6, 8} and diff.added_lines == frozenset()
    found = review(base, head).findings
    assert [(f.rule_id, f.line) for f in found] == [("CB-REG-001", 1), ("CB-REG-004", 1)]
    assert "Customer-managed KMS key removed: the database now uses the AWS-managed key" in found[0].message
    assert "Deletion protection turned off" in found[1].message
    for finding in found:
        place = placement(finding, diff)
        # the hunk's first line (three lines of context above the first deletion), not a suggestion
        assert place.nearest and place.line == 3 and not place.suggestion_fits


def test_an_added_line_can_weaken_and_the_base_is_rebuilt_from_the_patch() -> None:
    group = 'resource "aws_cloudwatch_log_group" "audit" {\n  name = "/audit"\n}\n'
    weakened = group.replace('"/audit"\n', '"/audit"\n  retention_in_days = 120\n')
    (diff,) = diffs_between({"main.tf": group}, {"main.tf": weakened})
    assert diff.removed_base_lines == frozenset()  # nothing removed, yet logs that never expired now do
    (finding,) = review({"main.tf": group}, {"main.tf": weakened}).findings
    assert (finding.rule_id, finding.line) == ("CB-REG-002", 3)
    assert finding.message == "Log retention cut from never expiring to 120 days (still ≥ 90)."


def test_a_weakening_through_a_variable_lands_on_the_changed_default() -> None:
    group = 'resource "aws_cloudwatch_log_group" "audit" {\n  name              = "/audit"\n' \
            "  retention_in_days = var.days\n}\n"
    base = {"logs/main.tf": group, "logs/variables.tf": 'variable "days" {\n  default = 365\n}\n'}
    head = {"logs/main.tf": group, "logs/variables.tf": 'variable "days" {\n  default = 120\n}\n'}
    (finding,) = review(base, head).findings
    # The reader did not change; the default did: the finding goes where the change is, and says why.
    assert (finding.path, finding.line, finding.suggestion) == ("logs/variables.tf", 2, None)
    assert finding.resource == "aws_cloudwatch_log_group.audit"
    assert finding.provenance == "`var.days` ← `default = 120` in the default of variable `days`, logs/variables.tf:2"
    assert finding.message.startswith("Log retention cut from 365 to 120 days (still ≥ 90).")
    assert "variable or local it reads was changed" in finding.message


def test_a_value_that_becomes_unknown_or_a_rename_is_not_a_finding() -> None:
    group = 'resource "aws_cloudwatch_log_group" "{name}" {{\n  retention_in_days = {days}\n}}\n'
    base = {"main.tf": group.format(name="audit", days="365")}
    assert review(base, {"main.tf": group.format(name="audit", days="var.days")}).findings == ()
    assert review(base, {"main.tf": group.format(name="renamed", days="30")}).findings == ()


def test_regressions_notice_reports_without_blocking_but_minimums_still_block() -> None:
    base = {"main.tf": 'resource "aws_cloudwatch_log_group" "a" {\n  retention_in_days = 365\n}\n'}
    cut = {"main.tf": 'resource "aws_cloudwatch_log_group" "a" {\n  retention_in_days = 120\n}\n'}
    below = {"main.tf": 'resource "aws_cloudwatch_log_group" "a" {\n  retention_in_days = 30\n}\n'}
    rules = ("CB-REG-002", "CB-AWS-006")
    blocking = review(base, cut, *rules)
    assert [f.rule_id for f in blocking.findings] == ["CB-REG-002"] and blocking.findings[0].regression
    assert blocking.conclusion(parse_policy(None)) == "failure"
    notice = parse_policy("regressions: notice\n")
    assert review(base, cut, *rules, policy_text="regressions: notice\n").conclusion(notice) == "success"
    both = review(base, below, *rules, policy_text="regressions: notice\n")
    assert sorted(f.rule_id for f in both.findings) == ["CB-AWS-006", "CB-REG-002"]
    assert both.conclusion(notice) == "failure"  # the minimum still blocks
    assert PACK["CB-REG-002"].severity == Severity.MEDIUM


@pytest.mark.parametrize(("base_text", "head_text"), [
    # a dynamic block could generate anything: the base's access logs may still be there
    ('resource "aws_lb" "a" {\n  access_logs {\n    bucket  = "b"\n    enabled = true\n  }\n}\n',
     ('resource "aws_lb" "a" {\n  dynamic "access_logs" {\n    for_each = var.logs\n    content {\n'
      '      bucket = "b"\n    }\n  }\n}\n')),
    # count = 0 at head: the resource is removed, which the minimum rules judge
    ('resource "aws_db_instance" "d" {\n  deletion_protection = true\n}\n',
     'resource "aws_db_instance" "d" {\n  count = 0\n}\n'),
    # a data source reads what exists; it protects nothing
    ('data "aws_db_instance" "d" {\n  deletion_protection = true\n}\n', 'data "aws_db_instance" "d" {\n}\n'),
])
def test_what_cannot_be_compared_is_not_a_finding(base_text: str, head_text: str) -> None:
    assert review({"main.tf": base_text}, {"main.tf": head_text}).findings == ()
