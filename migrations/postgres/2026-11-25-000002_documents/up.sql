-- The head row of each document: its current version, checked and bumped by every update.
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (id),
    doc_type TEXT NOT NULL,
    schema_version TEXT NOT NULL,
    version INTEGER NOT NULL,
    deleted BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX documents_patient ON documents (patient_id, updated_at, id);

-- Every version ever written, immutable. `content` holds the sealed JSON; a tombstone has none.
-- `seq` is the global change sequence, taken in the writing transaction.
CREATE TABLE document_versions (
    document_id TEXT NOT NULL REFERENCES documents (id),
    version INTEGER NOT NULL,
    patient_id TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    schema_version TEXT NOT NULL,
    op TEXT NOT NULL,
    content TEXT,
    seq BIGINT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (document_id, version)
);

-- Named counters, bumped inside the writing transaction. The row lock taken by the bump orders
-- writers, so sequence numbers become visible in the order they were given out.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('change_seq', 0);

-- Answers already given, so a retried POST or PUT returns the first answer without writing.
CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (caller, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
