-- Evidence records, one row per entry of the hash chain (bot/report/evidence_chain.py).
-- `body` is the record's canonical JSON exactly as hashed; the other columns copy its fields
-- so they can be queried, and `compliance-bot evidence verify` checks they still agree.
CREATE TABLE evidence_records (
    seq          INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    repository   TEXT,
    pull_request INTEGER,
    head_sha     TEXT,
    review_key   TEXT,
    recorded_at  TEXT NOT NULL,
    body         TEXT NOT NULL,
    prev_hash    TEXT NOT NULL UNIQUE,
    hash         TEXT NOT NULL UNIQUE
);
CREATE INDEX evidence_records_pull ON evidence_records (repository, pull_request);
CREATE INDEX evidence_records_review_key ON evidence_records (review_key);
