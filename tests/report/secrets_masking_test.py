"""Found secrets are masked wherever a finding is shown: the whole value by default (`****`), a
short prefix only where the policy says `secrets: {show_prefix: true}`. Every pack that quotes a
credential (text files, Dockerfile ENV/ARG, Kubernetes env literals, the AWS provider, Lambda
environment, EC2 user data) goes through the one mask the engine renders, and a finding whose
value came from elsewhere names that place without quoting its line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.cli.local import FsTree
from bot.cli.main import main
from bot.engine.diff import whole_file_added
from bot.engine.policy import parse_policy
from bot.engine.review import Engine
from bot.github.checks import check_output
from bot.github.review import plan_review
from bot.report.text import comment_body
from rules.registry import default_rule_set

# Fake secrets, each with the length of its well-known format prefix (`AKIA`, `ghp_`), which names
# the format rather than the secret and may appear in rule texts.
SECRETS = {
    "AKIAUJZDE8GXD6NCF10E": 4, "ghp_MFLZDe1f8rESQedUStPKR0CsTy4Qwb8DwkNh": 4, "Tr0ub4dorZq7Wm2Lp9": 0,
    "Hq4TnZ8wVx2cR7uk": 0, "Xk9vR2mPq7LwQ3tY": 0, "Wq4Rt8Yu2Io6Pa0S": 0, "AKIAQ2WE3RT4YU5IO6PZ": 4,
    "spNxnyVmihA+2O76UMFxFkM+R5Kjp1vRt/1fjORS": 0, "Jf2r8PZqWm4kTb7Vx1Nc": 0,
}
FILES = {
    ".env": "DB_PASSWORD=Tr0ub4dorZq7Wm2Lp9\nAWS_ACCESS_KEY_ID=AKIAUJZDE8GXD6NCF10E\n"
            "GITHUB_TOKEN=ghp_MFLZDe1f8rESQedUStPKR0CsTy4Qwb8DwkNh\n",
    "Dockerfile": "FROM alpine:3.20\nENV API_TOKEN=Hq4TnZ8wVx2cR7uk\nUSER 10001\n",
    "k8s/deploy.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: example/api:1.0
          env:
            - name: DB_PASSWORD
              value: Xk9vR2mPq7LwQ3tY
""",
    "infra/main.tf": """\
provider "aws" {
  region     = "eu-west-1"
  access_key = "AKIAQ2WE3RT4YU5IO6PZ"
  secret_key = "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"
}

variable "db_password" {
  type = string
}

resource "aws_lambda_function" "api" {
  function_name = "api"
  role          = "arn:aws:iam::123456789012:role/api"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  filename      = "api.zip"
  environment {
    variables = {
      DB_PASSWORD = var.db_password
    }
  }
}

resource "aws_instance" "web" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  user_data     = <<-EOT
    #!/bin/sh
    export DB_PASSWORD='Jf2r8PZqWm4kTb7Vx1Nc'
  EOT
}
""",
    "infra/terraform.tfvars": 'db_password = "Wq4Rt8Yu2Io6Pa0S"\n',
}
# A rule of every pack that quotes a credential must have found one, or the test proves nothing.
EXPECTED_RULES = {"CB-SECRET-001", "CB-SECRET-004", "CB-SECRET-008", "CB-DOCKER-002", "CB-K8S-013",
                  "CB-AWS-079", "CB-AWS-080"}


def leaks(text: str) -> list[str]:
    """Every 4 characters of a planted secret (past its format prefix) found in `text`."""
    found = []
    for secret, skip in SECRETS.items():
        found += [secret[i:i + 4] for i in range(skip, len(secret) - 3) if secret[i:i + 4] in text]
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def _provider_rule_id() -> str:
    return next(r.id for r in default_rule_set().rules if "provider" in r.types and "credentials" in r.title)


def test_no_output_holds_a_character_of_a_secret_beyond_the_mask(repo: Path, capsys: pytest.CaptureFixture[str],
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    policy = parse_policy(None)
    review = Engine(default_rule_set(), policy).scan(FsTree(repo))
    found = {f.rule_id for f in review.findings}
    assert EXPECTED_RULES | {_provider_rule_id()} <= found, found
    lambda_finding = next(f for f in review.findings if f.rule_id == "CB-AWS-079")
    assert lambda_finding.provenance is not None and "terraform.tfvars:1" in lambda_finding.provenance

    shown = [json.dumps([f.__dict__ for f in review.findings], default=str)]
    shown += [comment_body(f) for f in review.findings]
    diffs = {path: whole_file_added(path, text) for path, text in FILES.items()}
    plan = plan_review(review.findings, diffs, [], 100)
    assert len(plan.comments) == len(review.findings)
    shown += [comment.body for _, comment in plan.comments]
    blocks = {f.fingerprint: policy.blocks(f) for f in review.findings}
    output = check_output(review.findings, review.errors, review.notes, blocks, plan, review.conclusion(policy))
    shown += [output.title, output.summary, output.text, json.dumps(output.annotations)]
    for output_format in ("text", "json", "sarif"):
        main(["scan", str(repo), "--format", output_format])
    printed = capsys.readouterr()
    shown += [printed.out, printed.err, caplog.text]
    assert [leak for text in shown for leak in leaks(text)] == []
    secret_findings = [f for f in review.findings if "masked here" in f.message]
    assert len(secret_findings) >= 10 and all("`****`" in f.message for f in secret_findings)
    assert printed.out.count("`****`") >= 30


def test_the_policy_can_show_a_short_prefix(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".github").mkdir()
    (repo / ".github" / "compliance.yml").write_text("secrets:\n  show_prefix: true\n")
    main(["scan", str(repo), "--format", "json"])
    messages = [f["message"] for f in json.loads(capsys.readouterr().out)["findings"]]
    for prefix in ("AKIA****", "ghp_****", "Tr0u****", "Hq4T****", "Xk9v****", "Wq4R****", "Jf2r****"):
        assert any(f"`{prefix}`" in message for message in messages), prefix
    assert not any("`****`" in message for message in messages)
