"""parse_yaml: lines on every value, classification, CloudFormation tags, and hostile input."""

from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.model import Node, Unknown
from bot.engine.parsers.yaml_docs import MAX_NODES, looks_like_cloudformation_json, parse_yaml


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


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


MULTI = dedent(
    """
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: api
    spec: {}
    ---
    # only a comment
    ---
    apiVersion: v1
    kind: Service
    spec:
      ports: [{port: 80}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: api}
    ---
    apiVersion: v1
    kind: List
    items:
      - apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings}
    ---
    services:
      web:
        image: nginx
    """
)


def test_multi_document_kubernetes_file() -> None:
    parsed = parse_yaml("k8s/all.yaml", MULTI)
    assert parsed.errors == ()
    found = [(r.source, r.kind, r.type, r.address, r.line, r.end_line) for r in parsed.resources]
    assert found == [
        ("kubernetes", "manifest", "Deployment", "Deployment/api", 2, 6),
        ("kubernetes", "manifest", "Service", "Service/<document 3>", 10, 13),
        ("kubernetes", "manifest", "Service", "Service/api", 15, 17),
        ("kubernetes", "manifest", "ConfigMap", "ConfigMap/settings", 22, 24),
    ]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("!Ref Bucket", {"Ref": "Bucket"}),
        ("!GetAtt Bucket.Arn", {"Fn::GetAtt": ["Bucket", "Arn"]}),
        ("!GetAtt [Bucket, Arn]", {"Fn::GetAtt": ["Bucket", "Arn"]}),
        ("!Sub '${AWS::StackName}-logs'", {"Fn::Sub": "${AWS::StackName}-logs"}),
        ("!Join ['-', [a, !Ref B]]", {"Fn::Join": ["-", ["a", {"Ref": "B"}]]}),
        ("!If [IsProd, 1, 2]", {"Fn::If": ["IsProd", 1, 2]}),
        ("!Equals [!Ref Env, prod]", {"Fn::Equals": [{"Ref": "Env"}, "prod"]}),
        ("!Select [0, !GetAZs '']", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
        ("!Split [',', !ImportValue Subnets]", {"Fn::Split": [",", {"Fn::ImportValue": "Subnets"}]}),
        ("!FindInMap [M, !Ref AWS::Region, K]", {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "K"]}),
        ("!Base64 hello", {"Fn::Base64": "hello"}),
        ("!Cidr [10.0.0.0/16, 4, 8]", {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}),
        ("!Not [!Condition IsProd]", {"Fn::Not": [{"Condition": "IsProd"}]}),
        ("!And [!Condition A, !Or [!Condition B, !Condition C]]",
         {"Fn::And": [{"Condition": "A"}, {"Fn::Or": [{"Condition": "B"}, {"Condition": "C"}]}]}),
        ("!Transform {Name: X}", {"Fn::Transform": {"Name": "X"}}),
        ("!!str 123", "123"),
        ("!!python/object/apply:os.system [echo hi]", ["echo hi"]),
    ],
)
def test_cloudformation_short_form_tags(snippet: str, expected: object) -> None:
    """Tags become long-form mappings (seen raw here through a manifest, which is not resolved)."""
    text = f"apiVersion: v1\nkind: ConfigMap\ndata:\n  value: {snippet}\n"
    parsed = parse_yaml("k8s/cm.yaml", text)
    assert parsed.errors == ()
    (resource,) = parsed.resources
    value = resource.body.get("data", "value")
    assert value is not None and (value.line, value.end_line) == (4, 4)
    assert value.plain() == expected


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("!Ref AWS::Region", Unknown("Ref AWS::Region")),
        ("!GetAtt Bucket.Arn", Unknown("Fn::GetAtt ['Bucket', 'Arn']")),
        ("!Sub '${Bucket}-x'", Unknown("Fn::Sub ${Bucket}-x")),
        ("!If [IsProd, true, false]", Unknown("Fn::If ['IsProd', True, False]")),
        ("[a, !Ref Bucket]", ["a", Unknown("Ref Bucket")]),
        ("!!str 123", "123"),
    ],
)
def test_cloudformation_intrinsics_in_resources_are_unknown(snippet: str, expected: object) -> None:
    text = (
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Thing:\n    Type: AWS::SSM::Parameter\n"
        f"    Properties:\n      Value: {snippet}\n"
    )
    (resource,) = parse_yaml("template.yaml", text).resources
    value = resource.body.get("Properties", "Value")
    assert value is not None and value.line == 6
    assert value.plain() == expected


CFN = dedent(
    """
    AWSTemplateFormatVersion: "2010-09-09"
    Parameters:
      Encrypt:
        Type: String
        Default: "false"
      Size:
        Type: Number
    Resources:
      Key:
        Type: AWS::KMS::Key
      Volume:
        Type: AWS::EC2::Volume
        Properties:
          Encrypted: !Ref Encrypt
          Size: !Ref Size
          KmsKeyId: !GetAtt Key.Arn
          AvailabilityZone: !Sub "${AWS::Region}a"
          Tags:
            - Key: Name
              Value: !Sub "${Key}-volume"
    Outputs:
      Id:
        Value: !Ref Volume
    """
)


def test_cloudformation_resources_resolve_parameter_defaults() -> None:
    parsed = parse_yaml("template.yaml", CFN)
    assert [(r.source, r.kind, r.type, r.address, r.line, r.end_line) for r in parsed.resources] == [
        ("cloudformation", "resource", "AWS::KMS::Key", "Resources.Key", 9, 10),
        ("cloudformation", "resource", "AWS::EC2::Volume", "Resources.Volume", 11, 20),
    ]
    volume = parsed.resources[1]
    encrypted = volume.body.get("Properties", "Encrypted")
    assert encrypted == Node("false", 14, 14)  # the default, on the line that uses it
    size = volume.body.get("Properties", "Size")
    assert size is not None and isinstance(size.value, Unknown)
    assert isinstance(volume.body.get("Properties", "KmsKeyId").value, Unknown)  # type: ignore[union-attr]
    assert volume.references == frozenset({"Encrypt", "Size", "Key"})
    assert volume.lines[0] == "  Volume:"


def test_json_template_goes_through_the_yaml_path_with_lines() -> None:
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Vol": {"Type": "AWS::EC2::Volume", "Properties": {"Encrypted": "false", "Size": 10}}},
    }
    text = json.dumps(template, indent="\t")
    assert looks_like_cloudformation_json(text)
    (resource,) = parse_yaml("infra/template.json", text).resources
    assert resource.address == "Resources.Vol"
    assert (resource.line, resource.end_line) == (4, 10)
    assert resource.body.get("Properties", "Encrypted") == Node("false", 7, 7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}', True),
        ('\ufeff  {"Resources": {"A": {"Type": "AWS::SNS::Topic"}}}', True),
        ('{"name": "my-package", "version": "1.0.0", "dependencies": {"aws-sdk": "2"}}', False),
        ('{"Resources": {"icon": "AWS::logo.png"}}', False),
        ("AWSTemplateFormatVersion: '2010-09-09'", False),
        ('["AWSTemplateFormatVersion"]', False),
    ],
)
def test_cloudformation_json_sniff(text: str, expected: bool) -> None:
    assert looks_like_cloudformation_json(text) is expected


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


@pytest.mark.parametrize(
    "text",
    [
        "services:\n  web:\n    image: nginx\n    ports: ['80:80']\n",  # docker-compose
        "replicaCount: 2\nimage:\n  repository: nginx\n",  # Helm values
        "",  # empty file
        "# only a comment\n",
        "just a string\n",
        "- 1\n- 2\n",
    ],
)
def test_other_yaml_has_no_resources_and_no_error(text: str) -> None:
    assert parse_yaml("deploy/values.yaml", text) == parse_yaml("deploy/values.yaml", text)
    parsed = parse_yaml("deploy/values.yaml", text)
    assert (parsed.resources, parsed.errors) == ((), ())


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    {{- include \"labels\" . | nindent 4 }}\n",
        "{{- if .Values.enabled }}\napiVersion: v1\nkind: Service\n{{- end }}\n",
        "{% for x in items %}\n- name: {{ x }}\n{% endfor %}\n",
    ],
)
def test_templates_are_not_yaml_errors(text: str) -> None:
    parsed = parse_yaml("charts/app/templates/cm.yaml", text)
    assert (parsed.resources, parsed.errors) == ((), ())


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: b\nc: [d\ne: f\n", 3),
        ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n bad: indent\n", 5),
        ("key: 'unterminated\nother: 1\n", 3),
        ("a: 1\n\tb: 2\n", 2),
    ],
)
def test_broken_yaml_is_an_error_on_the_right_line(text: str, line: int) -> None:
    parsed = parse_yaml("k8s/broken.yaml", text)
    assert parsed.resources == ()
    (error,) = parsed.errors
    assert error.path == "k8s/broken.yaml"
    assert error.line == line
    assert error.message.startswith("invalid YAML")


def billion_laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (billion_laughs(10), "expands to more than"),
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


def test_a_file_just_under_the_node_limit_parses() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\ndata:\n" + "".join(f"  k{i}: v\n" for i in range(MAX_NODES // 3))
    parsed = parse_yaml("k8s/big.yaml", text)
    assert parsed.errors == () and len(parsed.resources) == 1


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


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("ab:-[]{}&*!|>#'\" \n\t\\%@`") + ["- ", "&a ", "*a", "!Ref ", "<<: "]),
                max_size=120))
def test_parse_yaml_never_raises(pieces: list[str]) -> None:
    text = "".join(pieces)
    for path in ("k8s/fuzz.yaml", ".github/workflows/fuzz.yml", "template.json"):
        parsed = parse_yaml(path, text)
        assert parsed.path == path
        for error in parsed.errors:
            assert error.line is None or error.line >= 1
