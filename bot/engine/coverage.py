"""What a change touched that the engine cannot judge, named so a green check never hides it.

The engine's promise is to never pass what it did not read. The secrets rules read every text
file, which is their review of Python, Go, Markdown and the like; but an infrastructure file in a
format no parser reads (Bicep, Pulumi, Jsonnet...), a template rendered before use (Helm, Jinja,
Kustomize), or a binary file is not reviewed, and says so: one `NotReviewed` per file, with a
short `what` (the kind a policy names in `not_reviewed.fail`) and a reason a person reads.

Pure: a path, and the text when the engine read it, in; a `NotReviewed` or None out.

| what | detected by |
| --- | --- |
| helm template | YAML with Go-template syntax where YAML structure goes (a `{{` that opens a node, or text that only parses once rendered), or any template mark under a `templates/` folder: *reviewed as written* (see below) and listed all the same; not reviewed at all when not even that reads as YAML (under `templates/`; elsewhere that is an error); `.tpl` under `templates/`; `*.yaml.gotmpl` and the like |
| jinja template | the same with Jinja syntax (`{% %}`, `{# #}`, or `{{ name }}` without Go's `.`/`$`); `*.yaml.j2` and the like |
| helm chart, helm values | `Chart.yaml`; a `values*.yaml` beside a `Chart.yaml` (the engine reads that path in the same batch) |
| kustomize, kustomize patch | `kustomization.yaml`/`.yml`/`Kustomization`; the patches a changed kustomization names, and JSON-patch lists |
| bicep, arm template | `.bicep`/`.bicepparam`; JSON whose `$schema` is a deploymentTemplate |
| terragrunt, hcl, packer, nomad job | `terragrunt.hcl`; other `.hcl` (not `.terraform.lock.hcl`, which only pins providers, nor `terraform test` files); `.pkr.hcl`/`.pkr.json`/`.pkrvars.hcl`; `.nomad`/`.nomad.hcl` |
| opentofu | `.tofu`/`.tofu.json` |
| pulumi, jsonnet, cue | `Pulumi.yaml`/`Pulumi.<stack>.yaml`; `.jsonnet`/`.libsonnet`; `.cue` |
| serverless framework, docker compose, kubernetes json | `serverless.yml`; `(docker-)compose*.yml`; JSON with `apiVersion` and `kind` |
| binary file | set by the engine: binary content (a NUL byte in its first 8 KiB, and not mostly printable text), scanned only for credentials of a recognisable format; or no patch and no readable text |
| symlink, submodule | set by the engine from the tree: a link is not followed (its target is reviewed where it lives), a submodule is another repository |
| remote module | set by callers that find module calls with registry or git sources |

*Reviewed as written*: the parser reads template text without running it
(`bot.engine.parsers.yaml_docs.templated`): literal values are judged (a literal `privileged:
true` beside the marks is a finding), values a template fills in are unknown, and mappings that
template output (`include`, `toYaml`) adds to may hold keys nobody sees, so no rule reports them
absent. The entry's reason says so and points to `helm template`: only the rendered manifests show
everything, and a policy that fails `helm template` still fails.

Markers only inside quoted or block strings (Prometheus' `{{ $labels.x }}`, Argo's
`{{inputs.parameters.x}}`) outside a `templates/` folder are text, not templating: the file is
reviewed as written. AWS SAM is CloudFormation and is parsed, so it is not listed.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Collection
from typing import Any

import yaml

from bot.engine.model import NotReviewed
from bot.engine.parsers import JSON, MAX_PARSE_BYTES, YAML, claims_json, classify
from bot.engine.parsers.yaml_docs import TEMPLATE_MARK
from bot.engine.parsers.yaml_docs.templated import in_chart_templates, shapes_yaml
from bot.engine.parsers.yaml_docs.workflows import is_workflow_path

HELM_TEMPLATE = "helm template"
JINJA_TEMPLATE = "jinja template"
HELM_CHART = "helm chart"
HELM_VALUES = "helm values"
KUSTOMIZE = "kustomize"
KUSTOMIZE_PATCH = "kustomize patch"
BICEP = "bicep"
ARM_TEMPLATE = "arm template"
TERRAGRUNT = "terragrunt"
HCL = "hcl"
PACKER = "packer"
NOMAD = "nomad job"
OPENTOFU = "opentofu"
PULUMI = "pulumi"
JSONNET = "jsonnet"
CUE = "cue"
SERVERLESS = "serverless framework"
COMPOSE = "docker compose"
KUBERNETES_JSON = "kubernetes json"
BINARY = "binary file"
SYMLINK = "symlink"  # set by the engine: git stores the link, Terraform and kubectl read its target
SUBMODULE = "submodule"
REMOTE_MODULE = "remote module"  # no detection here: added by whoever resolves Terraform module sources

KINDS: frozenset[str] = frozenset({
    HELM_TEMPLATE, JINJA_TEMPLATE, HELM_CHART, HELM_VALUES, KUSTOMIZE, KUSTOMIZE_PATCH, BICEP, ARM_TEMPLATE,
    TERRAGRUNT, HCL, PACKER, NOMAD, OPENTOFU, PULUMI, JSONNET, CUE,
    SERVERLESS, COMPOSE, KUBERNETES_JSON, BINARY, SYMLINK, SUBMODULE, REMOTE_MODULE,
})
"""Every `what` the engine and its callers list; a policy may name only these (a typo would
otherwise make a strict policy silently lenient)."""

BINARY_REASON = ("binary content: only scanned for credentials of a recognisable format (cloud keys, tokens, "
                 "private keys), nothing else in it is reviewed")
UNREAD_REASON = "no patch and its content could not be read (binary or too large): not even scanned for secrets"

_REASONS: dict[str, str] = {
    HELM_TEMPLATE: "Go template (Helm): the manifests it renders are not reviewed; render it with `helm template` "
                   "and scan the output",
    JINJA_TEMPLATE: "Jinja template: the configuration it renders is not reviewed",
    HELM_CHART: "Helm chart metadata: the manifests the chart renders are not reviewed",
    KUSTOMIZE: "Kustomize: the manifests `kustomize build` renders from it are not reviewed",
    KUSTOMIZE_PATCH: "Kustomize patch: read as written, but the patched result is not reviewed",
    BICEP: "Azure Bicep is not parsed: the resources it deploys are not checked",
    ARM_TEMPLATE: "Azure Resource Manager template: no rules read Azure resources",
    TERRAGRUNT: "Terragrunt configuration: the Terraform it generates and the inputs it passes are not reviewed",
    HCL: "HCL that is not Terraform (Vault, Consul, Waypoint...): no parser reads it",
    PACKER: "Packer template: the machine images it builds are not reviewed",
    NOMAD: "Nomad job specification: no parser reads it",
    OPENTOFU: "OpenTofu `.tofu` files are not parsed: their resources are not checked",
    PULUMI: "Pulumi project or stack settings: the resources Pulumi deploys are not reviewed",
    JSONNET: "Jsonnet is evaluated before use: the configuration it generates is not reviewed",
    CUE: "CUE is evaluated before use: the configuration it generates is not reviewed",
    SERVERLESS: "Serverless Framework: the CloudFormation it generates is not reviewed",
    COMPOSE: "Docker Compose is not parsed: its services (privileged, volumes, network mode) are not checked",
    KUBERNETES_JSON: "Kubernetes manifests in JSON are not parsed: their containers are not checked",
}

# Template text the parser read with its template values unknown (`ParsedFile.templated`).
_AS_WRITTEN: dict[str, str] = {
    HELM_TEMPLATE: "Go template (Helm): reviewed as written with template values unknown (what `include`, "
                   "`toYaml` and other template output adds is not seen); render it with `helm template` and "
                   "scan the output for a full review",
    JINJA_TEMPLATE: "Jinja template: reviewed as written with template values unknown (what `include` and other "
                    "template output adds is not seen); render it and scan the output for a full review",
}

# Suffixes of file names (lower case) in the order they are tried: longer suffixes first.
_SUFFIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    ((".pkr.hcl", ".pkr.json", ".pkrvars.hcl"), PACKER),
    ((".nomad", ".nomad.hcl"), NOMAD),
    ((".tofu", ".tofu.json"), OPENTOFU),
    ((".bicep", ".bicepparam"), BICEP),
    ((".jsonnet", ".libsonnet"), JSONNET),
    ((".cue",), CUE),
)
# Not configuration that is applied: provider pins, and `terraform test` files and their mocks.
_TERRAFORM_TESTS = (".tftest.hcl", ".tfmock.hcl")
_KUSTOMIZATIONS = frozenset({"kustomization.yaml", "kustomization.yml", "kustomization"})
_PULUMI = re.compile(r"^pulumi(\.[^/]+)?\.ya?ml$")
_SERVERLESS = re.compile(r"^serverless\.ya?ml$")
_COMPOSE = re.compile(r"^(docker-)?compose([.-][^/]+)?\.ya?ml$")
_JINJA_FILE = re.compile(r"(\.ya?ml|\.json|\.tf|\.hcl|dockerfile)\.(j2|jinja2?)$")
_GO_TEMPLATE_FILE = re.compile(r"(\.ya?ml|\.json|\.tf|\.hcl)\.(tpl|tmpl|gotmpl)$")  # helmfile, gomplate
_VALUES = re.compile(r"^([^/]*[-_.])?values([-_.][^/]*)?\.ya?ml$")
_ARM_SCHEMA = re.compile(r'"\$schema"\s*:\s*"[^"]*deploymentTemplate\.json', re.IGNORECASE)
# A Go-template action reads data (`.`, `$`), is a comment, or is one of Go's or Helm's words.
_GO_ACTION = re.compile(r"\{\{-?\s*(?:[.$]|/\*|(?:if|else|end|range|with|define|template|include|block|toYaml|"
                        r"tpl|required|default|printf|quote|lookup)\b)")
_JINJA_ONLY = re.compile(r"\{%|\{#")
_JSON_PATCH_OPS = frozenset({"add", "remove", "replace", "move", "copy", "test"})
_ScanLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def entry(path: str, what: str, reason: str | None = None, line: int | None = None) -> NotReviewed:
    """A `NotReviewed` of a known kind, with that kind's reason unless another is given."""
    return NotReviewed(path, line, what, reason or _REASONS[what])


def binary_file(path: str, reason: str = BINARY_REASON) -> NotReviewed:
    return NotReviewed(path, None, BINARY, reason)


def detect(path: str, text: str | None, chart_dirs: Collection[str] = (), templated: bool = False
           ) -> NotReviewed | None:
    """Why `path` is not reviewed, from its name and, when the engine read it, its text; None when
    the engine reviews it (a parsed format, or a file the secrets rules read whole).

    `chart_dirs`: folders known to hold a `Chart.yaml`, so a values file there is a chart's.
    `templated`: the parser read it as template text with its values unknown (`ParsedFile.templated`):
    listed as reviewed only as written."""
    what = _by_name(path, chart_dirs)
    if what is None and templated and text is not None:
        kind = _dialect(path, text)
        return entry(path, kind, _AS_WRITTEN[kind])
    if what is None and text is not None and len(text) <= MAX_PARSE_BYTES:
        what = _by_text(path, text)
    if what is None:
        return None
    if what == HELM_VALUES:
        folder = posixpath.dirname(path) or "the repository root"
        return entry(path, what, f"values of the Helm chart in `{folder}`: the manifests it renders are not reviewed")
    return entry(path, what)


def chart_of(path: str) -> str | None:
    """The `Chart.yaml` whose presence makes `path` a Helm chart's values file, if its name says values."""
    if _VALUES.match(posixpath.basename(path).lower()) is None:
        return None
    return posixpath.join(posixpath.dirname(path), "Chart.yaml")


def kustomize_patches(path: str, text: str) -> frozenset[str]:
    """The repository paths a kustomization names as patches (the cheap part of what it renders)."""
    data = _load_yaml(text) if len(text) <= MAX_PARSE_BYTES else None
    if not isinstance(data, dict):
        return frozenset()
    named: list[Any] = []
    for key in ("patchesStrategicMerge", "patchesJson6902", "patches"):
        items = data.get(key)
        for item in items if isinstance(items, list) else []:
            named.append(item.get("path") if isinstance(item, dict) else item)
    folder = posixpath.dirname(path)
    found = set()
    for name in named:
        if isinstance(name, str) and name and "\n" not in name and "://" not in name:
            resolved = posixpath.normpath(posixpath.join(folder, name))
            if not resolved.startswith("../") and resolved != "..":
                found.add(resolved)
    return frozenset(found)


def _by_name(path: str, chart_dirs: Collection[str]) -> str | None:
    name = posixpath.basename(path)
    lower = name.lower()
    for suffixes, what in _SUFFIXES:
        if lower.endswith(suffixes):
            return what
    if lower == "terragrunt.hcl" or lower.endswith(".terragrunt.hcl"):
        return TERRAGRUNT
    if lower.endswith(".hcl"):
        return None if lower == ".terraform.lock.hcl" or lower.endswith(_TERRAFORM_TESTS) else HCL
    if lower in _KUSTOMIZATIONS:
        return KUSTOMIZE
    if _PULUMI.match(lower):
        return PULUMI
    if _SERVERLESS.match(lower):
        return SERVERLESS
    if _COMPOSE.match(lower):
        return COMPOSE
    if _JINJA_FILE.search(lower):
        return JINJA_TEMPLATE
    if _GO_TEMPLATE_FILE.search(lower) or (lower.endswith(".tpl") and in_chart_templates(path)):
        return HELM_TEMPLATE
    if name == "Chart.yaml":
        return HELM_CHART
    if chart_of(path) is not None and posixpath.dirname(path) in chart_dirs:
        return HELM_VALUES
    return None


def _by_text(path: str, text: str) -> str | None:
    family = classify(path)
    if family == JSON:
        if claims_json(path, text):
            return None  # parsed as CloudFormation
        if _ARM_SCHEMA.search(text[:4096]):
            return ARM_TEMPLATE
        if '"apiVersion"' in text and '"kind"' in text and _is_manifest(_load_json(text)):
            return KUBERNETES_JSON
        return KUSTOMIZE_PATCH if _maybe_patch(text) and _is_json_patch(_load_json(text)) else None
    if family == YAML and not is_workflow_path(path):
        if (kind := _template_kind(path, text)) is not None:
            return kind
        return KUSTOMIZE_PATCH if _maybe_patch(text) and _is_json_patch(_load_yaml(text)) else None
    return None


def _template_kind(path: str, text: str) -> str | None:
    """helm/jinja template when template syntax shapes the YAML (or sits under `templates/`)."""
    if TEMPLATE_MARK.search(text) is None:
        return None
    if not in_chart_templates(path) and not shapes_yaml(text):
        return None  # markers only inside strings: text the YAML carries, reviewed as written
    return _dialect(path, text)


def _dialect(path: str, text: str) -> str:
    if _JINJA_ONLY.search(text):
        return JINJA_TEMPLATE
    return HELM_TEMPLATE if in_chart_templates(path) or _GO_ACTION.search(text) else JINJA_TEMPLATE


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_ScanLoader)  # a safe loader (C or Python): never builds objects
    except (yaml.YAMLError, RecursionError):
        return None


def _is_manifest(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("apiVersion"), str) and isinstance(data.get("kind"), str)


def _maybe_patch(text: str) -> bool:
    """A cheap look before loading: a JSON patch is a list that names operations."""
    return text.lstrip("\ufeff \t\r\n").startswith(("-", "[")) and "op" in text


def _is_json_patch(data: Any) -> bool:
    """A list of JSON-patch operations (`- op: replace`), as Kustomize's patchesJson6902 reads."""
    return (isinstance(data, list) and bool(data)
            and all(isinstance(op, dict) and op.get("op") in _JSON_PATCH_OPS and "path" in op for op in data))
