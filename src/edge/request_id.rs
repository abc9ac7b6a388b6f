//! `X-Request-Id` on every response (the caller's, when it sends a sane one) and one log line per
//! request. The line names the route pattern, never the concrete path or query: those can carry
//! patient identifiers.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, for handlers that record it (the audit log does).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn accept(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let sane = !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    sane.then(|| s.to_owned())
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req.headers().get(HEADER).and_then(accept).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let route = super::metrics::Route::of(&req);
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route);
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let _entered = span.enter();
    tracing::info!(status = res.status().as_u16(), elapsed_ms = started.elapsed().as_secs_f64() * 1e3, "served");
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, value);
    }
    Ok(res)
}
