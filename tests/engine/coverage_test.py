"""What the engine lists as not reviewed: each format with its `what`, the files it reviews left
unlisted, and the entries a review carries (binary files, kustomize patches, Helm values)."""

from __future__ import annotations

import pytest

from bot.engine import coverage
from bot.engine.diff import parse_file_patch, parse_unified_diff, whole_file_added
from bot.engine.parsers import parse_one
from bot.engine.policy import parse_policy
from bot.engine.review import Engine, Review
from bot.engine.tree import MemoryTree, decode_text
from rules.registry import default_rule_set

HELM_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  template:
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          securityContext:
            privileged: true
"""
PROMETHEUS_RULE = """\
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: node
spec:
  groups:
    - name: node
      rules:
        - alert: InstanceDown
          annotations:
            summary: Instance {{ $labels.instance }} down
            description: "{{ $value }} for 5 minutes"
            runbook: |
              {{ $labels.job }} on {{ $labels.instance }}
"""
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  automountServiceAccountToken: false
  securityContext: {seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: c
      image: i@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31
      resources: {limits: {cpu: 100m, memory: 64Mi}}
      securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""
SAM = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
  Data:
    Type: AWS::EC2::Volume
    Properties:
      Size: 10
"""
ARM = '{\n  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",\n' \
      '  "contentVersion": "1.0.0.0",\n  "resources": []\n}\n'
CFN_JSON = '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"B": {"Type": "AWS::S3::Bucket"}}}\n'
JSON_PATCH = "- op: replace\n  path: /spec/replicas\n  value: 3\n"
WORKFLOW = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo {{ x }} ${{ github.sha }}\n"


@pytest.mark.parametrize(
    ("path", "text", "what"),
    [
        ("charts/app/templates/deployment.yaml", HELM_TEMPLATE, "helm template"),
        ("deploy/app.yaml", HELM_TEMPLATE, "helm template"),  # Go-template syntax decides, not the folder
        ("deploy/pod.yaml", "spec:\n  privileged: {{ .Values.privileged }}\n", "helm template"),
        ("charts/app/templates/rules.yaml", PROMETHEUS_RULE, "helm template"),  # Helm renders its strings too
        ("charts/app/templates/_helpers.tpl", None, "helm template"),
        ("deploy/app.yaml", "{% if prod %}\nreplicas: 3\n{% endif %}\n", "jinja template"),
        ("deploy/app.yaml", "replicas: {{ replicas }}\n", "jinja template"),  # no Go `.`: a Jinja variable
        ("ansible/deployment.yaml.j2", None, "jinja template"),
        ("helmfile.d/values.yaml.gotmpl", None, "helm template"),
        ("charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n", "helm chart"),
        ("overlays/prod/kustomization.yaml", "resources: [../../base]\n", "kustomize"),
        ("overlays/prod/kustomization.yml", None, "kustomize"),
        ("overlays/prod/Kustomization", None, "kustomize"),
        ("overlays/prod/replicas.yaml", JSON_PATCH, "kustomize patch"),
        ("overlays/prod/replicas.json", '[{"op": "remove", "path": "/spec/x"}]', "kustomize patch"),
        ("infra/main.bicep", None, "bicep"),
        ("infra/main.bicepparam", None, "bicep"),
        ("infra/azuredeploy.json", ARM, "arm template"),
        ("live/prod/terragrunt.hcl", None, "terragrunt"),
        ("vault/policy.hcl", None, "hcl"),
        ("images/base.pkr.hcl", None, "packer"),
        ("images/base.pkr.json", "{}", "packer"),
        ("images/vars.pkrvars.hcl", None, "packer"),
        ("jobs/web.nomad", None, "nomad job"),
        ("jobs/web.nomad.hcl", None, "nomad job"),
        ("infra/main.tofu", None, "opentofu"),
        ("Pulumi.yaml", "name: app\nruntime: yaml\n", "pulumi"),
        ("stacks/Pulumi.prod.yaml", "config: {}\n", "pulumi"),
        ("lib/app.jsonnet", None, "jsonnet"),
        ("lib/k.libsonnet", None, "jsonnet"),
        ("cue/app.cue", None, "cue"),
        ("api/serverless.yml", "service: api\nprovider:\n  name: aws\n", "serverless framework"),
        ("docker-compose.yml", "services:\n  app:\n    privileged: true\n", "docker compose"),
        ("docker-compose.override.yml", None, "docker compose"),
        ("compose.yaml", None, "docker compose"),
        ("k8s/pod.json", '{"apiVersion": "v1", "kind": "Pod", "spec": {}}', "kubernetes json"),
    ],
)
def test_formats_the_engine_does_not_review_are_listed(path: str, text: str | None, what: str) -> None:
    entry = coverage.detect(path, text)
    assert entry is not None and entry.what == what and entry.path == path and entry.line is None
    assert entry.what in coverage.KINDS and entry.reason


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("k8s/pod.yaml", POD),  # a Kubernetes manifest: parsed
        ("infra/main.tf", 'resource "aws_s3_bucket" "b" {}\n'),  # Terraform: parsed
        ("infra/prod.tfvars", 'enc = false\n'),  # variable files: their values are applied
        ("infra/main.tf.json", '{"resource": {}}'),  # Terraform's JSON syntax: parsed
        ("infra/x.auto.tfvars.json", '{"enc": false}'),
        ("app/main.py", "print('hello {{ name }}')\n"),  # source code: the secrets rules read it whole
        ("README.md", "# {{ title }}\n"),
        ("template.yaml", SAM),  # AWS SAM is CloudFormation
        ("cfn/stack.json", CFN_JSON),
        ("package.json", '{"name": "x", "version": "1.0.0"}'),
        ("monitoring/rules.yaml", PROMETHEUS_RULE),  # `{{ }}` only inside strings: text, not templating
        (".github/workflows/ci.yml", WORKFLOW),  # GitHub renders `${{ }}` itself; nothing else is templating
        (".terraform.lock.hcl", None),  # pins providers: no configuration in it
        ("tests/buckets.tftest.hcl", None),  # `terraform test`: nothing it says is deployed
        ("charts/app/values.yaml", "image: nginx\n"),  # no Chart.yaml known beside it
        ("Dockerfile", "FROM alpine\n"),
    ],
)
def test_formats_the_engine_reviews_are_not_listed(path: str, text: str | None) -> None:
    assert coverage.detect(path, text) is None


def test_sam_templates_are_parsed_as_cloudformation() -> None:
    parsed = parse_one("template.yaml", SAM)
    assert parsed.errors == ()
    assert [(r.source, r.type) for r in parsed.resources] == [
        ("cloudformation", "AWS::Serverless::Function"), ("cloudformation", "AWS::EC2::Volume")]


def test_values_files_are_a_charts_only_beside_a_chart_yaml() -> None:
    for name in ("values.yaml", "values-prod.yaml", "values.prod.yml", "prod-values.yaml"):
        entry = coverage.detect(f"charts/app/{name}", "x: 1\n", chart_dirs={"charts/app"})
        assert entry is not None and entry.what == "helm values" and "`charts/app`" in entry.reason
        assert coverage.detect(f"config/{name}", "x: 1\n", chart_dirs={"charts/app"}) is None
    assert coverage.chart_of("charts/app/values.yaml") == "charts/app/Chart.yaml"
    assert coverage.chart_of("charts/app/settings.yaml") is None


def test_kustomize_patches_are_the_paths_a_kustomization_names() -> None:
    text = """\
resources: [../../base, deployment.yaml]
patchesStrategicMerge:
  - replicas.yaml
  - |-
    apiVersion: v1
    kind: ConfigMap
patchesJson6902:
  - target: {kind: Deployment, name: app}
    path: ops/json-patch.yaml
patches:
  - path: ../common/labels.yaml
  - patch: "[]"
  - path: ../../../outside.yaml
  - path: https://example.invalid/p.yaml
"""
    assert coverage.kustomize_patches("overlays/prod/kustomization.yaml", text) == {
        "overlays/prod/replicas.yaml", "overlays/prod/ops/json-patch.yaml", "overlays/common/labels.yaml"}
    assert coverage.kustomize_patches("kustomization.yaml", "{not yaml") == frozenset()


# -- through the engine ---------------------------------------------------------------------------


def review_of(files: dict[str, str], extra: dict[str, str] | None = None) -> Review:
    """Review `files` as added by a change, in a head that also holds `extra` (unchanged)."""
    engine = Engine(default_rule_set())
    diffs = [whole_file_added(path, text) for path, text in files.items()]
    return engine.review_change(diffs, MemoryTree({**files, **(extra or {})}))


def test_a_helm_template_with_a_privileged_container_is_judged_as_written_and_still_listed() -> None:
    """The literal `privileged: true` beside the template marks is a finding; the template's own
    values (the image) are unknown, so nothing is said about them; the file stays listed."""
    review = review_of({"charts/app/templates/deployment.yaml": HELM_TEMPLATE, "k8s/pod.yaml": POD,
                        "infra/main.bicep": "param location string\n", "app/main.py": "x = 1\n"})
    assert review.errors == ()
    found = {(f.rule_id, f.line) for f in review.findings}
    assert ("CB-K8S-001", 14) in found
    assert all(f.path == "charts/app/templates/deployment.yaml" for f in review.findings)
    assert not {"CB-K8S-015", "CB-K8S-016"} & {f.rule_id for f in review.findings}  # the image is a template value
    listed = {n.path: n for n in review.not_reviewed}
    assert sorted(listed) == ["charts/app/templates/deployment.yaml", "infra/main.bicep"]
    helm = listed["charts/app/templates/deployment.yaml"]
    assert helm.what == "helm template" and "reviewed as written with template values unknown" in helm.reason
    assert "helm template" in helm.reason
    assert review.conclusion(parse_policy(None)) == "failure"  # the finding blocks


HELM_CLEAN = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
data:
  mode: {{ .Values.mode | quote }}
"""


def test_the_policy_switch_makes_listed_kinds_fail() -> None:
    files = {"charts/app/templates/configmap.yaml": HELM_CLEAN}
    assert review_of(files).findings == ()
    assert review_of(files).conclusion(parse_policy(None)) == "success"  # listed, not failing, by default
    assert review_of(files).conclusion(parse_policy("not_reviewed:\n  fail: [helm template]\n")) == "failure"
    assert review_of(files).conclusion(parse_policy("not_reviewed:\n  fail: all\n")) == "failure"
    assert review_of(files).conclusion(parse_policy("not_reviewed:\n  fail: [bicep]\n")) == "success"


def test_a_values_file_beside_a_chart_yaml_is_listed_and_the_chart_is_not_parsed() -> None:
    review = review_of({"charts/app/values.yaml": "securityContext:\n  privileged: true\n"},
                       extra={"charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n"})
    assert [(n.path, n.what) for n in review.not_reviewed] == [("charts/app/values.yaml", "helm values")]
    assert review.stats.files_parsed == 1  # the probed Chart.yaml is read, never parsed as a change
    plain = review_of({"config/values.yaml": "a: 1\n"})
    assert plain.not_reviewed == ()


def test_patches_named_by_a_changed_kustomization_are_listed() -> None:
    patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 3\n"
    review = review_of({"overlays/prod/kustomization.yaml": "resources: [../../base]\npatches:\n  - path: replicas.yaml\n",
                        "overlays/prod/replicas.yaml": patch})
    assert [(n.path, n.what) for n in review.not_reviewed] == [
        ("overlays/prod/kustomization.yaml", "kustomize"), ("overlays/prod/replicas.yaml", "kustomize patch")]


def test_binary_files_are_listed_and_deleted_ones_are_not() -> None:
    diff = parse_unified_diff(
        "diff --git a/logo.png b/logo.png\nnew file mode 100644\nindex 0000000..1111111\n"
        "Binary files /dev/null and b/logo.png differ\n"
        "diff --git a/old.png b/old.png\ndeleted file mode 100644\nindex 1111111..0000000\n"
        "Binary files a/old.png and /dev/null differ\n")
    png = decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    review = Engine(default_rule_set()).review_change(diff, MemoryTree({"logo.png": png}))
    assert [(n.path, n.what, n.reason) for n in review.not_reviewed] == [
        ("logo.png", "binary file", coverage.BINARY_REASON)]
    assert review.errors == ()


def test_a_file_without_a_patch_that_cannot_be_read_is_an_error() -> None:
    """Not even scanned for secrets: the review fails closed, naming the file."""
    diffs = [parse_file_patch("assets/font.woff", None, "added"), parse_file_patch("data/dump.json", None, "added")]
    review = Engine(default_rule_set()).review_change(diffs, MemoryTree({"assets/font.woff": None}))
    assert [(e.path, e.message) for e in review.errors] == [
        ("assets/font.woff", "not scanned for secrets: unreadable or too large"),
        ("data/dump.json", "not scanned for secrets: unreadable or too large")]
    assert review.not_reviewed == ()


def test_a_file_with_an_error_is_not_listed_again() -> None:
    broken = "{{ if }}\n" + "x" * 10
    review = review_of({"charts/app/templates/big.yaml": broken + "# " + "x" * (6 * 1024 * 1024) + "\n"})
    assert [e.path for e in review.errors] == ["charts/app/templates/big.yaml"]  # too large: fails closed
    assert review.not_reviewed == ()


def test_ignored_and_deleted_files_are_not_listed() -> None:
    engine = Engine(default_rule_set(), parse_policy("paths:\n  ignore: ['legacy/**']\n"))
    gone = parse_file_patch("old/main.bicep", "@@ -1 +0,0 @@\n-param x string\n", "removed")
    review = engine.review_change([whole_file_added("legacy/main.bicep", "x\n"), gone],
                                  MemoryTree({"legacy/main.bicep": "x\n"}))
    assert review.not_reviewed == ()


def test_a_scan_lists_what_it_could_not_read_or_review() -> None:
    png = decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    tree = MemoryTree({"k8s/pod.yaml": POD, "infra/main.bicep": "param x string\n", "logo.png": png, "gone.bin": None})
    review = Engine(default_rule_set()).scan(tree)
    assert [(n.path, n.what) for n in review.not_reviewed] == [("infra/main.bicep", "bicep"), ("logo.png", "binary file")]
    assert [(e.path, e.message) for e in review.errors] == [
        ("gone.bin", "not scanned for secrets: unreadable or too large")]
