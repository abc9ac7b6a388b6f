DROP TABLE idempotency_keys;
DROP TABLE counters;
DROP TABLE document_versions;
DROP TABLE documents;
