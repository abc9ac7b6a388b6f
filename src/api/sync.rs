//! Sync over HTTP: the change feed and batch upload, thin handlers around `crate::domain::sync`.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::extract::json::ApiJson;
use crate::api::extract::query::ApiQuery;
use crate::audit::Event;
use crate::context::Context;
use crate::domain::fields::Errors;

use crate::api::problem::PROBLEM_JSON;
use crate::domain::sync::{
    self, BatchInput, BatchResults, ChangePage, DEFAULT_LIMIT, FeedQuery, MAX_LIMIT, MAX_WAIT_SECS,
};
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Taken as text: `since` is an opaque cursor, and a malformed or out-of-range number gets one
/// message stating the range.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// The `next_cursor` of the previous answer; `0` (the default) starts at the beginning.
    #[param(value_type = Option<String>, example = "0", pattern = "^[0-9]{1,18}$")]
    pub since: Option<String>,
    /// Changes per answer at most (1–1000, default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// Seconds to wait for a change when there is none yet (0–60, default 0: answer at once).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 60)]
    pub wait: Option<String>,
}

impl FeedParams {
    fn parse(&self) -> Result<FeedQuery, ApiError> {
        let mut errors = Errors::default();
        let mut number =
            |name: &str, value: Option<&str>, default: u64, range: std::ops::RangeInclusive<u64>| match value
                .map_or(Ok(default), str::parse::<u64>)
            {
                Ok(n) if range.contains(&n) => n,
                Ok(_) | Err(_) => {
                    errors.add(
                        format!("/query/{name}"),
                        format!("must be a whole number from {} to {}", range.start(), range.end()),
                    );
                    default
                }
            };
        let since = number("since", self.since.as_deref(), 0, 0..=i64::MAX.unsigned_abs());
        let limit = number("limit", self.limit.as_deref(), DEFAULT_LIMIT as u64, 1..=MAX_LIMIT as u64);
        let wait = number("wait", self.wait.as_deref(), 0, 0..=MAX_WAIT_SECS);
        errors.finish()?;
        Ok(FeedQuery {
            since: i64::try_from(since).map_err(ApiError::internal)?,
            limit: usize::try_from(limit).map_err(ApiError::internal)?,
            wait: Duration::from_secs(wait),
        })
    }
}

/// The changes the caller may see, in commit order, from a cursor; `wait` long-polls.
#[utoipa::path(get, path = "/v1/changes", tag = "sync", params(FeedParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "Changes after `since` that the access rule lets the caller read, and the cursor to continue from", body = ChangePage),
        (status = 403, description = "The role may not read documents", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A query parameter is out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_changes(
    state: web::Data<AppState>,
    ctx: Context,
    params: ApiQuery<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    let query = params.parse()?;
    let event = Event::new(&ctx, "changes.read");
    let page = sync::follow(state.into_inner(), ctx.caller, event, query).await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(page))
}

/// Upload document writes in one request, each with its own idempotency key.
///
/// Per item (`atomic: false`): every operation is its own transaction; the answer (200) lists each
/// one's status and document or problem, in order. Atomic: all or nothing; a failing operation
/// fails the request with its status, naming it as `operation <i>` and `/operations/<i>/...`.
#[utoipa::path(post, path = "/v1/batch", tag = "sync", request_body = BatchInput, security(("bearer" = [])),
    responses(
        (status = 200, description = "Each operation's outcome, in order (201, 200, 404, 410, 412 with `current`, 422, ...)", body = BatchResults),
        (status = 404, description = "Atomic: an operation's patient or document is unknown", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Atomic: an operation's `if_match` is stale; `current` holds the current version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The batch or (atomic) an operation failed validation", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_batch(
    state: web::Data<AppState>,
    ctx: Context,
    ApiJson(input): ApiJson<BatchInput>,
) -> Result<HttpResponse, ApiError> {
    let outcome = sync::submit(&state, ctx, input).await?;
    match outcome {
        Ok(results) => Ok(HttpResponse::Ok().json(BatchResults { results })),
        Err(failed) => Ok(HttpResponse::build(failed.error.status_code())
            .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
            .json(failed.problem())),
    }
}
