-- A patient's access facts (care team, consents) carry a revision tag that changes in the same
-- transaction as any change to them, so a reader can keep the facts it loaded and reuse them
-- while the tag it reads with the patient row is unchanged, on any instance. The tag is random,
-- not a counter: a rolled-back change must never leave a tag that a later change reuses for
-- other facts (a writer's transaction can see, and a cache keep, facts that never commit).
ALTER TABLE patients ADD COLUMN access_rev BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION carepath_bump_access_rev() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE patients SET access_rev = floor(random() * 9.0e18)::bigint WHERE id = OLD.patient_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE patients SET access_rev = floor(random() * 9.0e18)::bigint WHERE id = NEW.patient_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER care_team_members_rev AFTER INSERT OR UPDATE OR DELETE ON care_team_members
    FOR EACH ROW EXECUTE FUNCTION carepath_bump_access_rev();
CREATE TRIGGER consents_rev AFTER INSERT OR UPDATE OR DELETE ON consents
    FOR EACH ROW EXECUTE FUNCTION carepath_bump_access_rev();
