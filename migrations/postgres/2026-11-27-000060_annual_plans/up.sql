-- The region's annual plan (the guide's section H), one per calendar year, replaced whole as a
-- new version (If-Match). No patient data: items, organisations, schedules, linked indicators.
CREATE TABLE annual_plans (
    year INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_org TEXT NOT NULL
);
