//! The event search as a CSV for the auditor's spreadsheet: the same filters and the same
//! domain call as the page (so the same `audit.read` event), the newest matches first up to
//! `MAX_SEARCH`. UTF-8 with a byte-order mark, which is how Japanese Excel knows the file is not
//! Shift_JIS; headers in the page's language, times in the region's zone, names not ids (the
//! patient's id stays: an auditor may not read patients, and it is how the file is cross-checked
//! with the API's log).

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::super::{Console, ConsoleError, Names, PageResult, Ui};
use super::events::SearchForm;
use crate::domain::audit_log::{self, AuditEvent, MAX_SEARCH, Window};
use crate::state::AppState;

const BOM: &str = "\u{feff}";

/// (label key) of each column, in order.
const COLUMNS: &[&str] = &[
    "seq",
    "at",
    "actor",
    "role",
    "organization",
    "action",
    "audit_patient_id",
    "outcome",
    "break_glass",
    "reason",
    "reviewed",
];

/// One field, quoted (every field: Excel then never reads a number or a date into it).
fn field(out: &mut String, text: &str) {
    out.push('"');
    out.push_str(&text.replace('"', "\"\""));
    out.push('"');
}

fn line(out: &mut String, fields: &[String]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, f);
    }
    out.push_str("\r\n");
}

/// An instant as a spreadsheet reads a local time: `2026/12/02 08:30`.
fn local(ui: &Ui, stamp: &str) -> String {
    let (Some(cal), Some(at)) = (ui.cal.as_ref(), crate::clock::parse(stamp)) else { return stamp.to_owned() };
    let d = cal.date_at(at);
    let m = cal.minute_at(at);
    format!("{:04}/{:02}/{:02} {:02}:{:02}", d.year(), u8::from(d.month()), d.day(), m / 60, m % 60)
}

/// The file's text: the mark, the header and a line an event.
pub fn csv(ui: &Ui, names: &Names, events: &[AuditEvent]) -> String {
    let mut out = String::from(BOM);
    line(&mut out, &COLUMNS.iter().map(|k| ui.t(k).to_owned()).collect::<Vec<_>>());
    for e in events {
        let ev = &e.event;
        line(
            &mut out,
            &[
                ev.seq.to_string(),
                local(ui, &ev.at),
                names.get(&ev.actor_sub).to_owned(),
                ui.say("role", &ev.actor_role).to_owned(),
                names.get(&ev.actor_org).to_owned(),
                ui.say("audit_action", &ev.action).to_owned(),
                ev.patient_id.clone().unwrap_or_default(),
                ui.say("outcome", &ev.outcome).to_owned(),
                if ev.break_glass { ui.t("yes") } else { "" }.to_owned(),
                ev.break_glass_reason.clone().unwrap_or_default(),
                e.review.as_ref().map(|r| format!("{} {}", local(ui, &r.reviewed_at), r.comment)).unwrap_or_default(),
            ],
        );
    }
    out
}

pub async fn download(state: web::Data<AppState>, console: Console, form: web::Query<SearchForm>) -> PageResult {
    let Console { ctx, ui } = console;
    let form = SearchForm { before: None, after: None, ..form.into_inner() };
    let lang = ui.lang;
    // A refused filter cannot come from the page's own link; the search page says which.
    let Ok(asked) = form.search(&ui, MAX_SEARCH) else {
        return Ok(super::super::see_other(&format!("/console/audit/events?{}", form.filters())));
    };
    let asked = crate::domain::audit_log::EventSearch { window: Window::Newest, ..asked };
    let state = state.into_inner();
    let found = audit_log::search(&state, ctx.clone(), asked).await.map_err(|e| ConsoleError::new(e, lang))?;
    let names = Names::of(
        &state,
        &ctx,
        found.items.iter().map(|e| e.event.actor_org.clone()),
        found.items.iter().map(|e| e.event.actor_sub.clone()),
    )
    .await;
    let day = ui.cal.as_ref().map(|c| crate::clock::format_day(c.today())).unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"audit-events-{day}.csv\"")))
        .body(csv(&ui, &names, &found.items)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_with_their_quotes_doubled_and_lines_end_in_crlf() {
        let mut out = String::new();
        line(&mut out, &["a\"b".into(), "1,2".into(), String::new()]);
        assert_eq!(out, "\"a\"\"b\",\"1,2\",\"\"\r\n");
    }
}
