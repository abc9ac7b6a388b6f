DROP TABLE annual_plans;
