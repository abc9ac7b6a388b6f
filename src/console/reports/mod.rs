//! The analyst's pages (the guide's sections F and H): item fill by document type and writer
//! kind, the indicators by 年度, quarter or month and municipality (also as a CSV for Excel), and
//! the annual plan with its indicators' values. Each calls the domain function its API route
//! calls (`crate::domain::reports`), so the reports rule, the suppression and the audit event are
//! the API's own.

mod csv;
mod fill;
mod indicators;
mod plan;
mod plan_form;

use actix_web::web;

use super::Lang;
use super::i18n::label;
use crate::domain::reports::indicators::{Cell, NO_ADDRESS};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/reports").get(|| async { super::see_other("/console/reports/indicators") }))
        .service(web::resource("/reports/indicators").get(indicators::page))
        .service(web::resource("/reports/indicators.csv").get(csv::indicators))
        .service(web::resource("/reports/item-fill").get(fill::page))
        .service(web::resource("/reports/plan").get(plan::page).post(plan::save));
}

/// The mark of a count below the threshold, and of one hidden so that it cannot be derived.
pub const SMALL: &str = "＊";
pub const COMPLEMENT: &str = "＊＊";

/// A coded value in the page's language, from the console's word table.
pub fn say<'a>(lang: Lang, kind: &str, wire: &'a str) -> &'a str {
    super::words::say(lang, kind, wire)
}

/// A cell as the tables show it: a count, a share as a percentage, a median in hours, or the
/// suppression mark.
pub fn cell_text(indicator: &str, cell: &Cell) -> String {
    match cell {
        Cell::Count(n) => n.to_string(),
        Cell::Number(x) if is_share(indicator) => format!("{:.1}%", x * 100.0),
        Cell::Number(x) => format!("{x:.1}"),
        Cell::Hidden(mark) if mark == "<5" => SMALL.to_owned(),
        Cell::Hidden(_) => COMPLEMENT.to_owned(),
    }
}

/// A cell's value for a chart (`None` when hidden).
pub fn cell_value(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Count(n) => Some(*n as f64),
        Cell::Number(x) => Some(*x),
        Cell::Hidden(_) => None,
    }
}

/// Whether an indicator is a share (0–1), shown as a percentage.
pub fn is_share(indicator: &str) -> bool {
    indicator.ends_with("_rate") || indicator.ends_with("_share")
}

/// An indicator's name in the page's language.
pub fn indicator_name(lang: Lang, id: &str) -> &'static str {
    label(lang, &format!("indicator.{id}"))
}

/// A period's label as people write it: `2025年度`, `2025年4〜6月`, `2025年5月`, `2025年`.
pub fn period_label(lang: Lang, period: &str) -> String {
    if let Some(year) = period.strip_prefix("FY") {
        return match lang {
            Lang::Ja => format!("{year}年度"),
            Lang::En => format!("FY{year}"),
        };
    }
    match period.split_once('-') {
        Some((year, q)) if q.starts_with('Q') => {
            let n: u8 = q[1..].parse().unwrap_or(1u8).clamp(1, 4);
            let (first, last) = (n * 3 - 2, n * 3);
            match lang {
                Lang::Ja => format!("{year}年{first}〜{last}月"),
                Lang::En => format!("{year} Q{n}"),
            }
        }
        Some((year, month)) => {
            let m: u8 = month.parse().unwrap_or(1);
            match lang {
                Lang::Ja => format!("{year}年{m}月"),
                Lang::En => format!("{year}-{month}"),
            }
        }
        None => match lang {
            Lang::Ja => format!("{period}年"),
            Lang::En => period.to_owned(),
        },
    }
}

/// An area's name: the region, the patients without an address, or the municipality itself.
pub fn area_label(lang: Lang, area: &str) -> String {
    match area {
        "region" => label(lang, "rep_region").to_owned(),
        NO_ADDRESS => label(lang, "rep_no_address").to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reports::indicators::IDS;

    #[test]
    fn periods_read_as_people_write_them() {
        assert_eq!(period_label(Lang::Ja, "FY2025"), "2025年度");
        assert_eq!(period_label(Lang::Ja, "2025-Q2"), "2025年4〜6月");
        assert_eq!(period_label(Lang::Ja, "2025-05"), "2025年5月");
        assert_eq!(period_label(Lang::Ja, "2025"), "2025年");
        assert_eq!(period_label(Lang::En, "FY2025"), "FY2025");
    }

    #[test]
    fn cells_show_marks_and_percentages() {
        assert_eq!(cell_text("home_death_rate", &Cell::Number(0.476)), "47.6%");
        assert_eq!(cell_text("deaths", &Cell::Hidden("<5".into())), SMALL);
        assert_eq!(cell_text("deaths", &Cell::Hidden("x".into())), COMPLEMENT);
    }

    #[test]
    fn every_indicator_has_a_name() {
        for id in IDS {
            assert_ne!(indicator_name(Lang::Ja, id), "?", "{id}");
            assert_ne!(indicator_name(Lang::En, id), "?", "{id}");
        }
    }
}
