//! The annual plan's indicators (section H), computed from the records for each period, for the
//! region and by the municipality of the patients' addresses. Every definition is in
//! `docs/indicators.md`. No answer names a patient: cells are counts, shares and a median, with
//! small cells and their complements suppressed (`suppression`).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

use super::Days;
use super::facts::{self, Facts};
pub use super::periods::{Granularity, period_of, periods, whole};
use super::suppression::{Group, Hidden, suppress_keeping};
use crate::access::Action;
use crate::audit::Event;
use crate::auth::Role;
use crate::clock;
use crate::context::Context;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::state::AppState;

/// The indicators, in answer order: (id, what it is). Cells after `SHOWN` are helpers, never
/// shown, that make the complements of shares suppressible (deaths elsewhere, and so on).
const CELLS: [&str; 15] = [
    "patients_under_home_care",
    "family_doctors_active",
    "organizations_active",
    "deaths",
    "deaths_at_home",
    "deaths_at_home_or_care_facility",
    "discharge_summaries_shared",
    "discharge_summaries_within_2_days",
    "contact_sheets_sent",
    "contact_sheets_answered",
    // helpers
    "deaths_elsewhere",
    "deaths_in_care_facility",
    "discharge_summaries_later",
    "contact_sheets_unanswered",
    "deaths_not_at_home",
];
const SHOWN: usize = 10;
/// Every indicator an answer shows (what a plan item may link to).
pub const IDS: [&str; 14] = [
    "patients_under_home_care",
    "family_doctors_active",
    "organizations_active",
    "deaths",
    "deaths_at_home",
    "deaths_at_home_or_care_facility",
    "discharge_summaries_shared",
    "discharge_summaries_within_2_days",
    "contact_sheets_sent",
    "contact_sheets_answered",
    "home_death_rate",
    "home_or_care_facility_death_rate",
    "discharge_summaries_within_2_days_share",
    MEDIAN,
];
/// Cells that add up over municipalities (a patient lives in one); the distinct-counts do not.
const ADDITIVE: [usize; 13] = [0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
/// Within one area: (total, parts).
/// Every difference of two shown cells is a cell too: deaths - at home - (at home or facility).
/// Not at home = elsewhere + in a facility closes the deaths' splits: with deaths and deaths at
/// home shown, it is known, and a facility's small count must not be its difference.
const SPLITS: [(usize, [usize; 2]); 6] =
    [(3, [5, 10]), (5, [4, 11]), (3, [4, 14]), (14, [10, 11]), (6, [7, 12]), (8, [9, 13])];
/// The region's headline (在宅看取り率: deaths at home over deaths): its cells are hidden as
/// complements only when no other cell of a group can be (docs/indicators.md).
const HEADLINE: [usize; 2] = [3, 4];
/// Shares and medians derived from cells: (id, numerator, denominator).
const RATES: [(&str, usize, usize); 3] = [
    ("home_death_rate", 4, 3),
    ("home_or_care_facility_death_rate", 5, 3),
    ("discharge_summaries_within_2_days_share", 7, 6),
];
const MEDIAN: &str = "contact_sheets_median_reply_hours";
/// The area of patients whose address names no municipality (kept so that areas add up).
pub const NO_ADDRESS: &str = "(no address)";

/// A value as shown: a count, a share or median, or why it is hidden.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Cell {
    /// A count (5 or more).
    Count(u64),
    /// A share or a median.
    Number(f64),
    /// `<5`: fewer than 5; `x`: hidden so that a small cell cannot be derived from a total.
    Hidden(String),
}

// By hand: a derived `oneOf` of integer and number would refuse every integer (it matches both).
impl utoipa::PartialSchema for Cell {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
        AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .minimum(Some(0))
                    .description(Some("A count (5 or more), a share or a median.")),
            )
            .item(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["<5", "x"])).description(Some(
                "`<5`: fewer than 5; `x`: hidden so that a small cell cannot be derived from a total.",
            )))
            .description(Some("A value as shown: a count, a share or median, or why it is hidden."))
            .into()
    }
}

impl ToSchema for Cell {}

/// One area's values.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AreaValues {
    /// `region`, or the municipality (prefecture and city) of the patients' addresses.
    pub area: String,
    /// By indicator id (see `docs/indicators.md`).
    pub values: BTreeMap<String, Cell>,
}

/// One period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndicatorPeriod {
    /// `2026`, `2026-Q2`, `2026-05` or `FY2026` (the 年度 from April 2026 to March 2027).
    pub period: String,
    /// First and last day of the period (clipped to the request), in the region's calendar.
    pub from: String,
    /// Last day of the period.
    pub to: String,
    /// The region first, then each municipality.
    pub areas: Vec<AreaValues>,
}

/// The answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Indicators {
    /// First day counted.
    pub from: String,
    /// Last day counted.
    pub to: String,
    /// The length of each period.
    pub granularity: Granularity,
    /// The periods, oldest first.
    pub periods: Vec<IndicatorPeriod>,
}

/// The cell values of one period: `areas[0]` is the region.
fn tally(f: &Facts, areas: &[String], first: Date, last: Date) -> Vec<[u64; 15]> {
    let idx = |patient: Option<&str>| -> usize {
        let name = patient.and_then(|p| f.area.get(p)).map_or(NO_ADDRESS, String::as_str);
        areas.iter().position(|a| a == name).unwrap_or(0)
    };
    let mut v = vec![[0u64; 15]; areas.len()];
    let mut bump = |area: usize, cell: usize| {
        v[0][cell] += 1;
        if area != 0 {
            v[area][cell] += 1;
        }
    };
    let in_period = |d: Date| first <= d && d <= last;
    let mut under_care = BTreeSet::new();
    for t in &f.teams {
        let since = clock::parse_day(&t.since);
        let until = t.until.as_deref().and_then(clock::parse_day);
        if since.is_some_and(|s| s <= last) && until.is_none_or(|u| u >= first) {
            under_care.insert(t.patient_id.as_str());
        }
    }
    for p in under_care {
        bump(idx(Some(p)), 0);
    }
    let mut doctors: Vec<HashSet<&str>> = vec![HashSet::new(); areas.len()];
    let mut orgs: Vec<HashSet<&str>> = vec![HashSet::new(); areas.len()];
    for (day, w) in &f.writings {
        if !in_period(*day) {
            continue;
        }
        let area = idx(w.patient_id.as_deref());
        for a in [0, area] {
            orgs[a].insert(&w.actor_org);
            if w.actor_role == Role::Physician.as_str() && w.org_kind.as_deref() == Some("clinic") {
                doctors[a].insert(&w.actor_sub);
            }
        }
    }
    for d in f.deaths.iter().filter(|d| in_period(d.day)) {
        let area = idx(Some(&d.patient));
        bump(area, 3);
        match d.place.as_str() {
            "home" => {
                bump(area, 4);
                bump(area, 5);
            }
            "care_facility" => {
                bump(area, 5);
                bump(area, 11);
                bump(area, 14);
            }
            _ => {
                bump(area, 10);
                bump(area, 14);
            }
        }
    }
    for d in f.discharges.iter().filter(|d| in_period(d.shared)) {
        let area = idx(Some(&d.patient));
        bump(area, 6);
        bump(area, if d.within_2_days { 7 } else { 12 });
    }
    for s in f.sheets.iter().filter(|s| in_period(s.sent)) {
        let area = idx(s.patient.as_deref());
        bump(area, 8);
        bump(area, if s.answered_after.is_some() { 9 } else { 13 });
    }
    for (a, row) in v.iter_mut().enumerate() {
        row[1] = doctors[a].len() as u64;
        row[2] = orgs[a].len() as u64;
    }
    v
}

fn median_hours(f: &Facts, areas: &[String], area: usize, first: Date, last: Date) -> Option<f64> {
    let mut secs: Vec<i64> = f
        .sheets
        .iter()
        .filter(|s| first <= s.sent && s.sent <= last)
        .filter(|s| {
            area == 0
                || s.patient.as_ref().and_then(|p| f.area.get(p)).map_or(NO_ADDRESS, String::as_str) == areas[area]
        })
        .filter_map(|s| s.answered_after)
        .collect();
    secs.sort_unstable();
    let n = secs.len();
    let m = match n {
        0 => return None,
        _ if n % 2 == 1 => secs[n / 2] as f64,
        _ => (secs[n / 2 - 1] + secs[n / 2]) as f64 / 2.0,
    };
    Some((m / 360.0).round() / 10.0)
}

fn shown(hidden: Hidden, value: u64) -> Cell {
    match hidden {
        Hidden::No => Cell::Count(value),
        Hidden::Small => Cell::Hidden("<5".into()),
        Hidden::Complement => Cell::Hidden("x".into()),
    }
}

/// One period's answer, suppressed.
fn period(f: &Facts, areas: &[String], (label, first, last): (String, Date, Date)) -> IndicatorPeriod {
    let values = tally(f, areas, first, last);
    let n = CELLS.len();
    let flat: Vec<u64> = values.iter().flatten().copied().collect();
    let mut groups = Vec::new();
    for a in 0..areas.len() {
        for (total, parts) in SPLITS {
            groups.push(Group { total: a * n + total, parts: parts.iter().map(|p| a * n + p).collect() });
        }
    }
    for cell in ADDITIVE {
        groups.push(Group { total: cell, parts: (1..areas.len()).map(|a| a * n + cell).collect() });
    }
    // The region is area 0, so its cells are the first ones.
    let hidden = suppress_keeping(&flat, &groups, &HEADLINE);
    let out = areas
        .iter()
        .enumerate()
        .map(|(a, name)| {
            let h = |cell: usize| hidden[a * n + cell];
            let mut map = BTreeMap::new();
            for (cell, id) in CELLS.iter().enumerate().take(SHOWN) {
                map.insert((*id).to_owned(), shown(h(cell), values[a][cell]));
            }
            for (id, num, den) in RATES {
                let cell = match (h(num), h(den)) {
                    (Hidden::No, Hidden::No) if values[a][den] > 0 => {
                        let share = values[a][num] as f64 / values[a][den] as f64;
                        Cell::Number((share * 1000.0).round() / 1000.0)
                    }
                    (Hidden::Small, _) | (_, Hidden::Small) => Cell::Hidden("<5".into()),
                    _ => Cell::Hidden("x".into()),
                };
                map.insert(id.to_owned(), cell);
            }
            let median = match h(9) {
                Hidden::No => median_hours(f, areas, a, first, last).map_or(Cell::Hidden("<5".into()), Cell::Number),
                other => shown(other, 0),
            };
            map.insert(MEDIAN.to_owned(), median);
            AreaValues { area: name.clone(), values: map }
        })
        .collect();
    IndicatorPeriod { period: label, from: clock::format_day(first), to: clock::format_day(last), areas: out }
}

/// Computes the indicators on a connection (the benchmark calls it directly).
pub fn compute(conn: &mut DbConn, st: &AppState, days: Days, granularity: Granularity) -> Result<Indicators, ApiError> {
    let days = whole(days, granularity);
    let (from, to) = days.instants(&st.calendar);
    let facts = facts::gather(conn, st, (&from, &to), (days.first, days.last))?;
    let mut areas = vec!["region".to_owned()];
    let names: BTreeSet<&String> = facts.area.values().collect();
    areas.extend(names.into_iter().cloned());
    areas.push(NO_ADDRESS.to_owned());
    let periods = periods(days, granularity).into_iter().map(|p| period(&facts, &areas, p)).collect();
    Ok(Indicators { from: clock::format_day(days.first), to: clock::format_day(days.last), granularity, periods })
}

/// The indicators for `days`; audited as `report.indicators`.
pub async fn indicators(
    state: &Arc<AppState>,
    ctx: Context,
    days: Days,
    granularity: Granularity,
) -> Result<Indicators, ApiError> {
    let mut event = Event::new(&ctx, "report.indicators");
    event.resource_type = Some("report");
    event.resource_id = Some("indicators".into());
    super::super::read_lagging(state, event, move |conn, st, _ev| {
        super::authorize(st, &ctx, Action::Read)?;
        compute(conn, st, days, granularity)
    })
    .await
}

/// The answer as CSV rows: one per period, area and indicator.
pub fn csv_rows(report: &Indicators) -> Vec<[String; 6]> {
    let mut rows =
        vec![["period".into(), "from".into(), "to".into(), "area".into(), "indicator".into(), "value".into()]];
    for p in &report.periods {
        for a in &p.areas {
            for (id, cell) in &a.values {
                let value = match cell {
                    Cell::Count(n) => n.to_string(),
                    Cell::Number(x) => x.to_string(),
                    Cell::Hidden(s) => s.clone(),
                };
                rows.push([p.period.clone(), p.from.clone(), p.to.clone(), a.area.clone(), id.clone(), value]);
            }
        }
    }
    rows
}
