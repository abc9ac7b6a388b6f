//! The middleware that counts and times every request, by route pattern.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

/// The method as a label: the standard ones by name, anything else (a client may send any
/// token) as `other`, so the label set stays bounded.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The request's route pattern, found once by [`track`] (the outermost middleware): finding it
/// walks the whole route table's patterns, and the log line needs it too.
pub struct Route(pub String);

impl Route {
    pub fn of(req: &ServiceRequest) -> String {
        match req.extensions().get::<Route>() {
            Some(route) => route.0.clone(),
            None => req.match_pattern().unwrap_or_else(|| "unmatched".to_owned()),
        }
    }
}

/// Counts and times every request by its route pattern (`/v1/documents/{id}`), never its path.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    req.extensions_mut().insert(Route(route.clone()));
    let method = method_label(req.method());
    let started = Instant::now();
    let result = next.call(req).await;
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    crate::metrics::http_request(method, &route, status.as_str(), started.elapsed().as_secs_f64());
    result
}
