"""The hash chain that makes the evidence store tamper-evident, with no I/O: canonical JSON, the
hash of each entry, and the walk that names the first entry that is not as it was written.

Entry `seq` (1, 2, 3...) stores its record as canonical JSON (`canonical_json`: sorted keys, no
spaces, UTF-8) and `hash = sha256(prev_hash "\\n" seq "\\n" kind "\\n" body)`, where `prev_hash` is
the hash of entry `seq - 1` (64 zeros for the first). Changing a record changes its hash; a new
hash written beside it breaks the next entry's link; deleting an entry leaves a gap in `seq` or
a link to nothing; moving one breaks both. Only deleting the newest entries leaves a shorter,
intact chain: an anchor (`seq:hash` that `verify` printed earlier) catches that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """The one text of a JSON value: sorted keys, no whitespace, UTF-8 kept, NaN refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def record_sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def entry_hash(prev_hash: str, seq: int, kind: str, body: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{seq}\n{kind}\n{body}".encode()).hexdigest()


@dataclass(frozen=True)
class StoredEntry:
    """One row of the evidence table as read back. `repository`, `pull_request` and `head_sha` are
    copies of the record's fields, kept as columns to query by; `verify` checks they agree."""

    seq: int
    kind: str
    repository: str | None
    pull_request: int | None
    head_sha: str | None
    body: str
    prev_hash: str
    hash: str

    def record(self) -> dict[str, Any]:
        value = json.loads(self.body)
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a walk: how many entries were intact before `problem` (None: all of them),
    the seq it names, and the last intact entry's hash (the anchor to keep)."""

    count: int
    head_hash: str
    problem: str | None = None
    broken_seq: int | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def _columns_problem(entry: StoredEntry, record: dict[str, Any]) -> str | None:
    for column, value in (("repository", entry.repository), ("pull_request", entry.pull_request),
                          ("head_sha", entry.head_sha)):
        if record.get(column) != value:
            return f"its {column} column no longer matches its record"
    return None


def _content_problem(entry: StoredEntry) -> str | None:
    try:
        record = json.loads(entry.body)
    except ValueError:
        return "its record is no longer valid JSON"
    if not isinstance(record, dict) or canonical_json(record) != entry.body:
        return "its record is no longer in the canonical form it was written in"
    return _columns_problem(entry, record)


def verify_chain(entries: Iterable[StoredEntry], anchor: tuple[int, str] | None = None) -> ChainReport:
    """Walk `entries` in seq order; stop at the first one that is not as written and name it.

    `anchor` (seq, hash): an entry an earlier walk reported; it must still be there, unchanged,
    so deleting the newest entries (which leaves an intact, shorter chain) is caught too."""
    expected_seq, prev = 1, GENESIS
    seen: dict[str, int] = {GENESIS: 0}
    count = 0

    def broken(seq: int, problem: str) -> ChainReport:
        return ChainReport(count, prev, f"record {seq}: {problem}", seq)

    for entry in entries:
        if entry.seq > expected_seq:
            missing = (f"record {expected_seq} is missing" if entry.seq == expected_seq + 1
                       else f"records {expected_seq} to {entry.seq - 1} are missing")
            return broken(expected_seq, f"{missing} (deleted): the chain jumps from record {expected_seq - 1} "
                                        f"to record {entry.seq}")
        if entry.seq < expected_seq:
            return broken(entry.seq, "appears twice or out of order")
        if entry.prev_hash != prev:
            if entry.prev_hash in seen:
                return broken(entry.seq, f"was moved: it was written after record {seen[entry.prev_hash]}, "
                                         f"not after record {entry.seq - 1}")
            return broken(entry.seq, f"does not link to record {entry.seq - 1}: record {entry.seq - 1} was "
                                     "replaced, or one was deleted before it")
        content = _content_problem(entry)
        if content is not None:
            return broken(entry.seq, f"was edited: {content}")
        if entry_hash(entry.prev_hash, entry.seq, entry.kind, entry.body) != entry.hash:
            return broken(entry.seq, "was edited: its content no longer matches its hash")
        count += 1
        prev = entry.hash
        seen[entry.hash] = entry.seq
        expected_seq += 1
    if anchor is not None:
        seq, anchored = anchor
        if seen.get(anchored) != seq:
            what = "is missing (deleted)" if seq >= expected_seq else "no longer has the anchored hash"
            return ChainReport(count, prev, f"record {seq}: {what}; the chain ends at record {count}", seq)
    return ChainReport(count, prev)
