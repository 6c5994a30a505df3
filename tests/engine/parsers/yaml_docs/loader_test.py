"""The loader: a line on every value, merge keys and scalar keys, aliases shared, and
hostile input (alias bombs, recursion, deep nesting) stopped quickly."""

from __future__ import annotations

import pytest

from bot.engine.parsers.yaml_docs import MAX_NODES, parse_yaml
from bot.engine.parsers.yaml_docs.loader import MAX_ALIAS_EXPANSION
from tests.engine.parsers.yaml_docs.support import dedent

NESTED = dedent(
    """
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
    spec:
      containers:
        - name: app
          image: nginx
          args: [--port,
                 "8080"]
          command:
            - sh
            - -c
          script: |
            echo one
            echo two

        - name: side
          image: busybox
          note: a plain
            scalar over two lines
    # trailing comment
    """
)


@pytest.mark.parametrize(
    ("keys", "line", "end_line", "value"),
    [
        (("metadata",), 4, 4, {"name": "web"}),
        (("metadata", "name"), 4, 4, "web"),
        (("spec",), 6, 21, None),
        (("spec", "containers"), 7, 21, None),
        (("spec", "containers", 0), 7, 16, None),
        (("spec", "containers", 0, "image"), 8, 8, "nginx"),
        (("spec", "containers", 0, "args"), 9, 10, ["--port", "8080"]),
        (("spec", "containers", 0, "args", 1), 10, 10, "8080"),
        (("spec", "containers", 0, "command", 1), 13, 13, "-c"),
        (("spec", "containers", 0, "script"), 14, 16, "echo one\necho two\n"),
        (("spec", "containers", 1), 18, 21, None),
        (("spec", "containers", 1, "note"), 20, 21, "a plain scalar over two lines"),
    ],
)
def test_every_value_has_its_own_lines(keys: tuple[str | int, ...], line: int, end_line: int, value: object) -> None:
    (resource,) = parse_yaml("k8s/pod.yaml", NESTED).resources
    node = resource.body.get(*keys)
    assert node is not None
    assert (node.line, node.end_line) == (line, end_line)
    if value is not None:
        assert node.plain() == value


def test_resource_spans_its_document_without_trailing_comments() -> None:
    (resource,) = parse_yaml("k8s/pod.yaml", NESTED).resources
    assert (resource.line, resource.end_line) == (1, 21)
    assert resource.lines[0] == "apiVersion: v1"
    assert resource.text_at(8) == "      image: nginx"


def billion_laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (billion_laughs(10), "aliases expand to more than"),
        (billion_laughs(7), "aliases expand to more than"),  # 9**7 = 4.8M values from 600 bytes
        ("a: &a [*a]\n", "recursive"),
        ("a: &a {b: *a}\n", "recursive"),
        ("- " * 400 + "x\n", "nesting"),
        ("[" * 5000 + "]" * 5000, "nesting"),
    ],
)
@pytest.mark.timeout(60)  # an unbounded expansion would not finish at all; speed is measured in bench/
def test_hostile_input_is_an_error(text: str, message: str) -> None:
    parsed = parse_yaml("k8s/bomb.yaml", text)
    (error,) = parsed.errors
    assert message in error.message


def test_aliases_within_the_limit_are_shared_not_copied() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: &big [1, 2, 3]\n  b: *big\n"
    (resource,) = parse_yaml("k8s/cm.yaml", text).resources
    assert resource.body.get("data", "b") is resource.body.get("data", "a")
    assert resource.body.get("data", "b").line == 4  # type: ignore[union-attr]


@pytest.mark.timeout(120)
def test_a_big_legitimate_file_is_not_mistaken_for_a_bomb() -> None:
    # 260k keys (a generated ConfigMap): plain size is bounded by the file's bytes, not a bomb
    text = "apiVersion: v1\nkind: ConfigMap\ndata:\n" + "".join(f"  k{i}: v\n" for i in range(260_000))
    parsed = parse_yaml("k8s/big.yaml", text)
    assert parsed.errors == () and len(parsed.resources) == 1
    assert parsed.resources[0].body.get("data", "k259999").line == 260_003  # type: ignore[union-attr]


@pytest.mark.timeout(120)
def test_a_minified_cloudformation_template_of_5_mb_parses() -> None:
    import json

    resources = {f"Vol{i}": {"Type": "AWS::EC2::Volume", "Properties": {"Size": 1, "Encrypted": True,
                                                                         "Tags": [{"Key": "n", "Value": str(i)}]}}
                 for i in range(42_000)}
    text = json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}, separators=(",", ":"))
    assert 4_000_000 < len(text) < 5 * 1024 * 1024
    parsed = parse_yaml("cfn/big.json", text)
    assert parsed.errors == () and len(parsed.resources) == 42_000


def test_aliases_may_repeat_an_anchor_within_the_expansion_limit() -> None:
    anchor = "{" + ", ".join(f"k{i}: {i}" for i in range(99)) + "}"
    uses = "".join(f"  u{i}: *a\n" for i in range(MAX_ALIAS_EXPANSION // 100 - 1))
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\nx: &a {anchor}\ndata:\n{uses}"
    parsed = parse_yaml("k8s/aliases.yaml", text)
    assert parsed.errors == () and len(parsed.resources) == 1
    assert MAX_NODES > MAX_ALIAS_EXPANSION


def test_merge_keys_and_scalar_keys() -> None:
    text = dedent(
        """
        apiVersion: v1
        kind: ConfigMap
        metadata: &meta
          name: cfg
        data:
          <<: {a: "1", b: "2"}
          b: "3"
          80: http
          on: yes
        """
    )
    (resource,) = parse_yaml("k8s/cm.yaml", text).resources
    assert resource.body.get("data").plain() == {"a": "1", "b": "3", "80": "http", "on": True}  # type: ignore[union-attr]
