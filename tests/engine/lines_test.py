"""Findings land on the line git (and so GitHub) counts, whatever other line-break characters
a file holds: only "\n" ends a line."""

from __future__ import annotations

import pytest

from bot.cli.local import FsTree
from bot.engine.lines import git_lines, yaml_safe_breaks
from bot.engine.review import Engine
from rules.registry import default_rule_set

ODD_BREAKS = ["\f", "\v", "\x1c", "\x85", "\u2028", "\u2029", "\r"]

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p  # a{odd}b\nspec:\n  containers:\n    - name: c\n" \
      "      image: nginx@sha256:" + "a" * 64 + "\n      securityContext:\n        privileged: true\n"
VOLUME = '# note: a{odd}b\nresource "aws_ebs_volume" "v" {{\n  size      = 1\n  encrypted = false\n}}\n'
DOCKERFILE = "FROM alpine@sha256:" + "b" * 64 + "\n# a{odd}b\nUSER root\n"


@pytest.mark.parametrize("odd", ODD_BREAKS, ids=[f"U+{ord(c):04X}" for c in ODD_BREAKS])
@pytest.mark.parametrize(
    ("name", "template", "rule", "line"),
    [("pod.yaml", POD, "CB-K8S-001", 10), ("main.tf", VOLUME, "CB-AWS-001", 4), ("Dockerfile", DOCKERFILE, "CB-DOCKER-001", 3)],
    ids=["yaml", "terraform", "dockerfile"],
)
def test_a_finding_below_an_odd_break_lands_on_the_git_line(
    tmp_path: object, odd: str, name: str, template: str, rule: str, line: int
) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    (root / name).write_bytes(template.format(odd=odd).encode("utf-8"))
    review = Engine(default_rule_set()).scan(FsTree(root))
    if name.endswith(".yaml") and odd in "\f\v\x1c":  # control characters YAML forbids: an error on their line
        assert [(e.path, e.line) for e in review.errors] == [(name, 4)]
        assert f"U+{ord(odd):04X} is not allowed" in review.errors[0].message
        return
    found = [(f.rule_id, f.line) for f in review.findings if f.rule_id == rule]
    assert found == [(rule, line)], (review.findings, review.errors)


def test_git_lines_split_on_newline_only() -> None:
    assert git_lines("a\fb\u2028c\r\nd\n") == ["a\fb\u2028c", "d"]
    assert git_lines("a\n\n") == ["a", ""]
    assert git_lines("") == []
    assert git_lines("no newline") == ["no newline"]


def test_yaml_safe_breaks_keep_length_and_crlf() -> None:
    text = "a\u2028b\x85c\rd\r\ne"
    assert yaml_safe_breaks(text) == "a b c d\r\ne"
    assert len(yaml_safe_breaks(text)) == len(text)
