//! The region's reports over HTTP: item fill and indicators, as JSON or (`Accept: text/csv`) CSV.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::context::Context;
use crate::domain::reports::Days;
use crate::domain::reports::indicators::{self, Granularity, Indicators};
use crate::domain::reports::item_fill::{self, ItemFill, ItemFillQuery};
use crate::edge::query::ApiQuery;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// The item-fill report's query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemFillParams {
    /// The document type, e.g. `care-path`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub doc_type: String,
    /// One schema version (`1.1.0`); default every version of the type.
    pub schema_version: Option<String>,
    /// Documents whose current version was written on or after this day (YYYY-MM-DD, region's calendar).
    #[param(format = Date)]
    pub from: Option<String>,
    /// ... and on or before this day.
    #[param(format = Date)]
    pub to: Option<String>,
    /// Only documents whose current version this organisation wrote.
    pub organization: Option<String>,
}

/// The indicators' query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorParams {
    /// First day (YYYY-MM-DD, region's calendar); default 1 January of this year.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day, included; default 31 December of this year.
    #[param(format = Date)]
    pub to: Option<String>,
    /// Length of each period; default `fiscal_year` when `from` is an April 1 and `to` a March
    /// 31, else `year`.
    #[param(inline)]
    pub granularity: Option<Granularity>,
}

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv")))
}

fn csv<const N: usize>(rows: &[[String; N]], name: &str) -> Result<HttpResponse, ApiError> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(row).map_err(ApiError::internal)?;
    }
    let body = w.into_inner().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")))
        .body(body))
}

/// Which items of a document type are really filled in (section F): for every field of the
/// schema, the share of current documents in which it is present and not empty, overall and by
/// the kind of organisation that wrote them, and the fields never used. Reads structure only: a
/// sealed value counts as filled and is never opened. Analyst and the operator's admin.
#[utoipa::path(get, path = "/v1/reports/item-fill", tag = "reports", params(ItemFillParams), security(("bearer" = [])),
    responses((status = 200, description = "The report; with `Accept: text/csv`, one CSV row per field and writer kind",
            content((ItemFill = "application/json"), (String = "text/csv"))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is wrong: no such type or schema version of it, a day that is not a date, `to` before `from`", body = Problem, content_type = "application/problem+json")))]
pub async fn item_fill(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    params: ApiQuery<ItemFillParams>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    let day = |pointer: &str, text: Option<&str>| {
        text.map(|t| {
            crate::clock::parse_day(t).ok_or_else(|| ApiError::field(pointer, "must be a real date, YYYY-MM-DD"))
        })
        .transpose()
    };
    let (from, to) = (day("/query/from", p.from.as_deref())?, day("/query/to", p.to.as_deref())?);
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(ApiError::field("/query/to", "must not be before from"));
    }
    let query = ItemFillQuery {
        doc_type: p.doc_type,
        schema_version: p.schema_version,
        from,
        to,
        organization: p.organization,
    };
    let report = item_fill::item_fill(&state, ctx, query).await?;
    if wants_csv(&req) { csv(&item_fill::csv_rows(&report), "item-fill") } else { Ok(HttpResponse::Ok().json(report)) }
}

/// The annual plan's indicators (section H) by period, for the region and by the municipality of
/// the patients' addresses (definitions: docs/indicators.md). De-identified: counts below 5 are
/// `<5` and cells that would give them away from a total are `x`. Analyst and the operator's admin.
#[utoipa::path(get, path = "/v1/reports/indicators", tag = "reports", params(IndicatorParams), security(("bearer" = [])),
    responses((status = 200, description = "The indicators; with `Accept: text/csv`, one CSV row per period, area and indicator",
            content((Indicators = "application/json"), (String = "text/csv"))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is wrong: a day that is not a date, `to` before `from`, more than 20 years", body = Problem, content_type = "application/problem+json")))]
pub async fn indicators(
    state: web::Data<AppState>,
    ctx: Context,
    req: HttpRequest,
    params: ApiQuery<IndicatorParams>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    let days = Days::parse(p.from.as_deref(), p.to.as_deref(), state.calendar.today())?;
    let granularity = p.granularity.unwrap_or_else(|| Granularity::default_for(days));
    let report = indicators::indicators(&state, ctx, days, granularity).await?;
    if wants_csv(&req) {
        csv(&indicators::csv_rows(&report), "indicators")
    } else {
        Ok(HttpResponse::Ok().json(report))
    }
}
