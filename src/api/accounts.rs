//! Console accounts and sessions over HTTP (issue 30): thin handlers around
//! `crate::domain::accounts` and `crate::domain::console_sessions`. The API itself stays bearer:
//! a console session cookie opens no `/v1` route.

use actix_web::{HttpResponse, web};

use crate::context::Context;
use crate::domain::accounts::{self, AccountList, InviteInput, Invited, ResetDone};
use crate::domain::console_sessions::{self, SessionList};
use crate::edge::json::ApiJson;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Invite a person to the console (an admin of the organisation, or the operator's): the
/// account is created with a one-time code, valid for `--invite-ttl-hours`, which the person
/// takes to `/console/invite` to set a password and enrol an authenticator.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = InviteInput, security(("bearer" = [])),
    responses(
        (status = 201, body = Invited, description = "The account, with its one-time invitation code (shown only here)"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The login, or an account for this person, exists"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn invite(
    state: web::Data<AppState>,
    ctx: Context,
    ApiJson(input): ApiJson<InviteInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(accounts::invite(&state, ctx, input).await?))
}

/// The organisation's accounts, for its admin (never a hash or a secret).
#[utoipa::path(get, path = "/v1/organizations/{id}/accounts", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, body = AccountList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_accounts(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(accounts::list(&state, ctx, id.into_inner()).await?))
}

/// Reset a person's second factor (their admin): the authenticator, recovery codes and password
/// stop working, every console session of the person ends, and a new one-time code lets them
/// set a password and enrol again. They are told at their next sign-in.
#[utoipa::path(post, path = "/v1/accounts/{id}/reset-factor", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, body = ResetDone),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such account in the caller's organisation"),
    ))]
pub async fn reset_factor(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(accounts::reset_factor(&state, ctx, id.into_inner()).await?))
}

/// A person's open console sessions, for their organisation's admin.
#[utoipa::path(get, path = "/v1/accounts/{id}/sessions", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, body = SessionList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn account_sessions(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(console_sessions::list_of_account(&state, ctx, id.into_inner()).await?))
}

/// The caller's own open console sessions.
#[utoipa::path(get, path = "/v1/me/sessions", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, body = SessionList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_sessions(state: web::Data<AppState>, ctx: Context) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(console_sessions::list_mine(&state, ctx).await?))
}

/// End one console session at once: the caller's own, or, for an admin, one of their
/// organisation's people's.
#[utoipa::path(delete, path = "/v1/sessions/{id}", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 204, description = "The session is ended"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_session(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    console_sessions::revoke(&state, ctx, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
