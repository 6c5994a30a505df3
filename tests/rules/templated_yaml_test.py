"""Kubernetes rules on templated YAML: a value that is written literally is judged; a value a
template fills in, or a key missing where template output may add it (`Node.hidden`), is
"cannot tell" (undecided), never a finding; the spec interpreter and the Python checks agree."""

from __future__ import annotations

import textwrap

import pytest

from bot.engine.model import Violation
from bot.engine.parsers.yaml_docs import parse_yaml
from rules.registry import all_rules
from tests.rules.spec.helpers import Context

RULES = {rule.id: rule for rule in all_rules()}
CHART = "charts/app/templates/manifest.yaml"


def verdicts(rule_id: str, text: str) -> tuple[list[int], list[int]]:
    """The lines of the rule's findings and of its undecided verdicts."""
    parsed = parse_yaml(CHART, textwrap.dedent(text).lstrip("\n"))
    assert parsed.errors == () and parsed.templated
    rule = RULES[rule_id]
    found: list[Violation] = [v for r in parsed.resources if rule.applies_to(r)
                              for v in rule.check(r, Context(parsed.resources))]
    return [v.line for v in found if not v.undecided], [v.line for v in found if v.undecided]


POD = """
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}
spec:
  {{- include "pod.extras" . | nindent 2 }}
  serviceAccountName: {{ .Values.account }}
  securityContext:
    runAsUser: 0
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
        privileged: true
      resources:
        limits:
          cpu: 100m
          {{- with .Values.memory }}
          memory: {{ . }}
          {{- end }}
"""


@pytest.mark.parametrize(
    ("rule_id", "findings", "undecided"),
    [
        ("CB-K8S-001", [15], []),  # a literal `privileged: true` beside template output
        ("CB-K8S-007", [], [14]),  # readOnlyRootFilesystem: the template output may set it
        ("CB-K8S-011", [], [6]),  # a literal CPU limit; initContainers may be in the pod spec's template output
        ("CB-K8S-010", [], [6]),  # a memory limit whose value the template fills in is there
        ("CB-K8S-012", [], [6]),  # the pod spec is open: automountServiceAccountToken may be set there
        ("CB-K8S-003", [], []),  # the pod's runAsUser 0 may be overridden by the container's template output
    ],
)
def test_literal_values_are_judged_and_what_a_template_may_set_is_undecided(
        rule_id: str, findings: list[int], undecided: list[int]) -> None:
    found, maybe = verdicts(rule_id, POD)
    assert found == findings
    assert sorted(set(maybe)) == undecided


def test_a_pod_user_the_container_cannot_override_still_runs_as_root() -> None:
    text = POD.replace("{{- toYaml .Values.securityContext | nindent 8 }}", "readOnlyRootFilesystem: true")
    assert verdicts("CB-K8S-003", text)[0] == [9]


ROLE = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
rules:
  - apiGroups: [""]
    resources: [secrets]
    verbs: [get]
    resourceNames:
      {{- toYaml .Values.secretNames | nindent 6 }}
  - apiGroups: [""]
    resources: [secrets]
    verbs: [list]
    resourceNames: {{ .Values.names }}
  - apiGroups: [""]
    resources: [secrets]
    {{- include "more.rule" . | nindent 4 }}
    verbs: [watch]
  - apiGroups: [""]
    resources: [secrets]
    verbs: [get]
"""


def test_resource_names_a_template_writes_may_narrow_a_secret_read() -> None:
    assert verdicts("CB-K8S-020", ROLE)[0] == [18]  # only the last rule, written whole, reads every Secret


STACK = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: {{ bucket_name }}
      {{ extra_properties }}
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      {% include 'db.yaml' %}
      PubliclyAccessible: true
  Vol:
    Type: AWS::EC2::Volume
    Properties:
      Size: 10
"""


def test_a_jinja_cloudformation_stack_is_judged_on_what_is_written() -> None:
    """The bucket's and the database's properties are open to template output: nothing is
    reported missing there (the interpreter's reads and the Python checks alike); the literal
    `PubliclyAccessible: true` is a finding, and the volume, written whole, lacks encryption."""
    parsed = parse_yaml("stacks/app.yaml", textwrap.dedent(STACK).lstrip("\n"))
    assert parsed.errors == () and parsed.templated
    context = Context(parsed.resources)
    found = {(rule.id, v.line) for r in parsed.resources for rule in RULES.values() if rule.applies_to(r)
             for v in rule.check(r, context) if not v.undecided}
    assert found == {("CB-AWS-003", 12), ("CB-AWS-001", 13)}
