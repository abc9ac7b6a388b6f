//! Contact sheets (連絡票): inbox and sent box with their unread and overdue counts, filters and
//! pages, a new sheet addressed by name (`pickers`), a sheet's thread and its steps (`thread`),
//! and who on a patient's team can be contacted now. Each calls the domain function its API
//! route calls.

mod pickers;
mod thread;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;

use self::pickers::{Choice, Group};
use super::form_errors::{self, FieldProblem};
use super::session::check_csrf;
use super::{Console, ConsoleError, Names, PageResult, Ui, html, ok, see_other};
use crate::calendar::Calendar;
use crate::domain::coordination::inbox::{self, BoxName, SheetQuery};
use crate::domain::coordination::reachable::{self, Contact};
use crate::domain::coordination::sheets::{self, SheetInput};
use crate::domain::coordination::{Addressee, Category, SheetSummary, Urgency};
use crate::domain::paging;
use crate::domain::params::UnknownWord;
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/sheets").get(list).post(send))
        .configure(thread::routes)
        .service(web::resource("/patients/{id}/reachable").get(reachable_now));
}

#[derive(Deserialize, Default, Clone)]
struct ListQuery {
    #[serde(rename = "box", default)]
    side: Option<String>,
    /// The patient the new sheet is about (from the patient's page).
    patient_id: Option<String>,
    /// `unanswered` or `overdue`; every sheet of the box otherwise.
    #[serde(default)]
    show: String,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
}

impl ListQuery {
    /// This box and filter's address, for a link to its next page or to another filter.
    fn link(&self, show: &str, cursor: Option<&str>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if self.sent_box() {
            q.append_pair("box", "sent");
        }
        if !show.is_empty() {
            q.append_pair("show", show);
        }
        if let Some(c) = cursor {
            q.append_pair("cursor", c);
        }
        format!("/console/sheets?{}", q.finish())
    }

    fn sent_box(&self) -> bool {
        self.side.as_deref() == Some("sent")
    }
}

#[derive(Template)]
#[template(path = "console/sheets.html")]
struct SheetListPage {
    ui: Ui,
    sent_box: bool,
    sheets: Vec<SheetSummary>,
    names: Names,
    unread: usize,
    overdue: usize,
    /// The filter shown (`unanswered`, `overdue` or empty), and the links of the filters.
    show: String,
    filters: Vec<(&'static str, String)>,
    /// The next page, when there is one.
    next: Option<String>,
    /// Whom a new sheet may go to, and about whom.
    addressees: Vec<Group>,
    patients: Vec<Choice>,
    /// What the form holds: empty, or what was typed before a refusal.
    draft: SendForm,
    problems: Vec<FieldProblem>,
    categories: Vec<&'static str>,
    urgencies: Vec<&'static str>,
}

async fn list(state: web::Data<AppState>, console: Console, q: web::Query<ListQuery>) -> PageResult {
    let draft = SendForm {
        patient_id: q.patient_id.clone().unwrap_or_default(),
        reply_by_time: DEFAULT_TIME.to_owned(),
        ..SendForm::default()
    };
    list_page(&state.into_inner(), console, q.into_inner(), draft, Vec::new()).await
}

/// The boxes with the new-sheet form: 200, or 422 with the typed form and its problems.
async fn list_page(
    state: &Arc<AppState>,
    console: Console,
    q: ListQuery,
    draft: SendForm,
    problems: Vec<FieldProblem>,
) -> PageResult {
    let Console { ctx, ui } = console;
    let fail = |e| ConsoleError::new(e, ui.lang);
    let sent_box = q.sent_box();
    let query = SheetQuery {
        side: if sent_box { BoxName::Sent } else { BoxName::Inbox },
        state: None,
        patient_id: None,
        overdue: q.show == "overdue",
        unanswered: q.show == "unanswered",
        limit: paging::page_size(None).map_err(fail)?,
        after: q.cursor.as_deref().map(inbox::parse_cursor).transpose().map_err(fail)?,
    };
    let page = inbox::list(state, ctx.clone(), query).await.map_err(fail)?;
    let patients = pickers::patients(state, &ctx).await;
    let chosen = Some(draft.patient_id.as_str()).filter(|p| !p.is_empty());
    let addressees = pickers::addressees(state, &ctx, &ui, chosen).await;
    let orgs = page.items.iter().flat_map(|s| [Some(s.from.organization.clone()), s.to.organization.clone()]).flatten();
    let people =
        page.items.iter().flat_map(|s| [Some(s.from.practitioner.clone()), s.to.practitioner.clone()]).flatten();
    let mut names = Names::of(state, &ctx, orgs.collect::<Vec<_>>(), people.collect::<Vec<_>>()).await;
    names.extend(patients.iter().map(|p| (p.value.clone(), p.label.clone())));
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = SheetListPage {
        ui,
        sent_box,
        names,
        sheets: page.items,
        unread: page.unread,
        overdue: page.overdue,
        filters: ["", "unanswered", "overdue"].into_iter().map(|f| (f, q.link(f, None))).collect(),
        next: page.next_cursor.as_deref().map(|c| q.link(&q.show, Some(c))),
        show: q.show,
        addressees,
        patients,
        draft,
        problems,
        categories: Category::ALL.iter().map(|c| c.as_str()).collect(),
        urgencies: Urgency::ALL.iter().map(|u| u.as_str()).collect(),
    };
    Ok(html(status, &page))
}

/// The label key of a filter of the boxes.
pub fn filter_label(filter: &str) -> &'static str {
    match filter {
        "unanswered" => "unanswered",
        "overdue" => "overdue",
        _ => "all_sheets",
    }
}

/// The time a deadline given as a day alone falls at: the end of the working day.
const DEFAULT_TIME: &str = "17:00";

#[derive(Deserialize, Default)]
struct SendForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    patient_id: String,
    /// The addressee picked by name: `pr:<id>` or `org:<id>` (`pickers::addressee`).
    #[serde(default)]
    to: String,
    #[serde(default)]
    to_organization: String,
    #[serde(default)]
    to_practitioner: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    body: String,
    /// The deadline's day in the region (`YYYY-MM-DD`, the date input).
    #[serde(default)]
    reply_by_date: String,
    /// The deadline's time of day in the region (`HH:MM`, the time input).
    #[serde(default)]
    reply_by_time: String,
}

fn blank_none(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// The deadline typed as the region's day and time, as the instant the API takes: people give
/// a deadline in their own zone, and the domain keeps instants in UTC.
fn reply_by(cal: &Calendar, day: &str, time: &str) -> Result<Option<String>, ApiError> {
    let (day, time) = (day.trim(), time.trim());
    if day.is_empty() {
        return if time.is_empty() || time == DEFAULT_TIME {
            Ok(None)
        } else {
            Err(ApiError::field("/reply_by", "needs a date as well as a time"))
        };
    }
    let day = crate::clock::parse_day(day).ok_or_else(|| ApiError::field("/reply_by", "must be a real date"))?;
    let time = if time.is_empty() { DEFAULT_TIME } else { time };
    let minute = time
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse::<u16>().ok()?, m.get(..2)?.parse::<u16>().ok()?)))
        .filter(|(h, m)| *h < 24 && *m < 60)
        .map(|(h, m)| h * 60 + m)
        .ok_or_else(|| ApiError::field("/reply_by", "must be a time, HH:MM"))?;
    let at = cal.instant_at(day, minute).ok_or_else(|| ApiError::field("/reply_by", "must be a time, HH:MM"))?;
    Ok(Some(crate::clock::format(at)))
}

async fn send(req: HttpRequest, state: web::Data<AppState>, console: Console, form: web::Form<SendForm>) -> PageResult {
    check_csrf(&req, &form.csrf)?;
    let state = state.into_inner();
    let form = form.into_inner();
    let lang = console.ui.lang;
    let parsed = (|| {
        let category = form.category.parse().map_err(|e: UnknownWord| ApiError::field("/category", e.to_string()))?;
        let urgency = form.urgency.parse().map_err(|e: UnknownWord| ApiError::field("/urgency", e.to_string()))?;
        let reply_by = reply_by(&state.calendar, &form.reply_by_date, &form.reply_by_time)?;
        Ok::<_, ApiError>(SheetInput {
            patient_id: blank_none(&form.patient_id),
            to: match pickers::addressee(&form.to) {
                (None, None) => Addressee {
                    organization: blank_none(&form.to_organization),
                    practitioner: blank_none(&form.to_practitioner),
                },
                (organization, practitioner) => Addressee { organization, practitioner },
            },
            category,
            urgency,
            body: form.body.clone(),
            reply_by,
        })
    })();
    let sent = match parsed {
        Ok(input) => sheets::send(&state, console.ctx.clone(), input).await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(sheet) => Ok(see_other(&format!("/console/sheets/{}", sheet.summary.id))),
        // A refused field: the page again, with what was typed and what to change.
        Err(e) => match form_errors::of(lang, &e) {
            Some(problems) => list_page(&state, console, ListQuery::default(), form, problems).await,
            None => Err(ConsoleError::new(e, lang)),
        },
    }
}

#[derive(Template)]
#[template(path = "console/reachable.html")]
struct ReachablePage {
    ui: Ui,
    patient_id: String,
    at: String,
    now: Vec<Contact>,
    later: Vec<Contact>,
    names: Names,
}

async fn reachable_now(state: web::Data<AppState>, console: Console, id: web::Path<String>) -> PageResult {
    let Console { ctx, ui } = console;
    let id = id.into_inner();
    let at = state.calendar.now();
    let state = state.into_inner();
    let answer = reachable::reachable(&state, ctx.clone(), id.clone().into(), at)
        .await
        .map_err(|e| ConsoleError::new(e, ui.lang))?;
    let orgs: Vec<String> = answer.now.iter().chain(&answer.later).map(|c| c.organization_id.clone()).collect();
    let names = Names::of(&state, &ctx, orgs, Vec::new()).await;
    ok(&ReachablePage { ui, patient_id: id, at: answer.at, now: answer.now, later: answer.later, names })
}
