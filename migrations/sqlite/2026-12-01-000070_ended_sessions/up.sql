-- Sessions ended before their token's exp (issue 26, item 12), so that a restart does not bring
-- them back: tokens signed out (by the SHA-256 of the token, never the token), kept until the
-- token's exp, and users whose sessions an admin ended (their tokens issued up to `ended_at`,
-- in Unix seconds, are refused).
CREATE TABLE ended_tokens (
    digest TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE ended_users (
    organization_id TEXT NOT NULL,
    sub TEXT NOT NULL,
    ended_at BIGINT NOT NULL,
    PRIMARY KEY (organization_id, sub)
);
