"""The report page's data and HTML: grouped by framework and control, exceptions with approver and
expiry, what was not reviewed, the evidence record; repository text always escaped."""

from __future__ import annotations

import datetime as dt

from bot.engine.exceptions import HONOURED, ExceptionRecord
from bot.engine.model import FileError, Finding, NotReviewed, Severity
from bot.report.report_page import UNMAPPED, render_missing, render_report, report_data

HOSTILE = "infra/<script>alert(1)</script>.tf"
NAMES = {"hipaa": ("HIPAA Security Rule", {"164.312(a)(2)(iv)": "Encryption and decryption"}),
         "pci-dss": ("PCI DSS 4.0", {"3.5.1": "PAN is rendered unreadable"})}


def finding(rule: str, path: str, controls: dict[str, tuple[str, ...]], message: str = "volume is not encrypted",
            suppressed: bool = False) -> Finding:
    return Finding(rule_id=rule, title="EBS volume is not encrypted", severity=Severity.HIGH, path=path, line=3,
                   end_line=3, resource="aws_ebs_volume.v", message=message, remediation="Set encrypted = true.",
                   rationale="Data at rest must be encrypted.", controls=controls, suppressed=suppressed,
                   suppression_reason="legacy volume" if suppressed else None)


def page(findings: list[Finding]) -> dict[str, object]:
    approved = ExceptionRecord(source="inline", rule_id="CB-AWS-001", written="CB-AWS-001", path="old.tf", line=2,
                               reason="legacy volume", status=HONOURED, expires=dt.date(2027, 3, 1),
                               ticket="SEC-12", findings=(findings[-1].fingerprint,), approver="alice",
                               approved_at="2026-11-30T10:00:00Z")
    return report_data(repository="octo-org/infra", pull_request=7, head_sha="c" * 40, check_name="compliance",
                       conclusion="failure", title="1 blocking finding(s)", findings=findings,
                       blocks={findings[0].fingerprint: True}, exceptions=[approved],
                       not_reviewed=[NotReviewed("charts/x/templates/a.yaml", None, "helm template",
                                                 "templates are rendered at deploy time")],
                       errors=[FileError("broken.tf", 4, "unclosed block <b>")], notes=["a note"],
                       evidence={"evidence_version": 1, "repository": "octo-org/infra"}, control_names=NAMES,
                       created_at=dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC))


def test_findings_are_grouped_by_framework_then_control() -> None:
    data = page([finding("CB-AWS-001", "main.tf", {"hipaa": ("164.312(a)(2)(iv)",), "pci-dss": ("3.5.1",)}),
                 finding("CB-GEN-009", "x.tf", {}),
                 finding("CB-AWS-001", "old.tf", {"hipaa": ("164.312(a)(2)(iv)",)}, suppressed=True)])
    groups = data["groups"]
    assert isinstance(groups, list)
    assert [(g["name"], [(c["id"], c["name"], [f["path"] for f in c["findings"]]) for c in g["controls"]])
            for g in groups] == [
        ("HIPAA Security Rule", [("164.312(a)(2)(iv)", "Encryption and decryption", ["main.tf", "old.tf"])]),
        ("PCI DSS 4.0", [("3.5.1", "PAN is rendered unreadable", ["main.tf"])]),
        (UNMAPPED, [("", "", ["x.tf"])]),
    ]
    assert data["counts"] == {"findings": 3, "blocking": 1, "suppressed": 1, "not_shown": 0}
    html = render_report(data)
    for text in ("HIPAA Security Rule", "164.312(a)(2)(iv): Encryption and decryption", "PCI DSS 4.0", UNMAPPED,
                 "Set encrypted = true.", "Data at rest must be encrypted.", "alice", "2027-03-01", "SEC-12",
                 "charts/x/templates/a.yaml", "helm template", "broken.tf:4", "Evidence record",
                 "\"evidence_version\": 1"):
        assert text in html, text


def test_repository_text_is_escaped_everywhere() -> None:
    data = page([finding("CB-AWS-001", HOSTILE, {"hipaa": ("164.312(a)(2)(iv)",)},
                         message='<img src=x onerror="alert(2)">')])
    data["evidence"] = {"findings": [{"path": HOSTILE}]}
    html = render_report(data)
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x" in html
    assert "\\u003cscript\\u003e" in html  # the evidence record's JSON is escaped too


def test_missing_page_says_so() -> None:
    html = render_missing()
    assert "Report not found" in html and "expired" in html


def test_backticks_in_rule_texts_are_code_and_markup_in_them_stays_text() -> None:
    data = page([finding("CB-AWS-001", "a.tf", {"hipaa": ("164.312(a)(2)(iv)",)},
                         message="set `encrypted = true` not `<b>bold</b>`")])
    html = render_report(data)
    assert "<code>encrypted = true</code>" in html
    assert "<code>&lt;b&gt;bold&lt;/b&gt;</code>" in html and "<b>bold</b>" not in html
