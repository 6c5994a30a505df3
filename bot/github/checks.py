"""The check run: title, summary table, details and annotations, within GitHub's limits.

Pure functions, no I/O. GitHub's limits live here as named constants: 50 annotations per
request, 65,535 characters of summary or text.

What the engine did not review (a Helm template, a Bicep file...) is a section of the summary,
never an annotation: GitHub would take one on line 1 of the file, but a binary file has no line 1
to show, a listing is not a finding on a line, and annotations are capped (3,000 here), so a long
list of unreadable files would push real findings out of view.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.engine.exceptions import ExceptionRecord
from bot.engine.model import FileError, Finding, NotReviewed
from bot.engine.policy import POLICY_PATH, PolicyProblem
from bot.github.review import ReviewPlan
from bot.report.evidence_block import evidence_block
from bot.report.exceptions import exceptions_section
from bot.report.text import controls_line

MAX_ANNOTATIONS_PER_REQUEST = 50
MAX_OUTPUT_CHARS = 65_535  # check run summary and text
MAX_ANNOTATIONS = 3_000  # beyond this, the summary says how many were left out
MAX_ANNOTATION_MESSAGE = 64 * 1024 - 1
MAX_NOT_REVIEWED_CHARS = 20_000  # of the summary; the rest of the list is counted, not shown
MAX_ENTRY_PART = 300  # characters of one path or reason in a bullet


def annotation(finding: Finding, blocks: bool) -> dict[str, Any]:
    level = "notice" if finding.suppressed or finding.mode == "monitor" else ("failure" if blocks else "warning")
    message = finding.message
    if finding.suppressed:
        message = f"{message}\n(suppressed: {finding.suppression_reason})"
    elif finding.mode != "block":
        message = f"{message}\n(not blocking: {finding.mode_reason or f'the policy sets this rule to {finding.mode}'})"
    controls = controls_line(finding.controls)
    details = f"How to fix: {finding.remediation}" + (f"\nControls: {controls}" if controls else "")
    if finding.provenance:
        details = f"Where the value comes from: {finding.provenance}\n{details}"
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


def refused_rule_annotation(error: FileError, repository: str) -> dict[str, Any]:
    """A custom rule the organisation's `.github` repository holds that was refused: the path and
    line are in that repository, which the message names."""
    where = f"{error.path}:{error.line or 1}"
    return {
        "path": error.path,
        "start_line": error.line or 1,
        "end_line": error.line or 1,
        "annotation_level": "failure",
        "title": "Custom rule refused",
        "message": f"{repository}: {where}: {error.message}"[:MAX_ANNOTATION_MESSAGE],
    }


def policy_annotation(problem: PolicyProblem) -> dict[str, Any]:
    """A refused setting of the repository's own policy file, on its line."""
    return {
        "path": POLICY_PATH,
        "start_line": problem.line or 1,
        "end_line": problem.line or 1,
        "annotation_level": "failure",
        "title": "Policy setting refused",
        "message": problem.message[:MAX_ANNOTATION_MESSAGE],
    }


def batches(items: Sequence[dict[str, Any]], size: int = MAX_ANNOTATIONS_PER_REQUEST) -> list[list[dict[str, Any]]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)] or [[]]


def _cap(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    if len(text) <= limit:
        return text
    notice = "\n\n…(truncated: GitHub limits this text to 65,535 characters)"
    return text[: limit - len(notice)] + notice


def with_evidence(text: str, record: Mapping[str, Any]) -> str:
    """The check run's text ending in its evidence record: the details give way (cut, with a
    notice) so the record always fits GitHub's 65,535 characters."""
    block = evidence_block(record)
    return _cap(text, MAX_OUTPUT_CHARS - len(block)) + block


def _code(text: str) -> str:
    """Inline code that survives backticks in a path."""
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ENTRY_PART else text[: MAX_ENTRY_PART - 1] + "…"


def not_reviewed_lines(entries: Sequence[NotReviewed], heading: str) -> list[str]:
    """One bullet per entry (path, what, reason) under `heading`, within MAX_NOT_REVIEWED_CHARS:
    past that, one line counts the entries left out."""
    if not entries:
        return []
    lines, used = [heading, ""], 0
    for shown, entry in enumerate(entries):
        where = _code(_clip(entry.path)) + (f" line {entry.line}" if entry.line else "")
        bullet = f"- {where} ({entry.what}): {_clip(entry.reason)}"
        if used + len(bullet) > MAX_NOT_REVIEWED_CHARS:
            lines.append(f"- …and {len(entries) - shown:,} more not shown here (GitHub limits this summary; "
                         "`compliance-bot check --format json` lists them all)")
            break
        lines.append(bullet)
        used += len(bullet) + 1
    return [*lines, ""]


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
    incomplete: Sequence[str] = (),
    not_reviewed: Sequence[NotReviewed] = (),
    failing: Collection[NotReviewed] = (),
    refused_rules: Sequence[FileError] = (),
    rules_repository: str = "",
    policy_problems: Sequence[PolicyProblem] = (),
    exceptions: Sequence[ExceptionRecord] = (),
    today: dt.date | None = None,
) -> CheckOutput:
    """Title, summary (table by rule and control), details text and annotations of the check run.

    `incomplete` names what the review could not cover (files past a listing's cap): the
    conclusion is then failure, and the summary says why, since no annotation can point there.
    `not_reviewed` lists what the engine (or the job) could not judge: shown, and passing unless
    it is in `failing` (the kinds the policy's `not_reviewed.fail` names), which the summary
    shows apart, saying that the policy fails the check for them. `refused_rules`: the custom rule
    files of `rules_repository` (the organisation's `.github`) that did not validate or whose
    examples failed: each is a failing annotation and a summary line, and the check fails.
    `policy_problems`: settings of the repository's policy that would loosen its organisation's
    (refused, each on its line).
    `exceptions`: what became of each exception (who approved it), with a warning for those
    expiring within 14 days."""
    blocking = [f for f in findings if blocks.get(f.fingerprint)]
    suppressed = [f for f in findings if f.suppressed]
    failing_entries = [n for n in not_reviewed if n in failing]
    listed_entries = [n for n in not_reviewed if n not in failing]
    if conclusion == "success" and not findings:
        title = "No compliance issues"
    elif blocking or errors or incomplete or failing_entries or refused_rules or policy_problems:
        title = f"{len(blocking)} blocking finding(s)" + (f", {len(errors)} error(s)" if errors else "")
        title += f", {len(refused_rules)} custom rule error(s)" if refused_rules else ""
        title += f", {len(policy_problems)} policy setting(s) refused" if policy_problems else ""
        title += ", not everything reviewed" if incomplete else ""
    else:
        title = f"{len(findings)} finding(s), none blocking"
    if not_reviewed:
        title += f", {len(not_reviewed)} not reviewed" + (" (failing by policy)" if failing_entries else "")
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
    if refused_rules:
        summary += [(f"**Custom rules refused** (in {_code(rules_repository)}; the check fails until they are fixed, "
                    "every other rule ran):"), ""]
        summary += [f"- {_code(f'{e.path}:{e.line or 1}')}: {e.message}" for e in refused_rules] + [""]
    if policy_problems:
        summary += [("**Policy settings refused** (the organisation policy allows a repository only to tighten it; "
                    "the review used the organisation's values, and the check fails until the file is fixed):"), ""]
        summary += [f"- {_code(p.source)}{f' line {p.line}' if p.line else ''}: {p.message}" for p in policy_problems]
        summary += [""]
    if incomplete:
        summary += ["**Not reviewed** (the check fails closed):", ""]
        summary += [f"- {reason}" for reason in incomplete] + [""]
    summary += not_reviewed_lines(failing_entries, "**Not reviewed, and the policy fails the check for these** "
                                                   "(`not_reviewed.fail` in the policy on the default branch):")
    summary += not_reviewed_lines(listed_entries, "**Not reviewed** (listed; the check does not fail for these):")
    summary += exceptions_section(exceptions, today or dt.date.today())
    if suppressed:
        summary.append(f"{len(suppressed)} finding(s) suppressed (by the policy on the default branch, or by an "
                       "approved exception).")
    if plan is not None:
        summary.append(
            f"Inline comments: {len(plan.comments)} new, {plan.already_commented} already posted, "
            f"{len(plan.resolve_thread_ids)} thread(s) resolved as fixed, {plan.outside_diff} outside the diff, "
            f"{plan.over_cap} over the comment cap"
            + (f", {plan.monitor_only} of rules in monitor mode, never commented" if plan.monitor_only else "")
            + " (all are annotations below)."
        )
    summary += [f"- {note}" for note in notes]
    details = []
    for f in findings:
        state = " (suppressed)" if f.suppressed else ""
        details.append(f"- **{f.rule_id}** [{f.severity.value}]{state} `{f.path}:{f.line}` {f.resource or ''}: {f.message}"
                       + (f" (value: {f.provenance})" if f.provenance else ""))
    annotations = [refused_rule_annotation(e, rules_repository) for e in refused_rules]
    annotations += [policy_annotation(p) for p in policy_problems if p.source == POLICY_PATH]
    annotations += [error_annotation(e) for e in errors]
    annotations += [annotation(f, bool(blocks.get(f.fingerprint))) for f in findings]
    if len(annotations) > MAX_ANNOTATIONS:
        summary.append(f"Only the first {MAX_ANNOTATIONS} of {len(annotations)} annotations are shown.")
        annotations = annotations[:MAX_ANNOTATIONS]
    return CheckOutput(conclusion, title, _cap("\n".join(summary)), _cap("\n".join(details)), annotations)
