"""The check run's output: titles, annotation levels, GitHub's size limits, batches of 50, and
what was not reviewed."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.model import FileError, NotReviewed, Severity
from bot.github.checks import MAX_OUTPUT_CHARS, batches, check_output
from tests.github.review_test import finding


def test_check_output_titles_and_levels() -> None:
    blocking, warning = finding(4, resource="a"), finding(5, resource="b", severity=Severity.LOW)
    output = check_output([blocking, warning], [FileError("x.tf", 3, "bad")], ["a note"],
                          {blocking.fingerprint: True, warning.fingerprint: False}, None, "failure")
    assert output.title == "1 blocking finding(s), 1 error(s)"
    assert [a["annotation_level"] for a in output.annotations] == ["failure", "failure", "warning"]
    assert output.annotations[0] == {"path": "x.tf", "start_line": 3, "end_line": 3, "annotation_level": "failure",
                                     "title": "File could not be reviewed", "message": "bad"}
    assert "| CB-AWS-001: EBS volume is not encrypted | high | 2 | HIPAA 164.312(a)(2)(iv) |" in output.summary
    assert "- a note" in output.summary
    clean = check_output([], [], [], {}, None, "success")
    assert clean.title == "No compliance issues" and clean.annotations == []


def test_output_texts_stay_within_githubs_limit() -> None:
    many = [replace(finding(4, resource=f"r{i}"), message="m" * 500) for i in range(300)]
    output = check_output(many, [], [], {f.fingerprint: True for f in many}, None, "failure")
    assert len(output.text) <= MAX_OUTPUT_CHARS and output.text.endswith("65,535 characters)")
    assert len(output.summary) <= MAX_OUTPUT_CHARS


def test_batches_of_fifty() -> None:
    assert [len(b) for b in batches([{"i": i} for i in range(120)])] == [50, 50, 20]
    assert batches([]) == [[]]


def test_what_was_not_reviewed_fails_the_check_and_is_said_in_the_summary() -> None:
    output = check_output([], [], [], {}, None, "failure", ["files past GitHub's 3,000-file listing"])
    assert output.conclusion == "failure"
    assert output.title == "0 blocking finding(s), not everything reviewed"
    assert "**Not reviewed** (the check fails closed):\n\n- files past GitHub's 3,000-file listing" in output.summary
    assert output.annotations == []  # nothing to point at: an annotation needs a file of the repository


HELM = NotReviewed("charts/app/templates/deployment.yaml", None, "helm template", "Go template: not rendered")
BICEP = NotReviewed("infra/main.bicep", None, "bicep", "Azure Bicep is not parsed")
REMOTE = NotReviewed("infra/main.tf", 12, "remote module", "registry module: its resources are not read")


def test_what_was_not_reviewed_is_listed_and_passes() -> None:
    output = check_output([], [], [], {}, None, "success", not_reviewed=[HELM, BICEP, REMOTE])
    assert output.conclusion == "success" and output.title == "No compliance issues, 3 not reviewed"
    assert ("**Not reviewed** (listed; the check does not fail for these):\n\n"
            "- `charts/app/templates/deployment.yaml` (helm template): Go template: not rendered\n"
            "- `infra/main.bicep` (bicep): Azure Bicep is not parsed\n"
            "- `infra/main.tf` line 12 (remote module): registry module: its resources are not read\n") in output.summary
    assert "fails closed" not in output.summary and "policy fails" not in output.summary
    assert output.annotations == []  # a listing is not a finding on a line


def test_kinds_the_policy_fails_are_shown_apart_saying_why() -> None:
    output = check_output([], [], [], {}, None, "failure", not_reviewed=[HELM, BICEP], failing={HELM})
    assert output.title == "0 blocking finding(s), 2 not reviewed (failing by policy)"
    failing, listed = output.summary.split("**Not reviewed** (listed")
    assert "**Not reviewed, and the policy fails the check for these** (`not_reviewed.fail`" in failing
    assert "deployment.yaml` (helm template)" in failing and "bicep" not in failing
    assert "`infra/main.bicep` (bicep)" in listed and "helm template" not in listed


def test_a_long_not_reviewed_list_is_cut_with_a_count() -> None:
    many = [NotReviewed(f"assets/{'deep/' * 40}image{i}.png", None, "binary file", "binary content " * 30)
            for i in range(2_000)]
    output = check_output([], [], [], {}, None, "success", not_reviewed=many)
    shown = output.summary.count("(binary file)")
    assert 0 < shown < 2_000 and len(output.summary) <= MAX_OUTPUT_CHARS
    assert f"- …and {2_000 - shown:,} more not shown here" in output.summary
    assert output.summary.count("(binary file): ") == shown and "…" in output.summary.split("\n")[4]  # parts clipped


def test_a_backtick_in_a_path_does_not_break_the_list() -> None:
    output = check_output([], [], [], {}, None, "success", not_reviewed=[NotReviewed("a`b.bicep", None, "bicep", "r")])
    assert "- ``a`b.bicep`` (bicep): r" in output.summary


def test_refused_custom_rules_are_failing_annotations_and_a_summary_section() -> None:
    refused = [FileError(".github/compliance/rules/tags.yml", 12, "tests.flag[0] (main.tf) must be flagged on line 3, "
                                                                  "but the rule flagged nothing")]
    warning = finding(5, resource="b", severity=Severity.LOW)
    output = check_output([warning], [], [], {warning.fingerprint: False}, None, "failure",
                          refused_rules=refused, rules_repository="octo-org/.github")
    assert output.title == "0 blocking finding(s), 1 custom rule error(s)"
    assert output.annotations[0] == {
        "path": ".github/compliance/rules/tags.yml", "start_line": 12, "end_line": 12, "annotation_level": "failure",
        "title": "Custom rule refused",
        "message": "octo-org/.github: .github/compliance/rules/tags.yml:12: tests.flag[0] (main.tf) must be flagged "
                   "on line 3, but the rule flagged nothing"}
    assert [a["annotation_level"] for a in output.annotations] == ["failure", "warning"]
    section = output.summary[output.summary.index("**Custom rules refused**"):]
    assert section.splitlines()[:3] == [
        "**Custom rules refused** (in `octo-org/.github`; the check fails until they are fixed, every other rule ran):",
        "",
        ("- `.github/compliance/rules/tags.yml:12`: tests.flag[0] (main.tf) must be flagged on line 3, but the rule "
        "flagged nothing")]
    assert "Custom rules refused" not in check_output([warning], [], [], {}, None, "success").summary


def test_modes_set_the_annotation_level_and_say_why_nothing_blocks() -> None:
    from bot.github.review import ReviewPlan

    monitored = replace(finding(4, rule="CB-AWS-002"), mode="monitor", mode_reason="hipaa findings block only on "
                        "resources tagged data-classification=phi; this one has no such tag")
    commented = replace(finding(5, rule="CB-AWS-003"), mode="comment")
    out = check_output([monitored, commented], [], [], {}, ReviewPlan(monitor_only=1), "success")
    levels = {a["title"].split(":")[0]: (a["annotation_level"], a["message"]) for a in out.annotations}
    assert levels["CB-AWS-002"] == ("notice", ("not encrypted\n(not blocking: hipaa findings block only on resources "
                                              "tagged data-classification=phi; this one has no such tag)"))
    assert levels["CB-AWS-003"] == ("warning", "not encrypted\n(not blocking: the policy sets this rule to comment)")
    assert out.title == "2 finding(s), none blocking"
    assert "1 of rules in monitor mode, never commented" in out.summary
