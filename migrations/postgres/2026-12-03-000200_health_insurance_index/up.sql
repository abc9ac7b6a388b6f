-- The blind index of the health-insurance card (医療保険: 保険者番号 and 番号), for the JP-CLINS
-- door (issue 31, `POST /v1/fhir/Bundle`): a hospital's EHR names the patient by the card it
-- was shown, not by carepath's id. The key is not in the database, so this migration cannot
-- fill it: NULL means "not indexed yet" (registered before this column), which the start-up
-- backfill (`domain::health_index::backfill`) fills through the committer; '' means "indexed,
-- no card", so the backfill does not open the same patients again at every start.
ALTER TABLE patients ADD COLUMN hi_index TEXT;
CREATE INDEX patients_hi_index ON patients (hi_index);
