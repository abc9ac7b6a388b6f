//! The HTTP face of `ApiError`: every failure, ours or the framework's, leaves as RFC 9457
//! `application/problem+json`; internal causes are logged, never sent.

use actix_web::http::{StatusCode, header};
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
