"""`$root.` (the resource's format root, wherever a condition is) and `$template.` (a workloads
binding's pod template: its labels and annotations), with the keys and lines they report."""

from __future__ import annotations

import pytest

from tests.rules.spec.helpers import decided, lines, rule_of, terraform, yaml_file
from tests.rules.spec.landing_test import apply
from tests.rules.spec.loader_test import error_of
from tests.rules.spec.validation_test import tf as spec_with


def workloads(check: str, fix: str = "") -> str:
    return f"- format: kubernetes\n  types: [workloads]\n  check: {check}" + (f"\n  fix: {{set: {fix}}}" if fix else "")


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {team: shop}
spec:
  template:
    metadata:
      annotations:
        other: x
    spec:
      containers:
        - name: web
          image: web:1
"""
POD = """
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    seccomp: x
spec:
  containers:
    - name: p
      image: p:1
"""
CRONJOB = """
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: c
              image: c:1
"""


@pytest.mark.parametrize(
    ("manifest", "found"),
    [
        (DEPLOYMENT, [(9, "spec.template.metadata.annotations.seccomp")]),  # on the `annotations:` line
        (POD, []),  # a Pod is its own template
        (CRONJOB, [(7, "spec.jobTemplate.spec.template.metadata.annotations.seccomp")]),  # on `template:`
    ],
)
def test_template_reads_the_pod_template_metadata(manifest: str, found: list[tuple[int, str]]) -> None:
    rule = rule_of(workloads("{path: $template.metadata.annotations.seccomp, exists: true}"))
    assert [(v.line, v.key) for v in decided(rule, yaml_file(manifest, "k8s/m.yaml"))] == found


def test_root_reads_the_manifest_from_a_workloads_binding_and_from_inside_a_for_each() -> None:
    rule = rule_of(workloads("{path: $root.metadata.labels.team, equals: shop}"))
    assert lines(rule, yaml_file(DEPLOYMENT, "k8s/d.yaml")) == []
    violation, = decided(rule, yaml_file(DEPLOYMENT.replace("team: shop", "team: ops"), "k8s/d.yaml"))
    assert (violation.line, violation.key) == (5, "metadata.labels.team")
    each = rule_of(workloads("{for_each: {path: $containers, check: {any: [{path: $root.metadata.labels.owner, "
                             "equals: ops}, {path: image, regex: '.*@sha256:.*'}]}}}"))
    violation, = decided(each, yaml_file(DEPLOYMENT, "k8s/d.yaml"))
    assert (violation.line, violation.key) == (14, "containers[web].image")  # the value written
    tf = rule_of("- format: terraform\n  types: [aws_thing]\n  check:\n"
                 "    for_each: {path: rule, check: {any: [{path: $root.internal, equals: true}, {path: port, equals: 443}]}}")
    body = 'resource "aws_thing" "t" {\n  internal = INTERNAL\n  rule {\n    port = 80\n  }\n}\n'
    assert lines(tf, terraform(body.replace("INTERNAL", "true"))) == []
    assert lines(tf, terraform(body.replace("INTERNAL", "false"))) == [2]


def test_a_fix_through_root_adds_the_key_to_the_mapping_it_names() -> None:
    rule = rule_of(workloads("{path: $root.metadata.namespace, exists: true}", fix="shop"))
    text = DEPLOYMENT.lstrip("\n")
    violation, = decided(rule, yaml_file(text, "k8s/d.yaml"))
    assert (violation.line, violation.suggestion) == (3, "metadata:\n  namespace: shop")
    assert decided(rule, yaml_file(apply(text, violation), "k8s/d.yaml")) == []


@pytest.mark.parametrize(
    ("binding", "line", "words"),
    [
        (spec_with("{path: $template.metadata.labels, exists: true}"), 10, "pod template of a kubernetes workloads"),
        (spec_with("{path: $root, exists: true}"), 10, "may start a path"),
        (spec_with("{path: a.$root.b, exists: true}"), 10, "may start a path"),
        (spec_with("referrer: {types: [t], via: [$root.a]}"), 10, "'$root.' may start a test's or a for_each"),
        (spec_with("{path: p, covers_port: {port: 22, from: $root.a, to: b}}"), 10, "'$root.' may start"),
        (spec_with("sibling: {types: [Service], where: {path: $template.metadata, exists: true}}", "[workloads]",
                   "kubernetes"), 10, "pod template of a kubernetes workloads"),
    ],
)
def test_every_misuse_of_root_and_template_names_its_line(binding: str, line: int, words: str) -> None:
    message = error_of(binding)
    assert message.startswith(f"rules/specs/test/CB-TEST-001.yml:{line}: "), message
    assert words in message, message
