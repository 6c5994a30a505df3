"""The JSON report (`--format json`): the project's own contract, `review-report.schema.json`,
shipped beside this module. Fields may be added, never renamed or dropped.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from bot.engine.model import Finding, NotReviewed
from bot.engine.policy import Policy
from bot.engine.review import Review
from bot.report.exceptions import exception_json

SCHEMA_FILE = "review-report.schema.json"


def finding_json(finding: Finding, policy: Policy) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "title": finding.title,
        "severity": finding.severity.value,
        "path": finding.path,
        "line": finding.line,
        "end_line": finding.end_line,
        "resource": finding.resource,
        "message": finding.message,
        "controls": {k: list(v) for k, v in sorted(finding.controls.items())},
        "suppressed": finding.suppressed,
        "suggestion": finding.suggestion,
        # additions beyond the contract's required fields
        "suppression_reason": finding.suppression_reason,
        "remediation": finding.remediation,
        "rationale": finding.rationale,
        "fingerprint": finding.fingerprint,
        "provenance": finding.provenance,
        "blocking": policy.blocks(finding),
        "mode": finding.mode,
        "mode_reason": finding.mode_reason,
    }


def not_reviewed_json(entry: NotReviewed, policy: Policy) -> dict[str, Any]:
    return {"path": entry.path, "line": entry.line, "what": entry.what, "reason": entry.reason,
            "blocking": policy.fails_for(entry)}


def review_json(review: Review, policy: Policy, evidence: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report; `evidence`: the review's evidence record (`bot.report.evidence`), added as is."""
    report = {
        "version": 1,
        "conclusion": review.conclusion(policy),
        "findings": [finding_json(f, policy) for f in review.findings],
        "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in review.errors],
        "notes": list(review.notes),
        "not_reviewed": [not_reviewed_json(n, policy) for n in review.not_reviewed],
        "exceptions": [exception_json(e) for e in review.exceptions],
        "fail_on": policy.fail_on.value,
        "stats": {
            "files_changed": review.stats.files_changed,
            "files_parsed": review.stats.files_parsed,
            "resources_parsed": review.stats.resources_parsed,
            "resources_checked": review.stats.resources_checked,
            "seconds": round(review.stats.seconds, 4),
        },
    }
    if evidence is not None:
        report["evidence"] = evidence
    return report


def report_schema() -> dict[str, Any]:
    """The JSON Schema every `review_json` output satisfies (tests and consumers validate with it)."""
    schema: dict[str, Any] = json.loads((resources.files("bot.report") / SCHEMA_FILE).read_text(encoding="utf-8"))
    return schema


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=False)
