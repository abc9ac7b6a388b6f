//! The HTTP face of `ApiError`: every failure, ours or the framework's, leaves as RFC 9457
//! `application/problem+json`; internal causes are logged, never sent.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};

use crate::error::ApiError;

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        if let Self::Unauthorized(_) = self {
            response.insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#));
        }
        if let Self::TooManyRequests { retry_after_secs, .. } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        // Every 503 here is a passing condition (a full committer queue, a busy pool, a failed
        // commit): say when to come back, so clients back off instead of retrying at once.
        if let Self::ServiceUnavailable(_) | Self::Contended(_) = self {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        response.body(serde_json::to_vec(&self.problem()).unwrap_or_default())
    }
}

/// `error` as problem+json under `status`, which the body states too.
pub(super) fn problem_response(error: &ApiError, status: StatusCode) -> HttpResponse {
    let mut problem = error.problem();
    if problem.status != status.as_u16() {
        problem.status = status.as_u16();
        if let Some(reason) = status.canonical_reason() {
            problem.title = reason.to_owned();
        }
    }
    HttpResponse::build(status).insert_header((header::CONTENT_TYPE, PROBLEM_JSON)).json(problem)
}

/// Rewrites any error response that is not already problem+json (the framework's own 404, 405,
/// 413, ... with their empty or text bodies) as problem+json with the same status and headers.
pub fn bare_error_as_problem<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // The console's own error pages are HTML and stay HTML.
    let is_problem = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        // FHIR routes answer OperationOutcomes, which stay as they are too.
        [PROBLEM_JSON.as_bytes(), b"text/html", crate::fhir::FHIR_JSON.as_bytes()]
            .iter()
            .any(|kind| v.as_bytes().starts_with(kind))
    });
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound("no such resource".into()),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge("the request body is over the size limit".into()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType("unsupported content type".into()),
        s if s.is_server_error() => ApiError::internal(format!("framework answered {s}")),
        s => ApiError::BadRequest(s.canonical_reason().unwrap_or("bad request").to_lowercase()),
    };
    let (req, old) = res.into_parts();
    if error.status() >= 500 {
        let _logged = error.error_response();
    }
    let mut new = problem_response(&error, status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, new).map_into_right_body()))
}
