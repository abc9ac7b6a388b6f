DROP TABLE contact_hour_exceptions;
DROP TABLE contact_hours;
DROP TABLE contact_sheet_events;
DROP TABLE contact_sheet_parties;
DROP TABLE contact_sheets;
