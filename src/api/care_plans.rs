//! The care-plan exchange over HTTP (ケアプランデータ連携 CSV): thin handlers around
//! `crate::domain::care_plans`. Files travel as base64 inside JSON, so one request carries a
//! whole send unit (or several) and the answer names every file.

use actix_web::{HttpResponse, web};

use crate::context::Context;
use crate::domain::care_plans::{self, ExchangeFiles, ExportQuery, ImportReport};
use crate::edge::json::ApiJson;
use crate::edge::query::ApiQuery;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Import exchange files: the office's 1・2表 and 補足, 6・7表 and 補足, 削除 files, or a
/// provider's 実績. All or nothing: a refused upload is a 422 whose `errors` name each problem
/// by `/files/<i>/rows/<row>/columns/<column>` (row and column from 1; 0 for the whole file or
/// record) with the file, record, column and reason in the message. Sending the same files
/// again answers `unchanged` for each patient.
#[utoipa::path(post, path = "/v1/care-plan-exchange/imports", tag = "care-plans", request_body = ExchangeFiles,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every patient's records stored (or already stored)", body = ImportReport),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A file, record or column is wrong; nothing was stored", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import_files(
    state: web::Data<AppState>,
    ctx: Context,
    ApiJson(upload): ApiJson<ExchangeFiles>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(care_plans::import(&state, ctx, upload).await?))
}

/// Export the files of the caller's organisation (a provider): the plans of the patients it
/// serves whose 2表 names its 介護保険事業所番号, and with `month` that month's 6・7表 rows of its
/// own services; only what each patient's consent shares with it. An organisation without a
/// 介護保険事業所番号 receives no files.
#[utoipa::path(get, path = "/v1/care-plan-exchange/exports", tag = "care-plans", params(ExportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The files, by the naming convention", body = ExchangeFiles),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The month is not YYYYMM", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export_files(
    state: web::Data<AppState>,
    ctx: Context,
    query: ApiQuery<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(care_plans::export(&state, ctx, query.into_inner()).await?))
}
