//! FHIR R4 over HTTP: thin handlers around `crate::fhir` (the mapping) and the domain reads it
//! goes through.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::context::Context;
use crate::domain::audit_log::{self, AuditQuery};
use crate::domain::documents::Document;
use crate::domain::exports::Scope;
use crate::domain::params;
use crate::edge::json::ApiJsonText;
use crate::edge::query::ApiQuery;
use crate::error::{ApiError, Problem};
use crate::fhir::{self, FHIR_JSON, export, jobs};
use crate::state::AppState;

pub mod edge;
pub mod server;

/// Where the resources of an answer say they are from: this server's FHIR base, under the
/// configured public origin (`--public-url`) or else the request's scheme and host.
pub fn base_url(req: &HttpRequest) -> String {
    let configured = req.app_data::<web::Data<AppState>>().and_then(|s| s.settings.public_url.clone());
    match configured {
        Some(origin) => format!("{}/v1/fhir", origin.trim_end_matches('/')),
        None => {
            let info = req.connection_info();
            format!("{}://{}/v1/fhir", info.scheme(), info.host())
        }
    }
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

/// The parameters of a bulk export kick-off, from the query (GET, or POST without a body) or
/// from a `Parameters` resource (POST, as the Bulk Data IG has it).
fn export_request(req: &HttpRequest, body: &[u8]) -> Result<(Vec<String>, Option<String>), ApiError> {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    if !body.iter().all(u8::is_ascii_whitespace) {
        let parameters: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| ApiError::field("", "the body must be a FHIR Parameters resource (JSON)"))?;
        if parameters["resourceType"] != "Parameters" {
            return Err(ApiError::field("/resourceType", "must be Parameters"));
        }
        for (i, p) in parameters["parameter"].as_array().into_iter().flatten().enumerate() {
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            let value = ["valueString", "valueInstant", "valueCode", "valueDateTime"]
                .iter()
                .find_map(|k| p[*k].as_str())
                .ok_or_else(|| ApiError::field(format!("/parameter/{i}"), "a parameter needs a string value"))?;
            pairs.push((name, value.to_owned()));
        }
    }
    let lenient = req
        .headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split([',', ';']).any(|p| p.trim().eq_ignore_ascii_case("handling=lenient")));
    let mut types: Option<String> = None;
    let mut since = None;
    for (name, value) in pairs {
        match name.as_str() {
            "_type" => types = Some(types.map_or(value.clone(), |t| format!("{t},{value}"))),
            "_since" => since = params::optional_instant("/query/_since", Some(&value))?,
            "_outputFormat" => {
                if !matches!(value.as_str(), "application/fhir+ndjson" | "application/ndjson" | "ndjson") {
                    return Err(ApiError::field(
                        "/query/_outputFormat",
                        "this server writes application/fhir+ndjson only",
                    ));
                }
            }
            "_format" => {}
            other if lenient => tracing::debug!(parameter = other, "export kick-off: ignored (lenient)"),
            other => {
                return Err(ApiError::BadParameters(vec![crate::error::FieldError::new(
                    format!("/query/{other}"),
                    "not an export parameter this server takes (_type, _since, _outputFormat); send Prefer: handling=lenient to have it ignored",
                )]));
            }
        }
    }
    Ok((export::parse_types(types.as_deref())?, since))
}

/// Starts an export at `scope` and answers the Bulk Data IG's 202 with the absolute URL of
/// its status in `Content-Location`.
async fn kick_off(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    body: web::Bytes,
    scope: Scope,
) -> Result<HttpResponse, ApiError> {
    let (types, since) = export_request(&req, &body)?;
    let base = base_url(&req);
    let request = format!("{}{}", base.trim_end_matches("/v1/fhir"), req.uri());
    let id = export::kick_off(&state, ctx, request, types, since, scope).await?;
    Ok(HttpResponse::Accepted().insert_header((header::CONTENT_LOCATION, format!("{base}/export-jobs/{id}"))).finish())
}

/// Start a bulk export (FHIR Bulk Data kick-off, `GET` or `POST`, `Prefer: respond-async`) of
/// every patient the caller may read, as NDJSON files per resource type: 202 with the absolute
/// `Content-Location` of the job. Parameters: `_type`, `_since`, `_outputFormat` (in the query,
/// or a `Parameters` body on POST); `_typeFilter` and any other are refused with 400 unless
/// `Prefer: handling=lenient`. The export holds exactly what the caller could read patient by
/// patient (`GET /v1/patients/{id}/fhir`), never by break-glass, and is audited as `fhir.export`
/// with its counts per type. Its files are sealed on disk and expire (`export_ttl_hours`).
/// Refused with 429 (and `Retry-After`) while the caller already runs an export, while the
/// server runs as many as it allows, or when the organisation keeps its quota of jobs; with 507
/// when the data directory is low on free disk. Errors are OperationOutcomes.
#[utoipa::path(post, path = "/v1/fhir/$export", tag = "fhir", security(("bearer" = [])),
    request_body(content = Option<Object>, content_type = "application/fhir+json", description = "An optional FHIR Parameters resource (POST)"),
    params(("_type" = Option<String>, Query, description = "Comma-separated resource types (default: every type an export holds)"),
        ("_since" = Option<String>, Query, description = "Only documents (and what derives from them) changed at or after this instant"),
        ("_outputFormat" = Option<String>, Query, description = "application/fhir+ndjson (the only format; the short forms too)")),
    responses((status = 202, description = "Started", headers(("Content-Location" = String))),
        (status = 400, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object),
        (status = 403, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object),
        (status = 422, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object),
        (status = 429, description = "An export limit", content_type = "application/fhir+json", body = Object,
            headers(("Retry-After" = String))),
        (status = 507, description = "Too little free disk", content_type = "application/fhir+json", body = Object)))]
pub async fn export_system(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    kick_off(state, ctx, req, body, Scope::System).await
}

/// `Patient/$export`: the kick-off of `$export` for the patients the caller may read (each
/// patient's compartment and the directory entries it refers to), with the same parameters,
/// limits and security.
#[utoipa::path(post, path = "/v1/fhir/Patient/$export", tag = "fhir", security(("bearer" = [])),
    request_body(content = Option<Object>, content_type = "application/fhir+json", description = "An optional FHIR Parameters resource (POST)"),
    responses((status = 202, description = "Started", headers(("Content-Location" = String))),
        (status = 400, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object),
        (status = 429, description = "An export limit", content_type = "application/fhir+json", body = Object)))]
pub async fn export_patients(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    kick_off(state, ctx, req, body, Scope::Patient).await
}

/// `Group/{id}/$export`: the kick-off for one group of the caller's organisation
/// (`managed-{org}`, `team-{org}`; `GET /v1/fhir/Group` lists them), each of its patients only
/// if the caller may read them; the rest are counted in the error file.
#[utoipa::path(post, path = "/v1/fhir/Group/{id}/$export", tag = "fhir", security(("bearer" = [])),
    request_body(content = Option<Object>, content_type = "application/fhir+json", description = "An optional FHIR Parameters resource (POST)"),
    params(("id" = String, Path, description = "A group of GET /v1/fhir/Group")),
    responses((status = 202, description = "Started", headers(("Content-Location" = String))),
        (status = 404, description = "No such group of the caller's organisation", content_type = "application/fhir+json", body = Object),
        (status = 429, description = "An export limit", content_type = "application/fhir+json", body = Object)))]
pub async fn export_group(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let scope = fhir::server::groups::owned(&ctx, &id)?;
    kick_off(state, ctx, req, body, scope).await
}

/// Poll a bulk export: 202 with `X-Progress` while it runs, 200 with the manifest once
/// complete (output file URLs need the same bearer token).
#[utoipa::path(get, path = "/v1/fhir/export-jobs/{id}", tag = "fhir", security(("bearer" = [])),
    responses((status = 200, description = "The manifest", body = Object),
        (status = 202, description = "Still running", headers(("X-Progress" = String), ("Retry-After" = String))),
        (status = 404, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object),
        (status = 500, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object)))]
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
                "error": job.errors.iter()
                    .map(|o| json!({"type": o.resource_type, "url": format!("{origin}{}", o.url)}))
                    .collect::<Vec<_>>(),
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
        (status = 404, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object)))]
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
    responses((status = 202, description = "Deleted"), (status = 404, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object)))]
pub async fn export_delete(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    jobs::delete(&state, ctx, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Import a document sent as a FHIR `document` Bundle: a JP-CLINS 診療情報提供書 (doc-typecodes
/// 57133-1), 退院時サマリー (18842-5) or 患者サマリー (56447-6) becomes a `referral-letter`,
/// `discharge-summary` 1.1.0 or `patient-summary` kept whole (the Bundle as received, sender,
/// addressee, every section nested or not, every entry with its codes); a JP-CLINS `collection`
/// of clinical information (lab results, …) a `clinical-information`; a Composition of type
/// LOINC 18842-5 in our own shape becomes a `discharge-summary` 1.0.0 (201, our JSON,
/// `Location` of the document). What cannot be mapped, or fails the schema, is a 422
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
    ApiJsonText(bundle, raw): ApiJsonText<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let written = fhir::import::import(&state, ctx, id.into_inner().into(), bundle, raw, req.path().to_owned()).await?;
    Ok(server::created(written))
}

/// `$export` kicked off by GET, as the Bulk Data guide says a server SHALL support: the same as
/// the POST, its parameters in the query.
#[utoipa::path(get, path = "/v1/fhir/$export", tag = "fhir", security(("bearer" = [])),
    params(("_type" = Option<String>, Query, description = "Comma-separated resource types (default: every type an export holds)"),
        ("_since" = Option<String>, Query, description = "Only documents (and what derives from them) changed at or after this instant"),
        ("_outputFormat" = Option<String>, Query, description = "application/fhir+ndjson (the only format; the short forms too)")),
    responses((status = 202, description = "Started", headers(("Content-Location" = String))),
        (status = 400, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object),
        (status = 403, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object),
        (status = 422, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object),
        (status = 429, description = "An export limit", content_type = "application/fhir+json", body = Object,
            headers(("Retry-After" = String))),
        (status = 507, description = "Too little free disk", content_type = "application/fhir+json", body = Object)))]
pub async fn export_system_get(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    kick_off(state, ctx, req, web::Bytes::new(), Scope::System).await
}

/// `Patient/$export` kicked off by GET.
#[utoipa::path(get, path = "/v1/fhir/Patient/$export", tag = "fhir", security(("bearer" = [])),
    responses((status = 202, description = "Started", headers(("Content-Location" = String))),
        (status = 400, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object),
        (status = 429, description = "An export limit", content_type = "application/fhir+json", body = Object)))]
pub async fn export_patients_get(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    kick_off(state, ctx, req, web::Bytes::new(), Scope::Patient).await
}

/// `Group/{id}/$export` kicked off by GET.
#[utoipa::path(get, path = "/v1/fhir/Group/{id}/$export", tag = "fhir", security(("bearer" = [])),
    params(("id" = String, Path, description = "A group of GET /v1/fhir/Group")),
    responses((status = 202, description = "Started", headers(("Content-Location" = String))),
        (status = 404, description = "No such group of the caller's organisation", content_type = "application/fhir+json", body = Object),
        (status = 429, description = "An export limit", content_type = "application/fhir+json", body = Object)))]
pub async fn export_group_get(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = fhir::server::groups::owned(&ctx, &id)?;
    kick_off(state, ctx, req, web::Bytes::new(), scope).await
}
