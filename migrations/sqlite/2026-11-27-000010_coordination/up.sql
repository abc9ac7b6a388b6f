-- Contact sheets (連絡票) between doctors, care managers and consultation desks: addressing,
-- states and times in clear, the body and every reply sealed. A sheet about a patient is sealed
-- under the patient's data key; a desk question without a patient carries a data key of its own
-- (data_key, data_key_kid), wrapped by the master keyring like a patient's.
CREATE TABLE contact_sheets (
    id TEXT PRIMARY KEY,
    patient_id TEXT REFERENCES patients (id),
    sender_sub TEXT NOT NULL,
    sender_org TEXT NOT NULL,
    to_org TEXT NOT NULL,
    to_practitioner TEXT,
    category TEXT NOT NULL,
    urgency TEXT NOT NULL,
    body TEXT NOT NULL,
    reply_by TEXT,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    sent_at TEXT NOT NULL,
    delivered_at TEXT,
    read_at TEXT,
    read_by TEXT,
    answered_at TEXT,
    closed_at TEXT,
    withdrawn_at TEXT,
    updated_at TEXT NOT NULL,
    data_key TEXT,
    data_key_kid TEXT
);
CREATE INDEX contact_sheets_to ON contact_sheets (to_org, sent_at, id);
CREATE INDEX contact_sheets_from ON contact_sheets (sender_org, sent_at, id);
CREATE INDEX contact_sheets_patient ON contact_sheets (patient_id);

-- Every organisation a sheet was ever addressed to or sent from: who may see its thread.
CREATE TABLE contact_sheet_parties (
    sheet_id TEXT NOT NULL REFERENCES contact_sheets (id),
    organization_id TEXT NOT NULL,
    PRIMARY KEY (sheet_id, organization_id)
);

-- The thread: one row per state change or message, immutable, numbered by the global change
-- sequence so that sheets ride the change feed with documents. `note` (a reply or a forwarding
-- note) is sealed.
CREATE TABLE contact_sheet_events (
    sheet_id TEXT NOT NULL REFERENCES contact_sheets (id),
    version INTEGER NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
    patient_id TEXT,
    op TEXT NOT NULL,
    actor_sub TEXT NOT NULL,
    actor_org TEXT NOT NULL,
    to_org TEXT,
    to_practitioner TEXT,
    note TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (sheet_id, version)
);

-- Contact hours (ケアマネタイム): weekly slots of a practitioner, times in the region's zone.
CREATE TABLE contact_hours (
    practitioner_id TEXT NOT NULL REFERENCES practitioners (id),
    position INTEGER NOT NULL,
    organization_id TEXT NOT NULL,
    weekday INTEGER NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    channel TEXT NOT NULL,
    audience TEXT NOT NULL,
    notes TEXT,
    PRIMARY KEY (practitioner_id, position)
);
CREATE INDEX contact_hours_org ON contact_hours (organization_id, weekday);

-- Dated exceptions: no contact hours that day (holidays, closures).
CREATE TABLE contact_hour_exceptions (
    practitioner_id TEXT NOT NULL REFERENCES practitioners (id),
    day TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (practitioner_id, day)
);
