DROP TRIGGER care_team_members_rev_insert;
DROP TRIGGER care_team_members_rev_update;
DROP TRIGGER care_team_members_rev_delete;
DROP TRIGGER consents_rev_insert;
DROP TRIGGER consents_rev_update;
DROP TRIGGER consents_rev_delete;
ALTER TABLE patients DROP COLUMN access_rev;
