//! Instants and dates as the region's people write them. Instants are stored in UTC; a care
//! manager in Tokyo reads `12月2日(水) 08:30`, not `2026-12-01T23:30:00.000000Z`, so every page
//! shows them in the region's time zone (the calendar of `--time-zone`). Birth dates carry the
//! Japanese era (和暦), as the forms of the care insurance write them, with the age beside.

use time::{Date, Month, OffsetDateTime};

use super::Lang;
use crate::calendar::Calendar;

const WEEKDAYS_JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];
const WEEKDAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS_EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// The eras since the calendar reform, each with its first day (the day the new era name took
/// effect), newest first.
const ERAS: [(&str, i32, u8, u8); 5] =
    [("令和", 2019, 5, 1), ("平成", 1989, 1, 8), ("昭和", 1926, 12, 25), ("大正", 1912, 7, 30), ("明治", 1868, 1, 25)];

/// A weekday's short name; `number` is 0 for Monday (ISO order, as `WEEKDAYS_*`).
pub fn weekday(lang: Lang, number: usize) -> &'static str {
    let names = match lang {
        Lang::Ja => &WEEKDAYS_JA,
        Lang::En => &WEEKDAYS_EN,
    };
    names.get(number).copied().unwrap_or("")
}

fn weekday_of(lang: Lang, d: Date) -> &'static str {
    weekday(lang, usize::from(d.weekday().number_days_from_monday()))
}

fn month_en(m: Month) -> &'static str {
    MONTHS_EN.get(usize::from(u8::from(m)) - 1).copied().unwrap_or("")
}

/// A day with its weekday: `12月9日(水)`, `2027年1月5日(火)` when not in `this_year`.
pub fn day(lang: Lang, d: Date, this_year: i32) -> String {
    let year = d.year() != this_year;
    match lang {
        Lang::Ja if year => format!("{}年{}月{}日({})", d.year(), u8::from(d.month()), d.day(), weekday_of(lang, d)),
        Lang::Ja => format!("{}月{}日({})", u8::from(d.month()), d.day(), weekday_of(lang, d)),
        Lang::En if year => format!("{} {} {} {}", weekday_of(lang, d), d.day(), month_en(d.month()), d.year()),
        Lang::En => format!("{} {} {}", weekday_of(lang, d), d.day(), month_en(d.month())),
    }
}

/// A date as a form writes it: `2026年12月9日`, in English `9 Dec 2026`.
pub fn long_date(lang: Lang, d: Date) -> String {
    match lang {
        Lang::Ja => format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day()),
        Lang::En => format!("{} {} {}", d.day(), month_en(d.month()), d.year()),
    }
}

/// A minute of the day as `08:30`.
pub fn clock_time(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// An instant in the region's time zone: `12月2日(水) 08:30` (the year when it is not this year).
pub fn instant(cal: &Calendar, lang: Lang, at: OffsetDateTime) -> String {
    let local = cal.date_at(at);
    format!("{} {}", day(lang, local, cal.today().year()), clock_time(cal.minute_at(at)))
}

/// A stored instant (RFC 3339 text) as [`instant`] writes it; text that is no instant is shown
/// as it is (nothing the database holds is hidden).
pub fn stamp(cal: &Calendar, lang: Lang, text: &str) -> String {
    let parsed = crate::clock::parse(text)
        .or_else(|| OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok());
    match parsed {
        Some(at) => instant(cal, lang, at),
        None => text.to_owned(),
    }
}

/// A date in the Japanese era: `昭和14年4月1日`, the first year as 元年 (`令和元年5月1日`).
pub fn wareki(d: Date) -> String {
    let era = ERAS.iter().find(|(_, y, m, day)| {
        Month::try_from(*m)
            .ok()
            .and_then(|m| Date::from_calendar_date(*y, m, *day).ok())
            .is_some_and(|first| d >= first)
    });
    match era {
        Some((name, first_year, _, _)) => {
            let n = d.year() - first_year + 1;
            let year = if n == 1 { "元".to_owned() } else { n.to_string() };
            format!("{name}{year}年{}月{}日", u8::from(d.month()), d.day())
        }
        None => format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day()),
    }
}

/// Whole years from `birth` to `today`; the age goes up on the birthday itself.
pub fn age(birth: Date, today: Date) -> i32 {
    let had_birthday = (u8::from(today.month()), today.day()) >= (u8::from(birth.month()), birth.day());
    today.year() - birth.year() - i32::from(!had_birthday)
}

/// A birth date as a form writes it, with the age: `昭和14年4月1日 (1939年) 87歳`, in English
/// `1 Apr 1939 (age 87)`.
pub fn birth_date(lang: Lang, birth: Date, today: Date) -> String {
    let years = age(birth, today);
    match lang {
        Lang::Ja => format!("{} ({}年) {years}歳", wareki(birth), birth.year()),
        Lang::En => format!("{} {} {} (age {years})", birth.day(), month_en(birth.month()), birth.year()),
    }
}

/// [`birth_date`] of stored `YYYY-MM-DD` text; other text as it is.
pub fn birth_text(lang: Lang, text: &str, today: Date) -> String {
    crate::clock::parse_day(text).map_or_else(|| text.to_owned(), |d| birth_date(lang, d, today))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;
    use time::macros::{date, datetime};

    fn tokyo() -> Calendar {
        Calendar::new("Asia/Tokyo", crate::clock::Clock::stopped(datetime!(2026-12-02 03:00 UTC))).unwrap()
    }

    #[test]
    fn instants_are_shown_in_the_regions_zone_with_the_weekday() {
        let cal = tokyo();
        // 23:30 UTC on 1 December is 08:30 on Wednesday 2 December in Tokyo.
        assert_eq!(instant(&cal, Lang::Ja, datetime!(2026-12-01 23:30 UTC)), "12月2日(水) 08:30");
        assert_eq!(instant(&cal, Lang::En, datetime!(2026-12-01 23:30 UTC)), "Wed 2 Dec 08:30");
        assert_eq!(stamp(&cal, Lang::Ja, "2026-12-01T23:30:00.000000Z"), "12月2日(水) 08:30");
        assert_eq!(stamp(&cal, Lang::Ja, "2027-01-04T23:00:00Z"), "2027年1月5日(火) 08:00");
        assert_eq!(stamp(&cal, Lang::En, "2025-12-31T15:00:00Z"), "Thu 1 Jan 00:00");
        assert_eq!(stamp(&cal, Lang::En, "2025-12-30T15:00:00Z"), "Wed 31 Dec 2025 00:00");
        assert_eq!(stamp(&cal, Lang::Ja, "not a time"), "not a time");
    }

    #[test]
    fn era_boundaries() {
        assert_eq!(wareki(date!(2019 - 04 - 30)), "平成31年4月30日");
        assert_eq!(wareki(date!(2019 - 05 - 01)), "令和元年5月1日");
        assert_eq!(wareki(date!(1989 - 01 - 07)), "昭和64年1月7日");
        assert_eq!(wareki(date!(1989 - 01 - 08)), "平成元年1月8日");
        assert_eq!(wareki(date!(1926 - 12 - 24)), "大正15年12月24日");
        assert_eq!(wareki(date!(1926 - 12 - 25)), "昭和元年12月25日");
        assert_eq!(wareki(date!(1939 - 04 - 01)), "昭和14年4月1日");
    }

    #[test]
    fn a_birth_date_with_its_era_and_age() {
        let today = date!(2026 - 12 - 02);
        assert_eq!(birth_date(Lang::Ja, date!(1939 - 04 - 01), today), "昭和14年4月1日 (1939年) 87歳");
        assert_eq!(birth_date(Lang::En, date!(1939 - 04 - 01), today), "1 Apr 1939 (age 87)");
        assert_eq!(age(date!(1940 - 12 - 02), today), 86);
        assert_eq!(age(date!(1940 - 12 - 03), today), 85);
        assert_eq!(birth_text(Lang::Ja, "unknown", today), "unknown");
    }
}
