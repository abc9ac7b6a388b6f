//! Sync over HTTP: the change feed and batch upload, thin handlers around `crate::domain::sync`.

use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::audit::Event;
use crate::context::Context;
use crate::edge::feed::FeedParams;
use crate::edge::json::ApiJson;
use crate::edge::query::ApiQuery;

use crate::domain::sync::{self, BatchInput, BatchResults, ChangePage, FeedQuery};
use crate::edge::problem::PROBLEM_JSON;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// How long a feed request may wait for a change.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitParams {
    /// Seconds to wait for a change when there is none yet (0–60, default 0: answer at once).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 60)]
    pub wait: Option<String>,
}

/// The changes the caller may see, in commit order, from a cursor; `wait` long-polls.
#[utoipa::path(get, path = "/v1/changes", tag = "sync", params(FeedParams, WaitParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "Changes after `since` that the access rule lets the caller read, and the cursor to continue from", body = ChangePage),
        (status = 403, description = "The role may not read documents", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A query parameter is out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_changes(
    state: web::Data<AppState>,
    ctx: Context,
    feed: ApiQuery<FeedParams>,
    wait: ApiQuery<WaitParams>,
) -> Result<HttpResponse, ApiError> {
    let query = FeedQuery::parse(feed.since.as_deref(), feed.limit.as_deref(), wait.wait.as_deref())?;
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
