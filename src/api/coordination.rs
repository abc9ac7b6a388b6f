//! Contact sheets over HTTP: thin handlers around `crate::domain::coordination`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::context::Context;
use crate::domain::coordination::inbox::{self, BoxName, SheetList, SheetQuery};
use crate::domain::coordination::sheets::{self, ForwardInput, ReplyInput, SheetInput};
use crate::domain::coordination::stats::{self, SheetStats};
use crate::domain::coordination::{Sheet, State};
use crate::domain::{paging, params};
use crate::edge::json::ApiJson;
use crate::edge::query::ApiQuery;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Send a contact sheet (連絡票) about a patient, or a question to a consultation desk.
#[utoipa::path(post, path = "/v1/contact-sheets", tag = "coordination", request_body = SheetInput,
    security(("bearer" = [])),
    responses((status = 201, body = Sheet, headers(("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such patient (or no relationship to it)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The patient's record was erased", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong, or the addressee may not see the patient (says why: consent missing, not on the care team)", body = Problem, content_type = "application/problem+json")))]
pub async fn send_sheet(
    state: web::Data<AppState>,
    ctx: Context,
    ApiJson(input): ApiJson<SheetInput>,
) -> Result<HttpResponse, ApiError> {
    let sheet = sheets::send(&state, ctx, input).await?;
    let location = format!("/v1/contact-sheets/{}", sheet.summary.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(sheet))
}

/// A box listing's query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SheetParams {
    /// `inbox` (default): addressed to the caller's organisation or to the caller; `sent`: sent
    /// by the caller's organisation.
    #[serde(rename = "box")]
    #[param(rename = "box", inline)]
    pub side: Option<BoxName>,
    /// Only sheets in this state.
    pub state: Option<State>,
    /// Only sheets about this patient.
    pub patient_id: Option<String>,
    /// `true`: only sheets past `reply_by` and still unanswered.
    pub overdue: Option<bool>,
    /// Items per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page (`<time>|<id>`).
    #[param(pattern = r"\|")]
    pub cursor: Option<String>,
}

/// The caller's inbox or sent box, newest first, with counts of unread and overdue sheets.
#[utoipa::path(get, path = "/v1/contact-sheets", tag = "coordination", params(SheetParams), security(("bearer" = [])),
    responses((status = 200, body = SheetList),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_sheets(
    state: web::Data<AppState>,
    ctx: Context,
    params: ApiQuery<SheetParams>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    let query = SheetQuery {
        side: p.side.unwrap_or(BoxName::Inbox),
        state: p.state,
        patient_id: p.patient_id,
        overdue: p.overdue.unwrap_or(false),
        unanswered: false,
        limit: paging::page_size(p.limit)?,
        after: p.cursor.as_deref().map(inbox::parse_cursor).transpose()?,
    };
    Ok(HttpResponse::Ok().json(inbox::list(&state, ctx, query).await?))
}

/// Open a sheet with its thread; the addressee's first open is the read receipt.
#[utoipa::path(get, path = "/v1/contact-sheets/{id}", tag = "coordination", security(("bearer" = [])),
    responses((status = 200, body = Sheet),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The patient's record was erased", body = Problem, content_type = "application/problem+json")))]
pub async fn get_sheet(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sheets::get(&state, ctx, id.into_inner()).await?))
}

/// Reply, threaded to the sheet: the addressee's reply answers it.
#[utoipa::path(post, path = "/v1/contact-sheets/{id}/reply", tag = "coordination", request_body = ReplyInput,
    security(("bearer" = [])),
    responses((status = 200, body = Sheet),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The sheet is withdrawn or closed", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The patient's record was erased", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn reply_sheet(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    ApiJson(input): ApiJson<ReplyInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sheets::reply(&state, ctx, id.into_inner(), input).await?))
}

/// Forward the sheet (its current addressee) to another organisation or practitioner.
#[utoipa::path(post, path = "/v1/contact-sheets/{id}/forward", tag = "coordination", request_body = ForwardInput,
    security(("bearer" = [])),
    responses((status = 200, body = Sheet),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The sheet is no longer open", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The patient's record was erased", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong, or the new addressee may not see the patient", body = Problem, content_type = "application/problem+json")))]
pub async fn forward_sheet(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    ApiJson(input): ApiJson<ForwardInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sheets::forward(&state, ctx, id.into_inner(), input).await?))
}

/// Withdraw the sheet (its sender), only before it is read.
#[utoipa::path(post, path = "/v1/contact-sheets/{id}/withdraw", tag = "coordination", security(("bearer" = [])),
    responses((status = 200, body = Sheet),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already read, answered, closed or withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The patient's record was erased", body = Problem, content_type = "application/problem+json")))]
pub async fn withdraw_sheet(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sheets::withdraw(&state, ctx, id.into_inner()).await?))
}

/// Close the sheet (its sender or addressee).
#[utoipa::path(post, path = "/v1/contact-sheets/{id}/close", tag = "coordination", security(("bearer" = [])),
    responses((status = 200, body = Sheet),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already closed or withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The patient's record was erased", body = Problem, content_type = "application/problem+json")))]
pub async fn close_sheet(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sheets::close(&state, ctx, id.into_inner()).await?))
}

/// The stats listing's query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Sheets sent at or after this time (RFC 3339); default 30 days ago.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Sheets sent before this time (RFC 3339); default now.
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Only sheets this organisation sent or received (auditors and the operator; others see
    /// their own organisation's only).
    pub organization: Option<String>,
}

/// Sent, read, answered, median time to read and to answer, overdue: by addressee organisation
/// and category. No patient data.
#[utoipa::path(get, path = "/v1/contact-sheets/stats", tag = "coordination", params(StatsParams), security(("bearer" = [])),
    responses((status = 200, body = SheetStats),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn sheet_stats(
    state: web::Data<AppState>,
    ctx: Context,
    params: ApiQuery<StatsParams>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    let now = state.clock.now();
    let from = match p.from.as_deref() {
        Some(t) => params::instant("/query/from", t)?,
        None => crate::clock::format(now - time::Duration::days(30)),
    };
    let to = match p.to.as_deref() {
        Some(t) => params::instant("/query/to", t)?,
        None => crate::clock::format(now + time::Duration::seconds(1)),
    };
    if to < from {
        return Err(ApiError::field("/query/to", "must not be before from"));
    }
    Ok(HttpResponse::Ok().json(stats::stats(&state, ctx, from, to, p.organization).await?))
}
