-- Console accounts (issue 30): people who sign in with a password and a TOTP authenticator.
-- An admin's invite creates the row with the SHA-256 of a one-time code (never the code); the
-- person sets the password (an Argon2id PHC string) and enrols the authenticator, whose secret
-- is kept wrapped by the master keyring (`totp_secret`, `totp_kid`), never in clear. Times are
-- Unix seconds of the service's clock.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    login TEXT NOT NULL UNIQUE,
    organization_id TEXT NOT NULL,
    sub TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    totp_secret TEXT,
    totp_kid TEXT,
    totp_enrolled BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    invite_hash TEXT,
    invite_expires_at BIGINT,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    factor_reset_at BIGINT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX accounts_org_sub ON accounts (organization_id, sub);
CREATE UNIQUE INDEX accounts_invite ON accounts (invite_hash);

-- One-time recovery codes: SHA-256 of each (they are 80 random bits, so a fast hash suffices).
CREATE TABLE account_recovery_codes (
    account_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (account_id, code_hash)
);

-- Server-side console sessions. The cookie holds a random 256-bit id; the row holds only its
-- SHA-256 (`id_hash`), so a copy of the table opens no session. `public_id` names the session
-- in listings and revocations. The caller (`organization_id`, `sub`, `role`) is the one the
-- token path builds. `expires_at` is the absolute time-out; idle time is judged by `last_seen_at`.
CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    public_id TEXT NOT NULL UNIQUE,
    account_id TEXT,
    organization_id TEXT NOT NULL,
    sub TEXT NOT NULL,
    role TEXT NOT NULL,
    how TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX console_sessions_user ON console_sessions (organization_id, sub);
