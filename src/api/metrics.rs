//! `GET /metrics`: the service's metrics in the Prometheus text format.

use actix_web::{HttpResponse, web};

use crate::access;
use crate::auth::Caller;
use crate::db::audit::CheckpointRow;
use crate::db::patients::PatientRow;
use crate::error::{ApiError, Problem};
use crate::metrics::{Scraped, render};
use crate::state::AppState;

/// The service's metrics in the Prometheus text format: on the API's address, for the operator's
/// admin only (they show erasures and traffic by route, which no organisation should watch).
/// With `--metrics-bind` they are served there, without a token, and not here. Counts, timings
/// and gauges by route pattern and status; never an id, a path or a caller.
#[utoipa::path(get, path = "/metrics", tag = "health", security(("bearer" = [])),
    responses((status = 200, description = "Prometheus text exposition format 0.0.4",
        content_type = "text/plain; version=0.0.4", body = String),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn metrics_on_api(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    if !access::is_operator(&caller, &state.settings.operator_org) {
        return Err(ApiError::Forbidden(
            "only the operator's admin reads /metrics here; a scraper reads it on --metrics-bind".into(),
        ));
    }
    Ok(metrics(state).await)
}

/// The metrics, unauthenticated: for the private `--metrics-bind` listener only.
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
