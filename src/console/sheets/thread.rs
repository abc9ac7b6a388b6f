//! One sheet: its thread with the read receipt, and every step the API allows from where it
//! stands: the addressee answers, forwards or closes; the sender follows up, closes, or
//! withdraws it while unread. Each step is the domain call its API route makes; a step the
//! sheet's state or the caller's side does not allow is not offered (and refused if forced).

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;

use super::pickers::{self, Group};
use crate::console::session::check_csrf;
use crate::console::{Console, ConsoleError, Names, PageResult, Ui, ok, see_other};
use crate::domain::coordination::sheets::{self, ForwardInput, ReplyInput};
use crate::domain::coordination::{Addressee, Sheet, State};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/sheets/{id}").get(show))
        .service(web::resource("/sheets/{id}/reply").post(reply))
        .service(web::resource("/sheets/{id}/{step:close|withdraw}").post(step))
        .service(web::resource("/sheets/{id}/forward").post(forward));
}

/// What the caller may do with the sheet now, as the domain decides it (sender's organisation,
/// current addressee, state), so that the page offers those steps only.
struct Steps {
    reply: bool,
    /// The reply is the sender's follow-up, not an answer.
    follow_up: bool,
    close: bool,
    withdraw: bool,
    forward: bool,
}

impl Steps {
    fn of(sheet: &Sheet, org: &str, sub: &str) -> Self {
        let s = &sheet.summary;
        let sender = s.from.organization == org;
        let addressee =
            s.to.organization.as_deref() == Some(org) && s.to.practitioner.as_deref().is_none_or(|p| p == sub);
        let live = !matches!(s.state, State::Withdrawn | State::Closed);
        Steps {
            reply: live && (sender || addressee),
            follow_up: sender && !addressee,
            close: live && (sender || addressee),
            withdraw: sender && s.state == State::Delivered,
            forward: addressee && s.state.is_open(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/sheet.html")]
struct SheetPage {
    ui: Ui,
    sheet: Sheet,
    names: Names,
    steps: Steps,
    /// Whom it may be forwarded to (empty unless the caller may forward).
    addressees: Vec<Group>,
    /// The patient's name, when the sheet is about one the caller may see.
    patient_name: Option<String>,
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
    let steps = Steps::of(&sheet, &ctx.caller.org, &ctx.caller.sub);
    let addressees = match steps.forward {
        true => pickers::addressees(&state, &ctx, &ui, s.patient_id.as_deref()).await,
        false => Vec::new(),
    };
    let patient_name = match &s.patient_id {
        Some(p) => {
            crate::domain::patients::get(&state, ctx.clone(), p.clone().into()).await.ok().map(|p| p.identity.name)
        }
        None => None,
    };
    ok(&SheetPage { ui, sheet, names, steps, addressees, patient_name })
}

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default)]
    csrf: String,
    body: String,
}

fn back_to(id: &str) -> actix_web::HttpResponse {
    see_other(&format!("/console/sheets/{id}"))
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
    Ok(back_to(&id))
}

#[derive(Deserialize)]
struct StepForm {
    #[serde(default)]
    csrf: String,
}

/// Closes or withdraws the sheet: the steps without a form of their own.
async fn step(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
    path: web::Path<(String, String)>,
    form: web::Form<StepForm>,
) -> PageResult {
    check_csrf(&req, &form.csrf)?;
    let (id, step) = path.into_inner();
    let done = match step.as_str() {
        "close" => sheets::close(&state, console.ctx, id.clone()).await,
        _ => sheets::withdraw(&state, console.ctx, id.clone()).await,
    };
    done.map_err(|e| ConsoleError::new(e, console.ui.lang))?;
    Ok(back_to(&id))
}

#[derive(Deserialize)]
struct ForwardForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    note: String,
}

async fn forward(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
    id: web::Path<String>,
    form: web::Form<ForwardForm>,
) -> PageResult {
    check_csrf(&req, &form.csrf)?;
    let id = id.into_inner();
    let form = form.into_inner();
    let (organization, practitioner) = pickers::addressee(&form.to);
    let note = Some(form.note.trim().to_owned()).filter(|n| !n.is_empty());
    let input = ForwardInput { to: Addressee { organization, practitioner }, note };
    sheets::forward(&state, console.ctx, id.clone(), input).await.map_err(|e| ConsoleError::new(e, console.ui.lang))?;
    Ok(back_to(&id))
}
