-- A patient's access facts (care team, consents) carry a revision tag that changes in the same
-- transaction as any change to them, so a reader can keep the facts it loaded and reuse them
-- while the tag it reads with the patient row is unchanged, on any instance. The tag is random,
-- not a counter: a rolled-back change must never leave a tag that a later change reuses for
-- other facts (a writer's transaction can see, and a cache keep, facts that never commit).
ALTER TABLE patients ADD COLUMN access_rev BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER care_team_members_rev_insert AFTER INSERT ON care_team_members BEGIN
    UPDATE patients SET access_rev = random() WHERE id = NEW.patient_id;
END;
CREATE TRIGGER care_team_members_rev_update AFTER UPDATE ON care_team_members BEGIN
    UPDATE patients SET access_rev = random() WHERE id IN (OLD.patient_id, NEW.patient_id);
END;
CREATE TRIGGER care_team_members_rev_delete AFTER DELETE ON care_team_members BEGIN
    UPDATE patients SET access_rev = random() WHERE id = OLD.patient_id;
END;
CREATE TRIGGER consents_rev_insert AFTER INSERT ON consents BEGIN
    UPDATE patients SET access_rev = random() WHERE id = NEW.patient_id;
END;
CREATE TRIGGER consents_rev_update AFTER UPDATE ON consents BEGIN
    UPDATE patients SET access_rev = random() WHERE id IN (OLD.patient_id, NEW.patient_id);
END;
CREATE TRIGGER consents_rev_delete AFTER DELETE ON consents BEGIN
    UPDATE patients SET access_rev = random() WHERE id = OLD.patient_id;
END;
