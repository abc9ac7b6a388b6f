DROP TABLE console_sessions;
DROP TABLE account_recovery_codes;
DROP TABLE accounts;
