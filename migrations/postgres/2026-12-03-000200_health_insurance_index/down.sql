DROP INDEX patients_hi_index;
ALTER TABLE patients DROP COLUMN hi_index;
