//! Webhook delivery (`--webhook-*`).

/// Delivery of webhooks (docs/webhooks.md).
#[derive(Debug, Clone, clap::Args)]
pub struct WebhookSettings {
    /// Seconds a subscription keeps retrying a failing delivery before it is marked failing.
    #[arg(long = "webhook-retry-secs", env = "CAREPATH_WEBHOOK_RETRY_SECS", default_value_t = 24 * 3600)]
    pub retry_secs: u64,

    /// First retry delay in milliseconds; it doubles per failed attempt (with jitter)...
    #[arg(long = "webhook-backoff-ms", env = "CAREPATH_WEBHOOK_BACKOFF_MS", default_value_t = 1000)]
    pub backoff_ms: u64,

    /// ...up to this many seconds.
    #[arg(long = "webhook-backoff-max-secs", env = "CAREPATH_WEBHOOK_BACKOFF_MAX_SECS", default_value_t = 3600)]
    pub backoff_max_secs: u64,

    /// Seconds one delivery (connect, send, answer) may take.
    #[arg(long = "webhook-timeout-secs", env = "CAREPATH_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub timeout_secs: u64,

    /// Seconds an instance's claim on a subscription lasts unless renewed; must exceed the
    /// time-out, or another instance could take over during a slow delivery.
    #[arg(long = "webhook-lease-secs", env = "CAREPATH_WEBHOOK_LEASE_SECS", default_value_t = 60)]
    pub lease_secs: u64,

    /// Milliseconds between looks for due subscriptions when no local commit wakes the worker
    /// (commits by other instances, retries coming due).
    #[arg(long = "webhook-poll-ms", env = "CAREPATH_WEBHOOK_POLL_MS", default_value_t = 1000)]
    pub poll_ms: u64,

    /// Subscriptions delivered at the same time by this instance.
    #[arg(long = "webhook-concurrency", env = "CAREPATH_WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub concurrency: usize,

    /// Deliveries one organisation may have in flight at once on this instance, so that its slow
    /// receivers cannot take every slot (`--webhook-concurrency`) from the others.
    #[arg(long = "webhook-org-concurrency", env = "CAREPATH_WEBHOOK_ORG_CONCURRENCY", default_value_t = 4)]
    pub org_concurrency: usize,

    /// Subscriptions one organisation may hold.
    #[arg(long = "webhook-max-subscriptions", env = "CAREPATH_WEBHOOK_MAX_SUBSCRIPTIONS", default_value_t = 50)]
    pub max_per_organization: i64,

    /// Allow endpoints on loopback addresses (and plain `http://` to them): local bridges and
    /// tests only.
    #[arg(long = "webhook-allow-loopback", env = "CAREPATH_WEBHOOK_ALLOW_LOOPBACK", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_loopback: bool,

    /// Allow endpoints on private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).
    /// Link-local and cloud-metadata addresses stay refused.
    #[arg(long = "webhook-allow-private", env = "CAREPATH_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_private: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            retry_secs: 24 * 3600,
            backoff_ms: 1000,
            backoff_max_secs: 3600,
            timeout_secs: 10,
            lease_secs: 60,
            poll_ms: 1000,
            concurrency: 16,
            org_concurrency: 4,
            max_per_organization: 50,
            allow_loopback: false,
            allow_private: false,
        }
    }
}
