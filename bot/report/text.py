"""How a finding reads to a developer: one renderer for the CLI and the inline review comment,
so `compliance-bot check` shows exactly what the App will post.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

from bot.engine.exceptions import ExceptionRecord
from bot.engine.model import Finding, NotReviewed
from bot.report.exceptions import exception_line

FRAMEWORK_LABELS: Mapping[str, str] = {
    "hipaa": "HIPAA",
    "pci-dss": "PCI DSS 4.0",
    "soc2": "SOC 2",
    "cis-aws": "CIS AWS",
    "cis-kubernetes": "CIS Kubernetes",
    "cis-azure": "CIS Azure",
    "cis-gcp": "CIS GCP",
    "cis-docker": "CIS Docker",
}


def controls_line(controls: Mapping[str, tuple[str, ...] | list[str]]) -> str:
    """`HIPAA 164.312(a)(1), 164.312(d) · PCI DSS 4.0 3.5.1`, frameworks in a stable order."""
    parts = []
    for key in sorted(controls):
        if controls[key]:
            parts.append(f"{FRAMEWORK_LABELS.get(key, key.upper())} {', '.join(controls[key])}")
    return " · ".join(parts)


def suggestion_block(suggestion: str) -> str:
    """A GitHub ```suggestion block; the fence grows if the suggestion itself holds backticks."""
    fence = "```"
    while fence in suggestion:
        fence += "`"
    body = suggestion if suggestion.endswith("\n") else suggestion + "\n"
    return f"{fence}suggestion\n{body}{fence}"


def comment_body(finding: Finding, with_suggestion: bool = True) -> str:
    """The Markdown of one inline comment: rule, severity, controls, why, how to fix."""
    subject = f" on `{finding.resource}`" if finding.resource else ""
    lines = [
        f"**{finding.rule_id}: {finding.title}** ({finding.severity.value}){subject}",
        "",
        finding.message,
        "",
    ]
    if finding.provenance:
        lines.append(f"**Where the value comes from:** {finding.provenance}")
    if finding.rationale:
        lines.append(f"**Why:** {finding.rationale}")
    lines.append(f"**How to fix:** {finding.remediation}")
    controls = controls_line(finding.controls)
    if controls:
        lines.append(f"**Controls:** {controls}")
    if finding.suppressed:
        lines.append(f"**Suppressed:** {finding.suppression_reason}")
    if finding.mode != "block":
        lines.append(f"**Not blocking:** {finding.mode_reason or _MODE_WORDS.get(finding.mode, finding.mode)}")
    if with_suggestion and finding.suggestion is not None:
        lines.extend(["", suggestion_block(finding.suggestion)])
    return "\n".join(lines)


_MODE_WORDS = {"comment": "the policy sets this rule to `comment` (shown, never blocking)",
               "monitor": "the policy sets this rule to `monitor` (annotations only, never blocking)"}


def not_reviewed_line(entry: NotReviewed, fails: bool = False) -> str:
    """`not reviewed: <path>[:<line>] (<what>): <reason>`, saying when the policy makes it fail."""
    where = f"{entry.path}:{entry.line}" if entry.line else entry.path
    suffix = " [fails the check: not_reviewed.fail in the policy]" if fails else ""
    return f"not reviewed: {where} ({entry.what}): {entry.reason}{suffix}"


def text_report(findings: Sequence[Finding], errors: Sequence[tuple[str, int | None, str]], conclusion: str,
                notes: Sequence[str] = (), not_reviewed: Sequence[NotReviewed] = (),
                failing: Collection[NotReviewed] = (), exceptions: Sequence[ExceptionRecord] = (),
                today: dt.date | None = None) -> str:
    """The CLI's human output: each finding as its comment would read, then errors, what was not
    reviewed (so a passing verdict never hides it), the exceptions met, notes and the verdict."""
    out: list[str] = []
    for finding in findings:
        where = f"{finding.path}:{finding.line}"
        state = " (suppressed)" if finding.suppressed else (f" ({finding.mode})" if finding.mode != "block" else "")
        out.append(f"{where}  {finding.rule_id} [{finding.severity.value}]{state}")
        out.extend(f"    {line}" if line else "" for line in comment_body(finding).splitlines())
        out.append("")
    for path, line, message in errors:
        where = f"{path}:{line}" if line else path
        out.append(f"{where}  error: {message}")
    out.extend(not_reviewed_line(entry, entry in failing) for entry in not_reviewed)
    out.extend(exception_line(record, today or dt.date.today()) for record in exceptions)
    for note in notes:
        out.append(f"note: {note}")
    blocking = sum(1 for f in findings if not f.suppressed)
    unread = f", {len(not_reviewed)} not reviewed" if not_reviewed else ""
    out.append(f"{len(findings)} finding(s), {blocking} unsuppressed, {len(errors)} error(s){unread}: {conclusion}")
    return "\n".join(out)
