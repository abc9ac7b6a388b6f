DROP TABLE annual_plan_versions;
