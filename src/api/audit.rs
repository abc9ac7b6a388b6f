//! The audit log over HTTP: thin handlers around `crate::domain::audit_log`.

use actix_web::{HttpResponse, web};

use crate::audit::Verification;
use crate::context::Context;
use crate::edge::json::ApiJson;
use crate::edge::query::ApiQuery;

use crate::domain::audit_log::{self, AccessEntry, AuditPage, AuditQuery, Review, ReviewInput, SigningKey};
use crate::domain::paging::{NumberedPageParams, Page};
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Query the audit log (auditor).
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditPage), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_events(
    state: web::Data<AppState>,
    ctx: Context,
    query: ApiQuery<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(audit_log::list_events(&state, ctx, query.into_inner()).await?))
}

/// Mark a break-glass access reviewed, with a comment (auditor).
#[utoipa::path(post, path = "/v1/audit-events/{seq}/review", tag = "audit", request_body = ReviewInput,
    security(("bearer" = [])),
    responses((status = 200, body = Review), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn review_event(
    state: web::Data<AppState>,
    ctx: Context,
    seq: web::Path<i64>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(audit_log::review(&state, ctx, seq.into_inner(), input).await?))
}

/// Recompute the hash chain, check every signed checkpoint, and name the first broken event
/// (auditor).
#[utoipa::path(get, path = "/v1/audit-events/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = Verification), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn verify(state: web::Data<AppState>, ctx: Context) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(audit_log::verify(&state, ctx).await?))
}

/// The public key that verifies audit checkpoints (anyone may have it).
#[utoipa::path(get, path = "/v1/audit-events/public-key", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = SigningKey)))]
pub async fn public_key(state: web::Data<AppState>, _ctx: Context) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(audit_log::signing_key(&state.into_inner()).await?))
}

/// Where an export starts.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Start at this signed checkpoint (its sequence number) instead of the first event: the
    /// checkpoint comes first, then every event after it.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub from: Option<String>,
}

/// The log as NDJSON, events and signed checkpoints in sequence order (auditor): whole, or from
/// a signed checkpoint on (`from`). A fresh checkpoint is signed first, so the export ends on a
/// signature. `carepath audit verify --export FILE --public-key KEY` checks it offline.
#[utoipa::path(get, path = "/v1/audit-events/export", tag = "audit", params(ExportParams), security(("bearer" = [])),
    responses((status = 200, description = "NDJSON lines `{kind: event|checkpoint, ...}`", content_type = "application/x-ndjson", body = String),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn export(
    state: web::Data<AppState>,
    ctx: Context,
    params: ApiQuery<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let from = match params.from.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| ApiError::field("/query/from", "must be the sequence number of a signed checkpoint"))?,
        ),
    };
    let body = audit_log::export(&state, ctx, from).await?;
    Ok(HttpResponse::Ok().content_type("application/x-ndjson").body(body))
}

/// Who (organisation, profession) opened this patient's record, and when, oldest first: for the
/// managing organisation and a patient portal. No clinical content, no individual names.
#[utoipa::path(get, path = "/v1/patients/{id}/access-log", tag = "audit", params(NumberedPageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<AccessEntry>), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn access_log(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    page: ApiQuery<NumberedPageParams>,
) -> Result<HttpResponse, ApiError> {
    let (limit, after) = (page.limit()?, page.cursor);
    Ok(HttpResponse::Ok().json(audit_log::access_log(&state, ctx, id.into_inner().into(), after, limit).await?))
}
