"""The terminal's default report (`--format compact`): one line per finding,
`path:line rule severity message`, then what was not reviewed, a summary by severity and by
framework, and the verdict line last (scripts read it). Colour is the caller's choice (a
terminal that wants it); nothing a file name or a value holds ever reaches the terminal as a
control character."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Sequence

from bot.engine.exceptions import ExceptionRecord
from bot.engine.model import Finding, NotReviewed, Severity
from bot.report.exceptions import exception_line
from bot.report.plain import one_line, plain_text, shown_path
from bot.report.text import FRAMEWORK_LABELS, not_reviewed_line

_RESET = "\x1b[0m"
_SEVERITY_STYLE = {"critical": "\x1b[1;31m", "high": "\x1b[31m", "medium": "\x1b[33m", "low": "\x1b[36m"}
_BOLD, _DIM = "\x1b[1m", "\x1b[2m"
_VERDICT_STYLE = {"success": "\x1b[32m", "failure": "\x1b[1;31m"}
_SEVERITIES = [s.value for s in sorted(Severity, key=lambda s: -s.rank)]


def _paint(text: str, style: str, colour: bool) -> str:
    return f"{style}{text}{_RESET}" if colour and style else text


def finding_line(finding: Finding, colour: bool = False) -> str:
    """`path:line rule severity message [state]`, the message as plain text on one line."""
    state = " [suppressed]" if finding.suppressed else (f" [{finding.mode}]" if finding.mode != "block" else "")
    where = _paint(f"{shown_path(finding.path)}:{finding.line}", _BOLD, colour)
    severity = _paint(finding.severity.value, _SEVERITY_STYLE.get(finding.severity.value, ""), colour)
    message = one_line(plain_text(finding.message))
    line = f"{where} {finding.rule_id} {severity} {message}{state}"
    return _paint(line, _DIM, colour) if colour and state else line


def summary_lines(findings: Sequence[Finding]) -> list[str]:
    """How many findings of each severity (highest first) and per framework their controls map
    to; nothing when there is no finding."""
    if not findings:
        return []
    severities = Counter(f.severity.value for f in findings)
    by_severity = ", ".join(f"{severities[s]} {s}" for s in _SEVERITIES if severities[s])
    frameworks = Counter(key for f in findings for key, ids in f.controls.items() if ids)
    unmapped = sum(1 for f in findings if not any(f.controls.values()))
    named = sorted((FRAMEWORK_LABELS.get(k, k.upper()), n) for k, n in frameworks.items())
    by_framework = ", ".join([*(f"{label} {n}" for label, n in named), *([f"no framework {unmapped}"] if unmapped else [])])
    return [f"by severity: {by_severity}", f"by framework: {by_framework}"]


def compact_report(findings: Sequence[Finding], errors: Sequence[tuple[str, int | None, str]], conclusion: str,
                   notes: Sequence[str] = (), not_reviewed: Sequence[NotReviewed] = (),
                   failing: Collection[NotReviewed] = (), exceptions: Sequence[ExceptionRecord] = (),
                   today: dt.date | None = None, colour: bool = False) -> str:
    """Every finding on one line, then errors, what was not reviewed, the exceptions met, notes,
    the summary and the verdict (the same last line as the Markdown report)."""
    out = [finding_line(f, colour) for f in findings]
    for path, line, message in errors:
        where = f"{shown_path(path)}:{line}" if line else shown_path(path)
        out.append(f"{where} {_paint('error:', _SEVERITY_STYLE['critical'], colour)} {one_line(message)}")
    out.extend(one_line(not_reviewed_line(entry, entry in failing)) for entry in not_reviewed)
    out.extend(one_line(exception_line(record, today or dt.date.today())) for record in exceptions)
    out.extend(f"note: {one_line(plain_text(note))}" for note in notes)
    out.extend(summary_lines(findings))
    blocking = sum(1 for f in findings if not f.suppressed)
    unread = f", {len(not_reviewed)} not reviewed" if not_reviewed else ""
    verdict = _paint(conclusion, _VERDICT_STYLE.get(conclusion, ""), colour)
    out.append(f"{len(findings)} finding(s), {blocking} unsuppressed, {len(errors)} error(s){unread}: {verdict}")
    return "\n".join(out)
