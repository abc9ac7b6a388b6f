//! The region's calendar: day-granular rules (care-team `since`/`until`, consent periods, "not in
//! the future") use the date in the region's time zone; instants stay UTC. Zones come from the
//! tz database bundled into the binary, so no system tzdata is read and nothing is downloaded.

use time::{Date, Month, OffsetDateTime};

/// The region's time zone, and the clock "today" is read from.
#[derive(Debug, Clone)]
pub struct Calendar {
    name: String,
    zone: jiff::tz::TimeZone,
    clock: crate::clock::Clock,
}

impl Calendar {
    /// The calendar of an IANA time zone (`Asia/Tokyo`); an unknown name is refused with a
    /// message for the operator. "Today" is read from `clock`.
    pub fn new(name: &str, clock: crate::clock::Clock) -> Result<Self, String> {
        let zone = jiff::tz::TimeZone::get(name).map_err(|_| {
            format!(
                "unknown time zone {name:?} (--time-zone, CAREPATH_TIME_ZONE): give an IANA name such as \
                 Asia/Tokyo or UTC"
            )
        })?;
        Ok(Self { name: name.to_owned(), zone, clock })
    }

    /// The zone's IANA name, as configured.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current instant (UTC), from the clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Today's date in the region.
    pub fn today(&self) -> Date {
        self.date_at(self.now())
    }

    /// The region's date at an instant.
    pub fn date_at(&self, at: OffsetDateTime) -> Date {
        let utc = at.date();
        let Ok(stamp) = jiff::Timestamp::from_second(at.unix_timestamp()) else { return utc };
        let local = self.zone.to_datetime(stamp).date();
        let month = u8::try_from(local.month()).ok().and_then(|m| Month::try_from(m).ok());
        let day = u8::try_from(local.day()).ok();
        match (month, day) {
            (Some(month), Some(day)) => Date::from_calendar_date(i32::from(local.year()), month, day).unwrap_or(utc),
            _ => utc,
        }
    }

    /// The minute of the region's day (0–1439) at an instant; with [`Calendar::date_at`] it
    /// places an instant on the region's weekly timetable (contact hours).
    pub fn minute_at(&self, at: OffsetDateTime) -> u16 {
        let Ok(stamp) = jiff::Timestamp::from_second(at.unix_timestamp()) else { return 0 };
        let local = self.zone.to_datetime(stamp);
        u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0)
    }

    /// The instant at which the region's clock shows `minute` (0–1440) of `day`; `None` for a
    /// time the zone skips.
    pub fn instant_at(&self, day: Date, minute: u16) -> Option<OffsetDateTime> {
        let (day, minute) = if minute >= 24 * 60 { (day.next_day()?, minute - 24 * 60) } else { (day, minute) };
        let civil = jiff::civil::date(
            i16::try_from(day.year()).ok()?,
            i8::try_from(u8::from(day.month())).ok()?,
            i8::try_from(day.day()).ok()?,
        )
        .at(i8::try_from(minute / 60).ok()?, i8::try_from(minute % 60).ok()?, 0, 0);
        let stamp = self.zone.to_timestamp(civil).ok()?;
        OffsetDateTime::from_unix_timestamp(stamp.as_second()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use time::macros::{date, datetime};

    #[test]
    fn tokyo_is_a_day_ahead_of_utc_before_nine() {
        let at = datetime!(2026-11-25 23:30 UTC);
        let tokyo = Calendar::new("Asia/Tokyo", Clock::stopped(at)).unwrap();
        assert_eq!(tokyo.today(), date!(2026 - 11 - 26));
        let utc = Calendar::new("UTC", Clock::stopped(at)).unwrap();
        assert_eq!(utc.today(), date!(2026 - 11 - 25));
        assert_eq!(tokyo.date_at(datetime!(2026-11-26 15:00 UTC)), date!(2026 - 11 - 27));
        let honolulu = Calendar::new("Pacific/Honolulu", Clock::stopped(at)).unwrap();
        assert_eq!(honolulu.today(), date!(2026 - 11 - 25));
        assert_eq!(honolulu.date_at(datetime!(2026-11-26 09:59 UTC)), date!(2026 - 11 - 25));
    }

    #[test]
    fn minutes_and_instants_are_the_regions() {
        let tokyo = Calendar::new("Asia/Tokyo", Clock::system()).unwrap();
        assert_eq!(tokyo.minute_at(datetime!(2026-11-25 23:30 UTC)), 8 * 60 + 30);
        assert_eq!(tokyo.instant_at(date!(2026 - 11 - 26), 8 * 60 + 30), Some(datetime!(2026-11-25 23:30 UTC)));
        assert_eq!(tokyo.instant_at(date!(2026 - 11 - 26), 24 * 60), Some(datetime!(2026-11-26 15:00 UTC)));
    }

    #[test]
    fn an_unknown_zone_is_refused_by_name() {
        let error = Calendar::new("Asia/Tokio", Clock::system()).unwrap_err();
        assert!(error.contains("Asia/Tokio") && error.contains("CAREPATH_TIME_ZONE"), "{error}");
    }
}
