//! "Who opened my patient's record": a patient's access log for the clinicians of the managing
//! organisation (the rule `access::may_read_access_log`), newest first with its count, through
//! the API's own domain read (one `access_log.read` event).

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::super::{Console, ConsoleError, PageResult, Ui, ok};
use crate::domain::audit_log::{self, Window};
use crate::state::AppState;

/// Openings on one page.
const PAGE: i64 = 50;

#[derive(Deserialize)]
pub struct AccessQuery {
    before: Option<i64>,
    after: Option<i64>,
}

struct AccessRow {
    at: String,
    organization: String,
    profession: String,
    action: String,
    break_glass: bool,
}

#[derive(Template)]
#[template(path = "console/audit_access_log.html")]
struct AccessLog {
    ui: Ui,
    patient_id: String,
    patient_name: String,
    rows: Vec<AccessRow>,
    total: i64,
    first: i64,
    last: i64,
    previous: Option<i64>,
    next: Option<i64>,
}

pub async fn show(
    state: web::Data<AppState>,
    console: Console,
    id: web::Path<String>,
    q: web::Query<AccessQuery>,
) -> PageResult {
    let Console { ctx, ui } = console;
    let window = match (q.before, q.after) {
        (Some(seq), _) => Window::Before(seq),
        (None, Some(seq)) => Window::After(seq),
        (None, None) => Window::Newest,
    };
    let patient_id = id.into_inner();
    let page = audit_log::access_log_newest(&state.into_inner(), ctx, patient_id.clone().into(), window, PAGE)
        .await
        .map_err(|e| ConsoleError::new(e, ui.lang))?;
    let shown = i64::try_from(page.items.len()).unwrap_or(0);
    let previous = (page.newer > 0).then(|| page.items.first().map(|e| e.seq)).flatten();
    let next = (page.older > 0).then(|| page.items.last().map(|e| e.seq)).flatten();
    let rows = page
        .items
        .into_iter()
        .map(|e| AccessRow {
            at: ui.at(&e.at),
            // An organisation the directory no longer knows is named by its profession alone.
            organization: e.organization_name.unwrap_or_else(|| ui.t("audit_unknown_org").to_owned()),
            profession: ui.say("role", &e.profession).to_owned(),
            action: ui.say("audit_action", &e.action).to_owned(),
            break_glass: e.break_glass,
        })
        .collect();
    ok(&AccessLog {
        patient_id,
        patient_name: page.patient_name,
        rows,
        total: page.total,
        first: if shown == 0 { 0 } else { page.newer + 1 },
        last: page.newer + shown,
        previous,
        next,
        ui,
    })
}
