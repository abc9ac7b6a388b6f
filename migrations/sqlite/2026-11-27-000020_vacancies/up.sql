-- The short-stay vacancy board (ショートステイ空き情報). No patient data: a facility's own
-- postings, one per (facility, service), each replaced whole as a new version.
CREATE TABLE vacancy_postings (
    facility_id TEXT NOT NULL REFERENCES organizations (id),
    service TEXT NOT NULL,
    version INTEGER NOT NULL,
    contact TEXT NOT NULL,
    notes TEXT,
    confirmed_at TEXT NOT NULL,
    confirmed_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (facility_id, service)
);

-- One row per posted day. `accepts` is the list of care needs as ",word,word," so a need is
-- matched by LIKE on both backends; `beds_free` is the day's total, `beds` its breakdown (JSON).
CREATE TABLE vacancy_days (
    facility_id TEXT NOT NULL,
    service TEXT NOT NULL,
    day TEXT NOT NULL,
    beds_free INTEGER NOT NULL,
    beds TEXT NOT NULL,
    accepts TEXT NOT NULL,
    PRIMARY KEY (facility_id, service, day),
    FOREIGN KEY (facility_id, service) REFERENCES vacancy_postings (facility_id, service)
);
CREATE INDEX vacancy_days_search ON vacancy_days (service, day, beds_free);

-- Every publish and confirmation, in the order committed: the stream's event ids and the
-- pollers' cursor. `seq` comes from the `vacancy_seq` counter, bumped first in the writing
-- transaction, so sequence order is commit order and there are no gaps.
CREATE TABLE vacancy_changes (
    seq INTEGER PRIMARY KEY,
    facility_id TEXT NOT NULL,
    service TEXT NOT NULL,
    version INTEGER NOT NULL,
    op TEXT NOT NULL,
    confirmed_at TEXT NOT NULL,
    at TEXT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('vacancy_seq', 0);
