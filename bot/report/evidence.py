"""The evidence record of one review: what an auditor needs to show that a control was enforced
on a change, as plain JSON data built by a pure function from the review's own result types.

One record per completed check run (and per `compliance-bot check`/`scan --format json`): the
change (repository, pull request, head and base), the policy that judged it (its path and git
blob id, or the default), the engine and rule-set versions, the rules that ran with the controls
they touched, the findings (rule, place, severity, controls, fingerprint; never a message, so
never a secret, masked or not), the exceptions applied (suppressions with reason and expiry,
rules the policy disabled), the conclusion and the time.

Fields are added in later versions, never renamed or dropped (`evidence_version` changes only if
that promise is ever broken). The check run carries a copy (`bot.report.evidence_block`), the evidence store
the whole record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.engine.exceptions import HONOURED, ExceptionRecord
from bot.engine.model import FileError, Finding, NotReviewed
from bot.engine.policy import Policy
from bot.engine.review import Review, RuleSet
from bot.report.evidence_block import EVIDENCE_VERSION

NO_POLICY_FILE = "default: no policy file"
POLICY_NOT_READ = "not read: the review ended before it"

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
    """Where the policy came from: its path and git blob id, or no file (`blob_sha` None);
    `unread`: the review ended before the policy was read (its record says so, not "default")."""

    path: str
    blob_sha: str | None
    unread: bool = False

    @property
    def source(self) -> str:
        return "file" if self.blob_sha else (POLICY_NOT_READ if self.unread else NO_POLICY_FILE)


def git_blob_sha(data: bytes) -> str:
    """The id git gives a file's content (`git hash-object`), as GitHub reports a policy's blob."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


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


def _suppression(finding: Finding, policy: Policy, aliases_of: Mapping[str, tuple[str, ...]], today: dt.date,
                 granted_by: Mapping[str, ExceptionRecord]) -> dict[str, Any]:
    """The exception a suppressed finding was granted: the engine's record of it (an approved
    inline exception, a migrated comment or a policy suppression: reason, expiry, ticket, and who
    approved it, when), else the policy suppression that matches it."""
    record = granted_by.get(finding.fingerprint)
    granted = policy.suppression_for(finding, today, aliases_of.get(finding.rule_id, ()))
    scope: dict[str, Any] | None = {"rule": granted.rule, "path": granted.path, "resource": granted.resource} if granted else None
    if record is not None and granted is None:  # written in the code (inline, a migrated comment): where
        scope = {"source": record.source, "written": record.written, "path": record.path, "line": record.line}
    expires = record.expires if record is not None else (granted.expires if granted else None)
    return {"kind": "suppression", "rule": finding.rule_id, "path": finding.path, "line": finding.line,
            "fingerprint": finding.fingerprint, "controls": _controls(finding.controls),
            "reason": record.reason if record is not None else (granted.reason if granted else finding.suppression_reason),
            "expires": expires.isoformat() if expires else None,
            "scope": scope,
            "ticket": record.ticket if record is not None else (granted.ticket if granted else None),
            "approver": record.approver if record is not None else None,
            "approved_at": record.approved_at if record is not None else None}


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
    granted_by = {fingerprint: record for record in (review.exceptions if review is not None else ())
                  if record.status == HONOURED for fingerprint in record.findings}
    aliases_of = {rule.id: tuple(rule.aliases) for rule in rule_set.rules}  # once, not a walk per finding
    exceptions = [_suppression(f, policy, aliases_of, today, granted_by) for f in findings if f.suppressed]
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
            "source": policy_source.source,
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


def merge_record(repository: str, pull_request: int, head_sha: str, base_sha: str, base_ref: str,
                 merged_at: str | None, merge_commit_sha: str | None, merged_by: str | None,
                 delivery_id: str, recorded_at: dt.datetime) -> dict[str, Any]:
    """The evidence event of a merge (GitHub's `pull_request` closed with merged true): which head
    went in, when and by whom, so an export can pair it with that head's review record."""
    return {"evidence_version": EVIDENCE_VERSION, "event": "merge", "repository": repository,
            "pull_request": pull_request, "head_sha": head_sha, "base_sha": base_sha, "base_ref": base_ref,
            "merged_at": merged_at, "merge_commit_sha": merge_commit_sha, "merged_by": merged_by,
            "delivery_id": delivery_id, "recorded_at": utc_timestamp(recorded_at)}
