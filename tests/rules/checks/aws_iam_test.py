"""The access checks on cases the fixtures do not spell out."""

from __future__ import annotations

import pytest

from rules.checks import aws_iam
from tests.rules.checks.helpers import check, lines, template, terraform


def _role_policy(statements: str) -> str:
    return f'''
        resource "aws_iam_role_policy" "p" {{
          role = "r"
          policy = jsonencode({{
            Statement = [
              {statements}
            ]
          }})
        }}
    '''


def test_escalation_needs_every_action_of_a_path_in_the_same_document() -> None:
    resources = terraform('''
        resource "aws_iam_role_policy" "pass" {
          role   = "r"
          policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "iam:PassRole", Resource = "*" }] })
        }

        resource "aws_iam_role_policy" "launch" {
          role   = "r"
          policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "ec2:RunInstances", Resource = "*" }] })
        }
    ''')
    assert check(aws_iam.iam_privilege_escalation, resources) == []


def test_escalation_paths_granted_by_one_line_are_one_finding() -> None:
    resources = terraform(_role_policy('{ Effect = "Allow", Action = ["iam:Attach*"], Resource = "*" }'))
    (found,) = check(aws_iam.iam_privilege_escalation, resources)
    assert found[1].line == 5 and "iam:AttachUserPolicy" in found[1].message and "iam:AttachRolePolicy" in found[1].message


def test_full_admin_is_left_to_cb_aws_022() -> None:
    resources = terraform(_role_policy('{ Effect = "Allow", Action = "*", Resource = "*" }'))
    assert check(aws_iam.iam_privilege_escalation, resources) == []
    assert check(aws_iam.iam_service_wildcard, resources) == []
    assert lines(aws_iam.iam_admin, resources) == [5]


def test_not_action_allows_escalate_unless_they_exclude_the_paths() -> None:
    power_user = terraform(_role_policy('{ Effect = "Allow", NotAction = ["iam:*", "lambda:*", "glue:*"], Resource = "*" }'))
    leaky = terraform(_role_policy('{ Effect = "Allow", NotAction = ["s3:DeleteBucket"], Resource = "*" }'))
    assert check(aws_iam.iam_privilege_escalation, power_user) == []
    assert lines(aws_iam.iam_privilege_escalation, leaky) == [5]
    assert lines(aws_iam.iam_service_wildcard, power_user) == [5]


def test_resource_policies_are_not_identity_policies() -> None:
    """A KMS key policy grants `kms:*` on `*` to the account root by design."""
    resources = terraform('''
        resource "aws_kms_key" "k" {
          policy = jsonencode({ Statement = [{
            Effect = "Allow", Principal = { AWS = "arn:aws:iam::123456789012:root" }, Action = "kms:*", Resource = "*"
          }] })
        }
    ''')
    assert check(aws_iam.iam_service_wildcard, resources) == []
    assert check(aws_iam.kms_policy_open, resources) == []


def test_two_open_statements_of_one_document_are_two_findings() -> None:
    resources = template('''
        Resources:
          Policy:
            Type: AWS::S3::BucketPolicy
            Properties:
              Bucket: b
              PolicyDocument:
                Statement:
                  - {Effect: Allow, Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*"}
                  - {Effect: Allow, Principal: "*", Action: "s3:ListBucket", Resource: "arn:aws:s3:::b"}
    ''')
    found = check(aws_iam.s3_policy_open, resources)
    assert [v.line for _, v in found] == [9, 10] and len({v.key for _, v in found}) == 2


@pytest.mark.parametrize(("subject", "broad"), [
    ("repo:my-org/app:ref:refs/heads/main", False),
    ("repo:my-org/app:*", False),
    ("repo:my-org/app-*:*", True),
    ("repo:*/app:*", True),
    ("repo:my-org/*", True),
    ("*", True),
    ("repository_owner_id:1234:repository_id:5678", False),
])
def test_github_subjects(subject: str, broad: bool) -> None:
    resources = terraform(f'''
        resource "aws_iam_role" "r" {{
          assume_role_policy = jsonencode({{ Statement = [{{
            Effect    = "Allow"
            Action    = "sts:AssumeRoleWithWebIdentity"
            Principal = {{ Federated = "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com" }}
            Condition = {{ StringLike = {{ "token.actions.githubusercontent.com:sub" = "{subject}" }} }}
          }}] }})
        }}
    ''')
    assert bool(check(aws_iam.github_oidc_trust_broad, resources)) is broad


def test_github_sub_key_written_as_a_template_counts_as_a_sub_condition() -> None:
    resources = terraform('''
        resource "aws_iam_openid_connect_provider" "gh" {
          url = "https://token.actions.githubusercontent.com"
        }

        data "aws_iam_policy_document" "trust" {
          statement {
            actions = ["sts:AssumeRoleWithWebIdentity"]
            principals {
              type        = "Federated"
              identifiers = [aws_iam_openid_connect_provider.gh.arn]
            }
            condition {
              test     = "StringEquals"
              variable = "${replace(aws_iam_openid_connect_provider.gh.url, "https://", "")}:sub"
              values   = ["repo:my-org/app:ref:refs/heads/main"]
            }
          }
        }

        resource "aws_iam_role" "r" {
          assume_role_policy = data.aws_iam_policy_document.trust.json
        }
    ''')
    assert check(aws_iam.github_oidc_trust_broad, resources) == []


def test_plain_http_denial_must_cover_every_s3_action() -> None:
    def bucket_policy(action: str, operator: str = "Bool") -> str:
        return f'''
            resource "aws_s3_bucket_policy" "p" {{
              bucket = "b"
              policy = jsonencode({{ Statement = [{{
                Effect = "Deny", Principal = "*", Action = "{action}", Resource = "arn:aws:s3:::b/*"
                Condition = {{ {operator} = {{ "aws:SecureTransport" = "false" }} }}
              }}] }})
            }}
        '''
    assert check(aws_iam.s3_policy_without_tls, terraform(bucket_policy("s3:*"))) == []
    assert check(aws_iam.s3_policy_without_tls, terraform(bucket_policy("*", "BoolIfExists"))) == []
    assert lines(aws_iam.s3_policy_without_tls, terraform(bucket_policy("s3:PutObject"))) == [3]


def test_admin_policy_attached_by_name_through_a_data_source() -> None:
    resources = terraform('''
        data "aws_iam_policy" "admin" {
          arn = "arn:aws:iam::aws:policy/AdministratorAccess"
        }

        data "aws_iam_policy" "reader" {
          name = "ReadOnlyAccess"
        }

        resource "aws_iam_role_policy_attachment" "a" {
          role       = "r"
          policy_arn = data.aws_iam_policy.admin.arn
        }

        resource "aws_iam_role_policy_attachment" "b" {
          role       = "r"
          policy_arn = data.aws_iam_policy.reader.arn
        }
    ''')
    assert lines(aws_iam.iam_admin_managed_policy, resources) == [11]


def test_resources_terraform_does_not_create_are_not_judged() -> None:
    resources = terraform('''
        resource "aws_iam_role_policy_attachment" "a" {
          count      = 0
          role       = "r"
          policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
        }
    ''')
    assert check(aws_iam.iam_admin_managed_policy, resources) == []
