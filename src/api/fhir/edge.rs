//! The edge of `/v1/fhir`: format negotiation (`_format`, `Accept`: JSON only, XML is 406) and
//! errors as `OperationOutcome`. Every failure under `/v1/fhir` (ours, an extractor's, the
//! router's 404 and 405) leaves as `application/fhir+json`; the JSON API keeps problem+json.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};

use crate::error::ApiError;
use crate::fhir::FHIR_JSON;
use crate::fhir::server::outcome;

/// Error bodies longer than this are not read back (ours are far smaller).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Whether a media range admits a JSON answer (FHIR JSON, NDJSON files, plain JSON).
fn admits_json(range: &str) -> bool {
    let m = range.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    matches!(
        m.as_str(),
        "" | "*/*"
            | "application/*"
            | "application/json"
            | "application/fhir+json"
            | "application/json+fhir"
            | "application/fhir+ndjson"
            | "application/ndjson"
            | "json"
            | "ndjson"
    )
}

/// Refuses a request that accepts no format served: `_format` other than JSON, or an `Accept`
/// without any JSON range.
pub fn negotiate(req: &HttpRequest) -> Result<(), ApiError> {
    let format = form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == "_format").map(|(_, v)| v);
    if let Some(f) = &format
        && !admits_json(f)
    {
        return Err(ApiError::NotAcceptable(format!(
            "_format={f}: this server answers JSON only (application/fhir+json)"
        )));
    }
    let accept: Vec<String> = req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if format.is_none() && !accept.is_empty() && !accept.iter().any(|a| admits_json(a)) {
        return Err(ApiError::NotAcceptable(format!(
            "Accept: {}: this server answers JSON only (application/fhir+json)",
            accept.join(", ")
        )));
    }
    Ok(())
}

/// An OperationOutcome answer.
fn outcome_response(status: StatusCode, problem: Option<&serde_json::Value>) -> HttpResponse {
    let body = outcome::from_problem(status.as_u16(), problem);
    HttpResponse::build(status).insert_header((header::CONTENT_TYPE, FHIR_JSON)).body(body.to_string())
}

/// The middleware of `/v1/fhir`.
pub async fn fhir_edge(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Err(refusal) = negotiate(req.request()) {
        let problem = serde_json::to_value(refusal.problem()).ok();
        let status = StatusCode::NOT_ACCEPTABLE;
        return Ok(req.into_response(outcome_response(status, problem.as_ref())));
    }
    let res = next.call(req).await?;
    let status = res.status();
    let fhir = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(FHIR_JSON.as_bytes()));
    if status.as_u16() < 400 || fhir {
        return Ok(res.map_into_boxed_body());
    }
    let (req, old) = res.into_parts();
    let headers = old.headers().clone();
    let body = actix_web::body::to_bytes_limited(old.into_body(), MAX_ERROR_BODY).await;
    let problem: Option<serde_json::Value> =
        body.ok().and_then(Result::ok).and_then(|b| serde_json::from_slice(&b).ok());
    let mut new = outcome_response(status, problem.as_ref());
    for (name, value) in &headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(req, new))
}
