//! FHIR R4 over HTTP: thin handlers around `crate::fhir` (the mapping) and the domain reads it
//! goes through.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::extract::query::ApiQuery;
use crate::context::Context;
use crate::domain::audit_log::{self, AuditQuery};
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

/// The audit log as FHIR `AuditEvent`s, NDJSON (auditor): the same events, filters and paging
/// as `GET /v1/audit-events`, the same role check, itself audited as `audit.read`. A full page
/// ends with a `Link: <…>; rel="next"` header to the next one.
#[utoipa::path(get, path = "/v1/audit-events/fhir", tag = "fhir", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, description = "One FHIR R4 AuditEvent a line", content_type = "application/fhir+ndjson", body = String),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn audit_events(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    query: ApiQuery<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = audit_log::list_events(&state, ctx, query.into_inner()).await?;
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CONTENT_TYPE, "application/fhir+ndjson"));
    if let Some(next) = page.next_cursor {
        let rest: Vec<(String, String)> =
            form_urlencoded::parse(req.query_string().as_bytes()).into_owned().filter(|(k, _)| k != "cursor").collect();
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.extend_pairs(rest).append_pair("cursor", &next.to_string());
        res.insert_header((header::LINK, format!("<{}?{}>; rel=\"next\"", req.path(), q.finish())));
    }
    Ok(res.body(fhir::audit::ndjson(&page.items)))
}
