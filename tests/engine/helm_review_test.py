"""Templated YAML through the whole review (issue 9, "hostile input"): a Helm chart's templates,
a stray manifest with `{{ }}` and Jinja are judged as written. Literal violations are findings on
their lines and block; what a template fills in or emits never makes a rule report something
absent; the files stay listed as templates; what cannot be read fails closed outside a chart."""

from __future__ import annotations

from pathlib import Path

from bot.engine.context import ModuleContext
from bot.engine.diff import whole_file_added
from bot.engine.model import Finding
from bot.engine.parsers import parse_one
from bot.engine.policy import parse_policy
from bot.engine.review import Engine, Review
from bot.engine.selection import group_key
from bot.engine.tree import MemoryTree
from rules.registry import default_rule_set

CHARTS = Path(__file__).resolve().parents[1] / "fixtures" / "helm"


def chart(name: str) -> dict[str, str]:
    root = CHARTS / name
    return {f"charts/{name}/{p.relative_to(root).as_posix()}": p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file()}


def review_of(files: dict[str, str], policy: str | None = None) -> Review:
    engine = Engine(default_rule_set(), parse_policy(policy))
    return engine.review_change([whole_file_added(path, text) for path, text in files.items()], MemoryTree(files))


def places(findings: tuple[Finding, ...]) -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.path.rsplit("/", 1)[-1], f.line) for f in findings}


def test_a_literal_privileged_container_in_a_chart_is_a_finding_on_its_line_and_blocks() -> None:
    review = review_of(chart("web"))
    assert review.errors == ()
    found = places(review.findings)
    assert ("CB-K8S-001", "deployment.yaml", 31) in found  # `privileged: true` in the if branch
    assert ("CB-K8S-006", "deployment.yaml", 47) in found  # hostPath `/`
    assert ("CB-K8S-013", "deployment.yaml", 39) in found  # a literal DB_PASSWORD
    secret = next(f for f in review.findings if f.rule_id == "CB-K8S-013")
    assert "q8Vd2rL0" not in secret.message
    # the image is a template value: no rule says anything about its tag or digest
    assert not {f.rule_id for f in review.findings} & {"CB-K8S-015", "CB-K8S-016"}
    # the Service's labels and selector come from `include`: nothing about them is reported
    assert not [f for f in review.findings if f.path.endswith("service.yaml")]
    assert review.conclusion(parse_policy(None)) == "failure"
    listed = {n.path: n for n in review.not_reviewed}
    template = listed["charts/web/templates/deployment.yaml"]
    assert (template.what, template.line) == ("helm template", None)
    assert template.reason.startswith("Go template (Helm): reviewed as written with template values unknown")
    assert "`helm template`" in template.reason
    assert listed["charts/web/templates/_helpers.tpl"].what == "helm template"
    assert listed["charts/web/Chart.yaml"].what == "helm chart"


def test_the_else_branch_is_judged_too() -> None:
    files = chart("web")
    path = "charts/web/templates/deployment.yaml"
    text = files[path]
    swapped = text.replace("privileged: true", "privileged: @").replace("privileged: false", "privileged: true") \
        .replace("privileged: @", "privileged: false")
    assert swapped != text
    review = review_of({path: swapped})
    assert ("CB-K8S-001", "deployment.yaml", 33) in places(review.findings)


def test_a_chart_written_with_no_literal_violation_has_no_finding_from_any_kubernetes_rule() -> None:
    """Every hardening field of the hardened chart comes from values (`toYaml`), so it is not
    written anywhere a rule could read it: no rule may report it absent."""
    files = chart("hardened")
    review = review_of(files)
    assert review.errors == () and review.findings == ()
    assert review.conclusion(parse_policy(None)) == "success"
    assert review.conclusion(parse_policy("not_reviewed:\n  fail: [helm template]\n")) == "failure"
    rules = [r for r in default_rule_set().rules if "kubernetes" in r.sources]
    assert len(rules) >= 30
    resources = [r for path, text in files.items() for r in parse_one(path, text).resources]
    assert {r.type for r in resources} == {"Deployment", "ServiceAccount", "Role"}
    context = ModuleContext({group_key(r): [o for o in resources if o.path == r.path] for r in resources})
    decided: list[tuple[str, int]] = []
    undecided: list[tuple[str, int]] = []
    for resource in resources:
        for rule in rules:
            if rule.applies_to(resource):
                for violation in rule.check(resource, context):
                    (undecided if violation.undecided else decided).append((rule.id, violation.line))
    assert decided == []
    # the rules looked and could not tell: a policy that fails unknown values may say so
    assert ("CB-K8S-007", 41) in undecided and ("CB-K8S-010", 43) in undecided  # on the emitting lines
    strict = review_of(files, "unknown:\n  fail: high\n")
    assert ("CB-K8S-001", "deployment.yaml", 41) in places(strict.findings)
    assert all(f.message.startswith("Cannot tell") for f in strict.findings)


def test_a_stray_manifest_with_template_marks_is_judged_and_listed() -> None:
    manifest = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\nspec:\n  hostNetwork: true\n"
        "  containers:\n    - name: app\n      image: {{ .Values.image }}\n      securityContext:\n"
        "        privileged: true\n"
    )
    review = review_of({"deploy/pod.yaml": manifest})
    assert review.errors == ()
    assert {("CB-K8S-001", "pod.yaml", 11), ("CB-K8S-004", "pod.yaml", 6)} <= places(review.findings)
    assert [(n.path, n.what) for n in review.not_reviewed] == [("deploy/pod.yaml", "helm template")]


def test_a_jinja_manifest_is_judged_as_written() -> None:
    manifest = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ name }}\nspec:\n{% if debug %}\n"
                "  hostPID: true\n{% endif %}\n  containers: []\n")
    review = review_of({"ansible/pod.yaml": manifest})
    assert ("CB-K8S-004", "pod.yaml", 7) in places(review.findings)
    assert [(n.what, n.reason.split(":")[0]) for n in review.not_reviewed] == [("jinja template", "Jinja template")]


BROKEN = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\nspec:\n  containers:\n" \
         "    - name: app\n   image: nginx\n      securityContext: {privileged: true}\n"


def test_a_broken_manifest_with_template_marks_fails_the_review_naming_file_and_line() -> None:
    review = review_of({"deploy/pod.yaml": BROKEN})
    (error,) = review.errors
    assert (error.path, error.line) == ("deploy/pod.yaml", 8)
    assert error.message.startswith("invalid YAML") and "Error" not in error.message
    assert review.not_reviewed == ()  # the error says more than a listing
    assert review.conclusion(parse_policy(None)) == "failure"


def test_the_same_text_in_a_charts_templates_is_listed_as_not_reviewed() -> None:
    review = review_of({"charts/app/templates/pod.yaml": BROKEN})
    assert review.errors == () and review.findings == ()
    (listed,) = review.not_reviewed
    assert listed.what == "helm template" and "are not reviewed" in listed.reason
    assert "reviewed as written" not in listed.reason
