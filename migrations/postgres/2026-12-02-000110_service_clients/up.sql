-- Service clients (issue 30): vendors' systems registered by an organisation's admin with a
-- public key (a JWKS or one PEM key, as JSON text in `public_keys`), the role their tokens carry
-- and the scopes they may ask for (space-separated). They obtain short-lived tokens at
-- `POST /v1/auth/token` with a signed assertion (RFC 7523).
CREATE TABLE service_clients (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    scopes TEXT NOT NULL,
    public_keys TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX service_clients_org ON service_clients (organization_id);
-- Assertions already used (their `jti`), kept until the assertion's `exp`: a replay is refused.
CREATE TABLE client_assertions (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
