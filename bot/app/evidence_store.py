"""The evidence store: an append-only, hash-chained table of evidence records, in PostgreSQL
(`DATABASE_URL`) or in the built-in SQLite file (`EVIDENCE_DB`).

Appending is one transaction that holds the table's write lock (PostgreSQL: `LOCK TABLE ... IN
EXCLUSIVE MODE`; SQLite: `BEGIN IMMEDIATE`), reads the newest entry and writes the next one, so
two workers appending at once never fork the chain; the unique `prev_hash` column refuses a fork
even if that lock were bypassed. Nothing here updates or deletes a row, and the database refuses
to (triggers from the migrations); `verify` walks the chain (`bot.report.evidence_chain`) and
names the first entry that is not as written.
"""

from __future__ import annotations

import abc
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from bot.app.evidence_migrations import SCHEMA_VERSION_TABLE, pending
from bot.app.store_settings import StoreSettings, redact_url
from bot.report.evidence_chain import (
    GENESIS,
    ChainReport,
    StoredEntry,
    canonical_json,
    entry_hash,
    verify_chain,
)

log = logging.getLogger(__name__)

REVIEW, MERGE = "review", "merge"  # the kinds of entry
KINDS = (REVIEW, MERGE)
SQLITE_BUSY_SECONDS = 30.0
CONNECT_SECONDS = 10
COLUMNS = "seq, kind, repository, pull_request, head_sha, body, prev_hash, hash"


class EvidenceStoreError(RuntimeError):
    """The store cannot be reached, opened or written: one line naming it (never a password)."""


def next_entry(last: tuple[int, str] | None, kind: str, record: Mapping[str, Any]) -> StoredEntry:
    """The entry that follows `last` (its seq and hash; None for an empty chain)."""
    if kind not in KINDS:
        raise ValueError(f"unknown evidence kind {kind!r}")
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    body = canonical_json(dict(record))
    pull = record.get("pull_request")
    return StoredEntry(seq, kind, record.get("repository"), pull if isinstance(pull, int) else None,
                       record.get("head_sha"), body, prev, entry_hash(prev, seq, kind, body))


def row_values(entry: StoredEntry, record: Mapping[str, Any]) -> tuple[Any, ...]:
    check = record.get("check")
    key = check.get("external_id") if isinstance(check, Mapping) else None
    return (entry.seq, entry.kind, entry.repository, entry.pull_request, entry.head_sha, key,
            str(record.get("recorded_at") or ""), entry.body, entry.prev_hash, entry.hash)


def entry_from_row(row: Sequence[Any]) -> StoredEntry:
    return StoredEntry(int(row[0]), str(row[1]), row[2], None if row[3] is None else int(row[3]), row[4],
                       str(row[5]), str(row[6]), str(row[7]))


class EvidenceStore(abc.ABC):
    """Where evidence records are appended and read back."""

    description: str  # what to name in messages: "SQLite /var/lib/...", "PostgreSQL host/db (schema x)"

    @abc.abstractmethod
    def append(self, kind: str, record: Mapping[str, Any]) -> StoredEntry:
        """Append `record` as the chain's next entry and return it."""

    @abc.abstractmethod
    def entries(self, repository: str | None = None) -> list[StoredEntry]:
        """Every entry in seq order; of one repository (any case) when named."""

    @abc.abstractmethod
    def has_review(self, review_key: str) -> bool:
        """Whether a review record of this check run (its external id) is stored."""

    def verify(self, anchor: tuple[int, str] | None = None) -> ChainReport:
        return verify_chain(self.entries(), anchor)


class SqliteEvidenceStore(EvidenceStore):
    """The built-in store: one SQLite file, one short connection per call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"SQLite {path}"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise EvidenceStoreError(f"cannot open the evidence store {self.description}: {exc}") from None

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=SQLITE_BUSY_SECONDS, isolation_level=None)

    def _migrate(self) -> None:
        with closing(self._connect()) as conn:
            conn.execute(SCHEMA_VERSION_TABLE)
            while True:
                applied = {int(v) for (v,) in conn.execute("SELECT version FROM schema_version")}
                todo = pending("sqlite", applied)
                if not todo:
                    return
                step = todo[0]
                try:  # one script, one transaction: the migration and its schema_version row
                    conn.executescript(f"BEGIN IMMEDIATE;\n{step.sql}\nINSERT INTO schema_version VALUES "
                                       f"({step.version}, '{step.name}', datetime('now'));\nCOMMIT;")
                except sqlite3.OperationalError:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    done = {int(v) for (v,) in conn.execute("SELECT version FROM schema_version")}
                    if step.version not in done:  # not another process that got there first
                        raise
                log.info("evidence store %s: applied migration %04d_%s", self.description, step.version, step.name)

    def append(self, kind: str, record: Mapping[str, Any]) -> StoredEntry:
        try:
            with closing(self._connect()) as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    last = conn.execute("SELECT seq, hash FROM evidence_records ORDER BY seq DESC LIMIT 1").fetchone()
                    entry = next_entry((int(last[0]), str(last[1])) if last else None, kind, record)
                    conn.execute("INSERT INTO evidence_records (seq, kind, repository, pull_request, head_sha, "
                                 "review_key, recorded_at, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 row_values(entry, record))
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise EvidenceStoreError(f"cannot append to the evidence store {self.description}: {exc}") from None
        return entry

    def entries(self, repository: str | None = None) -> list[StoredEntry]:
        where, args = ("WHERE lower(repository) = lower(?)", (repository,)) if repository else ("", ())
        try:
            with closing(self._connect()) as conn:
                rows = conn.execute(f"SELECT {COLUMNS} FROM evidence_records {where} ORDER BY seq", args).fetchall()
        except sqlite3.Error as exc:
            raise EvidenceStoreError(f"cannot read the evidence store {self.description}: {exc}") from None
        return [entry_from_row(row) for row in rows]

    def has_review(self, review_key: str) -> bool:
        try:
            with closing(self._connect()) as conn:
                row = conn.execute("SELECT 1 FROM evidence_records WHERE review_key = ? AND kind = ? LIMIT 1",
                                   (review_key, REVIEW)).fetchone()
        except sqlite3.Error as exc:
            raise EvidenceStoreError(f"cannot read the evidence store {self.description}: {exc}") from None
        return row is not None


def open_store(settings: StoreSettings) -> EvidenceStore | None:
    """PostgreSQL when DATABASE_URL is set, else the SQLite file (None when EVIDENCE_DB is "off")."""
    if settings.database_url is not None:
        from bot.app.evidence_postgres import PostgresEvidenceStore

        return PostgresEvidenceStore(settings.database_url.get_secret_value(), settings.database_schema)
    path = settings.evidence_db_path
    return SqliteEvidenceStore(path) if path is not None else None


def describe_url(url: str) -> str:
    """A database URL as messages may show it (no password)."""
    return redact_url(url)
