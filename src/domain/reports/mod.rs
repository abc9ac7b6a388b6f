//! The region's reports (the guide's sections F and H): which shared items are really filled in,
//! and the annual plan's indicators. Both read the whole region, so they are for the `analyst`
//! and the operator's admin only, and both are de-identified by construction: item fill reads
//! the stored structure only (a sealed value is never opened), and indicators answer counts with
//! small cells suppressed (`suppression`).

mod facts;
pub mod indicators;
pub mod item_fill;
pub mod periods;
pub mod plans;
pub mod public;
pub mod suppression;

use time::Date;

use crate::access::{self, Action};
use crate::calendar::Calendar;
use crate::clock;
use crate::context::Context;
use crate::error::ApiError;
use crate::state::AppState;

/// The days a report covers, both included, in the region's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days {
    /// The first day.
    pub first: Date,
    /// The last day, included.
    pub last: Date,
}

impl Days {
    /// Parses `from` and `to` (YYYY-MM-DD, both included); absent ones default to the region's
    /// current calendar year.
    pub fn parse(from: Option<&str>, to: Option<&str>, today: Date) -> Result<Self, ApiError> {
        let day = |pointer: &str, text: &str| {
            clock::parse_day(text).ok_or_else(|| ApiError::field(pointer, "must be a real date, YYYY-MM-DD"))
        };
        let year_start = Date::from_ordinal_date(today.year(), 1).map_err(ApiError::internal)?;
        let first = from.map(|t| day("/query/from", t)).transpose()?.unwrap_or(year_start);
        let last = match to {
            Some(t) => day("/query/to", t)?,
            None => Date::from_ordinal_date(today.year() + 1, 1)
                .map_err(ApiError::internal)?
                .previous_day()
                .unwrap_or(first),
        };
        if last < first {
            return Err(ApiError::field("/query/to", "must not be before from"));
        }
        if (last - first).whole_days() > 366 * 20 {
            return Err(ApiError::field("/query/to", "a report covers at most 20 years"));
        }
        Ok(Self { first, last })
    }

    /// The instants `[start, end)` the days span, as stored text (UTC).
    pub fn instants(&self, calendar: &Calendar) -> (String, String) {
        let at = |d: Date| calendar.instant_at(d, 0).map_or_else(|| clock::format_day(d), clock::format);
        let end = self.last.next_day().unwrap_or(self.last);
        (at(self.first), at(end))
    }
}

/// The reports rule, audited by the caller's event: analyst or the operator's admin.
pub(crate) fn authorize(state: &AppState, ctx: &Context, action: Action) -> Result<(), ApiError> {
    access::may_use_reports(&ctx.caller, &state.settings.operator_org, action).map_err(ApiError::from)
}
