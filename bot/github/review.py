"""Turn findings into what GitHub shows: inline review comments and a check run.

Pure functions, no I/O: reviewdog's idea of *labelling* each finding (in the diff or not,
already commented or not) and letting each reporter decide. GitHub's limits live here as
named constants.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.engine.diff import FileDiff
from bot.engine.model import FileError, Finding
from bot.github.client import ReviewComment, ReviewThread
from bot.report.text import comment_body, controls_line

MAX_ANNOTATIONS_PER_REQUEST = 50
MAX_OUTPUT_CHARS = 65_535  # check run summary and text
MAX_COMMENT_CHARS = 65_536
MAX_ANNOTATIONS = 3_000  # beyond this, the summary says how many were left out
MAX_ANNOTATION_MESSAGE = 64 * 1024 - 1

FINGERPRINT_RE = re.compile(r"<!-- compliance-bot:fingerprint=([0-9a-f]{16}) -->")


def fingerprint_marker(finding: Finding) -> str:
    """Hidden in each comment so the next push can tell which findings it already reported."""
    return f"<!-- compliance-bot:fingerprint={finding.fingerprint} -->"


def fingerprint_in(body: str) -> str | None:
    match = FINGERPRINT_RE.search(body)
    return match.group(1) if match else None


@dataclass
class ReviewPlan:
    """What to post: new comments, threads to resolve, and findings left to the check run."""

    comments: list[tuple[Finding, ReviewComment]] = field(default_factory=list)
    resolve_thread_ids: list[str] = field(default_factory=list)
    already_commented: int = 0
    outside_diff: int = 0
    over_cap: int = 0


def _placement(finding: Finding, diff: FileDiff | None) -> tuple[int | None, int, bool]:
    """(start_line, line, suggestion fits) for a comment, or line 0 when outside the diff.

    When the offending line itself is not in the diff (an edit elsewhere in the resource made
    it relevant), the comment goes on the resource's nearest line that is, without suggestion.
    """
    if diff is None:
        return None, 0, False
    if finding.line not in diff.commentable_lines:
        if finding.resource_span is None:
            return None, 0, False
        first, last = finding.resource_span
        near = sorted((abs(n - finding.line), n) for n in diff.commentable_lines if first <= n <= last)
        return (None, near[0][1], False) if near else (None, 0, False)
    span = range(finding.line, finding.end_line + 1)
    if finding.end_line > finding.line and all(n in diff.commentable_lines for n in span):
        return finding.line, finding.end_line, True
    return None, finding.line, finding.end_line == finding.line


def _body(finding: Finding, with_suggestion: bool) -> str:
    body = f"{comment_body(finding, with_suggestion=with_suggestion)}\n\n{fingerprint_marker(finding)}"
    if len(body) > MAX_COMMENT_CHARS:
        body = f"{comment_body(finding, with_suggestion=False)[: MAX_COMMENT_CHARS - 200]}\n\n{fingerprint_marker(finding)}"
    return body


def plan_review(
    findings: Sequence[Finding],
    diffs: Mapping[str, FileDiff],
    threads: Sequence[ReviewThread],
    max_comments: int,
) -> ReviewPlan:
    """Decide comments and resolutions; a comment is only ever placed on a line of the diff."""
    plan = ReviewPlan()
    commented: dict[str, list[ReviewThread]] = defaultdict(list)
    for thread in threads:
        fp = fingerprint_in(thread.first_comment_body)
        if fp is not None:
            commented[fp].append(thread)
    current = {f.fingerprint for f in findings if not f.suppressed}
    for fp, fp_threads in commented.items():
        if fp not in current:
            plan.resolve_thread_ids.extend(t.id for t in fp_threads if not t.is_resolved)
    # A finding with any thread, even one a person resolved, is never posted again: no spam.
    posted: set[str] = set(commented)
    ordered = sorted((f for f in findings if not f.suppressed), key=lambda f: (-f.severity.rank, f.path, f.line))
    for finding in ordered:
        if finding.fingerprint in posted:
            if finding.fingerprint in commented:
                plan.already_commented += 1
            continue
        start, line, fits = _placement(finding, diffs.get(finding.path))
        if not line:
            plan.outside_diff += 1
            continue
        if len(plan.comments) >= max_comments:
            plan.over_cap += 1
            continue
        with_suggestion = fits and finding.suggestion is not None
        body = _body(finding, with_suggestion)
        if line != finding.line:
            body = f"_Line {finding.line} of this resource:_\n\n{body}"
        comment = ReviewComment(path=finding.path, line=line, start_line=start if with_suggestion else None,
                                body=body)
        plan.comments.append((finding, comment))
        posted.add(finding.fingerprint)
    return plan


def review_body(plan: ReviewPlan, blocking: int) -> str:
    lines = [f"**Compliance Bot** found {len(plan.comments)} new issue(s) in this push."]
    if blocking:
        lines.append(f"{blocking} finding(s) block the merge; see the **compliance** check for the full list.")
    return "\n\n".join(lines)


def annotation(finding: Finding, blocks: bool) -> dict[str, Any]:
    level = "notice" if finding.suppressed else ("failure" if blocks else "warning")
    message = finding.message
    if finding.suppressed:
        message = f"{message}\n(suppressed by policy: {finding.suppression_reason})"
    controls = controls_line(finding.controls)
    details = f"How to fix: {finding.remediation}" + (f"\nControls: {controls}" if controls else "")
    return {
        "path": finding.path,
        "start_line": finding.line,
        "end_line": finding.end_line,
        "annotation_level": level,
        "title": f"{finding.rule_id}: {finding.title}"[:255],
        "message": message[:MAX_ANNOTATION_MESSAGE],
        "raw_details": details[:MAX_ANNOTATION_MESSAGE],
    }


def error_annotation(error: FileError) -> dict[str, Any]:
    return {
        "path": error.path,
        "start_line": error.line or 1,
        "end_line": error.line or 1,
        "annotation_level": "failure",
        "title": "File could not be reviewed",
        "message": error.message[:MAX_ANNOTATION_MESSAGE],
    }


def batches(items: Sequence[dict[str, Any]], size: int = MAX_ANNOTATIONS_PER_REQUEST) -> list[list[dict[str, Any]]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)] or [[]]


def _cap(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    if len(text) <= limit:
        return text
    notice = "\n\n…(truncated: GitHub limits this text to 65,535 characters)"
    return text[: limit - len(notice)] + notice


@dataclass(frozen=True)
class CheckOutput:
    conclusion: str
    title: str
    summary: str
    text: str
    annotations: list[dict[str, Any]]


def check_output(
    findings: Sequence[Finding],
    errors: Sequence[FileError],
    notes: Iterable[str],
    blocks: Mapping[str, bool],
    plan: ReviewPlan | None,
    conclusion: str,
) -> CheckOutput:
    """Title, summary (table by rule and control), details text and annotations of the check run."""
    blocking = [f for f in findings if blocks.get(f.fingerprint)]
    suppressed = [f for f in findings if f.suppressed]
    if conclusion == "success" and not findings:
        title = "No compliance issues"
    elif blocking or errors:
        title = f"{len(blocking)} blocking finding(s)" + (f", {len(errors)} error(s)" if errors else "")
    else:
        title = f"{len(findings)} finding(s), none blocking"
    summary = [f"### {title}", ""]
    by_rule = Counter(f.rule_id for f in findings if not f.suppressed)
    if by_rule:
        first: dict[str, Finding] = {}
        for f in findings:
            first.setdefault(f.rule_id, f)
        summary += ["| Rule | Severity | Findings | Controls |", "| --- | --- | ---: | --- |"]
        for rule_id, count in sorted(by_rule.items(), key=lambda kv: (-first[kv[0]].severity.rank, kv[0])):
            f = first[rule_id]
            summary.append(f"| {rule_id}: {f.title} | {f.severity.value} | {count} | {controls_line(f.controls) or '-'} |")
        summary.append("")
    if errors:
        summary += ["**Files that could not be reviewed** (the check fails closed):", ""]
        summary += [f"- `{e.path}`{f' line {e.line}' if e.line else ''}: {e.message}" for e in errors] + [""]
    if suppressed:
        summary.append(f"{len(suppressed)} finding(s) suppressed by the policy on the default branch.")
    if plan is not None:
        summary.append(
            f"Inline comments: {len(plan.comments)} new, {plan.already_commented} already posted, "
            f"{len(plan.resolve_thread_ids)} thread(s) resolved as fixed, {plan.outside_diff} outside the diff, "
            f"{plan.over_cap} over the comment cap (all are annotations below)."
        )
    summary += [f"- {note}" for note in notes]
    details = []
    for f in findings:
        state = " (suppressed)" if f.suppressed else ""
        details.append(f"- **{f.rule_id}** [{f.severity.value}]{state} `{f.path}:{f.line}` {f.resource or ''}: {f.message}")
    annotations = [error_annotation(e) for e in errors]
    annotations += [annotation(f, bool(blocks.get(f.fingerprint))) for f in findings]
    if len(annotations) > MAX_ANNOTATIONS:
        summary.append(f"Only the first {MAX_ANNOTATIONS} of {len(annotations)} annotations are shown.")
        annotations = annotations[:MAX_ANNOTATIONS]
    return CheckOutput(conclusion, title, _cap("\n".join(summary)), _cap("\n".join(details)), annotations)
