//! The service's clock, and time as stored: RFC 3339 UTC text of fixed width (microseconds), so
//! that text order is time order on both backends.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

const STORED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
const DAY: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

pub fn format(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(STORED).unwrap_or_default()
}

/// Where every rule that depends on the time reads it: the wall clock, or a clock stopped at an
/// instant; either moved forward by [`Clock::advance`]. Tests move it instead of sleeping, so a
/// stale posting, an overdue sheet or an idle session is reached at once. Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    stopped_at: Option<OffsetDateTime>,
    offset_micros: Arc<AtomicI64>,
}

impl Clock {
    /// The wall clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands at `at` until advanced.
    pub fn stopped(at: OffsetDateTime) -> Self {
        Self { stopped_at: Some(at), ..Self::default() }
    }

    /// The current instant (UTC).
    pub fn now(&self) -> OffsetDateTime {
        let base = self.stopped_at.unwrap_or_else(OffsetDateTime::now_utc);
        base + time::Duration::microseconds(self.offset_micros.load(Ordering::Relaxed))
    }

    /// The current instant as stored.
    pub fn stamp(&self) -> String {
        format(self.now())
    }

    /// The current instant in whole seconds since the Unix epoch.
    pub fn unix_secs(&self) -> u64 {
        u64::try_from(self.now().unix_timestamp()).unwrap_or(0)
    }

    /// Sets how far the clock stands from its base: the demo loader writes a region's past this
    /// way, on a state of its own that serves nobody else.
    pub fn set_offset(&self, by: time::Duration) {
        let micros = i64::try_from(by.whole_microseconds()).unwrap_or(0);
        self.offset_micros.store(micros, Ordering::Relaxed);
    }

    /// Moves the clock forward (tests: time passing without a sleep).
    pub fn advance(&self, by: time::Duration) {
        let micros = i64::try_from(by.whole_microseconds()).unwrap_or(i64::MAX);
        self.offset_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

/// A stored instant read back; `None` for anything not in the stored format.
pub fn parse(s: &str) -> Option<OffsetDateTime> {
    time::PrimitiveDateTime::parse(s, STORED).ok().map(time::PrimitiveDateTime::assume_utc)
}

/// A calendar day as `YYYY-MM-DD`; `None` for anything else, impossible dates included.
pub fn parse_day(s: &str) -> Option<Date> {
    Date::parse(s, DAY).ok()
}

pub fn format_day(d: Date) -> String {
    d.format(DAY).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_stopped_clock_moves_only_when_advanced_and_clones_move_with_it() {
        let clock = Clock::stopped(datetime!(2026-12-02 00:00 UTC));
        let shared = clock.clone();
        assert_eq!(clock.stamp(), "2026-12-02T00:00:00.000000Z");
        shared.advance(time::Duration::seconds(90));
        assert_eq!(clock.stamp(), "2026-12-02T00:01:30.000000Z");
        assert_eq!(clock.unix_secs(), 1_796_169_690);
    }
}
