//! `GET /metrics`: the service's metrics in the Prometheus text format.

use actix_web::{HttpResponse, web};

use crate::db::audit::CheckpointRow;
use crate::db::patients::PatientRow;
use crate::metrics::{Scraped, render};
use crate::state::AppState;

/// The service's metrics in the Prometheus text format. No token: in production serve it on a
/// private address of its own (`--metrics-bind`). Counts, timings and gauges by route pattern
/// and status; never an id, a path or a caller.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4",
        content_type = "text/plain; version=0.0.4", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.state();
    let mut scraped = Scraped {
        pool_idle: pool.idle_connections,
        pool_in_use: pool.connections.saturating_sub(pool.idle_connections),
        unauthenticated: crate::telemetry::unauthenticated_count(),
        ..Scraped::default()
    };
    let current_kid = state.keys().current_kid().to_owned();
    let counted = crate::db::run(&state.pool, move |conn| {
        let (head, _) = crate::db::audit::head(conn)?;
        let signed = CheckpointRow::latest(conn)?.map_or(0, |c| c.seq);
        Ok((head - signed, PatientRow::count_wrapped_by_other(conn, &current_kid)?))
    })
    .await;
    match counted {
        Ok((unsigned, pending)) => {
            scraped.audit_since_checkpoint = Some(unsigned);
            scraped.rewrap_pending = Some(pending);
        }
        // A database that is down shows in the pool gauges and in /healthz; the scrape answers.
        Err(e) => tracing::debug!(error = %e, "metrics: database gauges not refreshed"),
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(render(&scraped))
}
