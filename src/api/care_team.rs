//! A patient's care team over HTTP: thin handlers around `crate::domain::care_team`.

use actix_web::{HttpResponse, web};

use crate::context::Context;
use crate::domain::care_team::{self, CareTeam, CareTeamInput};
use crate::edge::json::ApiJson;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Read a patient's care team.
#[utoipa::path(get, path = "/v1/patients/{id}/care-team", tag = "patients", security(("bearer" = [])),
    responses((status = 200, body = CareTeam), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_care_team(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(care_team::get(&state, ctx, id.into_inner().into()).await?))
}

/// Replace a patient's care team (physician, care manager or admin of the managing organisation).
#[utoipa::path(put, path = "/v1/patients/{id}/care-team", tag = "patients", request_body = CareTeamInput,
    security(("bearer" = [])),
    responses((status = 200, body = CareTeam), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_care_team(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    ApiJson(input): ApiJson<CareTeamInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(care_team::replace(&state, ctx, id.into_inner().into(), input).await?))
}
