"""The check run's output: titles, annotation levels, GitHub's size limits, batches of 50, and
what was not reviewed."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.model import FileError, Severity
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
