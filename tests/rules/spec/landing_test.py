"""Where findings land: on the value that failed (an `any` of spellings, the item a list test
found), and, for a value missing from a YAML mapping, on the mapping's key line."""

from __future__ import annotations

import pytest

from bot.engine.model import Violation
from tests.rules.spec.helpers import decided, lines, rule_of, terraform, yaml_file


def tf(check: str) -> str:
    return f"- format: terraform\n  types: [aws_thing]\n  check: {check}"


def cfn(check: str, fix: str = "") -> str:
    return f"- format: cloudformation\n  types: [\"AWS::Thing\"]\n  check: {check}" + (
        f"\n  fix: {{set: \"{fix}\"}}" if fix else "")


def template(properties: str) -> str:
    body = "\n".join(f"      {row}" if row else "" for row in properties.strip("\n").split("\n"))
    return f"Resources:\n  Thing:\n    Type: AWS::Thing\n    Properties:\n{body}\n"


SPELLINGS = "{any: [{path: ssl_mode, equals: ENCRYPTED_ONLY}, {path: config.require_ssl, equals: true}]}"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('resource "aws_thing" "t" {\n  config {\n    require_ssl = false\n  }\n}\n', [3]),  # the one written
        ('resource "aws_thing" "t" {\n  ssl_mode = "ALLOW"\n  config {\n    require_ssl = false\n  }\n}\n', [2]),
        ('resource "aws_thing" "t" {\n  config {\n    tier = 1\n  }\n}\n', [1]),  # neither: the first's block
    ],
)
def test_an_any_of_spellings_lands_on_the_one_that_is_written(body: str, expected: list[int]) -> None:
    assert lines(rule_of(tf(SPELLINGS)), terraform(body)) == expected


RBAC = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r}
rules:
  - verbs:
      - get
      - impersonate
    resources: [users]
  - verbs: [list]
    resources:
      - pods
      - "*"
"""


def test_a_list_test_lands_on_the_item_that_decided_it() -> None:
    rule = rule_of("""
        - format: kubernetes
          types: [Role]
          check:
            for_each:
              path: rules
              check: {all: [{not: {path: verbs, contains: impersonate}}, {not: {path: resources, contains: "*"}}]}
    """)
    found = decided(rule, yaml_file(RBAC, "k8s/r.yaml"))
    assert [(v.line, v.key) for v in found] == [(7, "rules[0].verbs"), (12, "rules[1].resources")]
    assert found[0].message == 'Thing is not safe (rules[0].verbs = "impersonate").'


def test_an_open_cidr_in_a_list_lands_on_that_cidr() -> None:
    body = 'resource "aws_thing" "t" {\n  cidr_blocks = [\n    "10.0.0.0/8",\n    "0.0.0.0/0",\n  ]\n}\n'
    assert lines(rule_of(tf("{path: cidr_blocks, cidr_open: false}")), terraform(body)) == [4]
    # Only several together cover the internet: the list itself.
    body = 'resource "aws_thing" "t" {\n  cidr_blocks = [\n    "0.0.0.0/1",\n    "128.0.0.0/1",\n  ]\n}\n'
    assert lines(rule_of(tf("{path: cidr_blocks, cidr_open: false}")), terraform(body)) == [2]


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ("Config:\n  Enabled: true", 5),  # the key line, not the first entry's
        ("Config:\n\n  # the settings\n  Enabled: true", 5),  # across blank and comment lines
        ("Config: {Enabled: true}", 5),  # a flow mapping starts on its key line
        ("Name: x", 2),  # nothing of the path: the logical id
        ("Items:\n  - Config:\n      Enabled: true", 6),  # a mapping inside a list item
    ],
)
def test_a_value_missing_from_a_yaml_mapping_lands_on_the_mapping_key(properties: str, expected: int) -> None:
    path = "Items.Config.Logging" if properties.startswith("Items") else "Config.Logging"
    rule = rule_of(cfn(f"{{path: {path}, exists: true}}"))
    assert lines(rule, yaml_file(template(properties))) == [expected]


def test_a_mapping_or_list_that_fails_lands_on_its_key_line() -> None:
    rule = rule_of(cfn("{all: [{path: Config, exists: false}, {path: Ports, not_equals: [1, 2]}]}"))
    found = decided(rule, yaml_file(template("Config:\n  Enabled: true\nPorts:\n  - 1\n  - 2")))
    assert [v.line for v in found] == [5, 7]


def test_a_yaml_fix_for_a_nested_mapping_adds_the_key_below_the_mapping_key() -> None:
    rule = rule_of(cfn("{path: Config.Enabled, equals: true}", fix="true"))
    text = template("Config:\n  Name: x\n  Size: 2")
    violation, = decided(rule, yaml_file(text))
    assert (violation.line, violation.end_line) == (5, 5)
    assert violation.suggestion == "      Config:\n        Enabled: true"
    assert decided(rule, yaml_file(apply(text, violation))) == []


def apply(text: str, violation: Violation) -> str:
    assert violation.suggestion is not None
    rows = text.split("\n")
    end = violation.end_line or violation.line
    return "\n".join(rows[: violation.line - 1] + violation.suggestion.split("\n") + rows[end:])
