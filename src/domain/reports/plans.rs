//! The annual plan (section H): the municipality's programme for a year, item by item (area A–H
//! of the programme or a local one, what, by whom, when, status), each item linked to the
//! indicators that judge it, grouped as structure, process and outcome. Reading it shows the
//! year's region-level indicators beside the plan, so the yearly review (plan, do, check, act)
//! happens on one page. The analyst and the operator's admin keep it; every change is audited.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Days;
use super::indicators::{self, Cell, Granularity};
use crate::access::Action;
use crate::audit::Event;
use crate::clock;
use crate::context::Context;
use crate::db::DbConn;
use crate::db::directory::OrganizationRow;
use crate::db::plans::{PlanRow, PlanVersionRow};
use crate::domain::documents::IfMatch;
use crate::domain::fields::Errors;
use crate::domain::paging::Page;
use crate::error::ApiError;
use crate::state::AppState;

const MAX_ITEMS: usize = 200;

/// The programme's area an item belongs to (the guide's items A–H), or a local one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Area {
    /// A: knowing the region's resources.
    A,
    /// B: sharing the issues and considering responses.
    B,
    /// C: seamless home medical and care provision.
    C,
    /// D: support for sharing information between professionals.
    D,
    /// E: consultation support for coordination.
    E,
    /// F: training of professionals.
    F,
    /// G: awareness among residents.
    G,
    /// H: coordination across municipalities.
    H,
    /// A local item of the municipality's own.
    #[serde(rename = "local")]
    Local,
}

/// How the guide groups indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorGroup {
    /// Structure: resources in place (doctors, organisations).
    Structure,
    /// Process: what is done (summaries shared, sheets answered).
    Process,
    /// Outcome: what results (deaths at home).
    Outcome,
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Not begun.
    Planned,
    /// Under way.
    InProgress,
    /// Done.
    Done,
    /// Moved to later.
    Postponed,
    /// Given up.
    Dropped,
}

/// An indicator that judges an item, with the value the plan aims at.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorLink {
    /// An indicator id of `GET /v1/reports/indicators` (docs/indicators.md).
    pub indicator: String,
    /// Structure, process or outcome.
    pub group: IndicatorGroup,
    /// The value aimed at, if any.
    pub target: Option<f64>,
    /// On reading: the year's region-level value (suppressed as in the report).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub value: Option<Cell>,
}

/// One item of the plan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanItem {
    /// The programme's area, or `local`.
    pub area: Area,
    /// What will be done.
    #[schema(min_length = 1, max_length = 2000)]
    pub what: String,
    /// By whom: organisations of the directory.
    #[serde(default)]
    pub by: Vec<String>,
    /// When (free text: months, dates).
    #[schema(max_length = 200)]
    pub schedule: Option<String>,
    /// How many times.
    #[schema(minimum = 0, maximum = 1000)]
    pub times: Option<u32>,
    /// Where it stands.
    pub status: ItemStatus,
    /// Notes of the review.
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
    /// The indicators that judge it.
    #[serde(default)]
    pub indicators: Vec<IndicatorLink>,
}

/// A plan as written.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    /// The day the council last reviewed it (YYYY-MM-DD).
    #[schema(format = Date)]
    pub reviewed_on: Option<String>,
    /// The items, at most 200.
    pub items: Vec<PlanItem>,
}

/// A plan as stored and read, with indicator values beside it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Plan {
    /// The calendar year.
    pub year: i32,
    /// Bumped by every change; the `ETag`.
    pub version: i32,
    /// The day the council last reviewed it.
    #[schema(format = Date)]
    pub reviewed_on: Option<String>,
    /// The items, with each linked indicator's value for the year.
    pub items: Vec<PlanItem>,
    /// When the version was written (RFC 3339).
    pub updated_at: String,
    /// Who wrote it (token `sub`).
    pub updated_by: String,
}

impl Plan {
    /// The `ETag` of this version.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

fn text(errors: &mut Errors, at: &str, value: Option<&str>, max: usize) {
    if let Some(v) = value {
        errors.text(at, v, max);
    }
}

impl PlanInput {
    fn check(&self, conn: &mut DbConn) -> Result<(), ApiError> {
        let mut errors = Errors::default();
        if self.items.len() > MAX_ITEMS {
            errors.add("/items", format!("at most {MAX_ITEMS} items"));
        }
        if let Some(day) = &self.reviewed_on
            && clock::parse_day(day).is_none()
        {
            errors.add("/reviewed_on", "must be a real date, YYYY-MM-DD");
        }
        for (i, item) in self.items.iter().enumerate() {
            errors.text(&format!("/items/{i}/what"), &item.what, 2000);
            text(&mut errors, &format!("/items/{i}/schedule"), item.schedule.as_deref(), 200);
            text(&mut errors, &format!("/items/{i}/notes"), item.notes.as_deref(), 4000);
            if item.times.is_some_and(|t| t > 1000) {
                errors.add(format!("/items/{i}/times"), "at most 1000");
            }
            for (j, org) in item.by.iter().enumerate().take(50) {
                if !OrganizationRow::exists(conn, org)? {
                    errors.add(format!("/items/{i}/by/{j}"), "no such organisation in the directory");
                }
            }
            for (j, link) in item.indicators.iter().enumerate() {
                if !indicators::IDS.contains(&link.indicator.as_str()) {
                    errors.add(
                        format!("/items/{i}/indicators/{j}/indicator"),
                        "no such indicator (see docs/indicators.md)",
                    );
                }
                if link.target.is_some_and(|t| !t.is_finite()) {
                    errors.add(format!("/items/{i}/indicators/{j}/target"), "must be a number");
                }
            }
        }
        errors.finish()
    }
}

fn plan_of(row: &PlanRow) -> Result<Plan, ApiError> {
    let input: PlanInput = serde_json::from_str(&row.body).map_err(ApiError::internal)?;
    Ok(Plan {
        year: row.year,
        version: row.version,
        reviewed_on: input.reviewed_on,
        items: input.items,
        updated_at: row.updated_at.clone(),
        updated_by: row.updated_by.clone(),
    })
}

fn year_of(year: i32) -> Result<(), ApiError> {
    if (2000..=2100).contains(&year) { Ok(()) } else { Err(ApiError::field("/path/year", "must be 2000 to 2100")) }
}

/// The plan of `year` with the year's region-level indicator values beside each link.
pub async fn get(state: &Arc<AppState>, ctx: Context, year: i32) -> Result<Plan, ApiError> {
    let event = Event::new(&ctx, "plan.read").resource("annual_plan", &year.to_string());
    super::super::read(state, event, move |conn, st, _ev| {
        super::authorize(st, &ctx, Action::Read)?;
        year_of(year)?;
        let row = PlanRow::find(conn, year)?.ok_or_else(|| ApiError::NotFound("no plan for this year".into()))?;
        let mut plan = plan_of(&row)?;
        let first = time::Date::from_ordinal_date(year, 1).map_err(ApiError::internal)?;
        let last = time::Date::from_calendar_date(year, time::Month::December, 31).map_err(ApiError::internal)?;
        let report = indicators::compute(conn, st, Days { first, last }, Granularity::Year)?;
        let region = report.periods.first().and_then(|p| p.areas.first()).map(|a| a.values.clone()).unwrap_or_default();
        for link in plan.items.iter_mut().flat_map(|i| i.indicators.iter_mut()) {
            link.value = region.get(&link.indicator).cloned();
        }
        Ok(plan)
    })
    .await
}

/// One version of a plan, as its history lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanVersion {
    /// The version (its `ETag` was `"<version>"`).
    pub version: i32,
    /// When it was written (RFC 3339).
    pub updated_at: String,
    /// Who wrote it (token `sub`) ...
    pub updated_by: String,
    /// ... at which organisation.
    pub updated_org: String,
    /// The day the council had last reviewed it, as it said.
    pub reviewed_on: Option<String>,
    /// Its items.
    pub items: Vec<PlanItem>,
}

/// The versions of `year`'s plan, newest first, `limit` at a time, older than `before` when
/// given (the page's cursor is the last version listed). Every write keeps its version, so the
/// council can read what the plan said when it reviewed it.
pub async fn history(
    state: &Arc<AppState>,
    ctx: Context,
    year: i32,
    before: Option<i32>,
    limit: i64,
) -> Result<Page<PlanVersion>, ApiError> {
    let event = Event::new(&ctx, "plan.history").resource("annual_plan", &year.to_string());
    super::super::read(state, event, move |conn, st, _ev| {
        super::authorize(st, &ctx, Action::Read)?;
        year_of(year)?;
        let rows = PlanVersionRow::page(conn, year, before, limit)?;
        let items = rows
            .into_iter()
            .map(|r| {
                let input: PlanInput = serde_json::from_str(&r.body).map_err(ApiError::internal)?;
                Ok(PlanVersion {
                    version: r.version,
                    updated_at: r.updated_at,
                    updated_by: r.updated_by,
                    updated_org: r.updated_org,
                    reviewed_on: input.reviewed_on,
                    items: input.items,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(Page::new(items, limit, |v: &PlanVersion| v.version.to_string()))
    })
    .await
}

/// Writes the plan of `year`: the first version without `If-Match`, later ones with the `ETag`
/// they replace. Answers the plan (without values) and whether it was created.
pub async fn put(
    state: &Arc<AppState>,
    ctx: Context,
    year: i32,
    if_match: Option<IfMatch>,
    input: PlanInput,
) -> Result<(Plan, bool), ApiError> {
    let event = Event::new(&ctx, "plan.write").resource("annual_plan", &year.to_string());
    crate::domain::write(state, event, 200, move |tx, st, ev| {
        super::authorize(st, &ctx, Action::Write)?;
        year_of(year)?;
        input.check(tx)?;
        let existing = PlanRow::find(tx, year)?;
        let version = match (&existing, if_match) {
            (Some(current), Some(IfMatch::Any)) => current.version + 1,
            (Some(current), Some(IfMatch::Version(v))) if v == current.version => current.version + 1,
            (Some(_), Some(IfMatch::Version(_))) => {
                return Err(ApiError::PreconditionFailed {
                    detail: "the plan changed since you read it".into(),
                    current: None,
                });
            }
            (Some(_), None) => {
                return Err(ApiError::PreconditionRequired(
                    "this plan exists: send If-Match with the ETag of the version you replace".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(ApiError::PreconditionFailed {
                    detail: "there is no plan for this year yet: write the first without If-Match".into(),
                    current: None,
                });
            }
            (None, None) => 1,
        };
        let row = PlanRow {
            year,
            version,
            body: serde_json::to_string(&input).map_err(ApiError::internal)?,
            updated_at: clock::format(st.calendar.now()),
            updated_by: ctx.caller.sub.clone(),
            updated_org: ctx.caller.org.clone(),
        };
        match existing {
            Some(current) if !row.replace(tx, current.version)? => {
                return Err(ApiError::PreconditionFailed {
                    detail: "the plan changed since you read it".into(),
                    current: None,
                });
            }
            Some(_) => {}
            None => row.insert(tx)?,
        }
        PlanVersionRow::keep(tx, &row)?;
        ev.resource_version = Some(version);
        Ok((plan_of(&row)?, version == 1))
    })
    .await
}
