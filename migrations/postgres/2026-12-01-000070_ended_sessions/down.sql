DROP TABLE ended_users;
DROP TABLE ended_tokens;
