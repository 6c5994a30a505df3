-- Append-only: UPDATE, DELETE and TRUNCATE of evidence records are refused for every role.
-- A superuser can still disable the trigger and edit a row: the hash chain then names it.
CREATE FUNCTION evidence_records_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'evidence records are append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER evidence_records_no_change BEFORE UPDATE OR DELETE ON evidence_records
    FOR EACH ROW EXECUTE FUNCTION evidence_records_refuse();
CREATE TRIGGER evidence_records_no_truncate BEFORE TRUNCATE ON evidence_records
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_records_refuse();
