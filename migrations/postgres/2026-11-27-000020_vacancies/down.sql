DELETE FROM counters WHERE name = 'vacancy_seq';
DROP TABLE vacancy_changes;
DROP TABLE vacancy_days;
DROP TABLE vacancy_postings;
