"""`compliance-bot evidence` and `evidence verify` on real stores (SQLite and PostgreSQL): the
per-control CSV/JSON an auditor opens, the posture table, and verify's verdict on a tampered store."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from bot.app.evidence_postgres import PostgresEvidenceStore
from bot.app.evidence_store import MERGE, REVIEW, EvidenceStore, SqliteEvidenceStore
from bot.cli.main import main
from bot.report.evidence import merge_record
from bot.report.evidence_export import CONTROL_COLUMNS, to_csv
from tests.report.evidence_test import NOW, review_of

HIPAA_ENCRYPTION = "hipaa_164.312_a_2_iv"  # the file of hipaa:164.312(a)(2)(iv)


def fill(store: EvidenceStore) -> dict[str, Any]:
    """PR 7 reviewed (failing) and merged in range; PR 8 merged before it; PR 9 merged unreviewed."""
    _, failing = review_of()
    entries = {"review7": store.append(REVIEW, failing)}
    passing = {**failing, "pull_request": 8, "head_sha": "8" * 40, "findings": [], "conclusion": "success"}
    store.append(REVIEW, passing)
    store.append(MERGE, merge_record("octo-org/infra", 7, "a" * 40, "b" * 40, "main", "2026-03-02T09:00:00Z",
                                     "c" * 40, "octocat", "d-7", NOW))
    store.append(MERGE, merge_record("octo-org/infra", 8, "8" * 40, "b" * 40, "main", "2025-12-01T09:00:00Z",
                                     None, None, "d-8", NOW))
    store.append(MERGE, merge_record("octo-org/infra", 9, "9" * 40, "b" * 40, "main", "2026-03-03T09:00:00Z",
                                     None, None, "d-9", NOW))
    return {"record": failing, "hash": entries["review7"].hash}


@pytest.fixture(params=["sqlite", "postgresql"])
def configured(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EvidenceStore]:
    """A store the CLI finds through its settings (EVIDENCE_DB, or DATABASE_URL and DATABASE_SCHEMA)."""
    if request.param == "sqlite":
        path = tmp_path / "evidence.sqlite3"
        monkeypatch.setenv("EVIDENCE_DB", str(path))
        yield SqliteEvidenceStore(path)
        return
    url, schema = request.getfixturevalue("postgres_url"), request.getfixturevalue("postgres_schema")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_SCHEMA", schema)
    yield PostgresEvidenceStore(url, schema)


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_export_writes_a_csv_per_control_and_the_posture(configured: EvidenceStore, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    filled = fill(configured)
    out = tmp_path / "audit"
    assert main(["evidence", "--repo", "Octo-Org/infra", "--since", "2026-01-01", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "2 merged pull request(s) of Octo-Org/infra since 2026-01-01T00:00:00Z" in printed.out
    assert "#9 (no review record of the merged head)" in printed.err
    rows = read_csv(out / f"{HIPAA_ENCRYPTION}.csv")
    assert list(rows[0]) == list(CONTROL_COLUMNS)
    assert [r["pr"] for r in rows] == ["7", "9"]  # PR 8 merged before --since
    seven, nine = rows
    record = filled["record"]
    assert seven == {
        "control": "hipaa:164.312(a)(2)(iv)", "repository": "octo-org/infra", "pr": "7", "head_sha": "a" * 40,
        "merged_at": "2026-03-02T09:00:00Z", "conclusion": "failure", "evaluated": "yes",
        "findings": "CB-AWS-001 high infra/main.tf:4 suppressed; CB-AWS-001 high infra/main.tf:10 blocking",
        # the policy's suppression, and its disabled CB-AWS-017, which enforces this control too
        "exceptions": "suppression CB-AWS-001 infra/main.tf:4 reason=Migration tracked in OPS-12 expires=2099-01-31; "
                      "disabled_rule CB-AWS-017",
        "approver": "", "policy_sha": record["policy"]["blob_sha"], "rule_set_version": record["rule_set_version"],
        "record_hash": filled["hash"], "recorded_at": "2026-03-01T12:00:05Z", "evidence_source": "store record 1"}
    assert nine["conclusion"] == "no evidence record: no review record of the merged head"
    assert nine["evaluated"] == "unknown" and nine["record_hash"] == ""
    posture = {r["control"]: r for r in read_csv(out / "posture.csv")}
    assert posture["hipaa:164.312(a)(2)(iv)"] | {"name": ""} == {
        "control": "hipaa:164.312(a)(2)(iv)", "framework": "hipaa", "name": "", "coverage": "automated",
        "rules": posture["hipaa:164.312(a)(2)(iv)"]["rules"], "changes": "2", "evaluated_in": "1", "findings": "2",
        "blocking_findings": "1", "exceptions": "2", "changes_failing": "1", "changes_without_record": "1"}
    manual = [r for r in posture.values() if r["coverage"] == "manual"]
    assert manual and all(r["evaluated_in"] == "0" for r in manual)
    assert not (out / f"{manual[0]['control'].replace(':', '_')}.csv").exists()  # no per-change rows for those


def test_one_control_as_json(configured: EvidenceStore, tmp_path: Path) -> None:
    fill(configured)
    out = tmp_path / "one"
    assert main(["evidence", "--repo", "octo-org/infra", "--since", "2026-03-02", "--control", "pci-dss:3.5.1",
                 "--format", "json", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["pci-dss_3.5.1.json", "posture.json"]
    data = json.loads((out / "pci-dss_3.5.1.json").read_text())
    assert data["control"] == "pci-dss:3.5.1" and [r["pr"] for r in data["rows"]] == ["7", "9"]
    assert json.loads((out / "posture.json").read_text())["rows"][0]["control"] == "pci-dss:3.5.1"


def _tamper(store: EvidenceStore, statement: str) -> None:
    if isinstance(store, SqliteEvidenceStore):
        with closing(sqlite3.connect(store.path, isolation_level=None)) as conn:
            conn.executescript(f"DROP TRIGGER IF EXISTS evidence_records_no_update; DROP TRIGGER IF EXISTS evidence_records_no_delete; "
                               f"{statement}")
        return
    assert isinstance(store, PostgresEvidenceStore)
    with psycopg.connect(store._url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(store.schema)))
        conn.execute("SET session_replication_role = replica")
        conn.execute(statement.encode())


def test_verify_passes_then_names_an_edited_and_a_deleted_record(configured: EvidenceStore,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    fill(configured)
    assert main(["evidence", "verify"]) == 0
    intact = capsys.readouterr().out
    assert "evidence chain intact" in intact and "5 record(s)" in intact
    anchor = intact.rsplit("anchor ", 1)[1].strip()
    _tamper(configured, "DELETE FROM evidence_records WHERE seq = 5")
    assert main(["evidence", "verify"]) == 0  # deleting the newest leaves a shorter, intact chain...
    capsys.readouterr()
    assert main(["evidence", "verify", "--anchor", anchor]) == 1  # ...which the anchor catches
    assert "record 5: is missing (deleted)" in capsys.readouterr().out
    _tamper(configured, "UPDATE evidence_records SET body = replace(body, '\"failure\"', '\"success\"') WHERE seq = 1")
    assert main(["evidence", "verify"]) == 1
    assert "BROKEN" in (out := capsys.readouterr().out) and "record 1: was edited" in out
    _tamper(configured, "DELETE FROM evidence_records WHERE seq = 1")
    assert main(["evidence", "verify"]) == 1
    assert "record 1: record 1 is missing (deleted)" in capsys.readouterr().out


def test_verify_with_a_database_url_option(postgres_url: str, postgres_schema: str, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_SCHEMA", postgres_schema)
    fill(PostgresEvidenceStore(postgres_url, postgres_schema))
    assert main(["evidence", "verify", "--database-url", postgres_url]) == 0
    assert f"(schema {postgres_schema}): 5 record(s)" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["evidence", "--since", "2026-01-01"], "--repo OWNER/NAME is required"),
    (["evidence", "--repo", "octo-org/infra"], "--since DATE is required"),
    (["evidence", "--repo", "octo-org/infra", "--since", "last tuesday"], "--since: not a date like 2026-01-31"),
    (["evidence", "--repo", "octo-org/infra", "--since", "2026-01-01", "--control", "hipaa:nope"],
     "unknown control 'hipaa:nope' (FRAMEWORK:ID; see `compliance-bot rules --framework hipaa`)"),
    (["evidence", "--repo", "octo-org/infra", "--since", "2026-01-01", "--source", "store"], "no evidence store at"),
    (["evidence", "--repo", "octo-org/infra", "--since", "2026-01-01", "--source", "github"],
     "reading evidence from GitHub needs the App's credentials: APP_ID is required"),
    (["evidence", "verify"], "no evidence store at"),
    (["evidence", "verify", "--anchor", "five"], "--anchor: expected SEQ:HASH"),
])
def test_usage_errors_are_one_line(argv: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("EVIDENCE_DB", str(tmp_path / "absent.sqlite3"))
    for name in ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH"):
        monkeypatch.delenv(name, raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "absent.sqlite3").exists()  # reading never creates a store


def test_csv_cells_never_run_as_spreadsheet_formulas() -> None:
    text = to_csv([{"findings": "=HYPERLINK(\"http://x\")", "exceptions": "+1", "pr": "7"}], ["pr", "findings", "exceptions"])
    assert text.splitlines()[1] == '7,"\'=HYPERLINK(""http://x"")",\'+1'
