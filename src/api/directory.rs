//! The directory over HTTP: thin handlers around `crate::domain::directory`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::context::Context;
use crate::domain::directory::{
    self, Organization, OrganizationFilter, OrganizationInput, Practitioner, PractitionerFilter, PractitionerInput,
};
use crate::domain::paging::{Page, PageParams};
use crate::edge::json::ApiJson;
use crate::edge::query::ApiQuery;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Register an organisation (the operator's admin).
#[utoipa::path(post, path = "/v1/organizations", tag = "directory", request_body = OrganizationInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Organization, headers(("Location" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong, or another organisation has the name (names are unique in the directory)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_organization(
    state: web::Data<AppState>,
    ctx: Context,
    ApiJson(input): ApiJson<OrganizationInput>,
) -> Result<HttpResponse, ApiError> {
    let organization = directory::create_organization(&state, ctx, input).await?;
    let location = format!("/v1/organizations/{}", organization.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(organization))
}

/// List organisations, paged, optionally by kind.
#[utoipa::path(get, path = "/v1/organizations", tag = "directory", params(OrganizationFilter, PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<Organization>), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_organizations(
    state: web::Data<AppState>,
    ctx: Context,
    filter: ApiQuery<OrganizationFilter>,
    page: ApiQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let page = page.into_inner();
    Ok(HttpResponse::Ok()
        .json(directory::list_organizations(&state, ctx, filter.into_inner(), page.cursor, limit).await?))
}

/// Read one organisation.
#[utoipa::path(get, path = "/v1/organizations/{id}", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Organization), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_organization(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(directory::get_organization(&state, ctx, id.into_inner().into()).await?))
}

/// Replace an organisation's details (its own admin, or the operator's).
#[utoipa::path(put, path = "/v1/organizations/{id}", tag = "directory", request_body = OrganizationInput,
    security(("bearer" = [])),
    responses((status = 200, body = Organization), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong, another organisation has the name, or a kind changed by anyone but the operator", body = Problem, content_type = "application/problem+json")))]
pub async fn put_organization(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    ApiJson(input): ApiJson<OrganizationInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(directory::replace_organization(&state, ctx, id.into_inner().into(), input).await?))
}

/// Register a practitioner (its organisation's admin, or the operator's).
#[utoipa::path(post, path = "/v1/practitioners", tag = "directory", request_body = PractitionerInput,
    security(("bearer" = [])),
    responses((status = 201, body = Practitioner, headers(("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_practitioner(
    state: web::Data<AppState>,
    ctx: Context,
    ApiJson(input): ApiJson<PractitionerInput>,
) -> Result<HttpResponse, ApiError> {
    let practitioner = directory::create_practitioner(&state, ctx, input).await?;
    let location = format!("/v1/practitioners/{}", practitioner.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(practitioner))
}

/// List practitioners, paged, by organisation or profession.
#[utoipa::path(get, path = "/v1/practitioners", tag = "directory", params(PractitionerFilter, PageParams),
    security(("bearer" = [])), responses((status = 200, body = Page<Practitioner>)))]
pub async fn list_practitioners(
    state: web::Data<AppState>,
    ctx: Context,
    filter: ApiQuery<PractitionerFilter>,
    page: ApiQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let page = page.into_inner();
    Ok(HttpResponse::Ok()
        .json(directory::list_practitioners(&state, ctx, filter.into_inner(), page.cursor, limit).await?))
}

/// Read one practitioner.
#[utoipa::path(get, path = "/v1/practitioners/{id}", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Practitioner), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_practitioner(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(directory::get_practitioner(&state, ctx, id.into_inner().into()).await?))
}

/// Replace a practitioner's details (its organisation's admin, or the operator's; only the
/// operator's moves a practitioner to another organisation).
#[utoipa::path(put, path = "/v1/practitioners/{id}", tag = "directory", request_body = PractitionerInput,
    security(("bearer" = [])),
    responses((status = 200, body = Practitioner), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_practitioner(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    ApiJson(input): ApiJson<PractitionerInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(directory::replace_practitioner(&state, ctx, id.into_inner().into(), input).await?))
}
