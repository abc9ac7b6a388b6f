//! Documents over HTTP: thin handlers around `crate::domain::documents`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::context::Context;
use crate::domain::documents::{Document, DocumentInput, Idempotency, IfMatch, ListFilter, Written, audited};
use crate::domain::paging::{self, NumberedPageParams, Page};
use crate::domain::params;
use crate::edge::if_match::IfMatchHeader;
use crate::edge::json::ApiJson;
use crate::edge::query::ApiQuery;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

fn header_str<'r>(req: &'r HttpRequest, name: &str) -> Result<Option<&'r str>, ApiError> {
    req.headers()
        .get(name)
        .map(|v| v.to_str().map_err(|_| ApiError::field(format!("/header/{name}"), "must be visible ASCII")))
        .transpose()
}

fn idempotency(req: &HttpRequest, caller: &Caller, body: &DocumentInput) -> Result<Option<Idempotency>, ApiError> {
    header_str(req, "Idempotency-Key")?
        .map(|key| Idempotency::new(caller, key, req.method().as_str(), req.path(), body))
        .transpose()
}

fn respond(written: Written) -> HttpResponse {
    let doc = written.document;
    HttpResponse::build(StatusCode::from_u16(written.status).unwrap_or(StatusCode::OK))
        .insert_header((header::ETAG, doc.etag()))
        .insert_header((header::LOCATION, format!("/v1/documents/{}", doc.id)))
        .json(doc)
}

/// Create a document for a patient: validated, sealed, stored as version 1.
#[utoipa::path(post, path = "/v1/patients/{id}/documents", tag = "documents", request_body = DocumentInput,
    params(("Idempotency-Key" = Option<String>, Header, pattern = r"^[!-~]{1,255}$", description = "Retry-safe key (1 to 255 visible ASCII characters): a retry with the same body returns the first answer; the same key with another body is a 422")),
    security(("bearer" = [])),
    responses(
        (status = 201, body = Document, headers(("ETag" = String), ("Location" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every validation error, located by pointer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_document(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    patient: web::Path<String>,
    ApiJson(input): ApiJson<DocumentInput>,
) -> Result<HttpResponse, ApiError> {
    let idem = idempotency(&req, &ctx.caller, &input)?;
    let patient = patient.into_inner();
    Ok(respond(audited::create(&state, ctx, patient.into(), input, idem).await?))
}

/// Replace a document's content as a new version. Requires `If-Match`.
///
/// A caller not cleared for restricted fields keeps the current values withheld from it (those
/// its reads list in `withheld`): it leaves them out and they are carried over unchanged into the
/// new version (the answer lists them in `withheld` again); setting one is refused with 422
/// naming its pointer. The caller is authorised before the body is validated; a 422 lists at
/// most 100 errors, then one entry (pointer `""`) counting the rest.
#[utoipa::path(put, path = "/v1/documents/{id}", tag = "documents", request_body = DocumentInput,
    params(("If-Match" = String, Header, pattern = r#"^(\*|"[0-9]{1,9}")$"#, description = "ETag of the version being replaced (`\"3\"`), or `*`"),
        ("Idempotency-Key" = Option<String>, Header, pattern = r"^[!-~]{1,255}$", description = "Retry-safe key (1 to 255 visible ASCII characters); the same key with another body is a 422")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Document, headers(("ETag" = String))),
        (status = 410, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale: `current` holds the current version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Validation errors (at most 100, then a count), or a withheld restricted field that the content sets", body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_document(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    id: web::Path<String>,
    ApiJson(input): ApiJson<DocumentInput>,
    if_match: IfMatchHeader,
) -> Result<HttpResponse, ApiError> {
    let precondition = if_match.required()?;
    let idem = idempotency(&req, &ctx.caller, &input)?;
    let id = id.into_inner();
    Ok(respond(audited::update(&state, ctx, id.into(), precondition, input, idem).await?))
}

/// Delete a document: a tombstone version; the history stays and a later GET is 410.
#[utoipa::path(delete, path = "/v1/documents/{id}", tag = "documents",
    params(("If-Match" = Option<String>, Header, pattern = r#"^(\*|"[0-9]{1,9}")$"#, description = "ETag of the current version (`\"3\"`), or `*` (the default)")),
    security(("bearer" = [])),
    responses((status = 200, body = Document), (status = 410, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`If-Match` is malformed", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_document(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    if_match: IfMatchHeader,
) -> Result<HttpResponse, ApiError> {
    let precondition = if_match.optional()?.unwrap_or(IfMatch::Any);
    let id = id.into_inner();
    let doc = audited::delete(&state, ctx, id.into(), precondition).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, doc.etag())).json(doc))
}

/// Read a document's current version.
#[utoipa::path(get, path = "/v1/documents/{id}", tag = "documents", security(("bearer" = [])),
    responses((status = 200, body = Document, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 410, body = Problem, content_type = "application/problem+json")))]
pub async fn get_document(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let doc = audited::get(&state, ctx, id.into(), None).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, doc.etag())).json(doc))
}

/// Read one version of a document.
#[utoipa::path(get, path = "/v1/documents/{id}/versions/{n}", tag = "documents", security(("bearer" = [])),
    responses((status = 200, body = Document), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_version(
    state: web::Data<AppState>,
    ctx: Context,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, n) = path.into_inner();
    let n: i32 = n.parse().map_err(|_| ApiError::NotFound("no such version".into()))?;
    let doc = audited::get(&state, ctx, id.into(), Some(n)).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, doc.etag())).json(doc))
}

/// Every version of a document, newest first, paged (`cursor` is a version number).
#[utoipa::path(get, path = "/v1/documents/{id}/history", tag = "documents", params(NumberedPageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<Document>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_history(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    page: ApiQuery<NumberedPageParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    // Every version is before a number past the largest one.
    let before = page.cursor.map(|c| i32::try_from(c).unwrap_or(i32::MAX));
    let id = id.into_inner();
    let items = audited::history(&state, ctx, id.into(), before, limit).await?;
    Ok(HttpResponse::Ok().json(Page::new(items, limit, |d: &Document| d.version.to_string())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentFilter {
    /// Only documents of this type (one of `/v1/schemas`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub doc_type: Option<String>,
    /// Only documents changed at or after this time (RFC 3339).
    #[param(format = DateTime)]
    pub updated_since: Option<String>,
    /// Items per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page (`<time>|<id>`).
    #[param(pattern = r"\|")]
    pub cursor: Option<String>,
}

/// A patient's documents (current versions), in order of last change, paged.
#[utoipa::path(get, path = "/v1/patients/{id}/documents", tag = "documents", params(DocumentFilter),
    security(("bearer" = [])),
    responses((status = 200, body = Page<Document>), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_documents(
    state: web::Data<AppState>,
    ctx: Context,
    patient: web::Path<String>,
    filter: ApiQuery<DocumentFilter>,
) -> Result<HttpResponse, ApiError> {
    let filter = filter.into_inner();
    let limit = paging::page_size(filter.limit)?;
    if let Some(t) = &filter.doc_type
        && !state.schemas.has_type(t)
    {
        return Err(ApiError::field("/query/type", format!("unknown document type {t}")));
    }
    let updated_since = params::optional_instant("/query/updated_since", filter.updated_since.as_deref())?;
    let after = filter.cursor.as_deref().map(|c| {
        c.split_once('|')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .ok_or_else(|| ApiError::field("/query/cursor", "not a cursor of this listing"))
    });
    let after = after.transpose()?;
    let list_filter = ListFilter { doc_type: filter.doc_type, updated_since, after };
    let patient = patient.into_inner();
    let (items, next) = audited::list(&state, ctx, patient.into(), list_filter, limit).await?;
    let next_cursor = next.map(|(at, id)| format!("{at}|{id}"));
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}
