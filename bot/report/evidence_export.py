"""What an auditor opens: per control, one row per merged change (its review's conclusion, the
findings and exceptions of that control, the policy and rule set that judged it, and the hash
that ties the row to its evidence record), and a posture table of every control. Pure: records
in, rows and CSV text out; the CLI reads the records and writes the files.

A merged change whose head has no evidence record is a row too (`conclusion` "no evidence
record"): a gap is what an auditor most needs to see.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.report.evidence_chain import StoredEntry, canonical_json

NO_RECORD = "no evidence record"
CONTROL_COLUMNS = ("control", "repository", "pr", "head_sha", "merged_at", "conclusion", "evaluated", "findings",
                   "exceptions", "approver", "policy_sha", "rule_set_version", "record_hash", "recorded_at",
                   "evidence_source")
POSTURE_COLUMNS = ("control", "framework", "name", "coverage", "rules", "changes", "evaluated_in", "findings",
                   "blocking_findings", "exceptions", "changes_failing", "changes_without_record")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula


@dataclass(frozen=True)
class MergedChange:
    """One merged pull request and the evidence record of its merged head (None: none found;
    `problem` says why). `record_hash`: the store entry's chain hash, or for a record read back
    from a check run the sha256 of its canonical JSON. `source`: where the record was read."""

    repository: str
    pull_request: int
    head_sha: str
    merged_at: str
    record: Mapping[str, Any] | None
    record_hash: str | None
    source: str
    problem: str | None = None


@dataclass(frozen=True)
class ControlRef:
    """A framework control as the rules catalog covers it (`rules --framework`)."""

    framework: str
    id: str
    name: str
    coverage: str  # automated, manual, out-of-scope, unmapped
    rules: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.framework}:{self.id}"


def parse_since(text: str) -> dt.datetime:
    """`2026-01-31` (midnight UTC) or an ISO time with its offset; ValueError otherwise."""
    value = dt.datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def github_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_digest(record: Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(dict(record)).encode("utf-8")).hexdigest()


def merged_from_store(entries: Sequence[StoredEntry], since: dt.datetime) -> list[MergedChange]:
    """Each pull request merged at or after `since` (its latest merge event), paired with the
    newest review record of the head it merged."""
    reviews: dict[tuple[int, str], StoredEntry] = {}
    merges: dict[int, tuple[StoredEntry, dict[str, Any]]] = {}
    for entry in entries:
        if entry.pull_request is None or entry.head_sha is None:
            continue
        if entry.kind == "review":
            reviews[(entry.pull_request, entry.head_sha)] = entry
        elif entry.kind == "merge":
            record = entry.record()
            if parse_since(str(record.get("merged_at") or record.get("recorded_at"))) >= since:
                merges[entry.pull_request] = (entry, record)
    changes = []
    for number, (merge, merge_record) in sorted(merges.items()):
        head = str(merge.head_sha)
        review = reviews.get((number, head))
        merged_at = str(merge_record.get("merged_at") or merge_record.get("recorded_at"))
        changes.append(MergedChange(str(merge.repository), number, head, merged_at,
                                    review.record() if review else None, review.hash if review else None,
                                    f"store record {review.seq}" if review else f"store merge record {merge.seq}",
                                    None if review else "no review record of the merged head"))
    return changes


def _controls_of(item: Mapping[str, Any]) -> set[str]:
    controls = item.get("controls") or {}
    return {f"{fw}:{cid}" for fw, ids in controls.items() for cid in ids} if isinstance(controls, Mapping) else set()


def _of_control(items: Iterable[Any], control: ControlRef) -> list[Mapping[str, Any]]:
    return [i for i in items if isinstance(i, Mapping) and control.key in _controls_of(i)]


def _finding_text(finding: Mapping[str, Any]) -> str:
    state = " suppressed" if finding.get("suppressed") else (" blocking" if finding.get("blocking") else "")
    return f"{finding.get('rule')} {finding.get('severity')} {finding.get('path')}:{finding.get('line')}{state}"


def _exception_text(exception: Mapping[str, Any]) -> str:
    where = f" {exception.get('path')}:{exception.get('line')}" if exception.get("path") else ""
    parts = [f"{exception.get('kind')} {exception.get('rule')}{where}"]
    parts += [f"{name}={exception[name]}" for name in ("reason", "expires", "ticket") if exception.get(name)]
    return " ".join(parts)


def _evaluated(record: Mapping[str, Any], control: ControlRef) -> str:
    touched = record.get("controls_touched") or {}
    framework_ids = touched.get(control.framework, []) if isinstance(touched, Mapping) else []
    if control.id in framework_ids:
        return "yes"
    if _of_control((e for e in record.get("exceptions") or [] if e.get("kind") == "disabled_rule"), control):
        return "no: rule disabled by policy"
    if not control.rules:
        return f"no: {control.coverage} control"
    return "no: nothing in the change is judged by its rules"


def control_row(control: ControlRef, change: MergedChange) -> dict[str, str]:
    record = change.record or {}
    findings = _of_control(record.get("findings") or [], control)
    exceptions = _of_control(record.get("exceptions") or [], control)
    policy = record.get("policy") or {}
    approvers = sorted({str(e["approver"]) for e in exceptions if e.get("approver")})
    return {
        "control": control.key,
        "repository": change.repository,
        "pr": str(change.pull_request),
        "head_sha": change.head_sha,
        "merged_at": change.merged_at,
        "conclusion": str(record.get("conclusion")) if change.record else f"{NO_RECORD}: {change.problem}",
        "evaluated": _evaluated(record, control) if change.record else "unknown",
        "findings": "; ".join(_finding_text(f) for f in findings),
        "exceptions": "; ".join(_exception_text(e) for e in exceptions),
        "approver": "; ".join(approvers),
        "policy_sha": str(policy.get("blob_sha") or policy.get("source") or ""),
        "rule_set_version": str(record.get("rule_set_version") or ""),
        "record_hash": change.record_hash or "",
        "recorded_at": str(record.get("recorded_at") or ""),
        "evidence_source": change.source,
    }


def posture_row(control: ControlRef, changes: Sequence[MergedChange]) -> dict[str, str]:
    rows = [control_row(control, c) for c in changes]
    records = [c.record for c in changes if c.record is not None]
    findings = [f for r in records for f in _of_control(r.get("findings") or [], control)]
    failing = [r for r in records if r.get("conclusion") == "failure"
               and any(f.get("blocking") for f in _of_control(r.get("findings") or [], control))]
    return {
        "control": control.key, "framework": control.framework, "name": control.name,
        "coverage": control.coverage, "rules": str(len(control.rules)), "changes": str(len(changes)),
        "evaluated_in": str(sum(1 for row in rows if row["evaluated"] == "yes")),
        "findings": str(len(findings)), "blocking_findings": str(sum(1 for f in findings if f.get("blocking"))),
        "exceptions": str(sum(len(_of_control(r.get("exceptions") or [], control)) for r in records)),
        "changes_failing": str(len(failing)),
        "changes_without_record": str(len(changes) - len(records)),
    }


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading =, +, -, @ is quoted (paths and reasons come
    from the repository under review and must never run as a formula)."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def to_csv(rows: Iterable[Mapping[str, str]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _cell(row.get(name, "")) for name in columns})
    return out.getvalue()


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def file_stem(control: ControlRef) -> str:
    """`pci-dss_3.5.1`, `hipaa_164.312_a_2_iv`: a control as a file name on any system."""
    return _UNSAFE_NAME.sub("_", f"{control.framework}_{control.id}").strip("_")
