"""CloudFormation: short-form tags, intrinsics, parameter defaults, JSON templates and the
JSON sniff."""

from __future__ import annotations

import json

import pytest

from bot.engine.model import Node, Unknown
from bot.engine.parsers.yaml_docs import looks_like_cloudformation_json, parse_yaml
from tests.engine.parsers.yaml_docs.support import dedent


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
