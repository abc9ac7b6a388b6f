//! Contact sheets (連絡票): inbox and sent box with their unread and overdue counts, a sheet's
//! thread with its read receipt, reply, a new sheet, and who on a patient's team can be
//! contacted now. Each calls the domain function its API route calls.

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;

use super::session::check_csrf;
use super::{Console, ConsoleError, Names, PageResult, Ui, ok, see_other, word};
use crate::domain::coordination::inbox::{self, BoxName, SheetQuery};
use crate::domain::coordination::reachable::{self, Contact};
use crate::domain::coordination::sheets::{self, ReplyInput, SheetInput};
use crate::domain::coordination::{Addressee, Category, Sheet, SheetSummary, Urgency};
use crate::domain::paging;
use crate::domain::params::UnknownWord;
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/sheets").get(list).post(send))
        .service(web::resource("/sheets/{id}").get(show))
        .service(web::resource("/sheets/{id}/reply").post(reply))
        .service(web::resource("/patients/{id}/reachable").get(reachable_now));
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(rename = "box", default)]
    side: Option<String>,
    patient_id: Option<String>,
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
    patient_id: String,
    categories: Vec<&'static str>,
    urgencies: Vec<&'static str>,
}

async fn list(state: web::Data<AppState>, console: Console, q: web::Query<ListQuery>) -> PageResult {
    let Console { ctx, ui } = console;
    let fail = |e| ConsoleError::new(e, ui.lang);
    let sent_box = q.side.as_deref() == Some("sent");
    let query = SheetQuery {
        side: if sent_box { BoxName::Sent } else { BoxName::Inbox },
        state: None,
        patient_id: None,
        overdue: false,
        limit: paging::page_size(None).map_err(fail)?,
        after: None,
    };
    let state = state.into_inner();
    let page = inbox::list(&state, ctx.clone(), query).await.map_err(fail)?;
    let orgs = page.items.iter().flat_map(|s| [Some(s.from.organization.clone()), s.to.organization.clone()]).flatten();
    let people =
        page.items.iter().flat_map(|s| [Some(s.from.practitioner.clone()), s.to.practitioner.clone()]).flatten();
    let names = Names::of(&state, &ctx, orgs.collect::<Vec<_>>(), people.collect::<Vec<_>>()).await;
    ok(&SheetListPage {
        ui,
        sent_box,
        names,
        sheets: page.items,
        unread: page.unread,
        overdue: page.overdue,
        patient_id: q.patient_id.clone().unwrap_or_default(),
        categories: Category::ALL.iter().map(|c| c.as_str()).collect(),
        urgencies: Urgency::ALL.iter().map(|u| u.as_str()).collect(),
    })
}

#[derive(Deserialize)]
struct SendForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    patient_id: String,
    #[serde(default)]
    to_organization: String,
    #[serde(default)]
    to_practitioner: String,
    category: String,
    urgency: String,
    body: String,
    #[serde(default)]
    reply_by: String,
}

fn blank_none(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

async fn send(req: HttpRequest, state: web::Data<AppState>, console: Console, form: web::Form<SendForm>) -> PageResult {
    check_csrf(&req, &form.csrf)?;
    let Console { ctx, ui } = console;
    let fail = |e| ConsoleError::new(e, ui.lang);
    let form = form.into_inner();
    let input = SheetInput {
        patient_id: blank_none(&form.patient_id),
        to: Addressee {
            organization: blank_none(&form.to_organization),
            practitioner: blank_none(&form.to_practitioner),
        },
        category: form.category.parse().map_err(|e: UnknownWord| fail(ApiError::field("/category", e.to_string())))?,
        urgency: form.urgency.parse().map_err(|e: UnknownWord| fail(ApiError::field("/urgency", e.to_string())))?,
        body: form.body,
        reply_by: blank_none(&form.reply_by),
    };
    let sheet = sheets::send(&state, ctx, input).await.map_err(fail)?;
    Ok(see_other(&format!("/console/sheets/{}", sheet.summary.id)))
}

#[derive(Template)]
#[template(path = "console/sheet.html")]
struct SheetPage {
    ui: Ui,
    sheet: Sheet,
    names: Names,
}

async fn show(state: web::Data<AppState>, console: Console, id: web::Path<String>) -> PageResult {
    let Console { ctx, ui } = console;
    let state = state.into_inner();
    let sheet = sheets::get(&state, ctx.clone(), id.into_inner()).await.map_err(|e| ConsoleError::new(e, ui.lang))?;
    let s = &sheet.summary;
    let mut orgs = vec![s.from.organization.clone()];
    orgs.extend(s.to.organization.clone());
    orgs.extend(sheet.thread.iter().map(|e| e.organization.clone()));
    let mut people = vec![s.from.practitioner.clone()];
    people.extend(s.to.practitioner.clone());
    people.extend(s.read_by.clone());
    people.extend(sheet.thread.iter().map(|e| e.by.clone()));
    let names = Names::of(&state, &ctx, orgs, people).await;
    ok(&SheetPage { ui, sheet, names })
}

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default)]
    csrf: String,
    body: String,
}

async fn reply(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
    id: web::Path<String>,
    form: web::Form<ReplyForm>,
) -> PageResult {
    check_csrf(&req, &form.csrf)?;
    let Console { ctx, ui } = console;
    let id = id.into_inner();
    let input = ReplyInput { body: form.into_inner().body };
    sheets::reply(&state, ctx, id.clone(), input).await.map_err(|e| ConsoleError::new(e, ui.lang))?;
    Ok(see_other(&format!("/console/sheets/{id}")))
}

#[derive(Template)]
#[template(path = "console/reachable.html")]
struct ReachablePage {
    ui: Ui,
    patient_id: String,
    at: String,
    now: Vec<Contact>,
    later: Vec<Contact>,
}

async fn reachable_now(state: web::Data<AppState>, console: Console, id: web::Path<String>) -> PageResult {
    let Console { ctx, ui } = console;
    let id = id.into_inner();
    let at = state.calendar.now();
    let answer =
        reachable::reachable(&state, ctx, id.clone().into(), at).await.map_err(|e| ConsoleError::new(e, ui.lang))?;
    ok(&ReachablePage { ui, patient_id: id, at: answer.at, now: answer.now, later: answer.later })
}

/// How a contact is shown: name, profession and organisation.
pub fn contact_line(c: &Contact) -> String {
    format!("{} ({}, {})", c.name, word(&c.profession), c.organization_id)
}
