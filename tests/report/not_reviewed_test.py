"""Every reporter shows what was not reviewed: the text report as one line per entry before the
verdict, the JSON report as `not_reviewed[]` (in the schema, required), SARIF as notifications."""

from __future__ import annotations

import jsonschema
import pytest

from bot.engine.model import NotReviewed
from bot.engine.policy import Policy, parse_policy
from bot.engine.review import Review
from bot.report.json_report import report_schema, review_json
from bot.report.sarif import review_sarif
from bot.report.text import text_report
from tests.github.review_test import finding

HELM = NotReviewed("charts/app/templates/deployment.yaml", None, "helm template", "Go template: not rendered")
REMOTE = NotReviewed("infra/main.tf", 12, "remote module", "registry module: its resources are not read")
REVIEW = Review(not_reviewed=(HELM, REMOTE))
STRICT = parse_policy("not_reviewed:\n  fail: [helm template]\n")


def test_text_lists_each_entry_before_the_verdict() -> None:
    lines = text_report([], [], "success", ["a note"], REVIEW.not_reviewed).splitlines()
    assert lines == [
        "not reviewed: charts/app/templates/deployment.yaml (helm template): Go template: not rendered",
        "not reviewed: infra/main.tf:12 (remote module): registry module: its resources are not read",
        "note: a note",
        "0 finding(s), 0 unsuppressed, 0 error(s), 2 not reviewed: success",
    ]


def test_text_says_which_entries_fail_by_policy() -> None:
    out = text_report([], [], "failure", (), REVIEW.not_reviewed, {HELM})
    assert "(helm template): Go template: not rendered [fails the check: not_reviewed.fail in the policy]" in out
    assert "registry module: its resources are not read\n" in out  # the other one only listed


def test_text_without_entries_keeps_its_verdict_line() -> None:
    assert text_report([finding(3)], [], "failure").splitlines()[-1] == "1 finding(s), 1 unsuppressed, 0 error(s): failure"


def test_json_has_a_not_reviewed_array_in_the_schema() -> None:
    report = review_json(REVIEW, Policy())
    jsonschema.validate(report, report_schema())
    assert report["conclusion"] == "success"
    assert report["not_reviewed"] == [
        {"path": HELM.path, "line": None, "what": "helm template", "reason": HELM.reason, "blocking": False},
        {"path": "infra/main.tf", "line": 12, "what": "remote module", "reason": REMOTE.reason, "blocking": False}]
    strict = review_json(REVIEW, STRICT)
    assert strict["conclusion"] == "failure" and [n["blocking"] for n in strict["not_reviewed"]] == [True, False]


def test_json_without_not_reviewed_breaks_the_schema() -> None:
    report = review_json(Review(), Policy())
    assert report["not_reviewed"] == []
    del report["not_reviewed"]
    with pytest.raises(jsonschema.ValidationError, match="'not_reviewed' is a required property"):
        jsonschema.validate(report, report_schema())


def test_sarif_notes_each_entry_as_a_tool_notification() -> None:
    sarif = review_sarif(REVIEW, [])
    (invocation,) = sarif["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True and sarif["runs"][0]["results"] == []
    assert invocation["toolExecutionNotifications"] == [
        {"level": "note", "message": {"text": "not reviewed (helm template): Go template: not rendered"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": HELM.path}}}],
         "properties": {"notReviewed": "helm template"}},
        {"level": "note", "message": {"text": "not reviewed (remote module): registry module: its resources are not read"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "infra/main.tf"}, "region": {"startLine": 12}}}],
         "properties": {"notReviewed": "remote module"}},
    ]
    strict = review_sarif(REVIEW, [], STRICT)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in strict] == ["error", "note"]
