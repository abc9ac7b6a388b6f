//! The regional directory: organisations and practitioners. `admin` writes; every authenticated
//! caller reads (finding each other is its point).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{self, Action, Resource};
use crate::api::json::ApiJson;
use crate::api::query::ApiQuery;
use crate::audit::{self, Event};
use crate::auth::{Caller, Role};
use crate::clock;
use crate::context::Context;
use crate::db;
use crate::db::directory::{OrganizationRow, PractitionerRow};
use crate::domain::fields::{Address, Errors};
use crate::domain::paging::{Page, PageParams};
use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    Clinic,
    Hospital,
    VisitingNurseStation,
    CareManagementOffice,
    CommunitySupportCenter,
    Pharmacy,
    DentalClinic,
    CareFacility,
    Municipality,
}

impl OrganizationKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Clinic => "clinic",
            Self::Hospital => "hospital",
            Self::VisitingNurseStation => "visiting_nurse_station",
            Self::CareManagementOffice => "care_management_office",
            Self::CommunitySupportCenter => "community_support_center",
            Self::Pharmacy => "pharmacy",
            Self::DentalClinic => "dental_clinic",
            Self::CareFacility => "care_facility",
            Self::Municipality => "municipality",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationInput {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    pub kind: OrganizationKind,
    pub address: Option<Address>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub kind: OrganizationKind,
    pub address: Option<Address>,
    pub phone: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl OrganizationInput {
    fn check(&self) -> Result<(), ApiError> {
        let mut errors = Errors::default();
        errors.text("/name", &self.name, 200);
        if let Some(address) = &self.address {
            address.check("/address", &mut errors);
        }
        if let Some(phone) = &self.phone {
            errors.phone("/phone", phone);
        }
        errors.finish()
    }

    fn into_row(self, id: String, created_at: String, now: String) -> Result<OrganizationRow, ApiError> {
        let address = self.address.map(|a| serde_json::to_string(&a)).transpose().map_err(ApiError::internal)?;
        Ok(OrganizationRow {
            id,
            name: self.name,
            kind: self.kind.as_str().to_owned(),
            address,
            phone: self.phone,
            created_at,
            updated_at: now,
        })
    }
}

impl TryFrom<OrganizationRow> for Organization {
    type Error = ApiError;
    fn try_from(row: OrganizationRow) -> Result<Self, ApiError> {
        Ok(Self {
            kind: OrganizationKind::parse(&row.kind).ok_or_else(|| ApiError::internal("stored organisation kind"))?,
            address: row.address.as_deref().map(serde_json::from_str).transpose().map_err(ApiError::internal)?,
            id: row.id,
            name: row.name,
            phone: row.phone,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationFilter {
    /// Only organisations of this kind.
    pub kind: Option<OrganizationKind>,
}

/// Register an organisation (admin).
#[utoipa::path(post, path = "/v1/organizations", tag = "directory", request_body = OrganizationInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Organization, headers(("Location" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_organization(
    state: web::Data<AppState>,
    ctx: Context,
    ApiJson(input): ApiJson<OrganizationInput>,
) -> Result<HttpResponse, ApiError> {
    let caller = ctx.caller.clone();
    access::check(&caller, Resource::Directory, Action::Write)?;
    input.check()?;
    let now = clock::now();
    let row = input.into_row(uuid::Uuid::new_v4().to_string(), now.clone(), now)?;
    let stored = row.clone();
    let event = Event::new(&ctx, "organization.create").resource("organization", &row.id);
    db::run(&state.pool, move |conn| audit::write(conn, event, 201, |tx, _| stored.insert(tx).map_err(ApiError::from)))
        .await?;
    let location = format!("/v1/organizations/{}", row.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(Organization::try_from(row)?))
}

/// List organisations, paged, optionally by kind.
#[utoipa::path(get, path = "/v1/organizations", tag = "directory", params(OrganizationFilter, PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<Organization>), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_organizations(
    state: web::Data<AppState>,
    caller: Caller,
    filter: ApiQuery<OrganizationFilter>,
    page: ApiQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    access::check(&caller, Resource::Directory, Action::Read)?;
    let limit = page.limit()?;
    let kind = filter.kind.map(|k| k.as_str());
    let cursor = page.cursor.clone();
    let rows =
        db::run(&state.pool, move |conn| Ok(OrganizationRow::list(conn, kind, cursor.as_deref(), limit)?)).await?;
    let items = rows.into_iter().map(Organization::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Page::new(items, limit, |o: &Organization| o.id.clone())))
}

/// Read one organisation.
#[utoipa::path(get, path = "/v1/organizations/{id}", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Organization), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_organization(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    access::check(&caller, Resource::Directory, Action::Read)?;
    let id = id.into_inner();
    let row = db::run(&state.pool, move |conn| Ok(OrganizationRow::find(conn, &id)?)).await?;
    let row = row.ok_or_else(|| ApiError::NotFound("no such organization".into()))?;
    Ok(HttpResponse::Ok().json(Organization::try_from(row)?))
}

/// Replace an organisation's details (admin).
#[utoipa::path(put, path = "/v1/organizations/{id}", tag = "directory", request_body = OrganizationInput,
    security(("bearer" = [])),
    responses((status = 200, body = Organization), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_organization(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    ApiJson(input): ApiJson<OrganizationInput>,
) -> Result<HttpResponse, ApiError> {
    let caller = ctx.caller.clone();
    access::check(&caller, Resource::Directory, Action::Write)?;
    input.check()?;
    let id = id.into_inner();
    let event = Event::new(&ctx, "organization.update").resource("organization", &id);
    let row = db::run(&state.pool, move |conn| {
        audit::write(conn, event, 200, |tx, _| {
            let existing =
                OrganizationRow::find(tx, &id)?.ok_or_else(|| ApiError::NotFound("no such organization".into()))?;
            let row = input.into_row(id, existing.created_at, clock::now())?;
            row.update(tx)?;
            Ok(row)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(Organization::try_from(row)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PractitionerInput {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// The profession, one of the roles.
    pub profession: Role,
    /// The organisation the practitioner works for.
    pub organization: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Practitioner {
    pub id: String,
    pub name: String,
    pub profession: Role,
    pub organization: String,
    pub created_at: String,
    pub updated_at: String,
}

impl TryFrom<PractitionerRow> for Practitioner {
    type Error = ApiError;
    fn try_from(row: PractitionerRow) -> Result<Self, ApiError> {
        Ok(Self {
            profession: row.profession.parse().map_err(|_| ApiError::internal("stored profession"))?,
            id: row.id,
            name: row.name,
            organization: row.organization_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl PractitionerInput {
    fn check(&self) -> Result<(), ApiError> {
        let mut errors = Errors::default();
        errors.text("/name", &self.name, 200);
        if matches!(self.profession, Role::Admin | Role::Auditor) {
            errors.add("/profession", "must be a care profession, not admin or auditor");
        }
        errors.finish()
    }

    /// Inside a transaction: the organisation must exist.
    fn into_row(self, conn: &mut db::DbConn, id: String, created_at: String) -> Result<PractitionerRow, ApiError> {
        if !OrganizationRow::exists(conn, &self.organization)? {
            return Err(ApiError::field("/organization", "no such organization"));
        }
        Ok(PractitionerRow {
            id,
            name: self.name,
            profession: self.profession.as_str().to_owned(),
            organization_id: self.organization,
            created_at,
            updated_at: clock::now(),
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PractitionerFilter {
    /// Only practitioners of this organisation.
    pub organization: Option<String>,
    /// Only practitioners of this profession.
    pub profession: Option<Role>,
}

/// Register a practitioner (admin).
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
    let caller = ctx.caller.clone();
    access::check(&caller, Resource::Directory, Action::Write)?;
    input.check()?;
    let event = Event::new(&ctx, "practitioner.create");
    let row = db::run(&state.pool, move |conn| {
        audit::write(conn, event, 201, |tx, _| {
            let row = input.into_row(tx, uuid::Uuid::new_v4().to_string(), clock::now())?;
            row.insert(tx)?;
            Ok(row)
        })
    })
    .await?;
    let location = format!("/v1/practitioners/{}", row.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(Practitioner::try_from(row)?))
}

/// List practitioners, paged, by organisation or profession.
#[utoipa::path(get, path = "/v1/practitioners", tag = "directory", params(PractitionerFilter, PageParams),
    security(("bearer" = [])), responses((status = 200, body = Page<Practitioner>)))]
pub async fn list_practitioners(
    state: web::Data<AppState>,
    caller: Caller,
    filter: ApiQuery<PractitionerFilter>,
    page: ApiQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    access::check(&caller, Resource::Directory, Action::Read)?;
    let limit = page.limit()?;
    let filter = filter.into_inner();
    let cursor = page.cursor.clone();
    let rows = db::run(&state.pool, move |conn| {
        let profession = filter.profession.map(|p| p.as_str());
        Ok(PractitionerRow::list(conn, filter.organization.as_deref(), profession, cursor.as_deref(), limit)?)
    })
    .await?;
    let items = rows.into_iter().map(Practitioner::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Page::new(items, limit, |p: &Practitioner| p.id.clone())))
}

/// Read one practitioner.
#[utoipa::path(get, path = "/v1/practitioners/{id}", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Practitioner), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_practitioner(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    access::check(&caller, Resource::Directory, Action::Read)?;
    let id = id.into_inner();
    let row = db::run(&state.pool, move |conn| Ok(PractitionerRow::find(conn, &id)?)).await?;
    let row = row.ok_or_else(|| ApiError::NotFound("no such practitioner".into()))?;
    Ok(HttpResponse::Ok().json(Practitioner::try_from(row)?))
}

/// Replace a practitioner's details (admin).
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
    let caller = ctx.caller.clone();
    access::check(&caller, Resource::Directory, Action::Write)?;
    input.check()?;
    let id = id.into_inner();
    let event = Event::new(&ctx, "practitioner.update").resource("practitioner", &id);
    let row = db::run(&state.pool, move |conn| {
        audit::write(conn, event, 200, |tx, _| {
            let existing =
                PractitionerRow::find(tx, &id)?.ok_or_else(|| ApiError::NotFound("no such practitioner".into()))?;
            let row = input.into_row(tx, id, existing.created_at)?;
            row.update(tx)?;
            Ok(row)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(Practitioner::try_from(row)?))
}
