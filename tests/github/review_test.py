"""Planning what to post: comments only on diff lines, no duplicates across pushes, fixed
findings resolved, caps and multi-line suggestions."""

from __future__ import annotations

from dataclasses import replace

from bot.engine.diff import parse_file_patch
from bot.engine.model import Finding, Severity
from bot.github.records import ReviewThread
from bot.github.review import fingerprint_in, fingerprint_marker, plan_review

# main.tf: lines 1-3 context, 4-6 added, 7 context (one hunk); line 20 is far outside it.
DIFF = parse_file_patch("main.tf", "@@ -1,4 +1,7 @@\n a\n b\n c\n+d\n+e\n+f\n g", "modified")


def finding(line: int, rule: str = "CB-AWS-001", resource: str = "aws_ebs_volume.v", end: int | None = None,
            suggestion: str | None = None, span: tuple[int, int] | None = None,
            severity: Severity = Severity.HIGH) -> Finding:
    return Finding(rule, "EBS volume is not encrypted", severity, "main.tf", line, end or line, resource,
                   "not encrypted", "set encrypted = true", "why", {"hipaa": ("164.312(a)(2)(iv)",)},
                   suggestion, resource_span=span)


def thread(f: Finding, resolved: bool = False, thread_id: str = "T1") -> ReviewThread:
    return ReviewThread(thread_id, resolved, False, f.path, f.line, f"body\n{fingerprint_marker(f)}", "compliance-bot")


def test_comment_on_a_diff_line_carries_fingerprint_and_suggestion() -> None:
    f = finding(5, suggestion="  encrypted = true")
    plan = plan_review([f], {"main.tf": DIFF}, [], 30)
    ((_, comment),) = plan.comments
    assert (comment.path, comment.line, comment.start_line) == ("main.tf", 5, None)
    assert fingerprint_in(comment.body) == f.fingerprint
    assert "```suggestion\n  encrypted = true\n```" in comment.body
    assert comment.to_api() == {"path": "main.tf", "line": 5, "side": "RIGHT", "body": comment.body}


def test_multi_line_suggestion_spans_start_line_to_line() -> None:
    plan = plan_review([finding(4, end=6, suggestion="x\ny\nz")], {"main.tf": DIFF}, [], 30)
    ((_, comment),) = plan.comments
    assert comment.to_api()["start_line"] == 4 and comment.to_api()["line"] == 6


def test_outside_the_diff_goes_to_the_check_run_only() -> None:
    plan = plan_review([finding(20)], {"main.tf": DIFF}, [], 30)
    assert plan.comments == [] and plan.outside_diff == 1
    assert plan_review([finding(5)], {}, [], 30).outside_diff == 1  # file not in the PR at all


def test_off_diff_line_of_a_touched_resource_is_commented_on_its_nearest_diff_line() -> None:
    plan = plan_review([finding(12, span=(3, 14), suggestion="fix")], {"main.tf": DIFF}, [], 30)
    ((_, comment),) = plan.comments
    assert comment.line == 7 and comment.start_line is None
    assert comment.body.startswith("_Line 12 of this resource:_") and "```suggestion" not in comment.body


def test_already_commented_findings_are_not_posted_again_even_if_resolved_by_a_person() -> None:
    open_one, resolved_one = finding(4, resource="a"), finding(5, resource="b")
    plan = plan_review([open_one, resolved_one], {"main.tf": DIFF},
                       [thread(open_one), thread(resolved_one, resolved=True, thread_id="T2")], 30)
    assert plan.comments == [] and plan.already_commented == 2 and plan.resolve_thread_ids == []


def test_fixed_findings_have_their_open_threads_resolved() -> None:
    fixed, still = finding(4, resource="fixed"), finding(5, resource="still")
    threads = [thread(fixed, thread_id="T-fixed"), thread(still, thread_id="T-still"),
               ReviewThread("T-human", False, False, "main.tf", 4, "a person's comment", "octocat")]
    plan = plan_review([still], {"main.tf": DIFF}, threads, 30)
    assert plan.resolve_thread_ids == ["T-fixed"]


def test_suppressed_findings_are_not_commented_and_their_threads_resolve() -> None:
    f = finding(5)
    plan = plan_review([replace(f, suppressed=True, suppression_reason="accepted")], {"main.tf": DIFF}, [thread(f)], 30)
    assert plan.comments == [] and plan.resolve_thread_ids == ["T1"]


def test_cap_keeps_the_most_severe() -> None:
    findings = [finding(4, resource="low", severity=Severity.LOW), finding(5, resource="crit", severity=Severity.CRITICAL),
                finding(6, resource="med", severity=Severity.MEDIUM)]
    plan = plan_review(findings, {"main.tf": DIFF}, [], 2)
    assert [f.resource for f, _ in plan.comments] == ["crit", "med"] and plan.over_cap == 1


def test_monitor_findings_are_never_commented_and_comment_findings_are() -> None:
    monitored = replace(finding(4, rule="CB-AWS-002"), mode="monitor")
    commented = replace(finding(5, rule="CB-AWS-003"), mode="comment")
    plan = plan_review([monitored, commented, finding(6)], {"main.tf": DIFF}, [thread(monitored)], 30)
    assert [f.rule_id for f, _ in plan.comments] == ["CB-AWS-003", "CB-AWS-001"]
    assert plan.monitor_only == 1 and plan.resolve_thread_ids == []  # still found: its old thread stays open
    body = {f.rule_id: c.body for f, c in plan.comments}["CB-AWS-003"]
    assert "**Not blocking:** the policy sets this rule to `comment` (shown, never blocking)" in body
