"""The pull request review: which findings become inline comments, and which threads of fixed
findings get resolved, planned from what is already on GitHub.

Pure functions, no I/O. Each comment carries a hidden fingerprint (rule, path, resource, key;
never the line), so a later push or a re-run never repeats a comment.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.engine.diff import FileDiff
from bot.engine.model import Finding
from bot.engine.policy import MONITOR
from bot.github.records import ReviewComment, ReviewThread
from bot.report.placement import placement
from bot.report.text import comment_body

MAX_COMMENT_CHARS = 65_536  # GitHub's limit on a review comment body

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
    monitor_only: int = 0  # findings of `monitor` mode: annotations, never comments


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
        if finding.mode == MONITOR:
            plan.monitor_only += 1
            continue
        if finding.fingerprint in posted:
            if finding.fingerprint in commented:
                plan.already_commented += 1
            continue
        place = placement(finding, diffs.get(finding.path))
        if place.line is None:
            plan.outside_diff += 1
            continue
        if len(plan.comments) >= max_comments:
            plan.over_cap += 1
            continue
        with_suggestion = place.suggestion_fits and finding.suggestion is not None
        body = _body(finding, with_suggestion)
        if place.nearest:
            body = f"_Line {finding.line} of this resource:_\n\n{body}"
        comment = ReviewComment(path=finding.path, line=place.line,
                                start_line=place.start_line if with_suggestion else None, body=body)
        plan.comments.append((finding, comment))
        posted.add(finding.fingerprint)
    return plan


def review_body(plan: ReviewPlan, blocking: int) -> str:
    lines = [f"**Compliance Bot** found {len(plan.comments)} new issue(s) in this push."]
    if blocking:
        lines.append(f"{blocking} finding(s) block the merge; see the **compliance** check for the full list.")
    return "\n\n".join(lines)


