//! Structured logs. Events carry ids, routes, statuses and timings; never patient data.

use tracing_subscriber::EnvFilter;

/// Logs to stderr; `CAREPATH_LOG` (or `RUST_LOG`) sets the filter, `CAREPATH_LOG_FORMAT=json`
/// switches to one JSON object per line for log shippers.
pub fn init() {
    let filter =
        std::env::var("CAREPATH_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".to_owned());
    let builder = tracing_subscriber::fmt().with_env_filter(EnvFilter::new(filter)).with_writer(std::io::stderr);
    let result = if std::env::var("CAREPATH_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests) keeps the first subscriber; nothing is lost.
    drop(result);
}
