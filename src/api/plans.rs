//! The annual plan over HTTP: thin handlers around `crate::domain::reports::plans`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::context::Context;
use crate::domain::reports::plans::{self, Plan, PlanInput};
use crate::edge::if_match::IfMatchHeader;
use crate::edge::json::ApiJson;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

fn year_of(text: &str) -> Result<i32, ApiError> {
    text.parse().map_err(|_| ApiError::field("/path/year", "must be a year, 2000 to 2100"))
}

fn respond(plan: Plan, created: bool) -> HttpResponse {
    let mut answer = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    let location = format!("/v1/plans/{}", plan.year);
    answer.insert_header((header::ETAG, plan.etag())).insert_header((header::LOCATION, location)).json(plan)
}

/// The year's plan with the year's region-level indicator values beside each linked indicator
/// (analyst and the operator's admin).
#[utoipa::path(get, path = "/v1/plans/{year}", tag = "reports",
    params(("year" = i32, Path, minimum = 2000, maximum = 2100, description = "The calendar year")),
    security(("bearer" = [])),
    responses((status = 200, body = Plan, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No plan for this year", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn get_plan(
    state: web::Data<AppState>,
    ctx: Context,
    year: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let year = year_of(&year)?;
    Ok(respond(plans::get(&state, ctx, year).await?, false))
}

/// Write the year's plan, replaced whole: the first version without `If-Match`, each later one
/// with the `ETag` it replaces (analyst and the operator's admin; every change audited).
#[utoipa::path(put, path = "/v1/plans/{year}", tag = "reports", request_body = PlanInput,
    params(("year" = i32, Path, minimum = 2000, maximum = 2100, description = "The calendar year"),
        ("If-Match" = Option<String>, Header, pattern = r#"^(\*|"[0-9]{1,9}")$"#, description = "ETag of the version being replaced (`\"3\"`), or `*`; absent for the first")),
    security(("bearer" = [])),
    responses((status = 200, description = "A new version", body = Plan, headers(("ETag" = String), ("Location" = String))),
        (status = 201, description = "The first version", body = Plan, headers(("ETag" = String), ("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`, or `If-Match` before the first", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong: an organisation not in the directory, an unknown indicator, a malformed day", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "The plan exists and `If-Match` is missing", body = Problem, content_type = "application/problem+json")))]
pub async fn put_plan(
    state: web::Data<AppState>,
    ctx: Context,
    year: web::Path<String>,
    ApiJson(input): ApiJson<PlanInput>,
    if_match: IfMatchHeader,
) -> Result<HttpResponse, ApiError> {
    let year = year_of(&year)?;
    let (plan, created) = plans::put(&state, ctx, year, if_match.optional()?, input).await?;
    Ok(respond(plan, created))
}
