"""How the exceptions of a review read: one line each for the CLI, a section of the check run's
summary, and the JSON form (also what the evidence record keeps). Exceptions that expire within
EXPIRY_WARNING_DAYS are warned of first, so nobody is surprised when a finding comes back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.engine.exceptions import (
    EXPIRED,
    EXPIRY_WARNING_DAYS,
    HONOURED,
    IGNORED,
    INVALID,
    NEEDS_APPROVAL,
    UNUSED,
    ExceptionRecord,
)

MAX_SECTION_CHARS = 15_000  # of the check run summary; the rest is counted
_STATUS_WORDS = {
    HONOURED: "honoured",
    NEEDS_APPROVAL: "needs approval",
    IGNORED: "ignored",
    INVALID: "not honoured",
    EXPIRED: "expired",
    UNUSED: "matches nothing",
    "active": "in force",
}


def exception_json(record: ExceptionRecord) -> dict[str, Any]:
    return {
        "source": record.source,
        "rule_id": record.rule_id,
        "written": record.written,
        "path": record.path,
        "line": record.line,
        "reason": record.reason,
        "status": record.status,
        "detail": record.detail,
        "expires": record.expires.isoformat() if record.expires else None,
        "ticket": record.ticket,
        "added": record.added,
        "findings": list(record.findings),
        "approver": record.approver,
        "approved_at": record.approved_at,
    }


def _where(record: ExceptionRecord) -> str:
    return f"{record.path}:{record.line}" if record.line else record.path


def exception_line(record: ExceptionRecord, today: dt.date) -> str:
    """`exception: main.tf:4 CB-AWS-001 (inline, honoured): legacy volume; approved by alice ...`."""
    rule = record.rule_id or record.written or "-"
    parts = [record.reason or "(no reason)"]
    if record.detail:
        parts.append(record.detail)
    if record.approver:
        parts.append(f"approved at {record.approved_at}")
    if record.expires:
        left = record.expires_within(today)
        parts.append(f"expires {record.expires.isoformat()}" + (f" (in {left} day(s))" if left is not None else ""))
    if record.ticket:
        parts.append(f"ticket {record.ticket}")
    return f"exception: {_where(record)} {rule} ({record.source}, {_STATUS_WORDS.get(record.status, record.status)}): " \
           + "; ".join(parts)


def expiring(records: Sequence[ExceptionRecord], today: dt.date) -> list[ExceptionRecord]:
    return [r for r in records if r.expires_within(today) is not None]


def exceptions_section(records: Sequence[ExceptionRecord], today: dt.date) -> list[str]:
    """Markdown lines for the check run summary: exceptions expiring soon (a warning), then each
    exception with what became of it and who approved it."""
    if not records:
        return []
    lines: list[str] = []
    soon = expiring(records, today)
    if soon:
        warning = f"**Warning: {len(soon)} exception(s) expire within {EXPIRY_WARNING_DAYS} days**; their findings come back then:"
        lines += [warning, ""]
        lines += [f"- `{_where(r)}` {r.rule_id or r.written}: expires {r.expires} "
                  f"(in {r.expires_within(today)} day(s)): {r.reason}" for r in soon]
        lines.append("")
    lines += ["**Exceptions**", ""]
    used = 0
    for shown, record in enumerate(records):
        bullet = "- " + exception_line(record, today).removeprefix("exception: ")
        if used + len(bullet) > MAX_SECTION_CHARS:
            lines.append(f"- …and {len(records) - shown:,} more (`compliance-bot check --format json` lists them all)")
            break
        lines.append(bullet)
        used += len(bullet) + 1
    return [*lines, ""]
