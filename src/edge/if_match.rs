//! `If-Match`, read the same way on every route that takes one: absent, `*`, or one strong ETag
//! (`"3"`). A header that is neither is a 422 naming it; a route that needs one asks
//! [`IfMatchHeader::required`] and answers 428 without it. Extraction never fails by itself: the
//! handler asks when the route's order of checks says (after the path's 404s, say).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};

use crate::domain::documents::IfMatch;
use crate::error::ApiError;

/// The request's `If-Match`, parsed.
#[derive(Debug, Clone, Copy)]
pub struct IfMatchHeader(Result<Option<IfMatch>, Malformed>);

/// Why a present `If-Match` is not one the API takes.
#[derive(Debug, Clone, Copy)]
enum Malformed {
    NotAscii,
    NotAnEtag,
}

impl IfMatchHeader {
    /// The precondition if one was sent.
    pub fn optional(self) -> Result<Option<IfMatch>, ApiError> {
        self.0.map_err(|malformed| {
            let detail = match malformed {
                Malformed::NotAscii => "must be visible ASCII",
                Malformed::NotAnEtag => "must be * or one strong ETag like \"3\"",
            };
            ApiError::field("/header/If-Match", detail)
        })
    }

    /// The precondition, where the route needs one: 428 without it.
    pub fn required(self) -> Result<IfMatch, ApiError> {
        self.optional()?.ok_or_else(|| {
            ApiError::PreconditionRequired("send If-Match with the ETag of the version you edited".into())
        })
    }
}

impl FromRequest for IfMatchHeader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(parse(req))))
    }
}

fn parse(req: &HttpRequest) -> Result<Option<IfMatch>, Malformed> {
    let Some(value) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().map_err(|_| Malformed::NotAscii)?;
    IfMatch::parse(text).map(Some).ok_or(Malformed::NotAnEtag)
}
