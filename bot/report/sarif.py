"""SARIF 2.1.0 for code-scanning tools: one run, the rules used as reportingDescriptors, and
fingerprints so a scanning service de-duplicates findings across runs. Files that could not be
read and files not reviewed are tool execution notifications, not results: they are no finding.

Each `message` has plain `text` (what every viewer can show) and, where the words come from
Markdown, `markdown` too. `artifactLocation.uri` is a relative URI reference: the path
percent-encoded (a space, `#`, `%`, `?`, a colon, non-ASCII), so a viewer resolves it to the file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from bot import __version__
from bot.engine.exceptions import EXCEPTION_RULES
from bot.engine.model import NotReviewed
from bot.engine.policy import Policy
from bot.engine.review import Review
from bot.engine.rule import Rule
from bot.report.plain import plain_text
from bot.report.text import comment_body

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def artifact_uri(path: str) -> str:
    """`path` as a relative URI reference (RFC 3986): every byte but unreserved ones and `/`
    percent-encoded, UTF-8 first; `a b#1.tf` is `a%20b%231.tf`. A name that is not UTF-8 (kept
    by the file system as escaped bytes) is encoded byte for byte, so the URI names that file."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")


def _location(path: str, line: int | None) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": artifact_uri(path)},
                                 **({"region": {"startLine": line}} if line else {})}}


def _message(markdown: str) -> dict[str, str]:
    """Plain `text` always; `markdown` only when it says more than the text."""
    text = plain_text(markdown)
    return {"text": text} if text == markdown else {"text": text, "markdown": markdown}


def not_reviewed_notification(entry: NotReviewed, fails: bool = False) -> dict[str, Any]:
    """A `note` (an `error` where the policy fails this kind) saying what was not reviewed and why."""
    return {
        "level": "error" if fails else "note",
        "message": _message(f"not reviewed ({entry.what}): {entry.reason}"),
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
            "shortDescription": {"text": plain_text(rule.title)},
            "fullDescription": {"text": plain_text(rule.rationale or rule.title)},
            "help": _message(rule.remediation),
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
            "message": _message(comment_body(finding, with_suggestion=False)),
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(finding.path)},
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
        {"level": "error", "message": _message(error.message), "locations": [_location(error.path, error.line)]}
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
