"""Spec -> Rule: dispatch across formats, where paths start per format, messages, fixes."""

from __future__ import annotations

import json

import pytest

from bot.engine.model import Resource, Violation
from rules.spec.catalog import spec_rules
from tests.rules.spec.helpers import decided, lines, rule_of, run, terraform, undecided_lines, yaml_file

TWO_FORMATS = """
- format: terraform
  types: [aws_db_instance]
  check: {path: storage_encrypted, equals: true}
  fix: {set: "true"}
- format: cloudformation
  types: ["AWS::RDS::DBInstance"]
  check: {path: StorageEncrypted, equals: true}
  message: Database storage is not encrypted.
  fix: {set: "true"}
"""

CFN = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Plain:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      StorageEncrypted: false
  Defaulted:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: mysql
  Bare:
    Type: AWS::RDS::DBInstance
  Encrypted:
    Type: AWS::RDS::DBInstance
    Properties:
      StorageEncrypted: "true"
  Volume:
    Type: AWS::EC2::Volume
    Properties:
      Encrypted: false
"""


def test_one_rule_dispatches_on_format_and_type() -> None:
    rule = rule_of(TWO_FORMATS)
    assert rule.sources == frozenset({"terraform", "cloudformation"})
    assert rule.types == frozenset({"aws_db_instance", "AWS::RDS::DBInstance"})
    tf = terraform('resource "aws_db_instance" "d" {\n  storage_encrypted = false\n}\n'
                   'resource "aws_ebs_volume" "v" {\n  encrypted = false\n}\n')
    assert lines(rule, tf) == [2]
    cfn = yaml_file(CFN)
    found = decided(rule, cfn)
    # Paths start inside Properties; an absent value lands on the logical id's line.
    assert [(v.line, v.key) for v in found] == [(7, "StorageEncrypted"), (8, "StorageEncrypted"),
                                                 (12, "StorageEncrypted")]
    assert found[0].message == "Database storage is not encrypted (StorageEncrypted = false)."
    assert found[1].message == "Database storage is not encrypted (StorageEncrypted is not set)."
    tf_violation, = decided(rule, tf)
    assert tf_violation.message == "Thing is not safe (storage_encrypted = false)."


def test_terraform_bindings_judge_only_resources_terraform_creates() -> None:
    rule = rule_of("- format: terraform\n  types: [aws_thing]\n  check: {path: on, equals: true}")
    resources = terraform(
        'resource "aws_thing" "none" {\n  count = 0\n}\n'
        'resource "aws_thing" "empty" {\n  for_each = {}\n}\n'
        'data "aws_thing" "existing" {\n  name = "x"\n}\n'
        'resource "aws_thing" "one" {\n  count = 1\n}\n'
    )
    assert lines(rule, resources) == [10]


WORKLOADS = """
- format: kubernetes
  types: [workloads]
  skip_if: {path: hostNetwork, equals: true}
  check:
    all:
      - {path: automountServiceAccountToken, equals: false, absent: pass}
      - for_each:
          path: $containers
          check: {path: securityContext.readOnlyRootFilesystem, equals: true}
  fix: {set: "true"}
"""

MANIFESTS = """
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: app
      image: app:1
      securityContext:
        readOnlyRootFilesystem: true
    - name: sidecar
      image: side:1
  initContainers:
    - name: init
      image: init:1
      securityContext:
        readOnlyRootFilesystem: false
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      automountServiceAccountToken: true
      containers:
        - name: web
          image: web:1
          securityContext:
            readOnlyRootFilesystem: true
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: job
              image: job:1
---
apiVersion: v1
kind: Pod
metadata: {name: host}
spec:
  hostNetwork: true
  containers:
    - name: skipped
      image: x:1
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data:
  containers: none
"""


def test_a_workloads_binding_reads_every_pod_template_and_container() -> None:
    rule = rule_of(WORKLOADS)
    assert rule.sources == frozenset({"kubernetes"}) and rule.types == frozenset()
    found = decided(rule, yaml_file(MANIFESTS, "k8s/app.yaml"))
    assert [(v.line, v.key) for v in found] == [
        (10, "containers[sidecar].securityContext.readOnlyRootFilesystem"),  # the container's first line
        (16, "initContainers[init].securityContext.readOnlyRootFilesystem"),
        (24, "automountServiceAccountToken"),
        (40, "containers[job].securityContext.readOnlyRootFilesystem"),
    ]


def test_kubernetes_kinds_read_from_the_document_root() -> None:
    rule = rule_of("- format: kubernetes\n  types: [Service]\n  check: {path: spec.type, not_equals: LoadBalancer}")
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: LoadBalancer\n"
    assert lines(rule, yaml_file(text, "k8s/s.yaml")) == [5]


# --- fixes -------------------------------------------------------------------------------------------------

TF_RULE = "- format: terraform\n  types: [aws_thing]\n  check: {path: on, equals: true}\n  fix: {set: \"true\"}"


def apply(text: str, violation: Violation) -> str:
    assert violation.suggestion is not None
    rows = text.split("\n")
    end = violation.end_line or violation.line
    return "\n".join(rows[: violation.line - 1] + violation.suggestion.split("\n") + rows[end:])


@pytest.mark.parametrize(
    ("source", "suggestion"),
    [
        ('resource "aws_thing" "t" {\n  size = 1\n  on   = false # keep\n}\n', "  on   = true # keep"),
        ('resource "aws_thing" "t" {\n    size = 1\n}\n', 'resource "aws_thing" "t" {\n    on = true'),
        ('resource "aws_thing" "t" {\n  on = "false"\n}\n', "  on = true"),
        ('resource "aws_thing" "t" { size = 1 }\n', None),  # a one-line block takes no new line
        ('variable "v" {\n  default = false\n}\nresource "aws_thing" "t" {\n  on = var.v\n}\n', None),
    ],
)
def test_hcl_fixes_replace_the_literal_or_add_the_attribute(source: str, suggestion: str | None) -> None:
    resources = terraform(source)
    violation, = decided(rule_of(TF_RULE), resources)
    assert violation.suggestion == suggestion
    if suggestion is not None:
        assert decided(rule_of(TF_RULE), terraform(apply(source, violation))) == []


def test_nested_block_fixes_go_into_the_block_that_should_hold_the_attribute() -> None:
    rule = rule_of("- format: terraform\n  types: [aws_thing]\n  check: {path: disk.encrypted, equals: true}\n"
                   "  fix: {set: \"true\"}")
    source = 'resource "aws_thing" "t" {\n  disk {\n    size = 8\n  }\n}\n'
    violation, = decided(rule, terraform(source))
    assert (violation.line, violation.suggestion) == (2, "  disk {\n    encrypted = true")
    assert decided(rule, terraform(apply(source, violation))) == []
    # A whole missing block is more than one line: no suggestion.
    violation, = decided(rule, terraform('resource "aws_thing" "t" {\n  size = 8\n}\n'))
    assert violation.suggestion is None


def test_terraform_json_fixes_replace_literals_but_add_nothing() -> None:
    document = {"resource": {"aws_thing": {"t": {"size": 1, "on": False}}}}
    source = json.dumps(document, indent=2) + "\n"
    violation, = decided(rule_of(TF_RULE), terraform(source, "main.tf.json"))
    assert violation.suggestion == '        "on": true'
    fixed = apply(source, violation)
    assert json.loads(fixed)["resource"]["aws_thing"]["t"]["on"] is True
    document["resource"]["aws_thing"]["t"] = {"size": 1}
    violation, = decided(rule_of(TF_RULE), terraform(json.dumps(document, indent=2), "main.tf.json"))
    assert violation.suggestion is None


def test_yaml_fixes_replace_the_value_or_add_the_key() -> None:
    rule = rule_of(TWO_FORMATS)
    text = CFN.lstrip("\n")
    plain, defaulted, bare = decided(rule, yaml_file(text))
    assert plain.suggestion == "      StorageEncrypted: true"
    assert defaulted.suggestion == "  Defaulted:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      StorageEncrypted: true"
    assert (defaulted.line, defaulted.end_line) == (8, 10)
    assert bare.suggestion is None  # no Properties mapping to add to
    fixed = apply(apply(text, defaulted), plain)
    assert [v.line for v in decided(rule, yaml_file(fixed))] == [13]


def test_yaml_fixes_add_a_key_to_a_list_item() -> None:
    rule = rule_of("""
        - format: kubernetes
          types: [workloads]
          check: {for_each: {path: $containers, check: {path: readOnly, equals: true}}}
          fix: {set: "true"}
    """)
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: app\n      image: a:1\n"
    violation, = decided(rule, yaml_file(text, "k8s/p.yaml"))
    assert (violation.line, violation.suggestion) == (6, "    - name: app\n      readOnly: true")
    assert decided(rule, yaml_file(apply(text, violation), "k8s/p.yaml")) == []


def test_json_templates_get_value_fixes_only() -> None:
    rule = rule_of(TWO_FORMATS)
    template = {"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"StorageEncrypted": "false"}},
                              "Other": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "mysql"}}}}
    found = decided(rule, yaml_file(json.dumps(template, indent=2), "template.json"))
    assert [v.suggestion for v in found] == ['        "StorageEncrypted": "true"', None]


# --- the converted rules keep their behaviour ---------------------------------------------------------------

def violations_of(rule_id: str, resources: tuple[Resource, ...]) -> list[Violation]:
    rule = next(r for r in spec_rules() if r.id == rule_id)
    return [v for _, v in run(rule, resources)]


def test_rds_keys_and_messages_match_the_python_rule() -> None:
    resources = terraform('resource "aws_db_instance" "d" {\n  storage_encrypted = false\n}\n')
    violation, = violations_of("CB-AWS-002", resources)
    assert violation.key == "storage_encrypted"
    assert violation.message == "Database storage is not encrypted (storage_encrypted = false)."


def test_kms_keys_that_cannot_rotate_are_skipped_and_unknown_specs_are_undecided() -> None:
    rule = next(r for r in spec_rules() if r.id == "CB-AWS-012")
    assert lines(rule, terraform('resource "aws_kms_key" "k" {\n  key_usage = "sign_verify"\n}\n')) == []
    assert lines(rule, terraform('resource "aws_kms_key" "k" {\n  key_usage = "ENCRYPT_DECRYPT"\n}\n')) == [1]
    assert lines(rule, terraform('resource "aws_kms_key" "k" {\n  xks_key_id = "x"\n}\n')) == []
    unknown = terraform('variable "s" {}\nresource "aws_kms_key" "k" {\n  customer_master_key_spec = var.s\n}\n')
    assert lines(rule, unknown) == [] and undecided_lines(rule, unknown) == [2]
