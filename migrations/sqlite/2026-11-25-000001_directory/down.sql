DROP TABLE care_team_members;
DROP TABLE patients;
DROP TABLE practitioners;
DROP TABLE organizations;
