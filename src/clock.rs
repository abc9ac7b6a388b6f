//! Time as stored: RFC 3339 UTC text of fixed width (microseconds), so that text order is time
//! order on both backends.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

const STORED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
const DAY: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

pub fn format(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(STORED).unwrap_or_default()
}

pub fn now() -> String {
    format(OffsetDateTime::now_utc())
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
