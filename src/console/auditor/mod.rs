//! The auditor's pages: the chain's verification and its last signed checkpoint with the
//! break-glass openings still to review (one item an opening, however many reads it covered),
//! the reviewed openings with their reviewer and finding, the event search (newest first, paged,
//! by names; with a patient, that patient's access log) and its CSV, and the consent log. A
//! clinician's "who opened my patients' records" is `access_log`. All through
//! `crate::domain::audit_log` and `consents`, as the API.

mod access_log;
mod consent_log;
mod events;
mod export;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;

use super::form_errors::FieldProblem;
use super::session::check_csrf;
use super::{Console, ConsoleError, Names, PageResult, Ui, html, ok, see_other};
use crate::audit::Verification;
use crate::db::audit::CheckpointRow;
use crate::domain::audit_log::{self, AuditEvent, Opening, Openings, ReviewInput};
use crate::error::ApiError;
use crate::state::AppState;

/// Openings on one page of the queue or of the reviewed list.
const OPENINGS_PAGE: usize = 20;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/audit").get(dashboard))
        .service(web::resource("/audit/reviewed").get(reviewed))
        .service(web::resource("/audit/events").get(events::search))
        .service(web::resource("/audit/events.csv").get(export::download))
        .service(web::resource("/audit/consents").get(consent_log::list))
        .service(web::resource("/audit/consents/{id}").get(consent_log::accesses))
        .service(web::resource("/audit/{seq}/review").post(review))
        .service(web::resource("/patients/{id}/access-log").get(access_log::show));
}

/// The audit actions a search may pick, with their words, in the word table's order.
pub fn actions(ui: &Ui) -> Vec<(&'static str, String)> {
    super::words::of_kind("audit_action").map(|w| (w, ui.say("audit_action", w).to_owned())).collect()
}

/// An event as a table row says it: local time, names, words.
pub struct EventRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub org: String,
    pub action: String,
    /// For the link that narrows the search to the patient (never shown as text).
    pub patient_id: Option<String>,
    pub outcome: String,
    pub denied: bool,
    pub break_glass: bool,
    pub reason: Option<String>,
    pub reviewed: bool,
}

/// The rows of `events`, with the names already looked up.
pub fn rows_of(ui: &Ui, names: &Names, events: &[AuditEvent]) -> Vec<EventRow> {
    events.iter().map(|e| row_of(ui, names, e)).collect()
}

fn row_of(ui: &Ui, names: &Names, e: &AuditEvent) -> EventRow {
    let ev = &e.event;
    EventRow {
        seq: ev.seq,
        at: ui.at(&ev.at),
        actor: names.get(&ev.actor_sub).to_owned(),
        role: ui.say("role", &ev.actor_role).to_owned(),
        org: names.get(&ev.actor_org).to_owned(),
        action: ui.say("audit_action", &ev.action).to_owned(),
        patient_id: ev.patient_id.clone(),
        outcome: ui.say("outcome", &ev.outcome).to_owned(),
        denied: ev.outcome != "allowed",
        break_glass: ev.break_glass,
        reason: ev.break_glass_reason.clone(),
        reviewed: e.review.is_some(),
    }
}

/// A break-glass opening as the review pages show it.
pub struct OpeningItem {
    /// Its first event: the review is made on it.
    pub seq: i64,
    pub opened: EventRow,
    pub events: usize,
    pub last_at: String,
    pub reviewer: Option<String>,
    pub reviewed_at: Option<String>,
    pub comment: Option<String>,
}

/// Paging over the openings: where this page starts and the offsets of its neighbours.
pub struct Paging {
    pub total: usize,
    pub first: usize,
    pub last: usize,
    pub previous: Option<usize>,
    pub next: Option<usize>,
}

impl Paging {
    fn of(list: &Openings) -> Self {
        let shown = list.items.len();
        Paging {
            total: list.total,
            first: if shown == 0 { 0 } else { list.offset + 1 },
            last: list.offset + shown,
            previous: (list.offset > 0).then(|| list.offset.saturating_sub(OPENINGS_PAGE)),
            next: (list.offset + shown < list.total).then_some(list.offset + shown),
        }
    }
}

async fn opening_items(state: &std::sync::Arc<AppState>, console: &Console, list: Vec<Opening>) -> Vec<OpeningItem> {
    let orgs: Vec<String> = list
        .iter()
        .flat_map(|o| [Some(o.first.event.actor_org.clone()), o.review.as_ref().map(|r| r.reviewer_org.clone())])
        .flatten()
        .collect();
    let people: Vec<String> = list
        .iter()
        .flat_map(|o| [Some(o.first.event.actor_sub.clone()), o.review.as_ref().map(|r| r.reviewer_sub.clone())])
        .flatten()
        .collect();
    let names = Names::of(state, &console.ctx, orgs, people).await;
    let ui = &console.ui;
    list.into_iter()
        .map(|o| {
            let opened = row_of(ui, &names, &o.first);
            OpeningItem {
                seq: o.first.event.seq,
                opened,
                events: o.events,
                last_at: ui.at(&o.last_at),
                // Auditors are not in the directory: their sign-in names them, with their organisation.
                reviewer: o
                    .review
                    .as_ref()
                    .map(|r| format!("{} ({})", names.get(&r.reviewer_sub), names.get(&r.reviewer_org))),
                reviewed_at: o.review.as_ref().map(|r| ui.at(&r.reviewed_at)),
                comment: o.review.map(|r| r.comment),
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    offset: usize,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct Dashboard {
    ui: Ui,
    queue: Vec<OpeningItem>,
    paging: Paging,
    reviewed: usize,
    verification: Verification,
    checkpoint: Option<CheckpointRow>,
    /// A refused review: which opening, and what to put right.
    problems: Vec<FieldProblem>,
}

async fn dashboard(state: web::Data<AppState>, console: Console, q: web::Query<PageQuery>) -> PageResult {
    dashboard_page(&state.into_inner(), console, q.offset, Vec::new()).await
}

/// The dashboard: 200, or 422 with a refused review's problems above the queue.
async fn dashboard_page(
    state: &std::sync::Arc<AppState>,
    console: Console,
    offset: usize,
    problems: Vec<FieldProblem>,
) -> PageResult {
    let fail = |e| ConsoleError::new(e, console.ui.lang);
    // Verification first: it is the auditor-only read that authorises the page.
    let verification = audit_log::verify(state, console.ctx.clone()).await.map_err(fail)?;
    let checkpoint = audit_log::latest_checkpoint(state, console.ctx.clone()).await.map_err(fail)?;
    let list = audit_log::openings(state, console.ctx.clone(), false, offset, OPENINGS_PAGE).await.map_err(fail)?;
    let (paging, reviewed) = (Paging::of(&list), list.others);
    let queue = opening_items(state, &console, list.items).await;
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = Dashboard { ui: console.ui, queue, paging, reviewed, verification, checkpoint, problems };
    Ok(html(status, &page))
}

#[derive(Template)]
#[template(path = "console/audit_reviewed.html")]
struct Reviewed {
    ui: Ui,
    items: Vec<OpeningItem>,
    paging: Paging,
    waiting: usize,
}

async fn reviewed(state: web::Data<AppState>, console: Console, q: web::Query<PageQuery>) -> PageResult {
    let fail = |e| ConsoleError::new(e, console.ui.lang);
    let state = state.into_inner();
    let list = audit_log::openings(&state, console.ctx.clone(), true, q.offset, OPENINGS_PAGE).await.map_err(fail)?;
    let (paging, waiting) = (Paging::of(&list), list.others);
    let items = opening_items(&state, &console, list.items).await;
    ok(&Reviewed { ui: console.ui, items, paging, waiting })
}

#[derive(Deserialize)]
struct ReviewForm {
    #[serde(default)]
    csrf: String,
    note: String,
}

async fn review(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
    seq: web::Path<i64>,
    form: web::Form<ReviewForm>,
) -> PageResult {
    check_csrf(&req, &form.csrf)?;
    let input = ReviewInput { comment: form.into_inner().note };
    let state = state.into_inner();
    match audit_log::review(&state, console.ctx.clone(), seq.into_inner(), input).await {
        Ok(_) => Ok(see_other("/console/audit")),
        // A blank or overlong note: the queue again, saying so (the opening stays to review).
        Err(ApiError::Validation(_)) => {
            let text = format!("{}: {}", console.ui.t("note"), console.ui.t("audit_note_needed"));
            dashboard_page(&state, console, 0, vec![FieldProblem { field: "", text }]).await
        }
        Err(e) => Err(ConsoleError::new(e, console.ui.lang)),
    }
}
