"""Reaching an evidence store's database past the store, as whoever owns the database can: raw
SQL, and the same with the append-only triggers switched off (what a superuser can always do, so
`verify` must still name the edit). Shared by the store's tests and the end-to-end evidence test."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import psycopg
from psycopg import sql

from bot.app.evidence_store import EvidenceStore, SqliteEvidenceStore

Raw = Callable[[str], None]  # runs SQL on the store's database, past the store


def sqlite_raw(path: Path) -> Raw:
    def run(statement: str) -> None:
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            conn.executescript(statement)

    return run


def postgres_raw(url: str, schema: str) -> Raw:
    def run(statement: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            conn.execute(statement.encode())

    return run


def bypassing_triggers(store: EvidenceStore, statement: str) -> str:
    """`statement` with the append-only triggers switched off around it (dropped, in SQLite)."""
    if isinstance(store, SqliteEvidenceStore):
        return ("DROP TRIGGER evidence_records_no_update; DROP TRIGGER evidence_records_no_delete; " + statement)
    return f"SET session_replication_role = replica; {statement}; SET session_replication_role = origin"
