//! FHIR R4 over HTTP: thin handlers around `crate::fhir` (the mapping) and the domain reads it
//! goes through.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::context::Context;
use crate::error::{ApiError, Problem};
use crate::fhir::{self, FHIR_JSON};
use crate::state::AppState;

/// Where the resources of an answer say they are from: this server's FHIR base.
pub fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}/v1/fhir", info.scheme(), info.host())
}

/// FHIR JSON with its media type.
pub fn fhir_json(status: actix_web::http::StatusCode, body: &serde_json::Value) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::CONTENT_TYPE, FHIR_JSON)).body(body.to_string())
}

/// The patient's record as a FHIR R4 `Bundle` (`type: collection`): Patient (JP Core), the
/// organisations and practitioners of its care team, PractitionerRole and CareTeam, Consent, the
/// current care path as CarePlan, Condition, MedicationStatement and AllergyIntolerance, and a
/// Composition with a DocumentReference for every other document. Exactly what the caller may
/// read through the JSON API: the same access rule and consent; withheld fields stay withheld
/// and the resources they were withheld from carry the `REDACTED` security label. Audited as
/// `patient.fhir`.
#[utoipa::path(get, path = "/v1/patients/{id}/fhir", tag = "fhir", security(("bearer" = [])),
    responses((status = 200, description = "A FHIR R4 Bundle", content_type = "application/fhir+json", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json")))]
pub async fn get_patient_bundle(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let bundle = fhir::record::read_bundle(&state, ctx, id.into_inner().into(), base_url(&req)).await?;
    Ok(fhir_json(actix_web::http::StatusCode::OK, &bundle))
}
