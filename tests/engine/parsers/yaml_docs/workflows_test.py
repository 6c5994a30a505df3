"""GitHub Actions: workflows classified by path, one resource each, the `on` key kept."""

from __future__ import annotations

import pytest

from bot.engine.model import Node
from bot.engine.parsers.yaml_docs import parse_yaml
from tests.engine.parsers.yaml_docs.support import dedent

WORKFLOW = dedent(
    """
    name: CI
    on:
      pull_request_target:
        types: [opened]
    jobs:
      test:
        runs-on: ubuntu-latest
        steps:
          - run: echo hi
    """
)


@pytest.mark.parametrize(
    ("path", "sources"),
    [
        (".github/workflows/ci.yml", ["github_actions"]),
        ("sub/repo/.github/workflows/ci.yaml", ["github_actions"]),
        (".github/workflows/nested/ci.yml", []),
        (".github/dependabot.yml", []),
        ("ci.yml", []),
    ],
)
def test_workflow_classification_by_path(path: str, sources: list[str]) -> None:
    parsed = parse_yaml(path, WORKFLOW)
    assert parsed.errors == ()
    assert [r.source for r in parsed.resources] == sources


def test_workflow_is_one_resource_and_keeps_the_on_key() -> None:
    (resource,) = parse_yaml(".github/workflows/ci.yml", WORKFLOW).resources
    assert (resource.kind, resource.type, resource.address) == ("workflow", "workflow", "workflow")
    assert (resource.line, resource.end_line) == (1, 9)
    on = resource.body.get("on")
    assert on is not None and on.line == 3 and "pull_request_target" in on.value
    assert resource.body.get("jobs", "test", "steps", 0, "run") == Node("echo hi", 9, 9)
