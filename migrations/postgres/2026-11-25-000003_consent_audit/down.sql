DROP TABLE audit_reviews;
DROP TABLE audit_head;
DROP TABLE audit_events;
DROP FUNCTION carepath_audit_append_only;
DROP TABLE break_glass_grants;
DROP TABLE consents;
