-- Append-only: the store never changes or removes an entry, and refuses to be asked to.
-- (Anyone who can write the file can drop these triggers: the hash chain still names the entry.)
CREATE TRIGGER evidence_records_no_update BEFORE UPDATE ON evidence_records
BEGIN
    SELECT RAISE(ABORT, 'evidence records are append-only: UPDATE refused');
END;
CREATE TRIGGER evidence_records_no_delete BEFORE DELETE ON evidence_records
BEGIN
    SELECT RAISE(ABORT, 'evidence records are append-only: DELETE refused');
END;
