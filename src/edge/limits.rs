//! Bounds every request meets before any route: a time limit (503 past
//! `--request-timeout-secs`) and a size limit on the request's head (431).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web;

use super::problem::problem_response;
use crate::error::ApiError;
use crate::state::AppState;

/// Answers 503 for a request still running after `--request-timeout-secs`. Database work already
/// handed to a blocking thread still finishes (a write may commit): retry with the same
/// `Idempotency-Key`. The answer is an error, not a response: building a response needs the
/// request, and a copy of it kept here would stop the router from routing it.
pub async fn time_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let limit = req.app_data::<web::Data<AppState>>().map_or(0, |s| s.settings.request_timeout_secs);
    if limit == 0 {
        return next.call(req).await;
    }
    match actix_web::rt::time::timeout(std::time::Duration::from_secs(limit), next.call(req)).await {
        Ok(res) => res,
        Err(_) => {
            Err(ApiError::ServiceUnavailable(format!("the request took longer than {limit} s and was abandoned"))
                .into())
        }
    }
}

/// Request headers (names and values) beyond this many bytes are refused with 431 problem+json.
/// Heads over actix's own limit (128 KiB, or more than 96 headers) and malformed heads never
/// reach the application: actix-http's h1 dispatcher answers them itself (a bare 431 or 400
/// with no body) and offers no hook to render them; see `docs/roles.md`, residual risks.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

pub async fn bounded_head(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let size: usize = req.headers().iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if size > MAX_HEAD_BYTES {
        let status = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
        let error = ApiError::BadRequest(format!("the request headers exceed {MAX_HEAD_BYTES} bytes"));
        let response = problem_response(&error, status);
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
