-- Every version of the annual plans, kept (issue 34): the plan page shows its history, who
-- changed it when, and a council reviewing the year reads what the plan said at the time. The
-- current version stays in annual_plans (its If-Match is checked there); each write adds its row
-- here in the same transaction. No patient data, as annual_plans.
CREATE TABLE annual_plan_versions (
    year INTEGER NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_org TEXT NOT NULL,
    PRIMARY KEY (year, version)
);
-- The versions written before this table: their current one (the earlier ones were replaced).
INSERT INTO annual_plan_versions (year, version, body, updated_at, updated_by, updated_org)
    SELECT year, version, body, updated_at, updated_by, updated_org FROM annual_plans;
