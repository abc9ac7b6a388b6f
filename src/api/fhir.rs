//! FHIR R4 over HTTP: thin handlers around `crate::fhir` (the mapping) and the domain reads it
//! goes through.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::json::ApiJson;
use crate::api::extract::query::ApiQuery;
use crate::context::Context;
use crate::domain::audit_log::{self, AuditQuery};
use crate::domain::documents::Document;
use crate::domain::params;
use crate::error::{ApiError, Problem};
use crate::fhir::{self, FHIR_JSON, export, jobs};
use crate::state::AppState;

/// Where the resources of an answer say they are from: this server's FHIR base.
pub fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}/v1/fhir", info.scheme(), info.host())
}

/// Whether the request asks for FHIR JSON (`Accept: application/fhir+json`) over our JSON.
pub fn wants_fhir(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|m| m.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case(FHIR_JSON))
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

/// The one output format of an export, and the short forms the Bulk Data specification allows.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum OutputFormat {
    #[serde(rename = "application/fhir+ndjson")]
    FhirNdjson,
    #[serde(rename = "application/ndjson")]
    Ndjson,
    #[serde(rename = "ndjson")]
    Short,
}

/// The parameters of a bulk export kick-off.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Comma-separated resource types to export (default: every type an export holds).
    #[serde(rename = "_type")]
    #[param(
        rename = "_type",
        pattern = r"^(Patient|Organization|Practitioner|PractitionerRole|CareTeam|Consent|CarePlan|Composition|DocumentReference|Condition|MedicationStatement|AllergyIntolerance)(,(Patient|Organization|Practitioner|PractitionerRole|CareTeam|Consent|CarePlan|Composition|DocumentReference|Condition|MedicationStatement|AllergyIntolerance))*$"
    )]
    pub types: Option<String>,
    /// Only documents (and what derives from them) changed at or after this instant (RFC 3339).
    #[serde(rename = "_since")]
    #[param(rename = "_since", format = DateTime)]
    pub since: Option<String>,
    /// `application/fhir+ndjson` (the only format; the short forms too).
    #[serde(rename = "_outputFormat")]
    #[param(rename = "_outputFormat", inline)]
    pub output_format: Option<OutputFormat>,
}

/// Start a bulk export (FHIR Bulk Data kick-off) of every patient the caller may read, as
/// NDJSON files per resource type: 202 with `Content-Location` of the job. The export holds
/// exactly what the caller could read patient by patient (`GET /v1/patients/{id}/fhir`), never
/// by break-glass, and is audited as `fhir.export` with its counts per type. Its files are sealed
/// on disk and expire (`export_ttl_hours`). Refused with 429 (and `Retry-After`) while the caller
/// already runs an export, while the server runs as many as it allows, or when the organisation
/// keeps its quota of jobs; with 507 when the data directory is low on free disk.
#[utoipa::path(post, path = "/v1/fhir/$export", tag = "fhir", params(ExportParams), security(("bearer" = [])),
    responses((status = 202, description = "Started", headers(("Content-Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "An export limit", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String))),
        (status = 507, description = "Too little free disk", body = Problem, content_type = "application/problem+json")))]
pub async fn export_kick_off(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    params: ApiQuery<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let types = export::parse_types(params.types.as_deref())?;
    let since = params::optional_instant("/query/_since", params.since.as_deref())?;
    let request = format!("{}{}", base_url(&req).trim_end_matches("/v1/fhir"), req.uri());
    let id = export::kick_off(&state, ctx, request, types, since).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::CONTENT_LOCATION, format!("/v1/fhir/export-jobs/{id}")))
        .finish())
}

/// Poll a bulk export: 202 with `X-Progress` while it runs, 200 with the manifest once
/// complete (output file URLs need the same bearer token).
#[utoipa::path(get, path = "/v1/fhir/export-jobs/{id}", tag = "fhir", security(("bearer" = [])),
    responses((status = 200, description = "The manifest", body = Object),
        (status = 202, description = "Still running", headers(("X-Progress" = String), ("Retry-After" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 500, body = Problem, content_type = "application/problem+json")))]
pub async fn export_status(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = jobs::status(&state, ctx, id.into_inner()).await?;
    match job.status.as_str() {
        "complete" => {
            let origin = base_url(&req);
            let origin = origin.trim_end_matches("/v1/fhir");
            let output: Vec<serde_json::Value> = job
                .output
                .iter()
                .map(|o| json!({"type": o.resource_type, "url": format!("{origin}{}", o.url), "count": o.count}))
                .collect();
            Ok(HttpResponse::Ok().json(json!({
                "transactionTime": job.transaction_time,
                "request": job.request,
                "requiresAccessToken": true,
                "output": output,
                "error": [],
            })))
        }
        "failed" => Err(ApiError::internal(job.error.unwrap_or_default())),
        _ => Ok(HttpResponse::Accepted()
            .insert_header(("X-Progress", format!("{} patients exported", job.patients_done)))
            .insert_header((header::RETRY_AFTER, "1"))
            .finish()),
    }
}

/// One NDJSON file of a complete export (its owner only), opened from its sealed form as it is
/// sent. The access rule is applied again: a patient the caller may no longer read, or whose care
/// team or consents changed since the export, is left out (docs/fhir.md).
#[utoipa::path(get, path = "/v1/fhir/export-jobs/{id}/files/{type}", tag = "fhir", security(("bearer" = [])),
    params(("type" = String, Path, description = "A resource type of the manifest")),
    responses((status = 200, description = "One resource a line", content_type = "application/fhir+ndjson", body = String),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn export_file(
    state: web::Data<AppState>,
    ctx: Context,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, resource_type) = path.into_inner();
    let download = jobs::file(&state, ctx, id, resource_type).await?;
    Ok(HttpResponse::Ok().insert_header((header::CONTENT_TYPE, "application/fhir+ndjson")).streaming(records(download)))
}

/// The file's records as they are opened, read off the async workers.
fn records(download: jobs::Download) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> {
    futures_util::stream::unfold(Some(download), |download| async move {
        let mut download = download?;
        let read = web::block(move || download.next_lines().map(|lines| (download, lines))).await;
        match read {
            Ok(Ok((_, None))) => None,
            Ok(Ok((download, Some(lines)))) => Some((Ok(web::Bytes::from(lines)), Some(download))),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "fhir export: a sealed file does not open");
                Some((Err(actix_web::error::ErrorInternalServerError("the export file is damaged")), None))
            }
            Err(e) => Some((Err(actix_web::error::ErrorInternalServerError(e)), None)),
        }
    })
}

/// Delete a bulk export and its files: 202.
#[utoipa::path(delete, path = "/v1/fhir/export-jobs/{id}", tag = "fhir", security(("bearer" = [])),
    responses((status = 202, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn export_delete(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    jobs::delete(&state, ctx, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Import a discharge summary (退院時サマリー) sent as a FHIR `document` Bundle whose
/// Composition is of type LOINC 18842-5: it becomes a `discharge-summary` document (201, our
/// JSON, `Location` of the document). What cannot be mapped, or fails the schema, is a 422
/// located FHIRPath-style (`Bundle.entry[0].resource.section[2]`). Idempotent on
/// `Bundle.identifier` for the same caller: the same Bundle again answers the first document.
#[utoipa::path(post, path = "/v1/patients/{id}/fhir", tag = "fhir", security(("bearer" = [])),
    request_body(content = Object, content_type = "application/fhir+json", description = "A FHIR R4 Bundle of type document"),
    responses((status = 201, body = Document, headers(("ETag" = String), ("Location" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "What cannot be mapped, located FHIRPath-style", body = Problem, content_type = "application/problem+json")))]
pub async fn import_bundle(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    id: web::Path<String>,
    ApiJson(bundle): ApiJson<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let written = fhir::import::import(&state, ctx, id.into_inner().into(), bundle, req.path().to_owned()).await?;
    let doc = written.document;
    Ok(HttpResponse::build(
        actix_web::http::StatusCode::from_u16(written.status).unwrap_or(actix_web::http::StatusCode::CREATED),
    )
    .insert_header((header::ETAG, doc.etag()))
    .insert_header((header::LOCATION, format!("/v1/documents/{}", doc.id)))
    .json(doc))
}
