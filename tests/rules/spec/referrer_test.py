"""`referrer`: another resource of the module (or template) whose attribute refers to this one,
by reference or by a literal name; what it says; undecided where the reference cannot be read."""

from __future__ import annotations

import pytest

from tests.rules.spec.helpers import decided, lines, rule_of, run, terraform, undecided_lines, yaml_file
from tests.rules.spec.loader_test import error_of
from tests.rules.spec.validation_test import tf as spec_with

FLOW_LOG = "{referrer: {types: [aws_flow_log], via: [vpc_id]}}"
VPC = 'variable "x" {}\nresource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n'


def vpc_rule(check: str = FLOW_LOG) -> str:
    return f"- format: terraform\n  types: [aws_vpc]\n  check: {check}"


@pytest.mark.parametrize(
    ("flow_log", "found", "undecided"),
    [
        ('resource "aws_flow_log" "f" {\n  vpc_id = aws_vpc.main.id\n}\n', [], []),
        ('resource "aws_flow_log" "f" {\n  vpc_id = aws_vpc.main2.id\n}\n', [2], []),  # whole names only
        ('resource "aws_flow_log" "f" {\n  subnet_id = aws_vpc.main.id\n}\n', [2], []),  # not through `via`
        ('resource "aws_flow_log" "f" {\n  vpc_id = var.x\n}\n', [], [2]),  # may be this VPC
        ('resource "aws_flow_log" "f" {\n  count  = 0\n  vpc_id = aws_vpc.main.id\n}\n', [2], []),  # creates none
        ('data "aws_flow_log" "f" {\n  vpc_id = aws_vpc.main.id\n}\n', [2], []),  # not ours
        ('resource "aws_other" "f" {\n  vpc_id = aws_vpc.main.id\n}\n', [2], []),
        ("", [2], []),
    ],
)
def test_a_referrer_refers_through_one_of_its_attributes(flow_log: str, found: list[int], undecided: list[int]) -> None:
    resources = terraform(VPC + flow_log)
    rule = rule_of(vpc_rule())
    assert lines(rule, resources) == found
    assert undecided_lines(rule, resources) == undecided


def test_a_failing_referrer_says_what_is_missing_and_lands_on_the_resource() -> None:
    violation, = decided(rule_of(vpc_rule()), terraform(VPC))
    assert violation.message == "Thing is not safe (no aws_flow_log in the module refers to it through `vpc_id`)."
    assert (violation.line, violation.key) == (2, "referrer:aws_flow_log")
    (_, undecided), = run(rule_of(vpc_rule()), terraform(VPC + 'resource "aws_flow_log" "f" {\n  vpc_id = var.x\n}\n'))
    assert undecided.undecided and "whether aws_flow_log.f refers to it through `vpc_id`" in undecided.message


def test_where_is_judged_on_the_referrer() -> None:
    check = "{referrer: {types: [aws_flow_log], via: [vpc_id], where: {path: traffic_type, in: [ALL, REJECT]}}}"
    rule = rule_of(vpc_rule(check))
    flow = 'resource "aws_flow_log" "f" {\n  vpc_id = aws_vpc.main.id\n  traffic_type = TRAFFIC\n}\n'
    assert lines(rule, terraform(VPC + flow.replace("TRAFFIC", '"ALL"'))) == []
    assert lines(rule, terraform(VPC + flow.replace("TRAFFIC", '"ACCEPT"'))) == [2]
    unknown = terraform(VPC + flow.replace("TRAFFIC", "var.x"))
    assert lines(rule, unknown) == [] and undecided_lines(rule, unknown) == [2]


def test_names_let_a_literal_refer_and_via_paths_cross_blocks() -> None:
    check = "{referrer: {types: [aws_rotation], via: [secret_id, config.secret], names: [name]}}"
    rule = rule_of(f"- format: terraform\n  types: [aws_secret]\n  check: {check}")
    secret = 'resource "aws_secret" "s" {\n  name = "prod/db"\n}\n'
    assert lines(rule, terraform(secret + 'resource "aws_rotation" "r" {\n  secret_id = "prod/db"\n}\n')) == []
    assert lines(rule, terraform(secret + 'resource "aws_rotation" "r" {\n  secret_id = "prod/other"\n}\n')) == [1]
    nested = 'resource "aws_rotation" "r" {\n  config {\n    secret = aws_secret.s.arn\n  }\n}\n'
    assert lines(rule, terraform(secret + nested)) == []


TEMPLATE = """
Resources:
  Vpc:
    Type: AWS::EC2::VPC
  Log:
    Type: AWS::EC2::FlowLog
    Properties:
      ResourceId: REFERENCE
"""


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("!Ref Vpc", []),
        ("!GetAtt Vpc.VpcId", []),
        ('!Sub "arn:aws:ec2:::vpc/${Vpc}"', []),
        ("!Ref OtherVpc", [2]),
        ("vpc-123", [2]),
    ],
)
def test_cloudformation_references_name_the_logical_id(reference: str, expected: list[int]) -> None:
    rule = rule_of('- format: cloudformation\n  types: ["AWS::EC2::VPC"]\n'
                   '  check: {referrer: {types: ["AWS::EC2::FlowLog"], via: [ResourceId]}}')
    resources = yaml_file(TEMPLATE.replace("REFERENCE", reference))
    assert lines(rule, resources) == expected


@pytest.mark.parametrize(
    ("check", "line", "words"),
    [
        ("referrer: {via: [a]}", 10, "referrer is missing 'types'"),
        ("referrer: {types: [t]}", 10, "referrer is missing 'via'"),
        ("referrer: {types: [t], via: a}", 10, "'referrer.via' must be a non-empty list"),
        ("referrer: {types: [t], via: [a], colour: red}", 10, "unknown key 'colour' in a referrer"),
        ("referrer: {types: [t], via: [a..b]}", 10, "empty step"),
        ("referrer: {types: [t], via: [$item]}", 10, "'$item' names the item"),
        ("referrer: {types: [t], via: [a], names: []}", 10, "'referrer.names' must be a non-empty list"),
        ("referrer: {types: [t], via: [a], where: {path: b}}", 10, "needs one of"),
        ("some:\n  path: a\n  check: {referrer: {types: [t], via: [a], where: {path: $item, equals: 1}}}", 12,
         "'$item' names the item"),
    ],
)
def test_every_misuse_of_referrer_names_its_line(check: str, line: int, words: str) -> None:
    message = error_of(spec_with(check))
    assert message.startswith(f"rules/specs/test/CB-TEST-001.yml:{line}: "), message
    assert words in message, message
