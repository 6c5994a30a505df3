"""Policy documents from every place they are written, and IAM's matching semantics."""

from __future__ import annotations

import pytest

from bot.engine.model import Node, Unknown
from rules.checks import aws_policy as policy
from rules.checks.network import is_open_cidr
from tests.rules.checks.helpers import Context, template, terraform


def _statement(**parts: object) -> policy.Statement:
    node = policy.json_document(_node({"Statement": [parts]}))
    assert node is not None and len(node.statements) == 1
    return node.statements[0]


def _node(value: object, line: int = 1) -> Node:
    if isinstance(value, dict):
        return Node({k: _node(v, line) for k, v in value.items()}, line, line)
    if isinstance(value, list):
        return Node([_node(v, line) for v in value], line, line)
    return Node(value, line, line)


@pytest.mark.parametrize(("pattern", "action", "expected"), [
    ("*", "iam:PassRole", True),
    ("iam:*", "iam:PassRole", True),
    ("IAM:pass*", "iam:PassRole", True),
    ("iam:Pass?ole", "iam:PassRole", True),
    ("iam:Get*", "iam:PassRole", False),
    ("s3:*", "iam:PassRole", False),
    ("iam:PassRole.*", "iam:PassRole", False),  # dots are literal
])
def test_actions_match_as_iam_matches_them(pattern: str, action: str, expected: bool) -> None:
    assert policy.matches(pattern, action) is expected


def test_grants_through_action_and_not_action() -> None:
    assert isinstance(policy.grants(_statement(Effect="Allow", Action=["s3:*"]), "s3:GetObject"), Node)
    assert policy.grants(_statement(Effect="Allow", Action="s3:*"), "iam:PassRole") is False
    assert isinstance(policy.grants(_statement(Effect="Allow", NotAction=["s3:*"]), "iam:PassRole"), Node)
    assert policy.grants(_statement(Effect="Allow", NotAction=["iam:*"]), "iam:PassRole") is False
    assert policy.grants(_statement(Effect="Allow", Action=Unknown("var.actions")), "iam:PassRole") is None


def test_every_resource() -> None:
    assert policy.on_every_resource(_statement(Resource="*")) is True
    assert policy.on_every_resource(_statement(NotResource="arn:aws:s3:::logs")) is True
    assert policy.on_every_resource(_statement(Resource=["arn:aws:s3:::logs"])) is False
    assert policy.on_every_resource(_statement(Resource=Unknown("var.arn"))) is None


@pytest.mark.parametrize(("principal", "expected"), [
    ("*", True),
    ({"AWS": "*"}, True),
    ({"AWS": ["arn:aws:iam::123456789012:root", "*"]}, True),
    ({"AWS": "arn:aws:iam::123456789012:root"}, False),
    ({"Service": "*"}, False),  # not an account principal
    ({"AWS": Unknown("var.who")}, None),
])
def test_anyone(principal: object, expected: bool | None) -> None:
    found = policy.anyone(_statement(Effect="Allow", Principal=principal))
    if expected:
        assert isinstance(found, Node)
    else:
        assert found is expected


def test_not_principal_means_everyone_else() -> None:
    assert isinstance(policy.anyone(_statement(Effect="Allow", NotPrincipal={"AWS": "arn:aws:iam::1:root"})), Node)


@pytest.mark.parametrize(("condition", "expected"), [
    ({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}, True),
    ({"StringEquals": {"aws:sourcevpce": "vpce-0123"}}, True),  # keys are case-insensitive
    ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/*"}}, True),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::my-bucket"}}, True),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:cloudfront::*:distribution/*"}}, False),
    ({"StringLike": {"aws:PrincipalArn": "*"}}, False),
    ({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1234"}}, False),
    ({"StringNotEquals": {"aws:PrincipalAccount": "123456789012"}}, False),
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, False),
    ({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}, True),
    ({"Bool": {"aws:SecureTransport": "true"}}, False),
    ({"Bool": {"aws:PrincipalIsAWSService": "true"}}, True),
    ({"StringEquals": {"sts:ExternalId": "shared-secret"}}, False),
    ({"StringEquals": {"aws:PrincipalAccount": Unknown("var.account")}}, None),
])
def test_restricting_conditions(condition: dict[str, object], expected: bool | None) -> None:
    assert policy.restricted(_statement(Effect="Allow", Principal="*", Condition=condition)) is expected


@pytest.mark.parametrize(("cidr", "open_"), [
    ("0.0.0.0/0", True), ("::/0", True), ("0::/0", True), ("0:0:0:0:0:0:0:0/0", True), (" ::0/0 ", True),
    ("10.0.0.0/8", False), ("::/1", False), ("0.0.0.0/1", False), ("not a cidr", False), ("", False),
])
def test_open_cidrs_compare_as_networks(cidr: str, open_: bool) -> None:
    assert is_open_cidr(cidr) is open_


def test_a_heredoc_keeps_the_file_lines_and_a_quoted_string_its_own_line() -> None:
    resources = terraform('''
        resource "aws_iam_policy" "heredoc" {
          policy = <<-EOT
            {"Statement": [
              {"Effect": "Allow",
               "Action": "s3:*", "Resource": "*"}
            ]}
          EOT
        }

        resource "aws_iam_policy" "quoted" {
          policy = "{\\"Statement\\": [{\\"Effect\\": \\"Allow\\", \\"Action\\": \\"s3:*\\"}]}"
        }
    ''')
    heredoc, quoted = (policy.terraform_document(r, r.body.get("policy"), Context(resources)) for r in resources)
    assert heredoc is not None and quoted is not None
    assert [a.line for s in heredoc.document.statements for a in s.actions or ()] == [5]
    assert [a.line for s in quoted.document.statements for a in s.actions or ()] == [11]


def test_a_data_source_document_is_found_and_located_in_its_own_resource() -> None:
    resources = terraform('''
        resource "aws_iam_role_policy" "p" {
          role   = "r"
          policy = data.aws_iam_policy_document.d.json
        }
    ''', documents='''
        data "aws_iam_policy_document" "d" {
          statement {
            effect    = "Deny"
            actions   = ["s3:*"]
            resources = ["*"]
            principals {
              type        = "AWS"
              identifiers = ["*"]
            }
            condition {
              test     = "Bool"
              variable = "aws:SecureTransport"
              values   = ["false"]
            }
          }
        }
    ''')
    consumer = next(r for r in resources if r.kind == "resource")
    located = policy.terraform_document(consumer, consumer.body.get("policy"), Context(resources))
    assert located is not None and located.home.address == "data.aws_iam_policy_document.d"
    assert located.line(99) == 3 and "documents.tf" in located.elsewhere(4)
    (statement,) = located.document.statements
    assert statement.denies and located.document.complete
    assert [(c.operator, c.key_text, [v.value for v in c.values or ()]) for c in statement.conditions or ()] == [
        ("Bool", "aws:SecureTransport", ["false"])]
    assert [p.kind for p in statement.principals or ()] == ["AWS"]


def test_merged_or_dynamic_statements_make_a_document_incomplete() -> None:
    resources = terraform('''
        data "aws_iam_policy_document" "merged" {
          source_policy_documents = [var.other]
          statement {
            actions = ["s3:GetObject"]
          }
        }

        data "aws_iam_policy_document" "dynamic" {
          dynamic "statement" {
            for_each = var.statements
            content {
              actions = statement.value
            }
          }
        }

        variable "other" {}
        variable "statements" {}
    ''')
    documents = [policy.data_document(r) for r in resources if r.kind == "data"]
    assert [d.complete for d in documents] == [False, False]


def test_cloudformation_documents_land_on_their_property() -> None:
    (resource,) = template('''
        Resources:
          Key:
            Type: AWS::KMS::Key
            Properties:
              KeyPolicy:
                Statement:
                  - Effect: Allow
                    Principal: "*"
                    Action: kms:*
                    Resource: "*"
    ''')
    located = policy.cloudformation_document(resource, policy.properties(resource).get("KeyPolicy"), "KeyPolicy")
    assert located is not None and located.fallback == 6
    assert [s.line for s in located.document.statements] == [8]


@pytest.mark.parametrize(("value", "text"), [
    ("plain", "plain"),
    (Unknown("Fn::Sub arn:${AWS::Partition}:iam::aws:policy/X"), "arn:${AWS::Partition}:iam::aws:policy/X"),
    (Unknown("arn:${data.aws_partition.p.partition}:iam::aws:policy/X"), "arn:${data.aws_partition.p.partition}:iam::aws:policy/X"),
    (Unknown('"${var.x}/y"'), "${var.x}/y"),
    (Unknown("var.x"), None),
    (Unknown("Fn::GetAtt ['A', 'Arn']"), None),
])
def test_templates_read_as_text(value: object, text: str | None) -> None:
    assert policy.template(Node(value, 1, 1)) == text
