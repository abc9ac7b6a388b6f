//! Operational metrics, served as Prometheus text at `GET /metrics`.
//!
//! One process-wide registry, so that any part of the service (the committer thread, the
//! change feed) records without reaching for the application state. Labels are bounded sets
//! chosen here (route patterns, status codes, methods): never an id, a path or a caller, so the
//! endpoint discloses nothing about patients and its size does not grow with traffic.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Every metric carepath keeps.
struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    rate_limited: IntCounterVec,
    unauthenticated: IntGauge,
    pool_connections: IntGaugeVec,
    pool_wait: Histogram,
    pool_timeouts: IntCounter,
    audit_unsigned: IntGauge,
    long_polls: IntGauge,
    committer_queue: IntGauge,
    committer_batch: Histogram,
    committer_retries: IntCounter,
    committer_lock_wait: Histogram,
    rewrap_pending: IntGauge,
}

/// Seconds: from a cached read to a long-poll that ran its full minute.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0];
const WAIT_BUCKETS: &[f64] = &[0.0001, 0.001, 0.005, 0.025, 0.1, 0.5, 1.0, 5.0];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

impl Metrics {
    fn new() -> prometheus::Result<Self> {
        let registry = Registry::new_custom(Some("carepath".into()), None)?;
        let m = Self {
            requests: IntCounterVec::new(
                Opts::new("http_requests_total", "HTTP requests answered, by method, route pattern and status"),
                &["method", "route", "status"],
            )?,
            latency: HistogramVec::new(
                HistogramOpts::new("http_request_duration_seconds", "Time to answer, by method and route pattern")
                    .buckets(LATENCY_BUCKETS.to_vec()),
                &["method", "route"],
            )?,
            rate_limited: IntCounterVec::new(
                Opts::new("http_rate_limited_total", "Requests refused with 429, by the limit that refused them"),
                &["limit"],
            )?,
            unauthenticated: IntGauge::new(
                "http_unauthenticated_total",
                "Requests refused with 401 since the process started (counted, not audited)",
            )?,
            pool_connections: IntGaugeVec::new(
                Opts::new("db_pool_connections", "Database connections of the request pool, by state"),
                &["state"],
            )?,
            pool_wait: Histogram::with_opts(
                HistogramOpts::new("db_pool_wait_seconds", "Time a request waited for a database connection")
                    .buckets(WAIT_BUCKETS.to_vec()),
            )?,
            pool_timeouts: IntCounter::new(
                "db_pool_timeouts_total",
                "Requests that got no database connection in time (answered 503)",
            )?,
            audit_unsigned: IntGauge::new(
                "audit_events_since_checkpoint",
                "Audit events after the last signed checkpoint (what an offline verifier cannot yet prove)",
            )?,
            long_polls: IntGauge::new("changes_long_poll_waiters", "Change-feed requests waiting for a change")?,
            committer_queue: IntGauge::new("committer_queue_depth", "Writes waiting for the committer")?,
            committer_batch: Histogram::with_opts(
                HistogramOpts::new("committer_batch_size", "Writes committed together in one transaction")
                    .buckets(BATCH_BUCKETS.to_vec()),
            )?,
            committer_retries: IntCounter::new(
                "committer_retries_total",
                "Commit batches run again because the database failed them for a deadlock or a serialisation conflict",
            )?,
            committer_lock_wait: Histogram::with_opts(
                HistogramOpts::new(
                    "committer_lock_wait_seconds",
                    "Time a commit batch waited for the rows every batch locks (other instances' batches hold them)",
                )
                .buckets(WAIT_BUCKETS.to_vec()),
            )?,
            rewrap_pending: IntGauge::new(
                "keys_rewrap_pending",
                "Data keys still wrapped by an older master key (a key rotation's remaining work)",
            )?,
            registry,
        };
        m.registry.register(Box::new(m.requests.clone()))?;
        m.registry.register(Box::new(m.latency.clone()))?;
        m.registry.register(Box::new(m.rate_limited.clone()))?;
        m.registry.register(Box::new(m.unauthenticated.clone()))?;
        m.registry.register(Box::new(m.pool_connections.clone()))?;
        m.registry.register(Box::new(m.pool_wait.clone()))?;
        m.registry.register(Box::new(m.pool_timeouts.clone()))?;
        m.registry.register(Box::new(m.audit_unsigned.clone()))?;
        m.registry.register(Box::new(m.long_polls.clone()))?;
        m.registry.register(Box::new(m.committer_queue.clone()))?;
        m.registry.register(Box::new(m.committer_batch.clone()))?;
        m.registry.register(Box::new(m.committer_retries.clone()))?;
        m.registry.register(Box::new(m.committer_lock_wait.clone()))?;
        m.registry.register(Box::new(m.rewrap_pending.clone()))?;
        Ok(m)
    }
}

/// The registry, or `None` if it could not be built (then nothing is recorded, and the failure
/// is logged once; metrics must never take a request down with them).
fn metrics() -> Option<&'static Metrics> {
    static METRICS: LazyLock<Option<Metrics>> = LazyLock::new(|| {
        Metrics::new().inspect_err(|e| tracing::error!(error = %e, "metrics registry not built")).ok()
    });
    METRICS.as_ref()
}

/// One request answered: `route` is its pattern (`/v1/documents/{id}`), never its path.
pub fn http_request(method: &str, route: &str, status: &str, seconds: f64) {
    if let Some(m) = metrics() {
        m.requests.with_label_values(&[method, route, status]).inc();
        m.latency.with_label_values(&[method, route]).observe(seconds);
    }
}

/// The committer committed `size` writes in one transaction.
pub fn committer_batch(size: usize) {
    if let Some(m) = metrics() {
        m.committer_batch.observe(size as f64);
    }
}

/// A commit batch is run again after the database failed it for contention.
pub fn committer_retry() {
    if let Some(m) = metrics() {
        m.committer_retries.inc();
    }
}

/// A commit batch waited `waited` for the rows every batch locks.
pub fn committer_lock_wait(waited: Duration) {
    if let Some(m) = metrics() {
        m.committer_lock_wait.observe(waited.as_secs_f64());
    }
}

/// Writes now waiting for the committer.
pub fn committer_queue_depth(depth: usize) {
    if let Some(m) = metrics() {
        m.committer_queue.set(i64::try_from(depth).unwrap_or(i64::MAX));
    }
}

/// A request waited `waited` for a database connection; `got` says whether it got one.
pub fn pool_wait(waited: Duration, got: bool) {
    if let Some(m) = metrics() {
        m.pool_wait.observe(waited.as_secs_f64());
        if !got {
            m.pool_timeouts.inc();
        }
    }
}

/// A request was refused with 429 by `limit` (`subject`, `organization`, `long_poll`).
pub fn rate_limited(limit: &'static str) {
    if let Some(m) = metrics() {
        m.rate_limited.with_label_values(&[limit]).inc();
    }
}

/// Counts a long-poll while it waits: hold the guard for the wait.
pub struct LongPollGauge(());

impl LongPollGauge {
    pub fn start() -> Self {
        if let Some(m) = metrics() {
            m.long_polls.inc();
        }
        Self(())
    }
}

impl Drop for LongPollGauge {
    fn drop(&mut self) {
        if let Some(m) = metrics() {
            m.long_polls.dec();
        }
    }
}

/// Gauges read when the metrics are scraped (the scraper's caller measures them).
#[derive(Debug, Default)]
pub struct Scraped {
    pub pool_idle: u32,
    pub pool_in_use: u32,
    /// `None` when the database did not answer: the gauge keeps its last value.
    pub audit_since_checkpoint: Option<i64>,
    pub rewrap_pending: Option<i64>,
    pub unauthenticated: u64,
}

/// Every metric in the Prometheus text format (0.0.4), after setting the scraped gauges.
pub fn render(scraped: &Scraped) -> String {
    let Some(m) = metrics() else { return String::new() };
    m.pool_connections.with_label_values(&["idle"]).set(i64::from(scraped.pool_idle));
    m.pool_connections.with_label_values(&["in_use"]).set(i64::from(scraped.pool_in_use));
    m.unauthenticated.set(i64::try_from(scraped.unauthenticated).unwrap_or(i64::MAX));
    if let Some(n) = scraped.audit_since_checkpoint {
        m.audit_unsigned.set(n);
    }
    if let Some(n) = scraped.rewrap_pending {
        m.rewrap_pending.set(n);
    }
    let mut text = String::new();
    if let Err(e) = prometheus::TextEncoder::new().encode_utf8(&m.registry.gather(), &mut text) {
        tracing::warn!(error = %e, "metrics could not be encoded");
    }
    text
}
