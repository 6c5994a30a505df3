"""Edge cases of the Kubernetes, CloudFormation, GitHub Actions and Dockerfile rules, as tables."""

from __future__ import annotations

import textwrap

import pytest

from bot.engine.model import Violation
from bot.engine.parsers.dockerfile import parse_dockerfile
from bot.engine.parsers.yaml_docs import parse_yaml
from rules.registry import all_rules
from tests.rules.spec.helpers import Context

RULES = {rule.id: rule for rule in all_rules()}  # CB-AWS-00x took over the CloudFormation CB-CFN-00x


def check(rule_id: str, path: str, text: str) -> list[Violation]:
    text = textwrap.dedent(text).lstrip("\n")
    parsed = parse_dockerfile(path, text) if "Dockerfile" in path else parse_yaml(path, text)
    assert parsed.errors == ()
    rule = RULES[rule_id]
    context = Context(parsed.resources)
    # What the engine reports by default: a rule's "cannot tell" (undecided) is left out.
    return [v for r in parsed.resources if rule.applies_to(r) for v in rule.check(r, context) if not v.undecided]


def lines(rule_id: str, path: str, text: str) -> list[int]:
    return [v.line for v in check(rule_id, path, text)]


POD = """
apiVersion: v1
kind: Pod
metadata: {{name: p}}
spec:
  {pod}
  containers:
    - name: app
      image: app:1
      securityContext:
        {container}
"""


@pytest.mark.parametrize(
    ("rule_id", "pod", "container", "expected"),
    [
        ("CB-K8S-001", "hostNetwork: false", "privileged: true", [10]),
        ("CB-K8S-001", "hostNetwork: false", "privileged: false", []),
        ("CB-K8S-001", "hostNetwork: false", 'privileged: "{{ .Values.priv }}"', []),
        ("CB-K8S-003", "securityContext: {runAsUser: 0}", "runAsUser: 1000", []),
        ("CB-K8S-003", "securityContext: {runAsUser: 1000}", "runAsUser: 0", [10]),
        ("CB-K8S-003", "securityContext: {runAsNonRoot: false}", "runAsUser: 1000", []),
        ("CB-K8S-003", "securityContext: {runAsNonRoot: false}", "readOnlyRootFilesystem: true", [5]),
        ("CB-K8S-003", "securityContext: {runAsNonRoot: false}", "runAsNonRoot: true", []),
        ("CB-K8S-003", "hostNetwork: false", "readOnlyRootFilesystem: true", []),
        ("CB-K8S-005", "hostNetwork: false", "capabilities: {add: [NET_BIND_SERVICE, sys_admin]}", [10]),
        ("CB-K8S-005", "hostNetwork: false", "capabilities: {drop: [ALL]}", []),
    ],
)
def test_kubernetes_pod_and_container_settings(rule_id: str, pod: str, container: str, expected: list[int]) -> None:
    assert lines(rule_id, "k8s/pod.yaml", POD.format(pod=pod, container=container)) == expected


def test_kubernetes_suggestion_keeps_indentation_and_comment() -> None:
    (violation,) = check("CB-K8S-001", "k8s/pod.yaml", POD.format(pod="hostPID: false",
                                                                   container="privileged: true  # needed?"))
    assert violation.suggestion == "        privileged: false  # needed?"
    assert (violation.line, violation.end_line) == (10, 10)


def test_kubernetes_non_workloads_are_ignored() -> None:
    text = """
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: c}
    data:
      spec: "privileged: true"
    """
    assert lines("CB-K8S-001", "k8s/cm.yaml", text) == []


def template(properties: str, type_: str = "AWS::EC2::Volume", parameters: str = "{}") -> str:
    body = textwrap.indent(textwrap.dedent(properties).strip(), "      ")
    return (
        f"AWSTemplateFormatVersion: '2010-09-09'\nParameters: {parameters}\nResources:\n  Thing:\n"
        f"    Type: {type_}\n    Properties:\n{body}\n"
    )


@pytest.mark.parametrize(
    ("rule_id", "type_", "properties", "expected"),
    [
        ("CB-AWS-001", "AWS::EC2::Volume", "Encrypted: !If [IsProd, true, false]", []),
        ("CB-AWS-001", "AWS::EC2::Volume", "Encrypted: 'False'", [7]),
        ("CB-AWS-001", "AWS::EC2::Volume", "Size: 10", [4]),
        ("CB-AWS-002", "AWS::RDS::DBCluster", "Engine: aurora-mysql\nEngineMode: serverless", []),
        ("CB-AWS-002", "AWS::RDS::DBCluster", "Engine: aurora-mysql\nSnapshotIdentifier: snap", []),
        ("CB-AWS-002", "AWS::RDS::DBInstance", "Engine: postgres\nDBSnapshotIdentifier: snap", []),
        ("CB-AWS-002", "AWS::RDS::DBInstance", "Engine: postgres\nStorageEncrypted: !Ref Encrypt", []),
        ("CB-AWS-003", "AWS::RDS::DBInstance", "PubliclyAccessible: 'true'", [7]),
        ("CB-AWS-003", "AWS::RDS::DBInstance", "PubliclyAccessible: !Ref Public", []),
        ("CB-AWS-004", "AWS::EC2::SecurityGroupIngress", "IpProtocol: tcp\nFromPort: 80\nToPort: 80\nCidrIp: 0.0.0.0/0",
         []),
        ("CB-AWS-004", "AWS::EC2::SecurityGroupIngress", "IpProtocol: 6\nFromPort: 0\nToPort: 65535\nCidrIp: 0.0.0.0/0",
         [10]),
        ("CB-AWS-005", "AWS::EC2::SecurityGroupIngress", "IpProtocol: 6\nFromPort: 0\nToPort: 65535\nCidrIp: 0.0.0.0/0",
         [10]),
        ("CB-AWS-004", "AWS::EC2::SecurityGroupIngress", "IpProtocol: tcp\nFromPort: 22\nToPort: 22\nCidrIp: !Ref Cidr",
         []),
        # Administration ports count over UDP too, as in Terraform; database ports over TCP only.
        ("CB-AWS-004", "AWS::EC2::SecurityGroupIngress", "IpProtocol: udp\nFromPort: 22\nToPort: 22\nCidrIp: 0.0.0.0/0",
         [10]),
        ("CB-AWS-005", "AWS::EC2::SecurityGroupIngress",
         "IpProtocol: udp\nFromPort: 5432\nToPort: 5432\nCidrIp: 0.0.0.0/0", []),
        ("CB-AWS-004", "AWS::EC2::SecurityGroupIngress", "IpProtocol: tcp\nFromPort: 22\nToPort: 22\nCidrIp: 1.2.3.4/32",
         []),
        ("CB-AWS-006", "AWS::Logs::LogGroup", "RetentionInDays: 90", []),
        ("CB-AWS-006", "AWS::Logs::LogGroup", "RetentionInDays: !Ref Days", []),
    ],
)
def test_cloudformation_cases(rule_id: str, type_: str, properties: str, expected: list[int]) -> None:
    assert lines(rule_id, "template.yaml", template(properties, type_)) == expected


def test_cloudformation_parameter_default_is_checked_where_it_is_used() -> None:
    text = template(
        "IpProtocol: tcp\nFromPort: 3389\nToPort: 3389\nCidrIp: !Ref Cidr",
        "AWS::EC2::SecurityGroupIngress",
        "{Cidr: {Type: String, Default: 0.0.0.0/0}}",
    )
    (violation,) = check("CB-AWS-004", "template.yaml", text)
    assert violation.line == 10 and "3389 (RDP)" in violation.message


def workflow(on: str, steps: str) -> str:
    body = textwrap.indent(textwrap.dedent(steps).strip(), "      ")
    return f"on: {on}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n{body}\n"


CHECKOUT_HEAD = "- uses: actions/checkout@v4\n  with:\n    ref: ${{ github.event.pull_request.head.ref }}"


@pytest.mark.parametrize(
    ("on", "steps", "expected"),
    [
        ("pull_request_target", CHECKOUT_HEAD, [8]),
        ("[push, pull_request_target]", CHECKOUT_HEAD, [8]),
        ("{workflow_run: {workflows: [CI]}}", CHECKOUT_HEAD, [8]),
        ("pull_request", CHECKOUT_HEAD, []),
        ("pull_request_target", "- uses: actions/checkout@v4", []),
        ("pull_request_target", "- uses: actions/checkout@v4\n  with:\n    ref: ${{ github.sha }}", []),
        ("pull_request_target", "- run: gh pr checkout ${{ github.event.number }}", [6]),
        ("pull_request_target", "- uses: someone/actions-checkout@v1\n  with:\n    ref: ${{ github.head_ref }}", []),
    ],
)
def test_pwn_request_cases(on: str, steps: str, expected: list[int]) -> None:
    assert lines("CB-GHA-001", ".github/workflows/ci.yml", workflow(on, steps)) == expected


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ('- run: echo "${{ github.event.pull_request.head.ref }}"', [6]),
        ('- run: echo "${{github.event.commits[0].message}}"', [6]),
        ('- run: echo "${{ github.event.head_commit.author.email }}"', [6]),
        ('- run: echo "${{ github.event.pages.*.page_name }}"', [6]),
        ('- run: echo "${{ github.event.pull_request.number }}"', []),
        ('- run: echo "${{ startsWith(github.head_ref, \'release/\') }}"', []),
        ('- run: echo "${{ github.event.issue.title == \'x\' }}"', []),
        ("- if: github.event.issue.title != ''\n  run: echo hi", []),
        ("- uses: some/action@v1\n  with:\n    script: ${{ github.event.issue.body }}", []),
    ],
)
def test_script_injection_cases(steps: str, expected: list[int]) -> None:
    assert lines("CB-GHA-002", ".github/workflows/ci.yml", workflow("issues", steps)) == expected


@pytest.mark.parametrize(
    ("uses", "expected"),
    [
        ("actions/setup-node@v4", []),  # GitHub's own organisations are not reported
        ("github/codeql-action/analyze@v3", []),
        ("Actions/cache@v4", []),
        ("pypa/gh-action-pypi-publish@release/v1", [6]),
        ("pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc", []),
        ("pypa/gh-action-pypi-publish@76F52BC884231F62B9A034EBFE128415BBAABDFC", []),
        ("pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdf", [6]),  # 39 digits
        ("pypa/gh-action-pypi-publish", [6]),
        ("./local-action", []),
        ("docker://ghcr.io/acme/tool:1.2", [6]),
        ("docker://ghcr.io/acme/tool@sha256:" + "ab" * 32, []),
    ],
)
def test_action_pinning_cases(uses: str, expected: list[int]) -> None:
    assert lines("CB-GHA-003", ".github/workflows/ci.yml", workflow("push", f"- uses: {uses}")) == expected


@pytest.mark.parametrize(
    ("run", "printed"),
    [
        ('echo "${{ secrets.A }}"', True),
        ("echo \"${{ secrets['A'] }}\"", True),
        ('echo "${{ github.token }}"', True),
        ('echo "${{ secrets.A || secrets.B }}" 2>&1', True),
        ('echo "${{ secrets.A }}" > out.txt', False),
        ('echo "${{ secrets.A }}" | gh auth login --with-token', False),
        ('echo "${{ secrets.A }}" | tee key.txt', True),
        ('echo "${{ vars.NOT_SECRET }}"', False),
        ("echo done && echo ${{ secrets.A }}", True),
        ('cat <<< "${{ secrets.A }}"', False),  # only echo and printf are read
    ],
)
def test_printed_secret_cases(run: str, printed: bool) -> None:
    found = lines("CB-GHA-006", ".github/workflows/ci.yml", workflow("push", f"- run: |\n    {run}"))
    assert found == ([7] if printed else [])


@pytest.mark.parametrize(
    ("on", "top", "expected"),
    [
        ("push", "", [1]),
        ("push", "permissions: read-all\n", []),
        ("workflow_call", "", []),
        ("[workflow_call, workflow_dispatch]", "", [1]),
    ],
)
def test_default_permissions_cases(on: str, top: str, expected: list[int]) -> None:
    assert lines("CB-GHA-005", ".github/workflows/ci.yml", top + workflow(on, "- run: make")) == expected


@pytest.mark.parametrize(
    ("dockerfile_text", "expected"),
    [
        ("FROM alpine\nUSER ${APP_USER}\n", []),
        ("FROM alpine\nUSER 1000:0\n", []),
        ("FROM alpine\nUSER 0:1000\n", [2]),
        ("FROM alpine AS base\nUSER root\nFROM base\nRUN id\n", [3]),
        ("FROM alpine AS base\nUSER app\nFROM base\nRUN id\n", []),
        ("FROM cgr.dev/chainguard/static:latest\nCOPY app /app\n", []),
        ("FROM alpine AS build\nRUN make\nFROM scratch\nCOPY --from=build /app /app\n", [3]),
    ],
)
def test_dockerfile_user_cases(dockerfile_text: str, expected: list[int]) -> None:
    assert lines("CB-DOCKER-001", "Dockerfile", dockerfile_text) == expected


@pytest.mark.parametrize(
    ("dockerfile_text", "expected"),
    [
        ("FROM alpine\nENV API_TOKEN=Zx81Kq0pLm3V\n", [2]),
        ("FROM alpine\nENV API_TOKEN Zx81Kq0pLm3V b\n", [2]),
        ("FROM alpine\nARG DB_PASSWORD\n", []),
        ("FROM alpine\nARG DB_PASSWORD=\n", []),
        ("FROM alpine\nENV PWD=/app\n", []),
        ("FROM alpine\nENV TOKEN_URL=https://auth.example.org/token\n", []),
        ("FROM alpine\nENV NO_AUTH_TOKEN=true\n", []),
        ("FROM alpine\nENV PASSWORD=\"unbalanced\n", []),
    ],
)
def test_dockerfile_secret_cases(dockerfile_text: str, expected: list[int]) -> None:
    found = check("CB-DOCKER-002", "Dockerfile", dockerfile_text)
    assert [v.line for v in found] == expected
    for violation in found:
        assert "Zx81Kq0pLm3V" not in violation.message and violation.key


@pytest.mark.parametrize(
    ("dockerfile_text", "expected"),
    [
        ("ARG V=3.20\nFROM alpine:${V}\n", []),
        ("ARG V=latest\nFROM alpine:${V}\n", [2]),
        ("ARG IMAGE\nFROM ${IMAGE:-alpine}\n", []),  # a default inside the reference: not guessed
        ("FROM alpine:3.20 AS Base\nFROM base\n", []),  # stage names are case-insensitive
        ("FROM localhost:5000/app\n", [1]),
        ("FROM localhost:5000/app:LATEST\n", [1]),
        ("FROM Scratch\n", []),
    ],
)
def test_dockerfile_base_image_cases(dockerfile_text: str, expected: list[int]) -> None:
    assert lines("CB-DOCKER-004", "Dockerfile", dockerfile_text) == expected


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ('RUN ["sudo", "ls"]', [2]),
        ("RUN apk add --no-cache sudo", [2]),
        ("RUN zypper in -y sudo", [2]),
        ("RUN dnf -y install sudo", [2]),
        ("RUN apt-get remove -y sudo", []),
        ("RUN echo sudo", []),
        ("RUN pip install sudo-tools", []),
    ],
)
def test_dockerfile_sudo_cases(run: str, expected: list[int]) -> None:
    assert lines("CB-DOCKER-007", "Dockerfile", f"FROM alpine:3.20\n{run}\n") == expected


def test_download_findings_never_quote_the_command() -> None:
    """A command line can carry a credential (a header, a URL's user info): messages name the tools only."""
    run = '- run: |\n    curl -H "Authorization: token ghp_MFLZDe1f8rESQedUStPKR0CsTy4Qwb8DwkNh" https://x/i.sh | bash'
    (found,) = check("CB-GHA-008", ".github/workflows/ci.yml", workflow("push", run))
    assert "ghp_" not in found.message and "`curl` download straight into `bash`" in found.message
    docker = "FROM alpine:3.20\nRUN wget -qO- https://ci:hunter2hunter2@get.internal/x.sh | sh\n"
    (found,) = check("CB-DOCKER-005", "Dockerfile", docker)
    assert "hunter2" not in found.message
    (found,) = check("CB-DOCKER-003", "Dockerfile", "FROM alpine:3.20\nADD https://ci:hunter2hunter2@get.internal/x /x\n")
    assert "hunter2" not in found.message + str(found.key) and "https://***@get.internal/x" in found.message
