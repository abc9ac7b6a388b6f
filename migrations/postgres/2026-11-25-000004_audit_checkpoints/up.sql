-- Signed checkpoints: an Ed25519 signature over (seq, hash) of the chain's head at the time.
CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);

-- One function for both append-only tables, naming the table that refused.
CREATE OR REPLACE FUNCTION carepath_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION carepath_audit_append_only();
