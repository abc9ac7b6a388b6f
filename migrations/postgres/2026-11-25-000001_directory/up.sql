-- Times are RFC 3339 UTC text with a fixed width, so text order is time order on both backends.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT,
    phone TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX organizations_kind ON organizations (kind, id);

CREATE TABLE practitioners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    profession TEXT NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX practitioners_org ON practitioners (organization_id, id);

-- Identifying fields live only inside `sealed` (each value sealed on its own); the insured
-- number is findable only through its keyed blind index.
CREATE TABLE patients (
    id TEXT PRIMARY KEY,
    managing_organization_id TEXT NOT NULL REFERENCES organizations (id),
    care_level TEXT,
    sealed TEXT NOT NULL,
    ltc_index TEXT,
    data_key TEXT,
    data_key_kid TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    erased_at TEXT
);
CREATE INDEX patients_ltc_index ON patients (ltc_index);
CREATE INDEX patients_data_key_kid ON patients (data_key_kid);

CREATE TABLE care_team_members (
    patient_id TEXT NOT NULL REFERENCES patients (id),
    position INTEGER NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    practitioner_id TEXT REFERENCES practitioners (id),
    role TEXT NOT NULL,
    since TEXT NOT NULL,
    until TEXT,
    PRIMARY KEY (patient_id, position)
);
CREATE INDEX care_team_members_org ON care_team_members (organization_id, patient_id);
