//! The consent log over HTTP: thin handlers around `crate::domain::consents::log`,
//! `accesses` and `coverage`.

use actix_web::{HttpResponse, web};

use crate::context::Context;
use crate::domain::consents::accesses::{self as consent_accesses, ConsentAccess};
use crate::domain::consents::coverage::{self as consent_coverage, ConsentCoverage};
use crate::domain::consents::log::{self as consent_log, ConsentLogEntry, ConsentLogQuery};
use crate::domain::paging::{NumberedPageParams, Page};
use crate::edge::query::ApiQuery;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Every version of every consent, with its terms and the audit event that vouches for it
/// (auditor, operator's admin). The proxy's name and the revocation reason stay sealed.
#[utoipa::path(get, path = "/v1/consent-log", tag = "audit", params(ConsentLogQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<ConsentLogEntry>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A malformed filter, or a `cursor` that is not a `next_cursor` of this listing", body = Problem, content_type = "application/problem+json")))]
pub async fn list_consent_log(
    state: web::Data<AppState>,
    ctx: Context,
    query: ApiQuery<ConsentLogQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(consent_log::list(&state, ctx, query.into_inner()).await?))
}

/// The consent log for the same filters as NDJSON, one version a line, unpaged (auditor,
/// operator's admin). Each line's `record` re-hashes to its `digest`, held by audit event
/// `event_seq`: `carepath audit verify --export AUDIT --consent-log THIS` checks both offline.
#[utoipa::path(get, path = "/v1/consent-log/export", tag = "audit", params(ConsentLogQuery), security(("bearer" = [])),
    responses((status = 200, description = "NDJSON: one `ConsentLogEntry` a line", content_type = "application/x-ndjson", body = String),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A malformed filter, or a `cursor` that is not a `next_cursor` of this listing", body = Problem, content_type = "application/problem+json")))]
pub async fn export_consent_log(
    state: web::Data<AppState>,
    ctx: Context,
    query: ApiQuery<ConsentLogQuery>,
) -> Result<HttpResponse, ApiError> {
    let body = consent_log::export(&state, ctx, query.into_inner()).await?;
    Ok(HttpResponse::Ok().content_type("application/x-ndjson").body(body))
}

/// Every access a consent was the basis for, and every access or attempt by the organisations
/// it named after its revocation, oldest first (auditor, operator's admin).
#[utoipa::path(get, path = "/v1/consent-log/{consent_id}/accesses", tag = "audit", params(NumberedPageParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<ConsentAccess>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn consent_accesses(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    page: ApiQuery<NumberedPageParams>,
) -> Result<HttpResponse, ApiError> {
    let (limit, after) = (page.limit()?, page.cursor);
    Ok(HttpResponse::Ok().json(consent_accesses::accesses(&state, ctx, id.into_inner(), after, limit).await?))
}

/// For each organisation on the active care team: whether a consent in force covers it, for
/// which types, until when, and whether it ends within 30 days (whoever may read consents).
#[utoipa::path(get, path = "/v1/patients/{id}/consents/coverage", tag = "consents", security(("bearer" = [])),
    responses((status = 200, body = ConsentCoverage),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json")))]
pub async fn consent_coverage(
    state: web::Data<AppState>,
    ctx: Context,
    patient: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(consent_coverage::coverage(&state, ctx, patient.into_inner().into()).await?))
}
