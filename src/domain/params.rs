//! Values that several requests spell the same way and the domain checks the same way: RFC 3339
//! instants in query strings, day ranges in bodies, and the words that coded enums travel as.

use std::ops::RangeInclusive;

use crate::clock;
use crate::domain::fields::Errors;
use crate::error::ApiError;

/// An RFC 3339 time as stored (UTC, fixed width), so that it compares as text with stored
/// times; anything else is a 422 naming the parameter at `pointer`.
pub fn instant(pointer: &str, text: &str) -> Result<String, ApiError> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(clock::format)
        .map_err(|_| ApiError::field(pointer, "must be an RFC 3339 date-time"))
}

/// [`instant`] for an optional parameter: absent stays absent.
pub fn optional_instant(pointer: &str, text: Option<&str>) -> Result<Option<String>, ApiError> {
    text.map(|t| instant(pointer, t)).transpose()
}

/// Checks a range of days: `start` a real date, `end` (open-ended when absent) a real date not
/// before it. An end before the start is named after the start's field, the last segment of
/// `start_at` ("must not be before since").
pub fn day_range(errors: &mut Errors, start_at: &str, start: &str, end_at: &str, end: Option<&str>) {
    const NOT_A_DAY: &str = "must be a real date, YYYY-MM-DD";
    let first = clock::parse_day(start);
    if first.is_none() {
        errors.add(start_at, NOT_A_DAY);
    }
    let Some(end) = end else { return };
    match clock::parse_day(end) {
        None => errors.add(end_at, NOT_A_DAY),
        Some(last) if first.is_some_and(|f| last < f) => {
            let name = start_at.rsplit('/').next().unwrap_or(start_at);
            errors.add(end_at, format!("must not be before {name}"));
        }
        Some(_) => {}
    }
}

/// A whole-number query parameter `name` within `range`, `default` when absent; anything else
/// adds one message stating the range (and the default stands in, so checking goes on).
pub fn whole(errors: &mut Errors, name: &str, value: Option<&str>, default: u64, range: RangeInclusive<u64>) -> u64 {
    match value.map_or(Ok(default), str::parse::<u64>) {
        Ok(n) if range.contains(&n) => n,
        Ok(_) | Err(_) => {
            errors.add(
                format!("/query/{name}"),
                format!("must be a whole number from {} to {}", range.start(), range.end()),
            );
            default
        }
    }
}

/// Where a change feed is read from: after `since` (a sequence number, 0 from the start), at
/// most `limit` changes. Both feeds (the record's and the vacancy board's) page this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Changes after this sequence number.
    pub since: i64,
    /// At most this many.
    pub limit: usize,
}

impl Cursor {
    /// Changes per answer when the caller does not say.
    pub const DEFAULT_LIMIT: u64 = 100;
    /// Changes per answer at most.
    pub const MAX_LIMIT: u64 = 1000;

    /// The `since` and `limit` parameters as sent (text), checked into a cursor.
    pub fn parse(errors: &mut Errors, since: Option<&str>, limit: Option<&str>) -> Cursor {
        let since = whole(errors, "since", since, 0, 0..=i64::MAX.unsigned_abs());
        let limit = whole(errors, "limit", limit, Self::DEFAULT_LIMIT, 1..=Self::MAX_LIMIT);
        // Both fit: the ranges above are those of i64 and of a small usize.
        Cursor { since: i64::try_from(since).unwrap_or(i64::MAX), limit: usize::try_from(limit).unwrap_or(1000) }
    }
}

// The coded words live in a leaf module so lower floors (auth's `Role`) declare theirs the same
// way; the domain keeps reaching them here.
pub(crate) use crate::words::words;
pub use crate::words::{UnknownWord, from_word};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn pointers(errors: Errors) -> Vec<(String, String)> {
        match errors.finish() {
            Ok(()) => Vec::new(),
            Err(ApiError::Validation(list)) => list.into_iter().map(|e| (e.pointer, e.message)).collect(),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn instants_are_stored_in_utc() {
        let stored = instant("/query/from", "2026-04-01T09:00:00+09:00").unwrap();
        assert_eq!(stored, instant("/query/from", "2026-04-01T00:00:00Z").unwrap());
        assert!(matches!(instant("/query/to", "2026-04-01"), Err(ApiError::Validation(_))));
        assert_eq!(optional_instant("/query/to", None).unwrap(), None);
    }

    #[test]
    fn a_range_names_its_own_fields() {
        let mut errors = Errors::default();
        day_range(&mut errors, "/period/start", "2026-04-02", "/period/end", Some("2026-04-01"));
        assert_eq!(pointers(errors), [("/period/end".into(), "must not be before start".into())]);

        let mut errors = Errors::default();
        day_range(&mut errors, "/m/0/since", "2026-02-30", "/m/0/until", Some("soon"));
        let found: Vec<String> = pointers(errors).into_iter().map(|(p, _)| p).collect();
        assert_eq!(found, ["/m/0/since", "/m/0/until"]);

        let mut errors = Errors::default();
        day_range(&mut errors, "/period/start", "2026-04-01", "/period/end", None);
        assert!(pointers(errors).is_empty());
    }
}
