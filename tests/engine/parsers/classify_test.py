"""`bot.engine.parsers` itself: which family reads a path, and the two entry points the engine
calls (`parse_terraform` a module at a time, `parse_one` a file at a time). `.tf.json` is
Terraform, parsed with the `.tf` files beside it; other `.json` is CloudFormation or nothing."""

from __future__ import annotations

import json

import pytest

from bot.engine.model import ParsedFile
from bot.engine.parsers import (
    DOCKERFILE,
    JSON,
    TERRAFORM,
    YAML,
    classify,
    is_terraform_json,
    parse_one,
    parse_terraform,
)

CFN_TEMPLATE = json.dumps({
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {"Data": {"Type": "AWS::EC2::Volume", "Properties": {"Encrypted": False, "Size": 10}}},
}, indent=2)
TF_JSON = json.dumps({
    "resource": {"aws_ebs_volume": {"data": {"encrypted": False, "size": "${var.size}"}}},
}, indent=2)


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("main.tf", TERRAFORM),
        ("main.tf.json", TERRAFORM),
        ("cdktf.out/stacks/app/cdk.tf.json", TERRAFORM),
        ("infra/VOLUMES.TF.JSON", TERRAFORM),
        ("template.json", JSON),
        ("infra/network.template", JSON),
        ("package.json", JSON),
        ("package-lock.json", JSON),
        ("cdktf.json", JSON),  # CDK for Terraform's own settings, not configuration
        ("terraform.tfvars.json", TERRAFORM),  # variable values: applied to their root module
        ("envs/prod.tfvars", TERRAFORM),
        ("tf.json", JSON),
        ("main.tf.json.orig", None),
        ("deploy.yaml", YAML),
        ("Dockerfile", DOCKERFILE),
        ("docker/Dockerfile.prod", DOCKERFILE),
        ("Dockerfile.arm64", DOCKERFILE),
        ("build/api.Dockerfile", DOCKERFILE),
        ("Containerfile", DOCKERFILE),
        ("dockerfile", DOCKERFILE),
        # code and documentation about Dockerfiles are not Dockerfiles
        ("src/dockerfile.py", None),
        ("docs/Dockerfile.md", None),
        ("cmd/dockerfile.go", None),
        ("lib/containerfile.ts", None),
        ("tests/Dockerfile.txt", None),
        ("dockerfile_parser.py", None),
    ],
)
def test_classify(path: str, family: str | None) -> None:
    assert classify(path) == family
    assert is_terraform_json(path) == path.lower().endswith(".tf.json")


def test_tf_json_files_join_the_module_of_their_directory() -> None:
    files = {
        "m/variables.tf": 'variable "size" {\n  default = 20\n}\n',
        "m/volumes.tf.json": TF_JSON,
        "other/volumes.tf.json": TF_JSON,
    }
    parsed = parse_terraform(files)
    assert list(parsed) == list(files)
    (in_module,) = parsed["m/volumes.tf.json"].resources
    (alone,) = parsed["other/volumes.tf.json"].resources
    assert in_module.body.plain() == {"encrypted": False, "size": 20}
    assert alone.body.get("size").is_unknown  # type: ignore[union-attr]  # no variable in its own directory


def test_a_tf_json_file_is_never_cloudformation_and_cloudformation_json_is_never_terraform() -> None:
    texts = {"infra/template.json": CFN_TEMPLATE, "infra/volumes.tf.json": TF_JSON,
             "infra/cfn-named.tf.json": CFN_TEMPLATE, "infra/terraform-body.json": TF_JSON}
    terraform = parse_terraform({p: t for p, t in texts.items() if classify(p) == TERRAFORM})
    one_by_one = {p: parse_one(p, t) for p, t in texts.items() if classify(p) == JSON}
    assert sorted(terraform) == ["infra/cfn-named.tf.json", "infra/volumes.tf.json"]
    assert sorted(one_by_one) == ["infra/template.json", "infra/terraform-body.json"]
    sources = {path: [(r.source, r.address) for r in result.resources]
               for path, result in {**terraform, **one_by_one}.items()}
    assert sources == {
        "infra/template.json": [("cloudformation", "Resources.Data")],
        "infra/volumes.tf.json": [("terraform", "aws_ebs_volume.data")],
        "infra/cfn-named.tf.json": [],  # read as Terraform: no block type of Terraform's in it
        "infra/terraform-body.json": [],  # not CloudFormation, so not ours
    }
    assert all(result.errors == () for result in {**terraform, **one_by_one}.values())


@pytest.mark.parametrize("path", ["package.json", "web/package-lock.json", "cdktf.json", "tsconfig.json"])
def test_package_and_lock_files_are_still_ignored(path: str) -> None:
    text = json.dumps({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "resource": {"x": 1},
                       "dependencies": {"cdktf": "0.20.0"}})
    assert classify(path) == JSON
    assert parse_one(path, text) == ParsedFile(path)
    assert parse_one(path, "{ not json") == ParsedFile(path)  # never parsed, so never an error
