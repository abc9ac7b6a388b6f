-- Consent records. List-valued fields are JSON text; the proxy (a family member's name) and
-- the revocation reason are sealed under the patient's data key.
CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (id),
    status TEXT NOT NULL,
    organizations TEXT NOT NULL,
    permitted_types TEXT NOT NULL,
    denied_types TEXT NOT NULL,
    purposes TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT,
    obtained_by TEXT NOT NULL,
    proxy TEXT,
    release_restricted BOOLEAN NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_org TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT,
    revoke_reason TEXT
);
CREATE INDEX consents_patient ON consents (patient_id, recorded_at);

-- An emergency opening of a record: valid until `expires_at` for that caller and patient.
CREATE TABLE break_glass_grants (
    id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (id),
    actor_sub TEXT NOT NULL,
    actor_org TEXT NOT NULL,
    reason TEXT NOT NULL,
    started_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX break_glass_grants_lookup ON break_glass_grants (patient_id, actor_sub, expires_at);

-- The audit log: append-only, hash-chained (each hash covers the event and the previous hash).
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_sub TEXT NOT NULL,
    actor_org TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    patient_id TEXT,
    resource_type TEXT,
    resource_id TEXT,
    resource_version INTEGER,
    outcome TEXT NOT NULL,
    status INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    break_glass BOOLEAN NOT NULL,
    break_glass_reason TEXT,
    request_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_patient ON audit_events (patient_id, seq);
CREATE INDEX audit_events_break_glass ON audit_events (break_glass, seq);

-- The chain's head. Appending updates it first, which orders concurrent appenders.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Reviews of break-glass events: the events themselves never change.
CREATE TABLE audit_reviews (
    event_seq BIGINT PRIMARY KEY REFERENCES audit_events (seq),
    reviewer_sub TEXT NOT NULL,
    reviewer_org TEXT NOT NULL,
    comment TEXT NOT NULL,
    reviewed_at TEXT NOT NULL
);

-- Append-only at the database too: even the service's own role cannot rewrite history.
CREATE FUNCTION carepath_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION carepath_audit_append_only();
