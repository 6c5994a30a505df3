"""The evidence store in PostgreSQL (`DATABASE_URL`), in one schema (`DATABASE_SCHEMA`).

Shared by every process of the App: appends serialise on the table's EXCLUSIVE lock (reads go
on), migrations on a transaction-scoped advisory lock, so two servers starting at once apply
each migration once. See `bot.app.evidence_store` for the chain and why rows are never changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from bot.app.evidence_migrations import SCHEMA_VERSION_TABLE, pending
from bot.app.evidence_store import (
    COLUMNS,
    CONNECT_SECONDS,
    REVIEW,
    EvidenceStore,
    EvidenceStoreError,
    describe_url,
    entry_from_row,
    next_entry,
    row_values,
)
from bot.report.evidence_chain import StoredEntry

log = logging.getLogger(__name__)

MIGRATION_LOCK = "compliance-bot:evidence:migrations:"  # hashed with the schema into an advisory lock key


class PostgresEvidenceStore(EvidenceStore):
    def __init__(self, url: str, schema: str = "public") -> None:
        self._url = url
        self.schema = schema
        self.description = f"PostgreSQL {describe_url(url)} (schema {schema})"
        self._migrate()

    @contextmanager
    def _connection(self, doing: str) -> Iterator[psycopg.Connection[Any]]:
        """A connection whose search_path is the store's schema; any database error becomes one
        EvidenceStoreError line saying what was being done, to which store."""
        try:
            with psycopg.connect(self._url, connect_timeout=CONNECT_SECONDS) as conn:
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
                yield conn
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EvidenceStoreError(f"cannot {doing} the evidence store {self.description}: {reason}") from None

    def _migrate(self) -> None:
        with self._connection("open") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (MIGRATION_LOCK + self.schema,))
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            conn.execute(SCHEMA_VERSION_TABLE)
            applied = {int(v) for (v,) in conn.execute("SELECT version FROM schema_version").fetchall()}
            for step in pending("postgresql", applied):
                conn.execute(step.sql.encode())  # no parameters: the file may hold several statements
                conn.execute("INSERT INTO schema_version VALUES (%s, %s, now()::text)", (step.version, step.name))
                log.info("evidence store %s: applied migration %04d_%s", self.description, step.version, step.name)

    def append(self, kind: str, record: Mapping[str, Any]) -> StoredEntry:
        with self._connection("append to") as conn, conn.transaction():
            conn.execute("LOCK TABLE evidence_records IN EXCLUSIVE MODE")
            last = conn.execute("SELECT seq, hash FROM evidence_records ORDER BY seq DESC LIMIT 1").fetchone()
            entry = next_entry((int(last[0]), str(last[1])) if last else None, kind, record)
            conn.execute("INSERT INTO evidence_records (seq, kind, repository, pull_request, head_sha, review_key, "
                         "recorded_at, body, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                         row_values(entry, record))
        return entry

    def entries(self, repository: str | None = None) -> list[StoredEntry]:
        query = f"SELECT {COLUMNS} FROM evidence_records"
        with self._connection("read") as conn:
            if repository:
                rows = conn.execute(f"{query} WHERE lower(repository) = lower(%s) ORDER BY seq",
                                    (repository,)).fetchall()
            else:
                rows = conn.execute(f"{query} ORDER BY seq").fetchall()
        return [entry_from_row(row) for row in rows]

    def has_review(self, review_key: str) -> bool:
        with self._connection("read") as conn:
            row = conn.execute("SELECT 1 FROM evidence_records WHERE review_key = %s AND kind = %s LIMIT 1",
                               (review_key, REVIEW)).fetchone()
        return row is not None
