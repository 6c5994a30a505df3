"""Machine-readable reports: the JSON contract (shared/contracts/review-report.schema.json)
and SARIF 2.1.0 for code-scanning tools. Fields may be added, never renamed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot import __version__
from bot.engine.model import Finding
from bot.engine.policy import Policy
from bot.engine.review import Review
from bot.engine.rule import Rule
from bot.report.text import comment_body

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


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
        "blocking": policy.blocks(finding),
    }


def review_json(review: Review, policy: Policy) -> dict[str, Any]:
    return {
        "version": 1,
        "conclusion": review.conclusion(policy),
        "findings": [finding_json(f, policy) for f in review.findings],
        "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in review.errors],
        "notes": list(review.notes),
        "fail_on": policy.fail_on.value,
        "stats": {
            "files_changed": review.stats.files_changed,
            "files_parsed": review.stats.files_parsed,
            "resources_parsed": review.stats.resources_parsed,
            "resources_checked": review.stats.resources_checked,
            "seconds": round(review.stats.seconds, 4),
        },
    }


def review_sarif(review: Review, rules: Sequence[Rule]) -> dict[str, Any]:
    """SARIF 2.1.0: one run, the rules as reportingDescriptors, fingerprints for de-duplication."""
    used = {f.rule_id for f in review.findings}
    descriptors = [
        {
            "id": rule.id,
            "name": rule.id.replace("-", ""),
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.rationale or rule.title},
            "help": {"text": rule.remediation},
            "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity.value]},
            "properties": {"security-severity": {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}[
                rule.severity.value], "tags": ["security", "compliance"]},
        }
        for rule in rules
        if rule.id in used
    ]
    results = []
    for finding in review.findings:
        result: dict[str, Any] = {
            "ruleId": finding.rule_id,
            "level": SARIF_LEVELS[finding.severity.value],
            "message": {"text": comment_body(finding, with_suggestion=False)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": finding.path},
                        "region": {"startLine": finding.line, "endLine": finding.end_line},
                    }
                }
            ],
            "partialFingerprints": {"complianceBot/v1": finding.fingerprint},
        }
        if finding.suppressed:
            result["suppressions"] = [{"kind": "external", "justification": finding.suppression_reason or ""}]
        results.append(result)
    notifications = [
        {
            "level": "error",
            "message": {"text": error.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": error.path},
                                                **({"region": {"startLine": error.line}} if error.line else {})}}],
        }
        for error in review.errors
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "compliance-bot", "version": __version__,
                                    "informationUri": "https://github.com/apps/compliance-bot", "rules": descriptors}},
                "results": results,
                "invocations": [{"executionSuccessful": not review.errors, "toolExecutionNotifications": notifications}],
            }
        ],
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=False)
