//! The periods reports are answered in: calendar years, quarters and months, and fiscal years
//! (年度, April to March). Periods are whole and fixed, never clipped to a request (see
//! docs/indicators.md, "Differencing").

use serde::{Deserialize, Serialize};
use time::{Date, Month};
use utoipa::ToSchema;

use super::Days;

/// The length of each period reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// Calendar years.
    #[default]
    Year,
    /// Calendar quarters (January–March is Q1).
    Quarter,
    /// Calendar months.
    Month,
    /// Fiscal years (年度), April to March, as municipalities plan: `FY2026` is 2026-04-01 to
    /// 2027-03-31.
    FiscalYear,
}

impl Granularity {
    /// The granularity when none is asked for: fiscal years when `days` runs from an April 1 to
    /// a March 31 (a 年度 asked for as dates must not split into two calendar years), else
    /// calendar years.
    pub fn default_for(days: Days) -> Self {
        let april_first = days.first.month() == Month::April && days.first.day() == 1;
        let march_last = days.last.month() == Month::March && days.last.day() == 31;
        if april_first && march_last { Self::FiscalYear } else { Self::Year }
    }
}

/// The whole period `day` falls in: its label, first and last day.
pub fn period_of(day: Date, granularity: Granularity) -> Option<(String, Date, Date)> {
    let (y, m) = (day.year(), u8::from(day.month()));
    // The year and month the period starts in, and how many months it lasts.
    let (label, start_year, first_month, months) = match granularity {
        Granularity::Year => (format!("{y}"), y, 1, 12),
        Granularity::Quarter => ((format!("{y}-Q{}", (m - 1) / 3 + 1)), y, (m - 1) / 3 * 3 + 1, 3),
        Granularity::Month => (format!("{y}-{m:02}"), y, m, 1),
        Granularity::FiscalYear => {
            let fy = if m >= 4 { y } else { y - 1 };
            (format!("FY{fy}"), fy, 4, 12)
        }
    };
    let first = Date::from_calendar_date(start_year, Month::try_from(first_month).ok()?, 1).ok()?;
    let after = u32::from(first_month) - 1 + months;
    let next_year = start_year + i32::try_from(after / 12).ok()?;
    let next_month = Month::try_from(u8::try_from(after % 12 + 1).ok()?).ok()?;
    let next = Date::from_calendar_date(next_year, next_month, 1).ok()?;
    Some((label, first, next.previous_day()?))
}

/// `days` widened to whole periods. Periods are fixed and never clipped: two windows that differ
/// by a day would differ by that day's deaths, and subtracting one answer from the other would
/// show what the threshold hides (see docs/indicators.md).
pub fn whole(days: Days, granularity: Granularity) -> Days {
    let first = period_of(days.first, granularity).map_or(days.first, |p| p.1);
    let last = period_of(days.last, granularity).map_or(days.last, |p| p.2);
    Days { first, last }
}

/// The whole periods `days` touches, oldest first.
pub fn periods(days: Days, granularity: Granularity) -> Vec<(String, Date, Date)> {
    let mut out = Vec::new();
    let mut day = days.first;
    while day <= days.last {
        let Some(p) = period_of(day, granularity) else { break };
        let Some(next) = p.2.next_day() else { break };
        out.push(p);
        day = next;
    }
    out
}
