//! How a client says where it is in a change feed: the `since`/`limit` query of both polled
//! feeds (the record's and the vacancy board's), and `Last-Event-ID` when an event stream
//! reconnects. Both are checked in the domain ([`Cursor`]); here they are only read.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::fields::Errors;
use crate::domain::params::Cursor;
use crate::error::ApiError;

/// Taken as text: `since` is an opaque cursor, and a malformed or out-of-range number gets one
/// message stating the range.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// The `next_cursor` of the previous answer (or a stream event's id); `0` (the default)
    /// starts at the beginning.
    #[param(value_type = Option<String>, example = "0", pattern = "^[0-9]{1,18}$")]
    pub since: Option<String>,
    /// Changes per answer at most (1–1000, default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

impl FeedParams {
    /// The cursor, with every bad parameter named in one 422.
    pub fn cursor(&self) -> Result<Cursor, ApiError> {
        let mut errors = Errors::default();
        let cursor = Cursor::parse(&mut errors, self.since.as_deref(), self.limit.as_deref());
        errors.finish()?;
        Ok(cursor)
    }
}

/// A stream's `Last-Event-ID`: the sequence number of the last event the client received, or
/// `None` when it is connecting afresh. Anything but 1–18 digits is a 422 naming the header.
#[derive(Debug, Clone, Copy)]
pub struct LastEventId(pub Option<i64>);

impl FromRequest for LastEventId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get("Last-Event-ID") else { return ready(Ok(LastEventId(None))) };
        let seq = value
            .to_str()
            .ok()
            .filter(|t| (1..=18).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<i64>().ok());
        ready(
            seq.map(|s| LastEventId(Some(s)))
                .ok_or_else(|| ApiError::field("/header/Last-Event-ID", "must be an event id (digits)")),
        )
    }
}
