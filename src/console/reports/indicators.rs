//! The indicators page: one table per area (the region, or a municipality chosen from the list),
//! indicators down, periods across (年度 by default, or quarters or months), suppressed cells
//! marked and the marks explained under the table, and two small charts.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;
use time::{Date, Month};

use super::{COMPLEMENT, SMALL, area_label, cell_text, cell_value, indicator_name, period_label};
use crate::console::charts::{self, Bar};
use crate::console::form_errors::FieldProblem;
use crate::console::i18n::label;
use crate::console::{Console, ConsoleError, Lang, PageResult, Ui, html};
use crate::domain::reports::Days;
use crate::domain::reports::indicators::{self, Granularity, IDS, Indicators};
use crate::state::AppState;

/// 年度 one page may span (months of 5 years are 60 columns already).
const MAX_YEARS: i32 = 5;

/// The page's query, as typed (kept for the form).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Window {
    #[serde(default)]
    pub granularity: String,
    /// The first 年度 (`2024`: April 2024 to March 2025).
    #[serde(default)]
    pub from: String,
    /// The last 年度.
    #[serde(default)]
    pub to: String,
    /// `region` or a municipality.
    #[serde(default)]
    pub area: String,
}

/// What a window asks for, once read.
pub struct Asked {
    pub days: Days,
    pub granularity: Granularity,
}

fn fiscal_year_of(day: Date) -> i32 {
    if day.month() >= Month::April { day.year() } else { day.year() - 1 }
}

impl Window {
    /// Reads the window (defaults: the last three 年度 up to this one), or says which field is
    /// wrong in the page's language.
    pub fn read(&mut self, lang: Lang, today: Date) -> Result<Asked, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut problem = |field: &'static str, key: &str, what: &str| {
            problems.push(FieldProblem { field, text: format!("{}: {}", label(lang, key), label(lang, what)) });
        };
        let granularity = match self.granularity.as_str() {
            "" | "fiscal_year" => Granularity::FiscalYear,
            "quarter" => Granularity::Quarter,
            "month" => Granularity::Month,
            _ => {
                problem("granularity", "rep_granularity", "rep_bad_choice");
                Granularity::FiscalYear
            }
        };
        let year = |text: &str, default: i32| match text.trim() {
            "" => Some(default),
            t => t.parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)),
        };
        let this = fiscal_year_of(today);
        let to = year(&self.to, this);
        let from = year(&self.from, to.unwrap_or(this) - 2);
        if to.is_none() {
            problem("to", "rep_to", "rep_bad_year");
        }
        if from.is_none() {
            problem("from", "rep_from", "rep_bad_year");
        }
        let (from, to) = (from.unwrap_or(this - 2), to.unwrap_or(this));
        if from > to {
            problem("to", "rep_to", "rep_to_before_from");
        } else if to - from >= MAX_YEARS {
            problem("to", "rep_to", "rep_too_many_years");
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        self.from = from.to_string();
        self.to = to.to_string();
        let first = Date::from_calendar_date(from, Month::April, 1).unwrap_or(today);
        let last = Date::from_calendar_date(to + 1, Month::March, 31).unwrap_or(today);
        Ok(Asked { days: Days { first, last }, granularity })
    }

    /// This window's query string, for another area or the CSV.
    pub fn query(&self, area: &str) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if !self.granularity.is_empty() {
            q.append_pair("granularity", &self.granularity);
        }
        q.append_pair("from", &self.from).append_pair("to", &self.to);
        if !area.is_empty() {
            q.append_pair("area", area);
        }
        q.finish()
    }
}

/// A value as a table shows it: its text and whether it is a suppression mark.
pub struct Shown {
    pub text: String,
    pub hidden: bool,
}

pub struct Row {
    pub name: &'static str,
    pub cells: Vec<Shown>,
}

pub struct AreaLink {
    pub name: String,
    pub href: String,
    pub current: bool,
}

/// One area's rows: every shown indicator, one cell per period.
pub fn rows(report: &Indicators, area: &str, lang: Lang) -> Vec<Row> {
    IDS.iter()
        .map(|id| Row {
            name: super::indicator_name(lang, id),
            cells: report
                .periods
                .iter()
                .map(|p| {
                    let cell = p.areas.iter().find(|a| a.area == area).and_then(|a| a.values.get(*id));
                    let text = cell.map_or_else(|| "—".to_owned(), |c| cell_text(id, c));
                    let hidden = text == SMALL || text == COMPLEMENT;
                    Shown { text, hidden }
                })
                .collect(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console/reports_indicators.html")]
struct Page {
    ui: Ui,
    window: Window,
    problems: Vec<FieldProblem>,
    granularities: Vec<(&'static str, &'static str)>,
    areas: Vec<AreaLink>,
    area_name: String,
    periods: Vec<String>,
    rows: Vec<Row>,
    charts: Vec<String>,
    csv_href: String,
}

fn chart(report: &Indicators, area: &str, id: &str, lang: Lang, max: Option<f64>) -> String {
    let bars: Vec<Bar> = report
        .periods
        .iter()
        .map(|p| {
            let cell = p.areas.iter().find(|a| a.area == area).and_then(|a| a.values.get(id));
            Bar {
                label: period_label(lang, &p.period),
                value: cell.and_then(cell_value),
                text: cell.map_or_else(String::new, |c| cell_text(id, c)),
            }
        })
        .collect();
    charts::bars(&format!("chart-{id}"), indicator_name(lang, id), &bars, max)
}

pub async fn page(state: web::Data<AppState>, console: Console, q: web::Query<Window>) -> PageResult {
    let Console { ctx, ui } = console;
    let lang = ui.lang;
    let mut window = q.into_inner();
    let granularities = ["fiscal_year", "quarter", "month"].map(|g| (g, super::say(lang, "granularity", g))).to_vec();
    let asked = match window.read(lang, state.calendar.today()) {
        Ok(asked) => asked,
        Err(problems) => {
            let page = Page {
                ui,
                window,
                problems,
                granularities,
                areas: Vec::new(),
                area_name: String::new(),
                periods: Vec::new(),
                rows: Vec::new(),
                charts: Vec::new(),
                csv_href: String::new(),
            };
            return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    let state = state.into_inner();
    let report = indicators::indicators(&state, ctx, asked.days, asked.granularity)
        .await
        .map_err(|e| ConsoleError::new(e, lang))?;
    let names: Vec<String> =
        report.periods.first().map(|p| p.areas.iter().map(|a| a.area.clone()).collect()).unwrap_or_default();
    let area = if names.contains(&window.area) { window.area.clone() } else { "region".to_owned() };
    let areas = names
        .iter()
        .map(|n| AreaLink {
            name: area_label(lang, n),
            href: format!("/console/reports/indicators?{}", window.query(n)),
            current: *n == area,
        })
        .collect();
    let page = Page {
        area_name: area_label(lang, &area),
        periods: report.periods.iter().map(|p| period_label(lang, &p.period)).collect(),
        rows: rows(&report, &area, lang),
        charts: vec![
            chart(&report, &area, "home_death_rate", lang, Some(1.0)),
            chart(&report, &area, "patients_under_home_care", lang, None),
        ],
        csv_href: format!("/console/reports/indicators.csv?{}", window.query("")),
        ui,
        window,
        problems: Vec::new(),
        granularities,
        areas,
    };
    Ok(html(StatusCode::OK, &page))
}
