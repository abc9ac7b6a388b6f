//! Ending a user's sessions over HTTP: a thin handler around `crate::domain::sessions`.

use actix_web::{HttpResponse, web};

use crate::context::Context;
use crate::domain::sessions::{self, EndSessionsInput};
use crate::edge::json::ApiJson;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// End every session of one user of the organisation (its admin, or the operator's): the user's
/// console sessions end and its tokens issued until now are refused, in the console and as
/// bearer tokens. Sign-out and idle time end a single console session.
#[utoipa::path(post, path = "/v1/organizations/{id}/sessions/end", tag = "directory",
    request_body = EndSessionsInput, security(("bearer" = [])),
    responses(
        (status = 204, description = "The user's sessions are ended"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn end_sessions(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    ApiJson(input): ApiJson<EndSessionsInput>,
) -> Result<HttpResponse, ApiError> {
    sessions::end_user_sessions(&state, ctx, id.into_inner().into(), input).await?;
    Ok(HttpResponse::NoContent().finish())
}
