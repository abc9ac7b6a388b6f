//! The indicators as a CSV that Japanese Excel opens as it is: UTF-8 with a byte-order mark
//! (without it Excel reads Shift_JIS and the names are garbled), headers and indicator names in
//! the page's language, one column per period, and the suppression marks explained in note rows
//! at the end. The API's CSV (`Accept: text/csv`) stays the machine's: one row per value, ids.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::indicators::{Window, rows};
use super::{area_label, period_label};
use crate::console::i18n::label;
use crate::console::{Console, ConsoleError, Lang, PageResult};
use crate::domain::reports::indicators::{self, Indicators};
use crate::error::ApiError;
use crate::state::AppState;

/// The byte-order mark Excel looks for.
const BOM: &str = "\u{feff}";

/// The report as rows: a header, one row per area and indicator, a blank row, the notes.
pub fn table(report: &Indicators, lang: Lang) -> Vec<Vec<String>> {
    let mut header = vec![label(lang, "rep_area").to_owned(), label(lang, "rep_indicator").to_owned()];
    header.extend(report.periods.iter().map(|p| period_label(lang, &p.period)));
    let mut out = vec![header];
    let areas: Vec<&str> =
        report.periods.first().map(|p| p.areas.iter().map(|a| a.area.as_str()).collect()).unwrap_or_default();
    for area in areas {
        let name = area_label(lang, area);
        for row in rows(report, area, lang) {
            let mut line = vec![name.clone(), row.name.to_owned()];
            line.extend(row.cells.into_iter().map(|c| c.text));
            out.push(line);
        }
    }
    out.push(vec![String::new()]);
    for key in ["rep_note_small", "rep_note_complement", "rep_note_periods"] {
        out.push(vec![label(lang, "rep_note").to_owned(), label(lang, key).to_owned()]);
    }
    out
}

/// The rows as CSV text, with the mark in front.
pub fn text(rows: &[Vec<String>]) -> Result<Vec<u8>, ApiError> {
    let mut w = ::csv::WriterBuilder::new().flexible(true).from_writer(BOM.as_bytes().to_vec());
    for row in rows {
        w.write_record(row).map_err(ApiError::internal)?;
    }
    w.into_inner().map_err(ApiError::internal)
}

pub async fn indicators(state: web::Data<AppState>, console: Console, q: web::Query<Window>) -> PageResult {
    let Console { ctx, ui } = console;
    let lang = ui.lang;
    let fail = |e| ConsoleError::new(e, lang);
    let mut window = q.into_inner();
    let asked = window.read(lang, state.calendar.today()).map_err(|problems| {
        let text = problems.into_iter().map(|p| p.text).collect::<Vec<_>>().join(" / ");
        fail(ApiError::field("/query", text))
    })?;
    let state = state.into_inner();
    let report = indicators::indicators(&state, ctx, asked.days, asked.granularity).await.map_err(fail)?;
    let body = text(&table(&report, lang)).map_err(fail)?;
    let name = format!("indicators-{}-{}.csv", window.from, window.to);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(body))
}
