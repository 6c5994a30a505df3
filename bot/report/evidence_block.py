"""The evidence record's copy in a check run: a collapsed section at the end of the run's text
holding the record as one line of JSON after a marker, and the reader that finds it again
(`compliance-bot evidence` reading check runs back). No engine types: the GitHub layer uses it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

EVIDENCE_VERSION = 1
MARKER = "<!-- compliance-bot:evidence:v1 -->"
MAX_BLOCK_CHARS = 40_000  # of the check run's 65,535-character text; the details get the rest
# Lists a check run's copy may shorten, least needed first; `omitted` counts what was left out.
_TRIMMABLE = ("not_reviewed", "errors", "findings", "exceptions")


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
    except json.JSONDecodeError as exc:
        raise EvidenceUnreadable(f"the evidence block is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict) or record.get("evidence_version") != EVIDENCE_VERSION:
        raise EvidenceUnreadable("the evidence block is not a version 1 evidence record")
    return record
