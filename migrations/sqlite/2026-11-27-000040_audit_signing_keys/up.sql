-- Every key that has signed audit checkpoints, public part only, with the checkpoints it may
-- sign: a rotated-out key keeps verifying what it signed and nothing after. The current key is
-- the one without `valid_until_seq`. Registered by the signer itself on first use.
CREATE TABLE audit_signing_keys (
    key_id TEXT PRIMARY KEY NOT NULL,
    public_key TEXT NOT NULL,
    valid_from_seq BIGINT NOT NULL,
    valid_until_seq BIGINT,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_signing_keys_one_current ON audit_signing_keys ((valid_until_seq IS NULL))
    WHERE valid_until_seq IS NULL;
