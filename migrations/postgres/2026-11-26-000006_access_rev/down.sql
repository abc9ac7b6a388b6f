DROP TRIGGER care_team_members_rev ON care_team_members;
DROP TRIGGER consents_rev ON consents;
DROP FUNCTION carepath_bump_access_rev();
ALTER TABLE patients DROP COLUMN access_rev;
