//! Contact hours (ケアマネタイム) over HTTP, and who on a patient's team is reachable now.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Role;
use crate::context::Context;
use crate::domain::coordination::hours::{self, ContactHours, RegionFilter, RegionHours, Weekday};
use crate::domain::coordination::reachable::{self, Reachability};
use crate::edge::json::ApiJson;
use crate::edge::query::ApiQuery;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Publish a practitioner's contact hours (the practitioner, or its organisation's admin);
/// replaces what was published.
#[utoipa::path(put, path = "/v1/practitioners/{id}/contact-hours", tag = "coordination", request_body = ContactHours,
    security(("bearer" = [])),
    responses((status = 200, body = ContactHours),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_contact_hours(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    ApiJson(input): ApiJson<ContactHours>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(hours::replace(&state, ctx, id.into_inner(), input).await?))
}

/// A practitioner's contact hours (empty lists when none are published).
#[utoipa::path(get, path = "/v1/practitioners/{id}/contact-hours", tag = "coordination", security(("bearer" = [])),
    responses((status = 200, body = ContactHours), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_contact_hours(
    state: web::Data<AppState>,
    _ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(hours::get(&state, id.into_inner()).await?))
}

/// The region list's query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionParams {
    /// Only this organisation's practitioners.
    pub organization: Option<String>,
    /// Only practitioners of this profession.
    pub profession: Option<Role>,
    /// Only slots on this day of the week.
    pub weekday: Option<Weekday>,
}

/// The region's contact hours: the list to make known to care staff.
#[utoipa::path(get, path = "/v1/contact-hours", tag = "coordination", params(RegionParams), security(("bearer" = [])),
    responses((status = 200, body = RegionHours), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_contact_hours(
    state: web::Data<AppState>,
    _ctx: Context,
    params: ApiQuery<RegionParams>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    let filter = RegionFilter { organization: p.organization, profession: p.profession, weekday: p.weekday };
    Ok(HttpResponse::Ok().json(hours::region(&state, filter).await?))
}

/// The reachability query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReachableParams {
    /// The time asked about (RFC 3339); default now.
    #[param(format = DateTime)]
    pub at: Option<String>,
}

/// Who on the patient's care team can be contacted at `at`, and how; the next open slot of
/// everyone else.
#[utoipa::path(get, path = "/v1/patients/{id}/care-team/reachable", tag = "coordination", params(ReachableParams),
    security(("bearer" = [])),
    responses((status = 200, body = Reachability),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn get_reachable(
    state: web::Data<AppState>,
    ctx: Context,
    patient: web::Path<String>,
    params: ApiQuery<ReachableParams>,
) -> Result<HttpResponse, ApiError> {
    let at = match params.at.as_deref() {
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ApiError::field("/query/at", "must be an RFC 3339 date-time"))?,
        None => state.calendar.now(),
    };
    Ok(HttpResponse::Ok().json(reachable::reachable(&state, ctx, patient.into_inner().into(), at).await?))
}
