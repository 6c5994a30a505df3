"""How exceptions read in the check run and the CLI: each with what became of it and who approved
it, and a warning first for those expiring within 14 days."""

from __future__ import annotations

import datetime as dt

from bot.engine.exceptions import ACTIVE, EXPIRED, HONOURED, NEEDS_APPROVAL, ExceptionRecord
from bot.github.checks import check_output
from bot.report.exceptions import MAX_SECTION_CHARS, exception_line, exceptions_section
from bot.report.text import text_report

TODAY = dt.date(2026, 6, 1)
APPROVED = ExceptionRecord(source="inline", rule_id="CB-AWS-001", written="CB-AWS-001", path="infra/main.tf", line=4,
                           reason="scratch data only", status=HONOURED, detail="approved by sec-alice (octo-org/security)",
                           expires=dt.date(2026, 6, 10), ticket="OPS-12", added=True, findings=("0" * 16,),
                           approver="sec-alice", approved_at="2026-06-01T09:30:00Z")
PENDING = ExceptionRecord(source="checkov", rule_id="CB-AWS-002", written="CKV_AWS_16", path="infra/db.tf", line=7,
                          reason="restored from a snapshot", status=NEEDS_APPROVAL,
                          detail="waiting for an approval by @octo-org/security", expires=dt.date(2026, 12, 1), added=True)
POLICY = ExceptionRecord(source="policy", rule_id="CB-AWS-009", written="CB-AWS-009", path=".github/compliance.yml",
                         line=None, reason="bucket migration", status=ACTIVE, detail="suppressions[0]",
                         expires=dt.date(2026, 6, 15))
GONE = ExceptionRecord(source="policy", rule_id="CB-AWS-009", written="CB-AWS-009", path=".github/compliance.yml",
                       line=None, reason="old", status=EXPIRED, expires=dt.date(2026, 5, 1))


def test_each_exception_reads_as_one_line() -> None:
    assert exception_line(APPROVED, TODAY) == (
        "exception: infra/main.tf:4 CB-AWS-001 (inline, honoured): scratch data only; approved by sec-alice "
        "(octo-org/security); approved at 2026-06-01T09:30:00Z; expires 2026-06-10 (in 9 day(s)); ticket OPS-12")
    assert exception_line(PENDING, TODAY).startswith("exception: infra/db.tf:7 CB-AWS-002 (checkov, needs approval): ")
    assert "(in " not in exception_line(PENDING, TODAY)  # six months away: no warning
    assert exception_line(GONE, TODAY).startswith("exception: .github/compliance.yml CB-AWS-009 (policy, expired)")


def test_the_section_warns_first_of_exceptions_expiring_within_14_days() -> None:
    lines = exceptions_section([PENDING, APPROVED, POLICY, GONE], TODAY)
    assert lines[0] == "**Warning: 2 exception(s) expire within 14 days**; their findings come back then:"
    assert lines[2:4] == ["- `infra/main.tf:4` CB-AWS-001: expires 2026-06-10 (in 9 day(s)): scratch data only",
                          "- `.github/compliance.yml` CB-AWS-009: expires 2026-06-15 (in 14 day(s)): bucket migration"]
    assert "**Exceptions**" in lines and sum(line.startswith("- infra/") for line in lines) == 2
    assert exceptions_section([PENDING], TODAY)[0] == "**Exceptions**"
    assert exceptions_section([], TODAY) == []


def test_a_long_list_is_cut_within_the_summary_limit() -> None:
    many = [APPROVED] * 1000
    lines = exceptions_section(many, dt.date(2026, 1, 1))
    assert sum(len(line) + 1 for line in lines) < MAX_SECTION_CHARS + 500
    assert lines[-2].startswith("- …and ") and "more" in lines[-2]


def test_the_check_run_and_the_cli_show_them() -> None:
    output = check_output([], [], [], {}, None, "success", exceptions=[APPROVED], today=TODAY)
    assert "approved by sec-alice (octo-org/security)" in output.summary
    assert "**Warning: 1 exception(s) expire within 14 days**" in output.summary
    text = text_report([], [], "success", exceptions=[APPROVED], today=TODAY)
    assert "exception: infra/main.tf:4 CB-AWS-001 (inline, honoured)" in text
