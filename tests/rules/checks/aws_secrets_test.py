"""Credentials in the provider block, Lambda environments and user data: what is and is not one."""

from __future__ import annotations

import base64

import pytest

from rules.checks import aws_secrets
from tests.rules.checks.helpers import check, lines, template, terraform

KEY_ID = "AKIA2E0A8F3B244C9986"
SECRET = "k9Xm2pQ7rT4vW8yZ1bC5dF3gH6jK0lN9oP2qR5sT"


@pytest.mark.parametrize(("body", "found"), [
    (f'access_key = "{KEY_ID}"', True),
    ('access_key = "AKIAIOSFODNN7EXAMPLE"', False),  # AWS's documented example
    ('access_key = ""', False),
    ('access_key = "changeme"', False),
    ('token = "short-stand-in"\n  skip_credentials_validation = true', False),
    (f'secret_key = "{SECRET}"\n  skip_credentials_validation = true', True),
    ('secret_key = var.secret', False),
])
def test_provider_credentials(body: str, found: bool) -> None:
    resources = terraform(f'provider "aws" {{\n  {body}\n}}\n\nvariable "secret" {{\n  default = "{SECRET}"\n}}\n')
    assert bool(check(aws_secrets.provider_credentials, resources)) is found


def test_other_providers_are_not_judged() -> None:
    resources = terraform(f'provider "awsx" {{\n  access_key = "{KEY_ID}"\n}}\n')
    assert check(aws_secrets.provider_credentials, resources) == []


@pytest.mark.parametrize(("name", "value", "found"), [
    ("DB_PASSWORD", "Tr0ub4dor&3x", True),
    ("db_password", "Tr0ub4dor&3x", True),
    ("API_KEY", "zq8Lk2Vb7Xc4Nm1Pw9Rt", True),
    ("ANY_NAME", KEY_ID, True),  # an AWS key id whatever the name
    ("DB_PASSWORD_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:db", False),
    ("DB_PASSWORD_PARAMETER", "/prod/db/password", False),
    ("TOKEN_TTL", "3600", False),
    ("SECRET_NAME", "prod/db", False),
    ("PASSWORD", "changeme", False),
    ("PASSWORD", "short", False),
    ("SECRET_HINT", "ask the on-call engineer", False),
    ("LOG_LEVEL", "debug-Verbose-1", False),
])
def test_lambda_environment(name: str, value: str, found: bool) -> None:
    resources = terraform(f'''
        resource "aws_lambda_function" "f" {{
          function_name = "f"
          environment {{
            variables = {{
              {name} = "{value}"
            }}
          }}
        }}
    ''')
    assert lines(aws_secrets.lambda_environment_secrets, resources) == ([5] if found else [])


def test_a_secret_never_appears_in_the_message() -> None:
    resources = terraform(f'resource "aws_lambda_function" "f" {{\n  environment {{\n    variables = {{ TOKEN = "{SECRET}" }}\n  }}\n}}\n')
    ((_, violation),) = check(aws_secrets.lambda_environment_secrets, resources)
    assert SECRET not in violation.message and SECRET not in (violation.key or "")


def test_user_data_from_a_variable_is_scanned_on_the_attribute_line() -> None:
    resources = terraform('''
        resource "aws_instance" "i" {
          ami       = "ami-1"
          user_data = var.script
        }
    ''', variables=f'''
        variable "script" {{
          default = "#!/bin/sh\\nexport AWS_ACCESS_KEY_ID={KEY_ID}\\n"
        }}
    ''')
    assert lines(aws_secrets.user_data_secrets, resources) == [3]


def test_base64_user_data_is_decoded() -> None:
    encoded = base64.b64encode(f"#!/bin/sh\nexport AWS_SECRET_ACCESS_KEY={SECRET}\n".encode()).decode()
    resources = template(f'''
        Resources:
          Instance:
            Type: AWS::EC2::Instance
            Properties:
              ImageId: ami-1
              UserData: {encoded}
    ''')
    assert lines(aws_secrets.user_data_secrets, resources) == [7]


def test_one_secret_written_twice_is_one_finding() -> None:
    resources = terraform(f'''
        resource "aws_launch_template" "t" {{
          user_data = base64encode(<<-EOT
            export AWS_ACCESS_KEY_ID={KEY_ID}
            echo {KEY_ID} > /tmp/key
          EOT
          )
        }}
    ''')
    assert lines(aws_secrets.user_data_secrets, resources) == [3]
