"""SARIF 2.1.0 for code-scanning tools: one run, the rules used as reportingDescriptors, and
fingerprints so a scanning service de-duplicates findings across runs. Files that could not be
read and files not reviewed are tool execution notifications, not results: they are no finding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot import __version__
from bot.engine.exceptions import EXCEPTION_RULES
from bot.engine.model import NotReviewed
from bot.engine.policy import Policy
from bot.engine.review import Review
from bot.engine.rule import Rule
from bot.report.text import comment_body

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _location(path: str, line: int | None) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": path}, **({"region": {"startLine": line}} if line else {})}}


def not_reviewed_notification(entry: NotReviewed, fails: bool = False) -> dict[str, Any]:
    """A `note` (an `error` where the policy fails this kind) saying what was not reviewed and why."""
    return {
        "level": "error" if fails else "note",
        "message": {"text": f"not reviewed ({entry.what}): {entry.reason}"},
        "locations": [_location(entry.path, entry.line)],
        "properties": {"notReviewed": entry.what},
    }


def review_sarif(review: Review, rules: Sequence[Rule], policy: Policy | None = None) -> dict[str, Any]:
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
        for rule in (*rules, *EXCEPTION_RULES)  # an exception's own findings are of the CB-EXC rules
        if rule.id in used
    ]
    results = []
    for finding in review.findings:
        result: dict[str, Any] = {
            "ruleId": finding.rule_id,
            "level": SARIF_LEVELS[finding.severity.value] if finding.mode == "block" else "note",
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
        {"level": "error", "message": {"text": error.message}, "locations": [_location(error.path, error.line)]}
        for error in review.errors
    ]
    notifications += [not_reviewed_notification(n, policy is not None and policy.fails_for(n))
                      for n in review.not_reviewed]
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
