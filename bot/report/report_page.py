"""The report page of one review (what a check run's details_url opens): its data and its HTML.

`report_data` is a pure function of the review's own result types and returns plain JSON data,
so the page can be stored (Redis or memory) and rendered later by any process. `render_report`
renders it with Jinja2, autoescape on: file names, messages, resource names and exception reasons
come from the repository under review and are hostile input; nothing of it is marked safe.

Findings are grouped by framework, then control (a finding under every control it touches); those
of rules mapped to no control are grouped under "Not mapped to a control".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from bot.engine.exceptions import ExceptionRecord
from bot.engine.model import FileError, Finding, NotReviewed
from bot.report.exceptions import exception_json
from bot.report.text import FRAMEWORK_LABELS

__all__ = ["ControlNames", "render_missing", "render_report", "report_data"]

UNMAPPED = "Not mapped to a control"
MAX_FINDINGS = 3_000  # as many as the check run's annotations; the page says how many more

# framework key -> (its name, control id -> control name), as the framework files say.
ControlNames = Mapping[str, tuple[str, Mapping[str, str]]]


def _finding(finding: Finding, blocks: bool) -> dict[str, Any]:
    return {"rule": finding.rule_id, "title": finding.title, "severity": finding.severity.value,
            "path": finding.path, "line": finding.line, "resource": finding.resource, "message": finding.message,
            "rationale": finding.rationale, "remediation": finding.remediation, "suppressed": finding.suppressed,
            "suppression_reason": finding.suppression_reason, "blocking": blocks, "mode": finding.mode,
            "fingerprint": finding.fingerprint}


def _groups(findings: Sequence[Finding], blocks: Mapping[str, bool], names: ControlNames) -> list[dict[str, Any]]:
    """[{framework, name, controls: [{id, name, findings}]}], frameworks and controls in a stable order."""
    by_framework: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for finding in findings:
        entry = _finding(finding, bool(blocks.get(finding.fingerprint)))
        mapped = [(key, ids) for key, ids in finding.controls.items() if ids]
        if not mapped:
            by_framework.setdefault("", {}).setdefault("", []).append(entry)
        for key, ids in mapped:
            for control in ids:
                by_framework.setdefault(key, {}).setdefault(control, []).append(entry)
    groups = []
    for key in sorted(by_framework, key=lambda k: (k == "", k)):
        name, controls = names.get(key, (FRAMEWORK_LABELS.get(key, key.upper()), {}))
        groups.append({
            "framework": key, "name": name if key else UNMAPPED,
            "controls": [{"id": control, "name": controls.get(control, ""), "findings": items}
                         for control, items in sorted(by_framework[key].items())],
        })
    return groups


def report_data(*, repository: str, pull_request: int | None, head_sha: str, check_name: str, conclusion: str,
                title: str, findings: Sequence[Finding], blocks: Mapping[str, bool],
                exceptions: Sequence[ExceptionRecord], not_reviewed: Sequence[NotReviewed],
                errors: Sequence[FileError], notes: Sequence[str], evidence: Mapping[str, Any],
                control_names: ControlNames, created_at: dt.datetime) -> dict[str, Any]:
    """Everything the page shows, as JSON data."""
    shown = list(findings[:MAX_FINDINGS])
    return {
        "repository": repository, "pull_request": pull_request, "head_sha": head_sha, "check_name": check_name,
        "conclusion": conclusion, "title": title,
        "created_at": created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "counts": {"findings": len(findings), "blocking": sum(1 for f in findings if blocks.get(f.fingerprint)),
                   "suppressed": sum(1 for f in findings if f.suppressed), "not_shown": len(findings) - len(shown)},
        "groups": _groups(shown, blocks, control_names),
        "exceptions": [exception_json(r) for r in exceptions],
        "not_reviewed": [{"path": n.path, "line": n.line, "what": n.what, "reason": n.reason} for n in not_reviewed],
        "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in errors],
        "notes": list(notes),
        "evidence": dict(evidence),
    }


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def inline_code(text: str) -> Markup:
    """Rule texts mark code with backticks (`encrypted = true`): shown as code, after escaping,
    so the text itself can never add markup."""
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(text))))


_ENV = Environment(
    loader=PackageLoader("bot.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,  # a key the data lacks is a bug to see, not an empty cell
    trim_blocks=True,
    lstrip_blocks=True,
)


_ENV.filters["code"] = inline_code


def render_report(data: Mapping[str, Any]) -> str:
    return _ENV.get_template("report.html").render(report=data)


def render_missing() -> str:
    """The page for a token that is unknown or whose report expired."""
    return _ENV.get_template("missing.html").render()
