//! The one error type, shared by every layer, and the RFC 9457 body that describes it. It knows
//! nothing of the web framework: `edge::problem` sends it as `application/problem+json`.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// One failing field of a request, located by a JSON Pointer into the submitted body
/// (or `/query/<name>`, `/path/<name>`, `/header/<name>` for the other parts of a request).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    pub pointer: String,
    pub message: String,
}

/// A 422 lists at most this many field errors; one more entry (pointer `""`) counts the rest.
pub const MAX_REPORTED_ERRORS: usize = 100;
/// A field error's message is cut after this many characters (messages may quote the value).
pub const MAX_MESSAGE_CHARS: usize = 300;

impl FieldError {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), message: message.into() }
    }

    /// The first `MAX_REPORTED_ERRORS` errors and, if there were more, `{"pointer": "", "message":
    /// "and N more errors"}`; a message that quotes a large value is cut at
    /// `MAX_MESSAGE_CHARS`. A huge invalid body cannot make a huge answer.
    pub fn capped(errors: impl Iterator<Item = Self>) -> Vec<Self> {
        let mut errors = errors;
        let mut out: Vec<Self> = errors
            .by_ref()
            .take(MAX_REPORTED_ERRORS)
            .map(|mut e| {
                if let Some((cut, _)) = e.message.char_indices().nth(MAX_MESSAGE_CHARS) {
                    e.message.truncate(cut);
                    e.message.push('…');
                }
                e
            })
            .collect();
        let rest = errors.count();
        if rest > 0 {
            out.push(Self::new("", format!("and {rest} more errors")));
        }
        out
    }
}

/// The RFC 9457 body, as documented in the OpenAPI spec.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Present on validation failures: every failing field, or the first 100 and a last entry
    /// with pointer `""` counting the rest (`"and 1234 more errors"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Present on 412: the current version's metadata (and content where the caller may read it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Value>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// A 400 naming the parameters it is about (FHIR answers a search it cannot run with 400,
    /// where our JSON API answers 422).
    #[error("the request's parameters are wrong")]
    BadParameters(Vec<FieldError>),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// None of the formats the request accepts is served (FHIR's XML, for one).
    #[error("{0}")]
    NotAcceptable(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Gone(String),
    #[error("{detail}")]
    PreconditionFailed { detail: String, current: Option<Value> },
    #[error("{0}")]
    PreconditionRequired(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("request failed validation")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    ServiceUnavailable(String),
    /// The database broke a deadlock or a serialisation conflict by failing this transaction
    /// (SQLSTATE 40P01, 40001). Nothing of it was kept: the committer runs its batch again, and
    /// only a batch that keeps meeting it is answered (503, like any passing condition).
    #[error("{0}")]
    Contended(String),
    /// A per-caller limit refused the request; `Retry-After` says when to come back.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after_secs: u64 },
    /// Too little free disk for the work asked (an export's files).
    #[error("{0}")]
    InsufficientStorage(String),
    /// The cause is logged with the request id; the caller only learns that it failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// One failing field: the common case of a 422.
    pub fn field(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(pointer, message)])
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The HTTP status this error stands for.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) | Self::BadParameters(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed => 405,
            Self::NotAcceptable(_) => 406,
            Self::Conflict(_) => 409,
            Self::Gone(_) => 410,
            Self::PreconditionFailed { .. } => 412,
            Self::PreconditionRequired(_) => 428,
            Self::PayloadTooLarge(_) => 413,
            Self::UnsupportedMediaType(_) => 415,
            Self::Validation(_) => 422,
            Self::ServiceUnavailable(_) | Self::Contended(_) => 503,
            Self::TooManyRequests { .. } => 429,
            Self::InsufficientStorage(_) => 507,
            Self::Internal(_) => 500,
        }
    }
}

impl ApiError {
    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) | Self::BadParameters(_) => ("bad-request", "Bad request"),
            Self::Unauthorized(_) => ("unauthorized", "Unauthorized"),
            Self::Forbidden(_) => ("forbidden", "Forbidden"),
            Self::NotFound(_) => ("not-found", "Not found"),
            Self::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            Self::NotAcceptable(_) => ("not-acceptable", "Not acceptable"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::Gone(_) => ("gone", "Gone"),
            Self::PreconditionFailed { .. } => ("precondition-failed", "Precondition failed"),
            Self::PreconditionRequired(_) => ("precondition-required", "Precondition required"),
            Self::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Self::Validation(_) => ("validation", "Request failed validation"),
            Self::ServiceUnavailable(_) | Self::Contended(_) => ("service-unavailable", "Service unavailable"),
            Self::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            Self::InsufficientStorage(_) => ("insufficient-storage", "Insufficient storage"),
            Self::Internal(_) => ("internal", "Internal error"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let detail = match self {
            Self::Internal(_) => {
                "the request could not be completed; quote the X-Request-Id header when reporting this".to_owned()
            }
            Self::Validation(errors) | Self::BadParameters(errors) => match errors.as_slice() {
                [one] => format!("{}: {}", one.pointer, one.message),
                many if many.len() > MAX_REPORTED_ERRORS => {
                    format!("more than {MAX_REPORTED_ERRORS} fields failed validation; the first are listed")
                }
                many => format!("{} fields failed validation", many.len()),
            },
            other => other.to_string(),
        };
        Problem {
            kind: format!("https://carepath.example/problems/{slug}"),
            title: title.to_owned(),
            status: self.status(),
            detail,
            errors: match self {
                Self::Validation(errors) | Self::BadParameters(errors) => errors.clone(),
                _ => Vec::new(),
            },
            current: match self {
                Self::PreconditionFailed { current, .. } => current.clone(),
                _ => None,
            },
        }
    }
}

impl From<crate::limits::Refusal> for ApiError {
    fn from(r: crate::limits::Refusal) -> Self {
        let detail = match r.limit {
            "long_poll" => "too many change-feed long-polls open for this caller; close one or retry later",
            "organization" => "your organisation is over its request rate; retry after the time Retry-After gives",
            "organization_share" => {
                "you are using more than your share of your organisation's request rate; retry after the time Retry-After gives"
            }
            "stream" => "too many vacancy streams open for this caller; close one or retry later",
            "stream_organization" => "too many vacancy streams open for your organisation; close one or retry later",
            "streams" => "the server holds as many vacancy streams as it allows; retry later",
            _ => "you are over your request rate; retry after the time Retry-After gives",
        };
        Self::TooManyRequests { detail: detail.to_owned(), retry_after_secs: r.retry_after_secs }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => Self::NotFound("not found".into()),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                Self::Contended(info.message().into())
            }
            // diesel names no kind for 40P01 and hides the SQLSTATE, so the deadlock is known by
            // PostgreSQL's message; a server whose `lc_messages` is not English answers it as a
            // failed write, as before (the README's operations section says to keep it `C`).
            Error::DatabaseError(_, info) if info.message() == "deadlock detected" => {
                Self::Contended(info.message().into())
            }
            other => Self::internal(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %e, "database pool unavailable");
        Self::ServiceUnavailable("the database is unavailable".into())
    }
}
