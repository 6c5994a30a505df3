"""The evidence record of one review: what an auditor needs to show that a control was enforced
on a change, as plain JSON data built by a pure function from the review's own result types.

One record per completed check run (and per `compliance-bot check`/`scan --format json`): the
change (repository, pull request, head and base), the policy that judged it (its path and git
blob id, or the default), the engine and rule-set versions, the rules that ran with the controls
they touched, the findings (rule, place, severity, controls, fingerprint; never a message, so
never a secret, masked or not), the exceptions applied (suppressions with reason and expiry,
rules the policy disabled), the conclusion and the time.

Fields are added in later versions, never renamed or dropped (`evidence_version` changes only if
that promise is ever broken). The check run carries a copy (`evidence_block`), the evidence store
the whole record.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.engine.model import FileError, Finding, NotReviewed
from bot.engine.policy import Policy
from bot.engine.review import Review, RuleSet

EVIDENCE_VERSION = 1
NO_POLICY_FILE = "default: no policy file"
MARKER = "<!-- compliance-bot:evidence:v1 -->"
MAX_BLOCK_CHARS = 40_000  # of the check run's 65,535-character text; the details get the rest
# Lists a check run's copy may shorten, least needed first; `omitted` counts what was left out.
_TRIMMABLE = ("not_reviewed", "errors", "findings", "exceptions")

Controls = dict[str, list[str]]


@dataclass(frozen=True)
class Subject:
    """What was reviewed, as the caller knows it. `review_key`: the check run's external id (the
    review's key), which tells the records of two check runs on one head apart."""

    repository: str | None
    pull_request: int | None
    head_sha: str | None
    base_sha: str | None
    base_ref: str | None = None
    check_name: str | None = None
    check_run_id: int | None = None
    review_key: str | None = None


@dataclass(frozen=True)
class PolicySource:
    """Where the policy came from: its path and git blob id, or no file (`blob_sha` None)."""

    path: str
    blob_sha: str | None


def utc_timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _controls(mapping: Mapping[str, Sequence[str]]) -> Controls:
    return {key: list(ids) for key, ids in sorted(mapping.items()) if ids}


def _union(mappings: Iterable[Mapping[str, Sequence[str]]]) -> Controls:
    merged: dict[str, set[str]] = {}
    for mapping in mappings:
        for key, ids in mapping.items():
            merged.setdefault(key, set()).update(ids)
    return {key: sorted(ids) for key, ids in sorted(merged.items()) if ids}


def _finding(finding: Finding, policy: Policy) -> dict[str, Any]:
    return {"rule": finding.rule_id, "path": finding.path, "line": finding.line,
            "severity": finding.severity.value, "controls": _controls(finding.controls),
            "fingerprint": finding.fingerprint, "suppressed": finding.suppressed,
            "blocking": policy.blocks(finding)}


def _suppression(finding: Finding, policy: Policy, rule_set: RuleSet, today: dt.date) -> dict[str, Any]:
    """The exception a suppressed finding was granted. The approver fields are part of the record
    from its first version; the policy does not name an approver yet, so they are null."""
    aliases = next((r.aliases for r in rule_set.rules if r.id == finding.rule_id), ())
    granted = policy.suppression_for(finding, today, aliases)
    return {"kind": "suppression", "rule": finding.rule_id, "path": finding.path, "line": finding.line,
            "fingerprint": finding.fingerprint, "controls": _controls(finding.controls),
            "reason": granted.reason if granted else finding.suppression_reason,
            "expires": granted.expires.isoformat() if granted and granted.expires else None,
            "scope": {"rule": granted.rule, "path": granted.path, "resource": granted.resource} if granted else None,
            "ticket": None, "approver": None, "approved_at": None}


def _disabled(rule_id: str, rule_set: RuleSet) -> dict[str, Any]:
    return {"kind": "disabled_rule", "rule": rule_id, "path": None, "line": None, "fingerprint": None,
            "controls": _controls(rule_set.controls.get(rule_id, {})), "reason": None, "expires": None,
            "scope": None, "ticket": None, "approver": None, "approved_at": None}


def build_evidence(
    subject: Subject,
    policy_source: PolicySource,
    policy: Policy,
    rule_set: RuleSet,
    engine_version: str,
    conclusion: str,
    recorded_at: dt.datetime,
    review: Review | None = None,
    errors: Sequence[FileError] = (),
    not_reviewed: Sequence[NotReviewed] = (),
    outcome: str = "",
) -> dict[str, Any]:
    """The evidence record of one review. `review` None: the check completed without running the
    rules (a draft, an invalid policy, a review that could not finish); `outcome` then says why.
    `errors` and `not_reviewed`: everything the check showed (the job's own entries too)."""
    findings = review.findings if review is not None else ()
    applied = review.rules_applied if review is not None else ()
    known = {r.id for r in rule_set.rules}
    disabled = sorted(r for r in policy.disabled_rules if r in known)
    today = recorded_at.astimezone(dt.UTC).date()
    exceptions = [_suppression(f, policy, rule_set, today) for f in findings if f.suppressed]
    exceptions += [_disabled(rule_id, rule_set) for rule_id in disabled]
    return {
        "evidence_version": EVIDENCE_VERSION,
        "repository": subject.repository,
        "pull_request": subject.pull_request,
        "head_sha": subject.head_sha,
        "base_sha": subject.base_sha,
        "base_ref": subject.base_ref,
        "check": {"name": subject.check_name, "run_id": subject.check_run_id, "external_id": subject.review_key},
        "policy": {
            "path": policy_source.path,
            "blob_sha": policy_source.blob_sha,
            "source": "file" if policy_source.blob_sha else NO_POLICY_FILE,
            "fail_on": policy.fail_on.value,
            "rules_disabled": disabled,
            "paths_ignored": list(policy.ignore_paths),
        },
        "engine_version": engine_version,
        "rule_set_version": rule_set.version,
        "rules_evaluated": list(applied),
        "controls_touched": _union(rule_set.controls.get(rule_id, {}) for rule_id in applied),
        "findings": [_finding(f, policy) for f in findings],
        "exceptions": exceptions,
        "errors": [{"path": e.path, "line": e.line} for e in errors],
        "not_reviewed": [{"path": n.path, "line": n.line, "what": n.what, "fails": policy.fails_for(n)}
                         for n in not_reviewed],
        "outcome": outcome,
        "conclusion": conclusion,
        "recorded_at": utc_timestamp(recorded_at),
    }


# -- the copy in the check run ---------------------------------------------------------------------

_UNSAFE_IN_BLOCK = re.compile(r"[`<>&]")


def _compact(record: Mapping[str, Any]) -> str:
    """One line of JSON with no backtick, `<`, `>` or `&` (escaped as \\u00XX, which JSON reads back
    as the same characters), so no path can close the fence or the HTML around it."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return _UNSAFE_IN_BLOCK.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def fitted(record: Mapping[str, Any], limit: int = MAX_BLOCK_CHARS) -> dict[str, Any]:
    """The record, or a copy whose longest lists are cut until its block fits `limit` characters;
    `omitted` then counts the entries left out of each list (the store keeps the whole record)."""
    copy: dict[str, Any] = dict(record)
    if len(evidence_block(copy, limit=None)) <= limit:
        return copy
    full = {name: list(record.get(name) or []) for name in _TRIMMABLE}
    keep = {name: len(items) for name, items in full.items()}
    for name in _TRIMMABLE:
        while keep[name] and len(evidence_block(copy, limit=None)) > limit:
            keep[name] //= 2
            copy[name] = full[name][: keep[name]]
            copy["omitted"] = {n: len(full[n]) - keep[n] for n in _TRIMMABLE if len(full[n]) > keep[n]}
    if len(evidence_block(copy, limit=None)) <= limit:
        return copy
    # What is left is the policy's own lists (a policy may be 256 KiB): keep who, what and the verdict.
    essential = ("evidence_version", "repository", "pull_request", "head_sha", "base_sha", "base_ref", "check",
                 "engine_version", "rule_set_version", "conclusion", "recorded_at")
    short = {name: record.get(name) for name in essential}
    short["policy"] = {k: v for k, v in dict(record.get("policy") or {}).items()
                       if k in ("path", "blob_sha", "source", "fail_on")}
    short["omitted"] = {"all": "too large for the check run; the evidence store holds the whole record"}
    return short


def evidence_block(record: Mapping[str, Any], limit: int | None = MAX_BLOCK_CHARS) -> str:
    """The record as the check run's text ends: a collapsed section holding a JSON fence after
    MARKER (fitted to `limit` characters unless None)."""
    shown = fitted(record, limit) if limit is not None else record
    return (f"\n\n<details><summary>Evidence record (machine-readable)</summary>\n\n{MARKER}\n"
            f"```json\n{_compact(shown)}\n```\n\n</details>\n")


_BLOCK = re.compile(re.escape(MARKER) + r"\n```json\n(?P<json>[^\n]*)\n```")


class EvidenceUnreadable(ValueError):
    """A check run's text holds an evidence marker whose record cannot be read."""


def parse_evidence_block(text: str | None) -> dict[str, Any] | None:
    """The record a check run's text carries; None when it carries none (a check run made before
    evidence records, or by another App). A marker with broken JSON raises `EvidenceUnreadable`."""
    if not text or MARKER not in text:
        return None
    found = _BLOCK.search(text)
    if found is None:
        raise EvidenceUnreadable("the evidence marker is not followed by a JSON block")
    try:
        record = json.loads(found["json"])
    except ValueError as exc:
        raise EvidenceUnreadable(f"the evidence block is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict) or record.get("evidence_version") != EVIDENCE_VERSION:
        raise EvidenceUnreadable("the evidence block is not a version 1 evidence record")
    return record
