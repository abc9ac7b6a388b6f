-- The two national codes an organisation is known by (issue 33): 保険医療機関コード (10 digits,
-- medical institutions, pharmacies, visiting-nurse stations) and 介護保険事業所番号 (10 digits,
-- long-term-care providers and care-management offices). The care-plan exchange files and the
-- JP-CLINS documents name organisations by them, so each is unique in the region (one
-- deployment serves one region); NULL where an organisation has none (unique indexes allow
-- many NULLs on both backends).
ALTER TABLE organizations ADD COLUMN medical_institution_code TEXT;
ALTER TABLE organizations ADD COLUMN ltc_provider_number TEXT;
CREATE UNIQUE INDEX organizations_medical_institution_code ON organizations (medical_institution_code);
CREATE UNIQUE INDEX organizations_ltc_provider_number ON organizations (ltc_provider_number);
