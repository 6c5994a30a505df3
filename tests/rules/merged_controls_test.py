"""The CloudFormation rules CB-CFN-001/003/004/005 became bindings of their controls (CB-AWS-001,
003, 004 and 005, 006): one rule per control, one severity, the old ids kept as aliases, and a
security group read the same way in both formats (same ports, UDP for administration ports,
IPv6 compared as networks)."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from bot.engine.model import Resource
from bot.engine.parsers.terraform import parse_module
from bot.engine.parsers.yaml_docs import parse_yaml
from bot.engine.policy import parse_policy
from bot.engine.review import Engine, RuleSet
from bot.engine.tree import MemoryTree
from rules.registry import all_rules, default_controls, load_frameworks
from tests.rules.spec.helpers import Context

RULES = {rule.id: rule for rule in all_rules()}


@pytest.mark.parametrize(
    ("old", "new"),
    [("CB-CFN-001", "CB-AWS-001"), ("CB-CFN-003", "CB-AWS-003"), ("CB-CFN-004", "CB-AWS-004"),
     ("CB-CFN-005", "CB-AWS-006")],
)
def test_the_old_id_is_an_alias_of_the_control_judging_both_formats(old: str, new: str) -> None:
    rule = RULES[new]
    assert old not in RULES and old in rule.aliases
    assert rule.sources == frozenset({"terraform", "cloudformation"})


def test_public_rds_is_critical_in_every_format() -> None:
    assert RULES["CB-AWS-003"].severity.value == "critical"


def terraform_rule(protocol: str, low: int, high: int, cidr: str) -> tuple[Resource, ...]:
    key = "ipv6_cidr_blocks" if ":" in cidr else "cidr_blocks"
    text = (f'resource "aws_security_group_rule" "r" {{\n  type = "ingress"\n  protocol = "{protocol}"\n'
            f'  from_port = {low}\n  to_port = {high}\n  {key} = ["{cidr}"]\n}}\n')
    parsed = parse_module({"main.tf": text})
    return tuple(r for f in parsed.values() for r in f.resources)


def cloudformation_rule(protocol: str, low: int, high: int, cidr: str) -> tuple[Resource, ...]:
    key = "CidrIpv6" if ":" in cidr else "CidrIp"
    text = textwrap.dedent(f"""\
        Resources:
          Rule:
            Type: AWS::EC2::SecurityGroupIngress
            Properties:
              GroupId: sg-1
              IpProtocol: "{protocol}"
              FromPort: {low}
              ToPort: {high}
              {key}: "{cidr}"
        """)
    return parse_yaml("template.yaml", text).resources


def flagged(rule_id: str, resources: tuple[Resource, ...]) -> bool:
    rule = RULES[rule_id]
    context = Context(resources)
    return any(not v.undecided for r in resources if rule.applies_to(r) for v in rule.check(r, context))


@pytest.mark.parametrize(
    ("protocol", "low", "high", "cidr", "admin", "database"),
    [
        ("tcp", 22, 22, "0.0.0.0/0", True, False),
        ("udp", 22, 22, "0.0.0.0/0", True, False),
        ("17", 3389, 3389, "::/0", True, False),
        ("tcp", 3389, 3389, "0:0:0:0:0:0:0:0/0", True, False),
        ("tcp", 5432, 5432, "0::/0", False, True),
        ("udp", 5432, 5432, "0.0.0.0/0", False, False),
        ("6", 3000, 3400, "0.0.0.0/0", True, True),
        ("-1", 0, 0, "0.0.0.0/0", True, True),
        ("tcp", 23, 23, "0.0.0.0/0", False, False),  # Telnet: in neither list, in either format
        ("tcp", 0, 65535, "10.0.0.0/8", False, False),
        ("icmp", -1, -1, "0.0.0.0/0", False, False),
    ],
)
def test_cloudformation_reads_ingress_as_terraform_does(protocol: str, low: int, high: int, cidr: str,
                                                        admin: bool, database: bool) -> None:
    for make in (terraform_rule, cloudformation_rule):
        resources = make(protocol, low, high, cidr)
        assert (flagged("CB-AWS-004", resources), flagged("CB-AWS-005", resources)) == (admin, database), make


TEMPLATE = """\
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      PubliclyAccessible: true
"""


@pytest.mark.parametrize(
    ("old", "new"),
    [("CB-CFN-001", "CB-AWS-001"), ("CB-CFN-003", "CB-AWS-003"), ("CB-CFN-004", "CB-AWS-004"),
     ("CB-CFN-005", "CB-AWS-006")],
)
def test_framework_files_naming_the_old_id_map_to_the_control(old: str, new: str) -> None:
    frameworks = load_frameworks()
    listed = {(f.key, c.id) for f in frameworks for c in f.controls if old in c.rule_ids}
    controls = default_controls()
    assert old not in controls
    assert listed and all(control in controls[new][key] for key, control in listed)


def test_a_suppression_or_disable_naming_the_old_id_still_applies() -> None:
    tree = MemoryTree({"db/template.yaml": TEMPLATE})

    def findings(policy: str | None) -> list[tuple[str, bool]]:
        engine = Engine(RuleSet([RULES["CB-AWS-003"]], default_controls()), parse_policy(policy), dt.date(2026, 1, 1))
        return [(f.rule_id, f.suppressed) for f in engine.scan(tree).findings]

    assert findings(None) == [("CB-AWS-003", False)]
    assert findings("rules:\n  disable: [CB-CFN-003]\n") == []
    suppressed = "suppressions:\n  - rule: CB-CFN-003\n    path: db/template.yaml\n    reason: tracked in OPS-1\n"
    assert findings(suppressed) == [("CB-AWS-003", True)]
