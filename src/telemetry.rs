//! Structured logs. Events carry ids, routes, statuses and timings; never patient data.

use std::sync::atomic::{AtomicU64, Ordering};

use tracing_subscriber::EnvFilter;

/// Requests refused with 401 since the process started.
static UNAUTHENTICATED: AtomicU64 = AtomicU64::new(0);

/// Counts a request refused for want of a valid token. A 401 has no trustworthy actor, so it is
/// counted rather than audited: an audit event per anonymous request would let anyone write to
/// the undeletable log (and a log line per request, to the logs) at will; a counter costs
/// nothing however many arrive. `GET /metrics` shows it.
pub fn count_unauthenticated() {
    UNAUTHENTICATED.fetch_add(1, Ordering::Relaxed);
}

/// How many requests were refused with 401 since the process started.
pub fn unauthenticated_count() -> u64 {
    UNAUTHENTICATED.load(Ordering::Relaxed)
}

/// Logs to stderr; `CAREPATH_LOG` (or `RUST_LOG`) sets the filter, `CAREPATH_LOG_FORMAT=json`
/// switches to one JSON object per line for log shippers. Colours only on a terminal: written to
/// a file or a pipe, escape codes would garble the log.
pub fn init() {
    use std::io::IsTerminal;
    let filter =
        std::env::var("CAREPATH_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".to_owned());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let result = if std::env::var("CAREPATH_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests) keeps the first subscriber; nothing is lost.
    drop(result);
}
