"""A control merged from per-format rules keeps its earlier ids working: policies that disable or
suppress `CB-CFN-002`, and framework files that list it, now mean CB-AWS-002."""

from __future__ import annotations

import datetime as dt

from bot.engine.policy import parse_policy
from bot.engine.review import Engine, RuleSet
from bot.engine.tree import MemoryTree
from rules.registry import all_rules, default_controls, load_frameworks, merged_controls

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      StorageEncrypted: false
"""
RULES = RuleSet(all_rules(), default_controls())
TREE = MemoryTree({"db/template.yaml": TEMPLATE, "db/main.tf": 'resource "aws_db_instance" "d" {}\n'})


def findings(policy: str | None) -> list[tuple[str, str, int, bool]]:
    review = Engine(RULES, parse_policy(policy), dt.date(2026, 1, 1)).scan(TREE)
    return [(f.rule_id, f.path, f.line, f.suppressed) for f in review.findings if f.rule_id == "CB-AWS-002"]


def test_the_merged_control_reports_both_formats() -> None:
    assert findings(None) == [("CB-AWS-002", "db/main.tf", 1, False), ("CB-AWS-002", "db/template.yaml", 6, False)]


def test_disabling_an_alias_disables_the_rule() -> None:
    assert findings("rules:\n  disable: [CB-CFN-002]\n") == []


def test_a_suppression_naming_an_alias_applies() -> None:
    policy = "suppressions:\n  - rule: CB-CFN-002\n    path: db/template.yaml\n    reason: tracked in OPS-1\n"
    assert findings(policy) == [("CB-AWS-002", "db/main.tf", 1, False), ("CB-AWS-002", "db/template.yaml", 6, True)]


def test_framework_files_naming_an_alias_map_to_the_rule() -> None:
    controls = default_controls()
    assert "CB-CFN-002" not in controls
    frameworks = load_frameworks()
    listed = {f.key for f in frameworks for c in f.controls if "CB-CFN-002" in c.rule_ids}
    assert listed and listed <= set(controls["CB-AWS-002"])
    rds = next(r for r in all_rules() if r.id == "CB-AWS-002")
    assert merged_controls([rds], frameworks)["CB-AWS-002"] == controls["CB-AWS-002"]
