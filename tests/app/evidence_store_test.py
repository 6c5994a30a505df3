"""The evidence store against real databases: SQLite (a temp file) and the machine's PostgreSQL
(a schema per test, dropped afterwards). Appends chain, the database refuses changes, an edit
made past that refusal (a superuser's) and a deleted row are named by verify, and two workers
appending at once never fork the chain."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from bot.app.evidence_migrations import migrations
from bot.app.evidence_postgres import PostgresEvidenceStore
from bot.app.evidence_store import (
    MERGE,
    REVIEW,
    EvidenceStore,
    EvidenceStoreError,
    SqliteEvidenceStore,
    open_store,
)
from bot.app.settings import load_store_settings
from tests.app.evidence_raw import Raw, bypassing_triggers, postgres_raw, sqlite_raw


def record(n: int, repository: str = "octo-org/infra") -> dict[str, Any]:
    return {"evidence_version": 1, "repository": repository, "pull_request": n, "head_sha": f"{n:040x}",
            "conclusion": "success", "recorded_at": "2026-03-01T12:00:00Z", "check": {"external_id": f"key-{n}"}}


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[EvidenceStore, Raw, Callable[[], EvidenceStore]]]:
    """(store, raw SQL runner, a function opening the same store again)."""
    if request.param == "sqlite":
        path = tmp_path / "data" / "evidence.sqlite3"
        yield SqliteEvidenceStore(path), sqlite_raw(path), lambda: SqliteEvidenceStore(path)
        return
    url, schema = request.getfixturevalue("postgres_url"), request.getfixturevalue("postgres_schema")
    yield PostgresEvidenceStore(url, schema), postgres_raw(url, schema), lambda: PostgresEvidenceStore(url, schema)


def test_appends_chain_and_read_back_in_order(backend: tuple[EvidenceStore, Raw, Callable[[], EvidenceStore]]) -> None:
    store, _, reopen = backend
    first = store.append(REVIEW, record(1))
    second = store.append(MERGE, record(2, "Other/Repo"))
    third = store.append(REVIEW, record(3))
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    again = reopen()  # migrations already applied: nothing to do, same rows
    assert [e.seq for e in again.entries()] == [1, 2, 3]
    assert [e.seq for e in again.entries("octo-org/INFRA")] == [1, 3]
    assert again.entries("other/repo")[0].record() == record(2, "Other/Repo")
    assert again.has_review("key-3") and not again.has_review("key-2")  # key-2 is a merge
    report = again.verify()
    assert report.intact and report.count == 3 and report.head_hash == third.hash


def test_migrations_are_recorded_once(backend: tuple[EvidenceStore, Raw, Callable[[], EvidenceStore]]) -> None:
    store, _, reopen = backend
    reopen()
    dialect = "sqlite" if isinstance(store, SqliteEvidenceStore) else "postgresql"
    shipped = [(m.version, m.name) for m in migrations(dialect)]
    assert shipped == [(1, "evidence"), (2, "append_only")]
    if isinstance(store, SqliteEvidenceStore):
        with closing(sqlite3.connect(store.path)) as conn:
            rows = conn.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
    else:
        assert isinstance(store, PostgresEvidenceStore)
        with psycopg.connect(store._url) as conn:
            rows = conn.execute(sql.SQL("SELECT version, name FROM {}.schema_version ORDER BY version")
                                .format(sql.Identifier(store.schema))).fetchall()
    assert [tuple(r) for r in rows] == shipped


def _refused(raw: Raw, statement: str) -> str:
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error)) as caught:
        raw(statement)
    return str(caught.value)


def test_the_database_refuses_updates_and_deletes(backend: tuple[EvidenceStore, Raw, Callable[[], EvidenceStore]]) -> None:
    store, raw, _ = backend
    store.append(REVIEW, record(1))
    assert "append-only: UPDATE refused" in _refused(raw, "UPDATE evidence_records SET kind = 'merge'")
    assert "append-only: DELETE refused" in _refused(raw, "DELETE FROM evidence_records")
    if isinstance(store, PostgresEvidenceStore):
        assert "append-only: TRUNCATE refused" in _refused(raw, "TRUNCATE evidence_records")
    # A fork is refused even past the store's lock: a second entry after record 1 reuses its link.
    first = store.entries()[0]
    message = _refused(raw, "INSERT INTO evidence_records (seq, kind, recorded_at, body, prev_hash, hash) "
                            f"VALUES (2, 'review', 't', '{{}}', '{first.prev_hash}', 'x')")
    assert "prev_hash" in message and "unique" in message.lower()
    assert store.verify().intact and store.verify().count == 1


def test_an_edit_past_the_triggers_is_named_by_verify(backend: tuple[EvidenceStore, Raw, Callable[[], EvidenceStore]]) -> None:
    store, raw, _ = backend
    for n in range(1, 6):
        store.append(REVIEW, record(n))
    raw(bypassing_triggers(store, "UPDATE evidence_records SET body = replace(body, 'success', 'failure') WHERE seq = 3"))
    report = store.verify()
    assert not report.intact and report.broken_seq == 3 and report.count == 2
    assert report.problem == "record 3: was edited: its content no longer matches its hash"


def test_a_deleted_record_is_named_by_verify(backend: tuple[EvidenceStore, Raw, Callable[[], EvidenceStore]]) -> None:
    store, raw, _ = backend
    for n in range(1, 6):
        store.append(REVIEW, record(n))
    raw(bypassing_triggers(store, "DELETE FROM evidence_records WHERE seq = 2"))
    report = store.verify()
    assert report.broken_seq == 2 and (report.problem or "").startswith("record 2: record 2 is missing (deleted)")


def test_deleting_the_newest_record_is_named_against_an_anchor(
        backend: tuple[EvidenceStore, Raw, Callable[[], EvidenceStore]]) -> None:
    store, raw, _ = backend
    for n in range(1, 6):
        store.append(REVIEW, record(n))
    anchor = store.verify()
    raw(bypassing_triggers(store, "DELETE FROM evidence_records WHERE seq = 5"))
    assert store.verify().intact and store.verify().count == 4  # a shorter chain is intact on its own
    report = store.verify((anchor.count, anchor.head_hash))
    assert report.problem == "record 5: is missing (deleted); the chain ends at record 4"


@pytest.mark.timeout(120)
def test_two_workers_appending_at_once_never_fork_the_chain(
        backend: tuple[EvidenceStore, Raw, Callable[[], EvidenceStore]]) -> None:
    store, _, reopen = backend
    stores = [store, reopen()]  # one store object (and its own connections) per worker
    start = threading.Barrier(2, timeout=30)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait()
            for n in range(25):
                stores[worker].append(REVIEW, record(worker * 100 + n))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not failures and not any(t.is_alive() for t in threads)
    entries = store.entries()
    assert [e.seq for e in entries] == list(range(1, 51))
    assert len({e.prev_hash for e in entries}) == 50
    assert sorted(e.pull_request or 0 for e in entries) == sorted([*range(25), *range(100, 125)])
    report = store.verify()
    assert report.intact and report.count == 50


def test_an_unreachable_or_unwritable_store_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(EvidenceStoreError) as caught:
        PostgresEvidenceStore("postgresql://someone:hunter2@127.0.0.1:1/none")
    message = str(caught.value)
    assert message.startswith("cannot open the evidence store PostgreSQL postgresql://someone:***@127.0.0.1:1/none")
    assert "hunter2" not in message and "\n" not in message
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(EvidenceStoreError, match="cannot open the evidence store SQLite"):
        SqliteEvidenceStore(blocker / "evidence.sqlite3")


def test_settings_choose_the_store(tmp_path: Path, postgres_url: str, postgres_schema: str) -> None:
    sqlite_store = open_store(load_store_settings({"DATA_DIR": str(tmp_path)}))
    assert isinstance(sqlite_store, SqliteEvidenceStore) and sqlite_store.path == tmp_path / "evidence.sqlite3"
    assert open_store(load_store_settings({"EVIDENCE_DB": "off"})) is None
    chosen = open_store(load_store_settings({"DATABASE_URL": postgres_url, "DATABASE_SCHEMA": postgres_schema,
                                             "EVIDENCE_DB": str(tmp_path / "unused.sqlite3")}))
    assert isinstance(chosen, PostgresEvidenceStore) and chosen.schema == postgres_schema
    assert not (tmp_path / "unused.sqlite3").exists()
