-- Webhook subscriptions: an organisation's endpoint, what it wants, its signing secret (wrapped
-- by the master keyring, never in clear) and its delivery state. `delivered_seq` is the cursor in
-- the change feed: everything at or below it was delivered or skipped. `lease_owner` and
-- `lease_until` let one carepath instance at a time deliver a subscription (an instance claims
-- a row whose lease is free or expired with one UPDATE), so several instances on one database
-- never send the same change twice at once.
CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL,
    role TEXT NOT NULL,
    purpose TEXT NOT NULL,
    url TEXT NOT NULL,
    doc_types TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    secret_kid TEXT NOT NULL,
    status TEXT NOT NULL,
    delivered_seq BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    failing_since TEXT,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    last_error_at TEXT,
    last_delivered_at TEXT,
    lease_owner TEXT,
    lease_until TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX subscriptions_org ON subscriptions (organization_id, created_at);
CREATE INDEX subscriptions_due ON subscriptions (status, next_attempt_at);
