//! The auditor's pages: the break-glass review queue (mark reviewed with a note), the chain's
//! verification and its last signed checkpoint, and the event search, which with a patient id
//! is that patient's access log. All through `crate::domain::audit_log`, as the API.

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;

use super::session::check_csrf;
use super::{Console, ConsoleError, Names, PageResult, Ui, ok, see_other};
use crate::audit::Verification;
use crate::db::audit::CheckpointRow;
use crate::domain::audit_log::{self, AuditEvent, AuditQuery, ReviewInput};
use crate::state::AppState;

/// Break-glass events scanned for the queue (the oldest first; the rest on later visits).
const QUEUE_SCAN: i64 = 1000;
/// Events shown by a search.
const SEARCH_LIMIT: i64 = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/audit").get(dashboard))
        .service(web::resource("/audit/events").get(search))
        .service(web::resource("/audit/{seq}/review").post(review));
}

fn query() -> AuditQuery {
    AuditQuery {
        patient_id: None,
        actor: None,
        organization: None,
        action: None,
        from: None,
        to: None,
        break_glass: None,
        cursor: None,
        limit: None,
    }
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct Dashboard {
    ui: Ui,
    queue: Vec<AuditEvent>,
    reviewed: usize,
    names: Names,
    verification: Verification,
    checkpoint: Option<CheckpointRow>,
}

async fn dashboard(state: web::Data<AppState>, console: Console) -> PageResult {
    let Console { ctx, ui } = console;
    let fail = |e| ConsoleError::new(e, ui.lang);
    let state = state.into_inner();
    // Verification first: it is the auditor-only read that authorises the page.
    let verification = audit_log::verify(&state, ctx.clone()).await.map_err(fail)?;
    let checkpoint = crate::db::run(&state.pool, |conn| Ok(CheckpointRow::latest(conn)?)).await.map_err(fail)?;
    let q = AuditQuery { break_glass: Some(true), limit: Some(QUEUE_SCAN), ..query() };
    let page = audit_log::list_events(&state, ctx.clone(), q).await.map_err(fail)?;
    let (queue, done): (Vec<_>, Vec<_>) = page.items.into_iter().partition(|e| e.review.is_none());
    let orgs: Vec<String> = queue.iter().map(|e| e.event.actor_org.clone()).collect();
    let people: Vec<String> = queue.iter().map(|e| e.event.actor_sub.clone()).collect();
    let names = Names::of(&state, &ctx, orgs, people).await;
    ok(&Dashboard { ui, queue, reviewed: done.len(), names, verification, checkpoint })
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
    let Console { ctx, ui } = console;
    let input = ReviewInput { comment: form.into_inner().note };
    audit_log::review(&state, ctx, seq.into_inner(), input).await.map_err(|e| ConsoleError::new(e, ui.lang))?;
    Ok(see_other("/console/audit"))
}

#[derive(Deserialize)]
struct SearchForm {
    #[serde(default)]
    patient_id: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    break_glass: String,
}

#[derive(Template)]
#[template(path = "console/events.html")]
struct Events {
    ui: Ui,
    patient_id: String,
    actor: String,
    action: String,
    break_glass: bool,
    events: Vec<AuditEvent>,
    searched: bool,
}

fn filled(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

async fn search(state: web::Data<AppState>, console: Console, form: web::Query<SearchForm>) -> PageResult {
    let Console { ctx, ui } = console;
    let form = form.into_inner();
    let break_glass = form.break_glass == "on";
    let searched = [&form.patient_id, &form.actor, &form.action].iter().any(|s| !s.trim().is_empty()) || break_glass;
    let events = if searched {
        let q = AuditQuery {
            patient_id: filled(&form.patient_id),
            actor: filled(&form.actor),
            action: filled(&form.action),
            break_glass: break_glass.then_some(true),
            limit: Some(SEARCH_LIMIT),
            ..query()
        };
        let state = state.into_inner();
        audit_log::list_events(&state, ctx, q).await.map_err(|e| ConsoleError::new(e, ui.lang))?.items
    } else {
        Vec::new()
    };
    ok(&Events {
        ui,
        patient_id: form.patient_id,
        actor: form.actor,
        action: form.action,
        break_glass,
        events,
        searched,
    })
}
