//! Patients over HTTP: thin handlers around `crate::domain::patients`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::context::Context;
use crate::domain::paging::{Page, PageParams};
use crate::domain::patients::{self, EraseInput, Patient, PatientInput, PatientSearch};
use crate::edge::json::ApiJson;
use crate::edge::query::ApiQuery;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Register a patient (physician, care manager or admin of the managing organisation).
#[utoipa::path(post, path = "/v1/patients", tag = "patients", request_body = PatientInput, security(("bearer" = [])),
    responses((status = 201, body = Patient, headers(("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_patient(
    state: web::Data<AppState>,
    ctx: Context,
    ApiJson(input): ApiJson<PatientInput>,
) -> Result<HttpResponse, ApiError> {
    let patient = patients::create(&state, ctx, input).await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("/v1/patients/{}", patient.id))).json(patient))
}

/// Read a patient (managing organisation or active care team). With `Accept:
/// application/fhir+json`, the patient's whole record as a FHIR Bundle instead, exactly as
/// `GET /v1/patients/{id}/fhir` answers it.
#[utoipa::path(get, path = "/v1/patients/{id}", tag = "patients", security(("bearer" = [])),
    responses((status = 200, content((Patient = "application/json"), (Object = "application/fhir+json"))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json")))]
pub async fn get_patient(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if crate::api::fhir::wants_fhir(&req) {
        return crate::api::fhir::get_patient_bundle(state, ctx, req, id).await;
    }
    Ok(HttpResponse::Ok().json(patients::get(&state, ctx, id.into_inner().into()).await?))
}

/// Find patients by insured number or by part of the name or kana, or list the caller's
/// organisation's patients (with `mine=true`, only those whose care team names the caller). Only
/// patients the caller may read appear; others are indistinguishable from absent ones.
#[utoipa::path(get, path = "/v1/patients", tag = "patients", params(PatientSearch, PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<Patient>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_patients(
    state: web::Data<AppState>,
    ctx: Context,
    search: ApiQuery<PatientSearch>,
    page: ApiQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let page = page.into_inner();
    Ok(HttpResponse::Ok().json(patients::list(&state, ctx, search.into_inner(), page.cursor, limit).await?))
}

/// Erase a patient by crypto-shredding (admin of the managing organisation or the operator):
/// the data key is destroyed, so every sealed field of the patient is unreadable for good.
/// Reads answer 410 afterwards; the audit trail keeps that the erasure happened.
#[utoipa::path(delete, path = "/v1/patients/{id}", tag = "patients", request_body = EraseInput, security(("bearer" = [])),
    responses((status = 204, description = "Erased"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json")))]
pub async fn erase_patient(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    ApiJson(input): ApiJson<EraseInput>,
) -> Result<HttpResponse, ApiError> {
    patients::erase(&state, ctx, id.into_inner().into(), input).await?;
    Ok(HttpResponse::NoContent().finish())
}
