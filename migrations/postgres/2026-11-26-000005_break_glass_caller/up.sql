-- Break-glass grants belong to the full caller: subject, organisation AND role. Grants made
-- before this migration have no role and so match no caller (they lapse; a clinician who still
-- needs the record breaks the glass again). From here on `reason` holds the reason sealed under
-- the patient's data key, and audit events reference the grant (`grant:<id>`) instead of
-- copying the text.
ALTER TABLE break_glass_grants ADD COLUMN actor_role TEXT NOT NULL DEFAULT '';
CREATE INDEX break_glass_grants_caller ON break_glass_grants (patient_id, actor_sub, actor_org, actor_role, expires_at);
