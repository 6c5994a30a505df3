"""The binding formats beyond resources and manifests (provider blocks, data sources, workflows,
Dockerfiles, text) and the `regression` key: what the Python packs needed to become specs."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

import pytest

from bot.engine.model import Resource, Violation
from bot.engine.parsers.dockerfile import parse_dockerfile
from bot.engine.parsers.yaml_docs import parse_yaml
from bot.engine.review import text_resource
from bot.engine.rule import RuleContext
from rules.spec.compile import compile_spec
from rules.spec.loader import SpecError, load_spec
from tests.rules.spec.helpers import HEAD, rule_of, run, spec_text, terraform


def _everything(resource: Resource, context: RuleContext) -> Iterable[Violation]:
    """A check that reports every resource it is handed, to see which ones a binding hands it."""
    yield Violation(message=f"saw {resource.kind} {resource.address}", line=resource.line, key=resource.address)


FUNCTIONS = {"everything": _everything}


def addresses(bindings: str, resources: tuple[Resource, ...]) -> list[str]:
    rule = rule_of(bindings, FUNCTIONS)
    return [r.address for r, _ in run(rule, resources)]


TERRAFORM = """
provider "aws" {
  region = "eu-west-1"
}
data "aws_iam_policy_document" "doc" {
  statement {
    actions = ["*"]
  }
}
data "aws_iam_policy_document" "none" {
  count = 0
}
resource "aws_iam_policy_document" "odd" {
  x = 1
}
resource "aws_iam_policy" "p" {
  policy = "{}"
}
"""


def test_terraform_provider_and_data_types_bind_those_blocks_only() -> None:
    resources = terraform(TERRAFORM)
    assert addresses("""
        - format: terraform
          types: [provider]
          check: {python: everything}
        """, resources) == ["provider.aws"]
    assert addresses("""
        - format: terraform
          types: [data.aws_iam_policy_document, aws_iam_policy]
          check: {python: everything}
        """, resources) == ["data.aws_iam_policy_document.doc", "aws_iam_policy.p"]
    # A plain type never binds a data source of that name, nor a provider block.
    assert addresses("""
        - format: terraform
          types: [aws_iam_policy_document]
          check: {python: everything}
        """, resources) == ["aws_iam_policy_document.odd"]


def test_data_binding_type_is_the_resource_type_of_the_rule() -> None:
    rule = rule_of("""
        - format: terraform
          types: [data.aws_iam_policy_document, provider]
          check: {python: everything}
        """, FUNCTIONS)
    assert rule.types == frozenset({"aws_iam_policy_document", "provider"})


WORKFLOW = """
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: make
"""


@pytest.mark.parametrize(
    ("format_", "type_", "source"),
    [("github-actions", "workflow", "github_actions"), ("dockerfile", "dockerfile", "dockerfile"),
     ("text", "text", "text")],
)
def test_workflows_dockerfiles_and_text_have_formats(format_: str, type_: str, source: str) -> None:
    workflow = parse_yaml(".github/workflows/ci.yml", textwrap.dedent(WORKFLOW).lstrip()).resources
    docker = parse_dockerfile("Dockerfile", "FROM alpine:3.20 AS build\nRUN make\nFROM scratch\n").resources
    text = text_resource("notes.txt", [(1, "hello"), (2, "world")])
    assert text is not None
    everything = (*workflow, *docker, text)
    rule = rule_of(f"""
        - format: {format_}
          types: [{type_}]
          check: {{python: everything}}
        """, FUNCTIONS)
    assert rule.sources == frozenset({source})
    found = [r for r, _ in run(rule, everything)]
    assert found and all(r.source == source for r in found)
    assert len(found) == sum(1 for r in everything if r.source == source)


def test_a_workflow_binding_reads_paths_from_the_workflow() -> None:
    rule = rule_of("""
        - format: github-actions
          types: [workflow]
          check: {path: permissions, exists: true}
        """)
    workflow = parse_yaml(".github/workflows/ci.yml", textwrap.dedent(WORKFLOW).lstrip()).resources
    assert [(v.line, v.key) for _, v in run(rule, workflow)] == [(1, "permissions")]


def test_regression_key_marks_the_rule() -> None:
    head = HEAD + "regression: true\n"
    spec = load_spec(spec_text("""
        - format: terraform
          types: [aws_db_instance]
          check: {python: everything}
        """, head), "rules/specs/test/CB-TEST-001.yml", FUNCTIONS)
    assert spec.regression is True and compile_spec(spec, FUNCTIONS).regression is True
    assert rule_of("""
        - format: terraform
          types: [aws_db_instance]
          check: {python: everything}
        """, FUNCTIONS).regression is False


def test_regression_key_must_be_a_boolean() -> None:
    text = spec_text("""
        - format: terraform
          types: [aws_db_instance]
          check: {path: x, equals: true}
        """, HEAD + "regression: sometimes\n")
    with pytest.raises(SpecError, match=r"CB-TEST-001.yml:6: 'regression' must be true or false"):
        load_spec(text, "rules/specs/test/CB-TEST-001.yml")
