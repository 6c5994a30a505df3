-- Evidence records, one row per entry of the hash chain (bot/report/evidence_chain.py).
-- `body` is the record's canonical JSON exactly as hashed (text, not jsonb: jsonb would reorder
-- it); the other columns copy its fields so they can be queried, and verify checks they agree.
CREATE TABLE evidence_records (
    seq          BIGINT PRIMARY KEY CHECK (seq > 0),
    kind         TEXT NOT NULL,
    repository   TEXT,
    pull_request BIGINT,
    head_sha     TEXT,
    review_key   TEXT,
    recorded_at  TEXT NOT NULL,
    body         TEXT NOT NULL,
    prev_hash    TEXT NOT NULL UNIQUE,
    hash         TEXT NOT NULL UNIQUE
);
CREATE INDEX evidence_records_pull ON evidence_records (repository, pull_request);
CREATE INDEX evidence_records_review_key ON evidence_records (review_key);
