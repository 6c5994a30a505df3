"""Each parser's work grows linearly with its input: 1x, 4x and 16x inputs of one shape (many
resources, long lines, many documents, long ENV lines...), and the work at 16x is at most 24x the
work at 1x: linear, or n log n as a balanced tree gives (tree-sitter balances a long list's
repetitions: 27x for 16x the items of one list, measured on its parser alone; 16 x log(16n)/log n
is about 24 at these sizes). Work is CPU time (`time.process_time`) measured within one run, the least of a few
repetitions, so a loaded machine slows every size alike and the ratio stays; no wall-clock
threshold. A parser that is quadratic in some shape shows 256x here. Where a shape names the
third-party parser it is built on (tree-sitter for HCL's long lines), that parser's own growth on
the same inputs is measured beside it, and the project's code may add 10% to it (`_allowed`):
tree-sitter alone measured 23-27x there, past 24x, which no change of ours can lower.

What the clock must not see: the garbage collector (its pauses land at arbitrary sizes; it is
paused while a parser runs), the C allocator (glibc hands a large block back to the system when
it is freed, so the next run faults every page in again, which costs more per byte than the
parsing and only past some size; its thresholds are fixed for the measuring process), and the
state of the test run (the measuring is done in a fresh interpreter). Byte-heavy inputs stay
within a few MB at 16x, so the caches do not decide either.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import gc
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bot.engine.diff import parse_file_patch, parse_unified_diff, reconstruct_base
from bot.engine.exceptions import ExceptionSettings, exception_rule
from bot.engine.governance import RuleIndex, govern
from bot.engine.inline_exceptions import parse_markers
from bot.engine.model import Finding, Severity
from bot.engine.parsers import parse_one, parse_terraform
from bot.engine.parsers.dockerfile import parse_dockerfile
from bot.engine.parsers.terraform.varfiles import load_variable_file
from bot.engine.parsers.yaml_docs import parse_yaml
from bot.engine.policy import Policy, parse_policy
from bot.engine.review import Engine
from bot.engine.tree import MemoryTree
from rules.registry import default_rule_set

MAX_RATIO = 24.0  # work at 16x over work at 1x: n log n passes, a quadratic step (256x) does not
ROOT = Path(__file__).resolve().parents[2]
REPEATS = 5


@dataclass(frozen=True)
class Shape:
    """One way an input grows: `make(n)` builds the input of size n, `run` parses it."""

    name: str
    base: int  # n at 1x: a run of a few ms, not all fixed cost; 16x still small enough for the caches
    make: Callable[[int], Any]
    run: Callable[[Any], object]
    # The third-party parser the run is built on, run alone on the same input (tree-sitter for
    # HCL): its own growth is measured beside ours, so what the project's code adds is judged.
    parser: Callable[[Any], object] | None = None


def _tree_sitter(text: str) -> object:
    """tree-sitter-hcl's parse alone: what `_hcl` is built on."""
    import tree_sitter
    import tree_sitter_hcl

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language())).parse(text.encode("utf-8"))


def _hcl(text: str) -> object:
    parsed = parse_terraform({"main.tf": text})["main.tf"]
    assert not parsed.errors, parsed.errors
    return parsed


def _tf_json(text: str) -> object:
    parsed = parse_terraform({"main.tf.json": text})["main.tf.json"]
    assert not parsed.errors, parsed.errors
    return parsed


def _yaml(path: str) -> Callable[[str], object]:
    def run(text: str) -> object:
        parsed = parse_yaml(path, text)
        assert not parsed.errors and parsed.resources, parsed.errors
        return parsed
    return run


def _docker(text: str) -> object:
    parsed = parse_dockerfile("Dockerfile", text)
    assert not parsed.errors and parsed.resources, parsed.errors
    return parsed


def _volumes(n: int) -> str:
    return "".join(f'resource "aws_ebs_volume" "v{i}" {{\n  size      = {i}\n  encrypted = var.encrypted\n'
                   f'  tags      = {{ Name = "v{i}", Team = local.team }}\n}}\n' for i in range(n)) + \
        'variable "encrypted" {\n  default = true\n}\nlocals {\n  team = "core"\n}\n'


def _locals(n: int) -> str:
    """Locals that read locals that read a local: each resolved once, however many read it."""
    body = "".join(f'  l{i} = "${{local.l{i % 7 + 1 if i >= 8 else 0}}}-{i}"\n' for i in range(1, n))
    return f'locals {{\n  l0 = "root"\n{body}}}\nresource "null_resource" "r" {{\n  triggers = {{ v = local.l{n - 1} }}\n}}\n'


def _long_hcl_line(n: int) -> str:
    items = ", ".join(f'"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}/32"' for i in range(n))
    return (f'resource "aws_security_group" "sg" {{\n  description = "{"a" * (n * 20)}"\n'
            f'  cidr_blocks = [{items}]\n}}\n')


def _tf_json_doc(n: int, indent: int | None) -> str:
    resources = {f"v{i}": {"size": i, "encrypted": "${var.encrypted}", "tags": {"Name": f"v{i}"}} for i in range(n)}
    return json.dumps({"variable": {"encrypted": {"default": True}}, "resource": {"aws_ebs_volume": resources}},
                      indent=indent)


def _tfvars(n: int) -> str:
    return "".join(f'v{i} = {{ name = "n{i}", cidrs = ["10.0.0.{i % 256}/32"], on = true }}\n' for i in range(n))


def _tfvars_json(n: int) -> str:
    return json.dumps({f"v{i}": {"name": f"n{i}", "cidrs": [f"10.0.0.{i % 256}/32"], "on": True} for i in range(n)},
                      indent=2)


def _pods(n: int) -> str:
    return "".join(f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n"
                   f"    - name: c\n      image: nginx:1.{i}\n      securityContext:\n        privileged: false\n"
                   for i in range(n))


def _config_map(n: int) -> str:
    keys = "".join(f"  key{i}: value-{i}\n" for i in range(n))
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n{keys}"


def _long_scalar(n: int) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: {'x' * (n * 10_000)}\n"


def _cfn_resources(n: int) -> dict[str, Any]:
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {
        f"Volume{i}": {"Type": "AWS::EC2::Volume",
                       "Properties": {"Size": i, "Encrypted": {"Ref": "Encrypt"}, "AvailabilityZone": "us-east-1a",
                                      "Tags": [{"Key": "Name", "Value": f"v{i}"}]}} for i in range(n)}}


def _cfn_yaml(n: int) -> str:
    body = "".join(f"  Volume{i}:\n    Type: AWS::EC2::Volume\n    Properties:\n      Size: {i}\n"
                   f"      Encrypted: !Ref Encrypt\n      AvailabilityZone: !Select [0, !GetAZs '']\n" for i in range(n))
    return f'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n{body}'


def _chart_containers(n: int) -> str:
    """A chart template with n containers, each with template values, output and both branches."""
    containers = "".join(
        f"        - name: c{i}\n          image: \"{{{{ .Values.repo }}}}:{{{{ .Values.tag{i} }}}}\"\n"
        f"          securityContext:\n            {{{{- if .Values.debug }}}}\n            privileged: true\n"
        f"            {{{{- else }}}}\n            privileged: false\n            {{{{- end }}}}\n"
        f"          resources:\n            {{{{- toYaml .Values.resources | nindent 12 }}}}\n"
        f"        {{{{- with .Values.sidecars }}}}\n        {{{{- toYaml . | nindent 8 }}}}\n        {{{{- end }}}}\n"
        for i in range(n))
    return ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"app.fullname\" . }}\n"
            "  labels:\n    {{- include \"app.labels\" . | nindent 4 }}\nspec:\n  template:\n    spec:\n"
            f"      containers:\n{containers}")


def _chart_long_line(n: int) -> str:
    """One value made of many actions (and `else`s), then one key per waiting emitting line."""
    value = "".join(f"{{{{ if .a{i} }}}}x{i}{{{{ else }}}}y{{{{ end }}}}-{{{{ .b{i} }}}}" for i in range(n * 50))
    waiting = "".join(f"  k{i}:\n{{{{ toYaml .v{i} | indent 4 }}}}\n" for i in range(n * 10))
    return f"apiVersion: v1\nkind: ConfigMap\ndata:\n  joined: \"{value}\"\n{waiting}"


def _chart_unclosed(n: int) -> str:
    """Many documents, the last with an action that never closes (an error, found in one pass)."""
    return _pods(n) + "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name\n"


def _template_error(text: str) -> object:
    parsed = parse_yaml("deploy/pods.yaml", text)
    assert parsed.errors and "never closed" in parsed.errors[0].message, parsed.errors
    return parsed


def _workflow(n: int) -> str:
    steps = "".join(f"      - name: step {i}\n        run: echo {i}\n        env:\n          X: ${{{{ github.sha }}}}\n"
                    for i in range(n))
    return f"on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"


def _dockerfile(n: int) -> str:
    return "FROM alpine:3.20 AS base\n" + "".join(f"RUN echo {i} && \\\n    true\nENV V{i}=x{i}\n" for i in range(n)) + \
        "USER 10001\n"


def _long_env(n: int) -> str:
    words = " ".join(f'K{i}="v {i}"' for i in range(n * 1_000))
    return f"FROM alpine:3.20\nENV {words}\nARG A={'x' * (n * 10_000)}\nUSER 10001\n"


def _continued_run(n: int) -> str:
    lines = " \\\n".join(f"    apk add pkg{i}" for i in range(n * 500))
    return f"FROM alpine:3.20\nRUN {lines}\n# done\nUSER 10001\n"


def _heredoc(n: int) -> str:
    body = "".join(f"echo line {i}\n" for i in range(n * 500))
    return f"FROM alpine:3.20\nRUN <<EOF\n{body}EOF\nUSER 10001\n"


def _base_and_head(n: int, width: int) -> tuple[list[str], list[str]]:
    base = [f"line {i} " + "b" * width for i in range(n * 10)]
    head = [line.replace("b", "h") if i % 10 == 0 else line for i, line in enumerate(base)]
    return base, head


def _patch(n: int, width: int = 20) -> tuple[str, str]:
    base, head = _base_and_head(n, width)
    hunks = []
    for i in range(0, len(base), 10):
        hunks.append(f"@@ -{i + 1},1 +{i + 1},1 @@\n-{base[i]}\n+{head[i]}\n")
    return "".join(hunks), "".join(line + "\n" for line in head)


def _run_patch(case: tuple[str, str]) -> object:
    patch, head = case
    diff = parse_file_patch("f.txt", patch, "modified")
    return reconstruct_base(head, diff)


def _git_diff(n: int) -> str:
    return "".join(f"diff --git a/f{i}.tf b/f{i}.tf\nindex 1111111..2222222 100644\n--- a/f{i}.tf\n+++ b/f{i}.tf\n"
                   f"@@ -1,3 +1,3 @@\n a\n-b{i}\n+c{i}\n d\n" for i in range(n))


def _policy(n: int) -> str:
    items = "".join(f"  - rule: CB-AWS-{i:03d}\n    path: legacy/{i}/**\n    reason: tracked in OPS-{i}\n"
                    f"    expires: 2099-01-31\n" for i in range(n))
    return f"fail_on: high\npaths:\n  ignore: [examples/**]\nsuppressions:\n{items}"


_ENGINES: list[Engine] = []


def _review(path: str) -> Callable[[str], object]:
    """A whole review of one file, rules included: a rule that looks at each resource's neighbours
    must not make a module of n resources cost n² (30,000 volumes once took 400 s)."""
    def run(text: str) -> object:
        if not _ENGINES:
            _ENGINES.append(Engine(default_rule_set()))
        review = _ENGINES[0].scan(MemoryTree({path: text}))
        assert review.findings and not review.errors, review.errors
        return review
    return run


def _unencrypted_volumes(n: int) -> str:
    return "".join(f'resource "aws_ebs_volume" "v{i}" {{\n  size      = {i}\n  encrypted = false\n}}\n'
                   for i in range(n))


def _marked(n: int) -> str:
    """Code lines with trailing exceptions, comment lines with exceptions about the line below."""
    return "".join(f'x{i} = 1  # compliance:ignore CB-SEC-001 reason="r {i}" until=2099-01-01 ticket=T-{i}\n'
                   f"# compliance:ignore CB-SEC-001 reason='below {i}'\n# just a comment\ny{i} = 2\n"
                   for i in range(n))


def _secrets_and_markers(n: int) -> tuple[list[Finding], str]:
    """Many findings on lines of one text file (a secret each), and an exception on every tenth."""
    text = "".join(f"k{i} = v{i}" + ("  # compliance:ignore CB-SEC-001 reason=known\n" if i % 10 == 0 else "\n")
                   for i in range(1, n * 10 + 1))
    findings = [Finding("CB-SEC-001", "secret", Severity.HIGH, "s.env", i, i, None, "m", "r", key=str(i))
                for i in range(1, n * 10 + 1)]
    return findings, text


def _markers(text: str) -> object:
    markers, cut = parse_markers("main.tf", text)
    assert not cut and len(markers) == text.count("compliance:ignore")  # under the per-file cap at 16x
    return markers


_SECRET_RULES = RuleIndex.of([replace(exception_rule("CB-EXC-006"), id="CB-SEC-001")])
_APPROVERS = ExceptionSettings(approvers=("octo-org/security",))


def _govern(case: tuple[list[Finding], str]) -> object:
    findings, text = case
    result = govern(findings, {"s.env": text}, {}, Policy(), _APPROVERS, _SECRET_RULES, (), dt.date(2026, 6, 1))
    assert sum(f.suppressed for f in result.findings) == len(findings) // 10
    return result


SHAPES = [
    Shape("hcl: many resources", 15, _volumes, _hcl),
    Shape("hcl: locals reading locals", 40, _locals, _hcl),
    Shape("hcl: long lines", 150, _long_hcl_line, _hcl, _tree_sitter),
    Shape("tf.json: many resources", 50, lambda n: _tf_json_doc(n, 2), _tf_json),
    Shape("tf.json: minified on one line", 50, lambda n: _tf_json_doc(n, None), _tf_json),
    Shape("tfvars: many values", 25, _tfvars, lambda text: load_variable_file("terraform.tfvars", text)),
    Shape("tfvars.json: many values", 100, _tfvars_json,
          lambda text: load_variable_file("terraform.tfvars.json", text)),
    Shape("kubernetes: many documents", 40, _pods, _yaml("k8s.yaml")),
    Shape("kubernetes: many keys", 500, _config_map, _yaml("k8s.yaml")),
    Shape("kubernetes: long scalar", 20, _long_scalar, _yaml("k8s.yaml")),
    Shape("cloudformation yaml: many resources", 40, _cfn_yaml, _yaml("template.yaml")),
    Shape("helm template: many containers, branches and output", 20, _chart_containers,
          _yaml("charts/app/templates/deployment.yaml")),
    Shape("helm template: a long templated value, many waiting lines", 10, _chart_long_line,
          _yaml("charts/app/templates/configmap.yaml")),
    Shape("helm template: an unclosed action after many documents", 40, _chart_unclosed, _template_error),
    Shape("cloudformation json: minified on one line", 40, lambda n: json.dumps(_cfn_resources(n)),
          lambda text: parse_one("template.json", text)),
    Shape("workflow: many steps", 100, _workflow, _yaml(".github/workflows/ci.yml")),
    Shape("dockerfile: many instructions", 400, _dockerfile, _docker),
    Shape("dockerfile: long ENV and ARG lines", 40, _long_env, _docker),
    Shape("dockerfile: long continuation", 10, _continued_run, _docker),
    Shape("dockerfile: long heredoc", 30, _heredoc, _docker),
    Shape("diff: many hunks in a patch, base rebuilt", 300, _patch, _run_patch),
    Shape("diff: long lines in a patch, base rebuilt", 400, lambda n: _patch(1, width=n * 200), _run_patch),
    Shape("diff: many files in a git diff", 150, _git_diff, parse_unified_diff),
    Shape("policy: many suppressions", 15, _policy, parse_policy),
    Shape("review: many resources in one module", 150, _unencrypted_volumes, _review("main.tf")),
    Shape("review: many manifests in one file", 15, _pods, _review("k8s.yaml")),
    Shape("exceptions: many inline markers", 30, _marked, _markers),
    Shape("exceptions: markers among many findings of one file", 30, _secrets_and_markers, _govern),
]


def works(shape: Shape, factors: tuple[int, ...] = (1, 4, 16)) -> list[float]:
    """Least CPU time of REPEATS runs of `shape` at each size, the sizes taken in turn so a change
    in the machine's load touches them all (inputs are built outside the clock)."""
    inputs = [shape.make(shape.base * factor) for factor in factors]
    best = [float("inf")] * len(factors)
    for _ in range(REPEATS):
        for index, data in enumerate(inputs):
            gc.collect()
            gc.disable()  # the collector's pauses land at random sizes; the parser's own work does not
            try:
                start = time.process_time()
                shape.run(data)
                best[index] = min(best[index], time.process_time() - start)
            finally:
                gc.enable()
    return [max(value, 1e-6) for value in best]


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def steady_allocator() -> None:
    """Large blocks come from (and stay in) the heap, so every size reuses memory alike; with
    another C library nothing is changed."""
    name = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(name), "mallopt", None) if name else None
    if mallopt is not None and mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024):
        mallopt(_M_TRIM_THRESHOLD, 1 << 30)


PARSER = " (its parser alone)"  # the key of a shape's `parser` figures


def measure_all(names: list[str] | None = None) -> dict[str, list[float]]:
    """Every shape's work (or the named ones') at 1x, 4x and 16x, in this process, and its
    parser's alone where it names one."""
    steady_allocator()
    figures: dict[str, list[float]] = {}
    for shape in SHAPES:
        if names is None or shape.name in names:
            figures[shape.name] = works(shape)
            if shape.parser is not None:
                figures[shape.name + PARSER] = works(replace(shape, run=shape.parser))
    return figures


@pytest.fixture(scope="module")
def measured() -> dict[str, list[float]]:
    """The measurements, made in a fresh interpreter: after a few thousand tests, this process's
    heap (caches, fixtures, hypothesis' data) makes large inputs dearer per byte than small ones,
    which is the test suite's cost, not the parser's."""
    return _measured_apart()


def _measured_apart(*names: str) -> dict[str, list[float]]:
    done = subprocess.run([sys.executable, "-m", "tests.fuzz.linearity_test", *names], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, list[float]] = json.loads(done.stdout)
    return result


@pytest.mark.timeout(660)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.name)
def test_work_grows_linearly(shape: Shape, measured: dict[str, list[float]]) -> None:
    one, four, sixteen = measured[shape.name]
    parser = measured.get(shape.name + PARSER)
    if sixteen / one > _allowed(parser):
        # Measured again, apart: the least of more runs is a better estimate of the work, and a
        # burst of another process on a shared machine lands on one size more than on the others.
        # Quadratic work stays near 256x however often it is measured.
        again = _measured_apart(shape.name)
        one, four, sixteen = (min(a, b) for a, b in zip((one, four, sixteen), again[shape.name], strict=True))
        if parser is not None:
            parser = [min(a, b) for a, b in zip(parser, again[shape.name + PARSER], strict=True)]
    assert one >= 0.0003, f"{shape.name}: 1x is {one * 1000:.2f} ms, too small to tell fixed cost from growth"
    ratio = sixteen / one
    assert ratio <= _allowed(parser), (f"{shape.name}: 16x input took {ratio:.1f}x the work of 1x "
                                       f"(4x took {four / one:.1f}x; 1x {one * 1000:.1f} ms; its parser alone "
                                       f"{parser[2] / parser[0] if parser else float('nan'):.1f}x)")


PARSER_MARGIN = 1.1  # what the project's code may add to its third-party parser's own growth


def _allowed(parser: list[float] | None) -> float:
    """MAX_RATIO, or the shape's third-party parser's own growth on the same inputs where that is
    more (tree-sitter balances a long list's repetitions: 25-27x for 16x the items, measured on
    its parser alone), with PARSER_MARGIN for the project's code built on it."""
    if parser is None:
        return MAX_RATIO
    return max(MAX_RATIO, parser[2] / parser[0] * PARSER_MARGIN)


if __name__ == "__main__":
    print(json.dumps(measure_all(sys.argv[1:] or None)))
