//! The FHIR server's routes, made from `fhir::server`'s tables (types, interactions,
//! operations), and their thin handlers: parse, one call into `fhir::server`, render.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::{base_url, fhir_json};
use crate::context::Context;
use crate::domain::documents::Written;
use crate::edge::json::ApiJsonText;
use crate::error::ApiError;
use crate::fhir::server::search::Here;
use crate::fhir::server::stamp::Entry;
use crate::fhir::server::{CREATES, Level, OPERATIONS, TYPES, capability, everything, read, search, type_named};
use crate::state::AppState;

/// A FHIR id: at most 64 of `[A-Za-z0-9.-]` (so `$export` is never read as one).
const ID: &str = "[A-Za-z0-9.-]{1,64}";

/// Every route of `/v1/fhir` (relative to it). Operations first: `Patient/$export` would
/// otherwise be no read of a Patient with id `$export` only because of the id's pattern.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/metadata").get(metadata));
    for op in OPERATIONS {
        let resource = web::resource(op.path());
        cfg.service(match (op.name, op.level) {
            ("everything", _) => resource.get(patient_everything),
            ("document", _) => resource.get(composition_document),
            (_, Level::System) => resource.get(super::export_system_get).post(super::export_system),
            (_, Level::Type(_)) => resource.get(super::export_patients_get).post(super::export_patients),
            (_, Level::Instance(_)) => resource.get(super::export_group_get).post(super::export_group),
        });
    }
    for create in CREATES {
        // One type takes a post today; another would name its handler here.
        if create.name == "Bundle" {
            cfg.service(web::resource("/Bundle").post(create_bundle));
        }
    }
    cfg.service(web::resource("/export-jobs/{id}").get(super::export_status).delete(super::export_delete))
        .service(web::resource("/export-jobs/{id}/files/{type}").get(super::export_file));
    let names = |keep: fn(&&crate::fhir::server::Type) -> bool| {
        TYPES.iter().filter(keep).map(|t| t.name).collect::<Vec<_>>().join("|")
    };
    cfg.service(web::resource(format!("/{{type:{}}}", names(|t| t.searchable()))).get(search_type))
        .service(web::resource(format!("/{{type:{}}}/{{id:{ID}}}", names(|_| true))).get(read_instance))
        .service(
            web::resource(format!("/{{type:{}}}/{{id:{ID}}}/_history/{{vid}}", names(|t| t.vread))).get(vread_instance),
        );
}

/// Anything else under `/v1/fhir`: an OperationOutcome 404.
pub async fn unknown() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such FHIR resource type, interaction or operation here (see /v1/fhir/metadata)".into()))
}

/// The query as pairs, in order.
fn query(req: &HttpRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect()
}

/// `Prefer: handling=strict`.
fn strict(req: &HttpRequest) -> bool {
    req.headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .any(|p| p.trim().eq_ignore_ascii_case("handling=strict"))
}

fn served(name: &str) -> Result<&'static crate::fhir::server::Type, ApiError> {
    type_named(name).ok_or_else(|| ApiError::NotFound(format!("{name} is not served here")))
}

/// The CapabilityStatement: what this server serves, made from the tables its routes are made from.
#[utoipa::path(get, path = "/v1/fhir/metadata", tag = "fhir",
    responses((status = 200, description = "A FHIR R4 CapabilityStatement", content_type = "application/fhir+json", body = Object)))]
pub async fn metadata(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let today = crate::clock::format_day(state.calendar.today());
    fhir_json(StatusCode::OK, &capability::statement(&base_url(&req), &today))
}

/// A resource answer with `ETag` and `Last-Modified`; `304` when `If-None-Match` names it.
fn resource_response(req: &HttpRequest, entry: Entry) -> HttpResponse {
    let etag = entry.etag();
    let unchanged = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(',').any(|t| t.trim() == etag || t.trim().trim_start_matches("W/") == etag.trim_start_matches("W/"))
    });
    let mut res = HttpResponse::build(if unchanged { StatusCode::NOT_MODIFIED } else { StatusCode::OK });
    res.insert_header((header::ETAG, etag));
    if let Some(at) = entry.last_updated.as_deref().and_then(crate::clock::parse) {
        res.insert_header((header::LAST_MODIFIED, header::HttpDate::from(std::time::SystemTime::from(at))));
    }
    if unchanged {
        return res.finish();
    }
    res.insert_header((header::CONTENT_TYPE, crate::fhir::FHIR_JSON)).body(entry.resource.to_string())
}

/// Read one resource (`GET /v1/fhir/{type}/{id}`) as the caller may see it: the resource is
/// picked from the record of its patient, read under the access rule, consents and withheld
/// fields of `GET /v1/patients/{id}/fhir` and audited as `fhir.read`. `ETag` and
/// `Last-Modified` come from the document it was made from where there is one.
#[utoipa::path(get, path = "/v1/fhir/{type}/{id}", tag = "fhir", security(("bearer" = [])),
    params(("type" = String, Path, description = "A resource type of the CapabilityStatement"),
        ("id" = String, Path, description = "The resource id")),
    responses((status = 200, description = "The resource", content_type = "application/fhir+json", body = Object,
            headers(("ETag" = String), ("Last-Modified" = String))),
        (status = 304, description = "Unchanged since the If-None-Match given"),
        (status = 404, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object)))]
pub async fn read_instance(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, id) = path.into_inner();
    let entry = read::read(&state, ctx, served(&kind)?.name, id, None).await?;
    Ok(resource_response(&req, entry))
}

/// Read a resource at a version of the document it was made from (`vread`).
#[utoipa::path(get, path = "/v1/fhir/{type}/{id}/_history/{vid}", tag = "fhir", security(("bearer" = [])),
    params(("type" = String, Path, description = "A versioned resource type of the CapabilityStatement"),
        ("id" = String, Path, description = "The resource id"),
        ("vid" = String, Path, description = "The version (the document's version number)")),
    responses((status = 200, description = "The resource at that version", content_type = "application/fhir+json", body = Object,
            headers(("ETag" = String), ("Last-Modified" = String))),
        (status = 404, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object)))]
pub async fn vread_instance(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, id, vid) = path.into_inner();
    let entry = read::read(&state, ctx, served(&kind)?.name, id, Some(vid)).await?;
    Ok(resource_response(&req, entry))
}

/// Search one patient's record for resources of a type (`patient=` required; `Patient` by
/// `identifier` or `_id`; `Group` lists the groups the caller may export): a `searchset` Bundle
/// with `total` and `self`/`next` links, audited as `fhir.search` of the patient.
#[utoipa::path(get, path = "/v1/fhir/{type}", tag = "fhir", security(("bearer" = [])),
    params(("type" = String, Path, description = "A searchable resource type of the CapabilityStatement")),
    responses((status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object),
        (status = 400, description = "An OperationOutcome naming the parameter", content_type = "application/fhir+json", body = Object),
        (status = 404, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object)))]
pub async fn search_type(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    kind: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let t = served(&kind)?;
    let here = Here { base: base_url(&req), path: t.name.to_owned(), query: query(&req), at: state.clock.stamp() };
    let bundle: Value = search::search(&state, ctx, t, here, strict(&req)).await?;
    Ok(fhir_json(StatusCode::OK, &bundle))
}

/// A stored document as the FHIR `document` Bundle it is: a JP-CLINS document exactly as it
/// arrived (the same bytes), any other made from its Composition, Patient and derived
/// resources. Audited as `fhir.document`; a document the caller may not read is a 404.
#[utoipa::path(get, path = "/v1/fhir/Composition/{id}/$document", tag = "fhir", security(("bearer" = [])),
    params(("id" = String, Path, description = "The document (Composition) id")),
    responses((status = 200, description = "A document Bundle", content_type = "application/fhir+json", body = Object),
        (status = 404, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object)))]
pub async fn composition_document(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let body = crate::fhir::clins::document::document(&state, ctx, id.into_inner(), base_url(&req)).await?;
    Ok(HttpResponse::Ok().insert_header((header::CONTENT_TYPE, crate::fhir::FHIR_JSON)).body(body))
}

/// The patient's whole record as the caller may see it (`_since`, `_type`, `_count`), a
/// `searchset` Bundle, audited as `fhir.everything`.
#[utoipa::path(get, path = "/v1/fhir/Patient/{id}/$everything", tag = "fhir", security(("bearer" = [])),
    params(("id" = String, Path, description = "The patient id")),
    responses((status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object),
        (status = 400, description = "An OperationOutcome naming the parameter", content_type = "application/fhir+json", body = Object),
        (status = 404, description = "An OperationOutcome", content_type = "application/fhir+json", body = Object)))]
pub async fn patient_everything(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let here = Here {
        base: base_url(&req),
        path: format!("Patient/{id}/$everything"),
        query: query(&req),
        at: state.clock.stamp(),
    };
    let bundle = everything::everything(&state, ctx, id, here).await?;
    Ok(fhir_json(StatusCode::OK, &bundle))
}

/// A document written by an import: 201 (200 on a replay) with `ETag`, `Location` and the
/// document as our JSON, through either door.
pub fn created(written: Written) -> HttpResponse {
    let doc = written.document;
    HttpResponse::build(StatusCode::from_u16(written.status).unwrap_or(StatusCode::CREATED))
        .insert_header((header::ETAG, doc.etag()))
        .insert_header((header::LOCATION, format!("/v1/documents/{}", doc.id)))
        .json(doc)
}

/// Import a JP-CLINS Bundle from an EHR that does not know carepath's ids: the document Bundles
/// of `POST /v1/patients/{id}/fhir`, or a collection of clinical information, whose patient is
/// found by the Bundle's Patient: the health-insurance card (`JP_Insurance_memberID`,
/// `insurer:symbol:number:branch`) with the name in kana and the birth date, which must agree
/// with the record. Then exactly that door's import (access rule, mapping, sealing, audit,
/// idempotency on `Bundle.identifier`). An unknown card, a disagreeing name kana or birth date
/// and a patient the caller may not file for are one and the same 422 (the disagreement is
/// audited as `insured_identity_mismatch` of that patient). Errors are OperationOutcomes.
#[utoipa::path(post, path = "/v1/fhir/Bundle", tag = "fhir", security(("bearer" = [])),
    request_body(content = Object, content_type = "application/fhir+json", description = "A JP-CLINS Bundle (document, or collection)"),
    responses((status = 201, body = crate::domain::documents::Document, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "An OperationOutcome: the role may not write documents", content_type = "application/fhir+json", body = Object),
        (status = 422, description = "An OperationOutcome naming the element (FHIRPath)", content_type = "application/fhir+json", body = Object)))]
pub async fn create_bundle(
    state: web::Data<AppState>,
    ctx: Context,
    ApiJsonText(bundle, raw): ApiJsonText<Value>,
) -> Result<HttpResponse, ApiError> {
    Ok(created(crate::fhir::door::import(&state, ctx, bundle, raw).await?))
}
