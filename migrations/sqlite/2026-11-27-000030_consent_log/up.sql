-- The auditors' consent log (issue 21).
--
-- Audit events record what an access rested on (`basis`, JSON text) and, for a consent change,
-- the digest of the consent version it created. Both are appended to the hashed encoding only
-- when present, so events written before this migration verify as they were hashed.
ALTER TABLE audit_events ADD COLUMN basis TEXT;
ALTER TABLE audit_events ADD COLUMN digest TEXT;
CREATE INDEX audit_events_resource ON audit_events (resource_id, seq);

-- A consent's terms never change: a revocation (or amendment) is a new version. `consents`
-- holds the current version, which the access rule reads; `consent_versions` every version as
-- written, same columns. Existing consents become their version 1 as they stand now (their
-- events carry no digest, so verification cannot vouch for them).
ALTER TABLE consents ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TABLE consent_versions (
    id TEXT NOT NULL,
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
    revoke_reason TEXT,
    version INTEGER NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX consent_versions_patient ON consent_versions (patient_id, recorded_at);
INSERT INTO consent_versions SELECT * FROM consents;

-- Versions are never updated. Deleting stays possible for erasure (which removes a person's
-- consents); `audit verify` reports a version missing for a patient who was not erased.
CREATE TRIGGER consent_versions_no_update BEFORE UPDATE ON consent_versions
BEGIN
    SELECT RAISE(ABORT, 'consent_versions is append-only');
END;
