//! ケアマネタイム as its owner keeps it: a practitioner's weekly slots (weekday, local times,
//! channel, who may use it, a note) and the days without any, edited as a form and published
//! through the same domain call as `PUT /v1/practitioners/{id}/contact-hours` (the practitioner
//! itself, or its organisation's admin; audited). A refused row comes back with the form as typed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;

use super::session::check_csrf;
use super::{Console, ConsoleError, PageResult, Ui, html, see_other};
use crate::domain::coordination::hours::{self, Audience, Channel, ContactHours, Exception, Slot, Weekday};
use crate::error::ApiError;
use crate::state::AppState;

/// Empty rows offered after the published ones, for new slots and days.
const SPARE_SLOTS: usize = 3;
const SPARE_DAYS: usize = 2;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/hours").get(show).post(publish));
}

/// One slot row of the form, as text (what was published, or what was typed).
#[derive(Default, Clone)]
struct SlotRow {
    weekday: String,
    start: String,
    end: String,
    channel: String,
    audience: String,
    notes: String,
}

#[derive(Default, Clone)]
struct DayRow {
    date: String,
    note: String,
}

#[derive(Template)]
#[template(path = "console/hours.html")]
struct HoursPage {
    ui: Ui,
    slots: Vec<SlotRow>,
    days: Vec<DayRow>,
    problems: Vec<String>,
    saved: bool,
    weekdays: &'static [Weekday],
    channels: &'static [Channel],
    audiences: &'static [Audience],
}

fn page(ui: Ui, mut slots: Vec<SlotRow>, mut days: Vec<DayRow>, problems: Vec<String>, saved: bool) -> HoursPage {
    slots.extend(std::iter::repeat_n(SlotRow::default(), SPARE_SLOTS));
    days.extend(std::iter::repeat_n(DayRow::default(), SPARE_DAYS));
    HoursPage {
        ui,
        slots,
        days,
        problems,
        saved,
        weekdays: Weekday::ALL,
        channels: Channel::ALL,
        audiences: Audience::ALL,
    }
}

#[derive(serde::Deserialize)]
struct ShowQuery {
    #[serde(default)]
    saved: bool,
}

async fn show(state: web::Data<AppState>, console: Console, q: web::Query<ShowQuery>) -> PageResult {
    let Console { ctx, ui } = console;
    let published =
        hours::get(&state.into_inner(), ctx.caller.sub.clone()).await.map_err(|e| ConsoleError::new(e, ui.lang))?;
    let slots = published
        .slots
        .into_iter()
        .map(|s| SlotRow {
            weekday: s.weekday.as_str().to_owned(),
            start: s.start,
            end: s.end,
            channel: s.channel.as_str().to_owned(),
            audience: s.audience.as_str().to_owned(),
            notes: s.notes.unwrap_or_default(),
        })
        .collect();
    let days =
        published.exceptions.into_iter().map(|e| DayRow { date: e.date, note: e.note.unwrap_or_default() }).collect();
    Ok(html(StatusCode::OK, &page(ui, slots, days, Vec::new(), q.saved)))
}

/// The typed rows: `slot-<i>-<field>` and `day-<i>-<field>`; rows left empty are not rows.
fn rows_of(pairs: &[(String, String)]) -> (Vec<SlotRow>, Vec<DayRow>) {
    let mut slots: Vec<SlotRow> = Vec::new();
    let mut days: Vec<DayRow> = Vec::new();
    for (name, value) in pairs {
        let mut parts = name.splitn(3, '-');
        let (Some(kind), Some(i), Some(field)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let Ok(i) = i.parse::<usize>() else { continue };
        if i >= 100 {
            continue;
        }
        let value = value.trim().to_owned();
        match kind {
            "slot" => {
                if slots.len() <= i {
                    slots.resize(i + 1, SlotRow::default());
                }
                let row = &mut slots[i];
                match field {
                    "weekday" => row.weekday = value,
                    "start" => row.start = value,
                    "end" => row.end = value,
                    "channel" => row.channel = value,
                    "audience" => row.audience = value,
                    "notes" => row.notes = value,
                    _ => {}
                }
            }
            "day" => {
                if days.len() <= i {
                    days.resize(i + 1, DayRow::default());
                }
                match field {
                    "date" => days[i].date = value,
                    "note" => days[i].note = value,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    slots.retain(|s| !(s.start.is_empty() && s.end.is_empty()));
    days.retain(|d| !d.date.is_empty());
    (slots, days)
}

/// The rows as the domain takes them; a word that is no value names its row and field.
fn hours_of(slots: &[SlotRow], days: &[DayRow]) -> Result<ContactHours, ApiError> {
    let word = |i: usize, field: &str, e: crate::words::UnknownWord| {
        ApiError::field(format!("/slots/{i}/{field}"), e.to_string())
    };
    let slots = slots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(Slot {
                weekday: s.weekday.parse().map_err(|e| word(i, "weekday", e))?,
                start: s.start.clone(),
                end: s.end.clone(),
                channel: s.channel.parse().map_err(|e| word(i, "channel", e))?,
                audience: s.audience.parse().map_err(|e| word(i, "audience", e))?,
                notes: Some(s.notes.clone()).filter(|n| !n.is_empty()),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let exceptions = days
        .iter()
        .map(|d| Exception { date: d.date.clone(), note: Some(d.note.clone()).filter(|n| !n.is_empty()) })
        .collect();
    Ok(ContactHours { slots, exceptions })
}

/// Each refused field as its row and label: `2行目の終了: …`.
fn problems_of(ui: &Ui, error: &ApiError) -> Option<Vec<String>> {
    let ApiError::Validation(errors) = error else { return None };
    Some(
        errors
            .iter()
            .map(|e| {
                let mut parts = e.pointer.trim_start_matches('/').split('/');
                let (list, row, field) = (parts.next().unwrap_or(""), parts.next(), parts.next().unwrap_or(""));
                let row = row.and_then(|r| r.parse::<usize>().ok()).map_or(String::new(), |r| (r + 1).to_string());
                let what = match (list, field) {
                    ("exceptions", "date") => "hours_day",
                    ("exceptions", _) => "note",
                    (_, "start") => "hours_start",
                    (_, "end") => "hours_end",
                    (_, "weekday") => "hours_weekday",
                    (_, "channel") => "channel",
                    (_, "notes") => "note",
                    _ => "field",
                };
                let table = if list == "exceptions" { ui.t("hours_days") } else { ui.t("hours_slots") };
                match ui.lang {
                    super::Lang::Ja => format!("{table} {row}行目の{}: {}", ui.t(what), ui.t("hours_check")),
                    super::Lang::En => format!("{table}, row {row}, {}: {}", ui.t(what), e.message),
                }
            })
            .collect(),
    )
}

async fn publish(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let csrf = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.clone()).unwrap_or_default();
    check_csrf(&req, &csrf)?;
    let Console { ctx, ui } = console;
    let (slots, days) = rows_of(&form);
    let sub = ctx.caller.sub.clone();
    let result = match hours_of(&slots, &days) {
        Ok(input) => hours::replace(&state.into_inner(), ctx, sub, input).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other("/console/hours?saved=true")),
        Err(e) => match problems_of(&ui, &e) {
            Some(problems) => Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, slots, days, problems, false))),
            None => Err(ConsoleError::new(e, ui.lang)),
        },
    }
}
