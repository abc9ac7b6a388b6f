DROP TRIGGER consent_versions_no_update;
DROP TABLE consent_versions;
ALTER TABLE consents DROP COLUMN version;
DROP INDEX audit_events_resource;
ALTER TABLE audit_events DROP COLUMN digest;
ALTER TABLE audit_events DROP COLUMN basis;
