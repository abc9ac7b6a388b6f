//! A contact sheet's life: send, open (the read receipt), reply, forward, withdraw, close. Each
//! is one audited write; each state change adds a thread entry numbered by the change sequence.
//!
//! Who may act on a sheet: an organisation that was party to it (sender, addressee, or an
//! addressee it was forwarded through) and that the access rule still lets read the patient's
//! contact sheets (managing organisation; care team with the patient's consent; a consultation
//! desk that the consent names). Anyone else gets 404, as for a sheet that does not exist. A
//! sheet addressed to a practitioner by name opens, in that organisation, only to them (see
//! `reaches`).

use std::sync::Arc;

use serde::Deserialize;
use utoipa::ToSchema;

use super::keys::SheetKey;
use super::steps::{Entry, check_addressee, check_text, record, resolve};
use super::view::{self, Sheet};
use super::{Addressee, Category, SHEET_TYPE, State, Urgency};
use crate::access::{self, Action, Resource};
use crate::audit::Event;
use crate::auth::Caller;
use crate::context::Context;
use crate::db::DbConn;
use crate::db::contact_sheets::{self, SheetEventRow, SheetRow};
use crate::db::documents::next_seq;
use crate::domain::fields::Errors;
use crate::domain::params;
use crate::error::ApiError;
use crate::gate::{Want, authorize};
use crate::state::AppState;

/// A sheet as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SheetInput {
    /// The patient it is about. Absent only for a general question to a consultation desk.
    pub patient_id: Option<String>,
    /// Whom it goes to.
    pub to: Addressee,
    /// What it is about.
    pub category: Category,
    /// How soon an answer is needed.
    pub urgency: Urgency,
    /// The text, at most 4000 characters (sealed at rest).
    #[schema(min_length = 1, max_length = 4000)]
    pub body: String,
    /// Answer wanted by; an RFC 3339 date-time in the future.
    #[schema(format = DateTime)]
    pub reply_by: Option<String>,
}

/// A reply, threaded to the sheet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    /// The text, at most 4000 characters (sealed at rest).
    #[schema(min_length = 1, max_length = 4000)]
    pub body: String,
}

/// Passing a sheet on, keeping its thread.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardInput {
    /// The new addressee.
    pub to: Addressee,
    /// A note for the new addressee, at most 4000 characters (sealed at rest).
    #[schema(max_length = 4000)]
    pub note: Option<String>,
}

/// Sends a sheet: sealed, addressed, delivered into the addressee's inbox in the same commit.
pub async fn send(state: &Arc<AppState>, ctx: Context, input: SheetInput) -> Result<Sheet, ApiError> {
    let sheet = super::super::write(state, Event::new(&ctx, "contact_sheet.send"), 201, move |tx, st, ev| {
        let sent_seq = next_seq(tx)?;
        let caller = &ctx.caller;
        access::check(caller, Resource::ContactSheet, Action::Write)?;
        let access = match &input.patient_id {
            Some(pid) => {
                Some(authorize(tx, st, caller, pid, Want::write(Resource::ContactSheet).of_type(SHEET_TYPE), ev)?)
            }
            None => None,
        };
        let mut errors = Errors::default();
        check_text(&mut errors, "/body", &input.body);
        let now = st.clock.stamp();
        let reply_by = match input.reply_by.as_deref().map(|t| params::instant("/reply_by", t)).transpose() {
            Ok(Some(by)) if by <= now => {
                errors.add("/reply_by", "must be in the future");
                None
            }
            Ok(by) => by,
            Err(_) => {
                errors.add("/reply_by", "must be an RFC 3339 date-time");
                None
            }
        };
        errors.finish()?;
        let target = resolve(tx, &input.to, "/to")?;
        let id = uuid::Uuid::new_v4().to_string();
        let (key, own) = match &access {
            Some(a) => {
                check_addressee(st, caller, &a.facts, &target, "/to")?;
                (SheetKey::of_patient(st, &a.patient, &id)?, None)
            }
            None if target.desk => {
                let (key, wrapped) = SheetKey::fresh(st, &id)?;
                (key, Some(wrapped))
            }
            None => {
                return Err(ApiError::field(
                    "/patient_id",
                    "a sheet without a patient may go to a consultation desk only",
                ));
            }
        };
        let mut row = SheetRow {
            id: id.clone(),
            patient_id: access.as_ref().map(|a| a.patient.id.clone()),
            sender_sub: caller.sub.clone(),
            sender_org: caller.org.clone(),
            to_org: target.org.clone(),
            to_practitioner: target.practitioner.clone(),
            category: input.category.as_str().to_owned(),
            urgency: input.urgency.as_str().to_owned(),
            body: key.seal(1, "/body", &input.body)?,
            reply_by,
            state: State::Sent.as_str().to_owned(),
            version: 0,
            sent_at: now.clone(),
            delivered_at: None,
            read_at: None,
            read_by: None,
            answered_at: None,
            closed_at: None,
            withdrawn_at: None,
            updated_at: now.clone(),
            data_key_kid: own.as_ref().map(|(kid, _)| kid.clone()),
            data_key: own.map(|(_, blob)| blob),
        };
        ev.resource_type = Some("contact_sheet");
        ev.resource_id = Some(id.clone());
        // Inserted at version 0, then moved through version 1 (sent) and version 2 (delivered
        // into the addressee's inbox, which on one server happens in the same commit).
        row.insert(tx)?;
        let to = Some((target.org.as_str(), target.practitioner.as_deref()));
        record(tx, &key, &mut row, caller, Entry { op: "sent", to, note: None }, (sent_seq, &st.clock.stamp()))?;
        let delivered_seq = next_seq(tx)?;
        row.state = State::Delivered.as_str().to_owned();
        row.delivered_at = Some(now.clone());
        record(
            tx,
            &key,
            &mut row,
            caller,
            Entry { op: "delivered", to: None, note: None },
            (delivered_seq, &st.clock.stamp()),
        )?;
        contact_sheets::add_party(tx, &id, &caller.org)?;
        contact_sheets::add_party(tx, &id, &target.org)?;
        ev.resource_version = Some(row.version);
        let thread = SheetEventRow::thread(tx, &id)?;
        view::whole(&row, &thread, &key, &now)
    })
    .await?;
    state.notify_change();
    Ok(sheet)
}

/// A sheet the caller may act on, with its key; 404 for anyone else.
pub(super) fn open_sheet(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
    ev: &mut Event,
) -> Result<(SheetRow, SheetKey), ApiError> {
    access::check(caller, Resource::ContactSheet, action)?;
    ev.resource_type = Some("contact_sheet");
    ev.resource_id = Some(id.to_owned());
    let missing = || ApiError::NotFound("no such contact sheet".into());
    let sheet = SheetRow::find(conn, id)?.ok_or_else(missing)?;
    if !contact_sheets::is_party(conn, id, &caller.org)? || !reaches(conn, &sheet, caller)? {
        return Err(missing());
    }
    if let Some(pid) = &sheet.patient_id {
        let want = Want::to(action, Resource::ContactSheet).of_type(SHEET_TYPE);
        authorize(conn, state, caller, pid, want, ev).map_err(|e| match e {
            ApiError::NotFound(_) => missing(),
            other => other,
        })?;
    }
    ev.resource_version = Some(sheet.version);
    let key = SheetKey::of_sheet(conn, state, &sheet)?;
    Ok((sheet, key))
}

/// A sheet addressed to a person stays with that person. In an organisation it was addressed
/// (or forwarded) to, only the practitioners it named open it, unless it was also addressed to
/// the organisation as a whole; a named addressee hands it to a deputy by forwarding it. The
/// sender's organisation keeps its own sheets.
fn reaches(conn: &mut DbConn, sheet: &SheetRow, caller: &Caller) -> Result<bool, ApiError> {
    if sheet.sender_org == caller.org {
        return Ok(true);
    }
    let thread = SheetEventRow::thread(conn, &sheet.id)?;
    let mut to_here = thread.iter().filter(|e| e.to_org.as_deref() == Some(caller.org.as_str())).peekable();
    Ok(to_here.peek().is_none() || to_here.any(|e| e.to_practitioner.as_ref().is_none_or(|p| *p == caller.sub)))
}

/// Whether the caller is the sheet's current addressee (its organisation, and the practitioner
/// when the sheet names one).
fn addressed_to(sheet: &SheetRow, caller: &Caller) -> bool {
    sheet.to_org == caller.org && sheet.to_practitioner.as_ref().is_none_or(|p| *p == caller.sub)
}

fn state_of(sheet: &SheetRow) -> Result<State, ApiError> {
    sheet.state.parse().map_err(ApiError::internal)
}

/// What a state-changing request does to a sheet it may act on.
type Change = Box<dyn Fn(&mut DbConn, &SheetKey, &mut SheetRow, &Caller, i64) -> Result<(), ApiError> + Send>;

async fn apply(
    state: &Arc<AppState>,
    ctx: Context,
    action: &'static str,
    id: String,
    change: Change,
) -> Result<Sheet, ApiError> {
    let event = Event::new(&ctx, action).resource("contact_sheet", &id);
    let sheet = super::super::write(state, event, 200, move |tx, st, ev| {
        let seq = next_seq(tx)?;
        let (mut sheet, key) = open_sheet(tx, st, &ctx.caller, &id, Action::Write, ev)?;
        change(tx, &key, &mut sheet, &ctx.caller, seq)?;
        ev.resource_version = Some(sheet.version);
        let thread = SheetEventRow::thread(tx, &id)?;
        view::whole(&sheet, &thread, &key, &st.clock.stamp())
    })
    .await?;
    state.notify_change();
    Ok(sheet)
}

/// Opens a sheet. The addressee's first open is the read receipt (a state change, audited as
/// `contact_sheet.read` like every open).
pub async fn get(state: &Arc<AppState>, ctx: Context, id: String) -> Result<Sheet, ApiError> {
    let event = Event::new(&ctx, "contact_sheet.read").resource("contact_sheet", &id);
    let (sheet, changed) = super::super::write(state, event, 200, move |tx, st, ev| {
        let (mut sheet, key) = open_sheet(tx, st, &ctx.caller, &id, Action::Read, ev)?;
        let receipt = addressed_to(&sheet, &ctx.caller)
            && sheet.read_at.is_none()
            && matches!(state_of(&sheet)?, State::Delivered | State::Forwarded);
        if receipt {
            // Only the read receipt is a change: a plain open takes no feed number (no gap).
            let seq = next_seq(tx)?;
            let now = st.clock.stamp();
            sheet.state = State::Read.as_str().to_owned();
            sheet.read_at = Some(now);
            sheet.read_by = Some(ctx.caller.sub.clone());
            record(
                tx,
                &key,
                &mut sheet,
                &ctx.caller,
                Entry { op: "read", to: None, note: None },
                (seq, &st.clock.stamp()),
            )?;
            ev.resource_version = Some(sheet.version);
        }
        let thread = SheetEventRow::thread(tx, &id)?;
        Ok((view::whole(&sheet, &thread, &key, &st.clock.stamp())?, receipt))
    })
    .await?;
    if changed {
        state.notify_change();
    }
    Ok(sheet)
}

/// A reply, threaded. The addressee's reply answers the sheet; the sender may write back on
/// an open or answered sheet (a `replied` entry, no state change).
pub async fn reply(state: &Arc<AppState>, ctx: Context, id: String, input: ReplyInput) -> Result<Sheet, ApiError> {
    let mut errors = Errors::default();
    check_text(&mut errors, "/body", &input.body);
    errors.finish()?;
    let clock = state.clock.clone();
    let change: Change = Box::new(move |tx, key, sheet, caller, seq| {
        let now_state = state_of(sheet)?;
        if matches!(now_state, State::Withdrawn | State::Closed) {
            return Err(ApiError::Conflict(format!("the sheet is {}", now_state.as_str())));
        }
        let op = if addressed_to(sheet, caller) {
            let now = clock.stamp();
            sheet.state = State::Answered.as_str().to_owned();
            sheet.answered_at.get_or_insert(now.clone());
            if sheet.read_at.is_none() {
                sheet.read_at = Some(now);
                sheet.read_by = Some(caller.sub.clone());
            }
            "answered"
        } else {
            "replied"
        };
        record(tx, key, sheet, caller, Entry { op, to: None, note: Some(&input.body) }, (seq, &clock.stamp()))
    });
    apply(state, ctx, "contact_sheet.reply", id, change).await
}

/// Passes the sheet on (by its current addressee), keeping the thread; the new addressee must
/// be allowed to see the patient (422 otherwise) and gets it as unread.
pub async fn forward(state: &Arc<AppState>, ctx: Context, id: String, input: ForwardInput) -> Result<Sheet, ApiError> {
    let mut errors = Errors::default();
    if let Some(note) = &input.note {
        check_text(&mut errors, "/note", note);
    }
    errors.finish()?;
    let st = state.clone();
    let change: Change = Box::new(move |tx, key, sheet, caller, seq| {
        if !addressed_to(sheet, caller) {
            return Err(ApiError::Forbidden("only the sheet's current addressee may forward it".into()));
        }
        if !state_of(sheet)?.is_open() {
            return Err(ApiError::Conflict(format!("the sheet is {}", sheet.state)));
        }
        let target = resolve(tx, &input.to, "/to")?;
        if let Some(pid) = &sheet.patient_id {
            let patient = crate::db::patients::PatientRow::find(tx, pid)?
                .ok_or_else(|| ApiError::internal("sheet without patient"))?;
            let facts = crate::gate::facts(tx, &st, &patient)?;
            check_addressee(&st, caller, &facts, &target, "/to")?;
        } else if !target.desk && target.practitioner.is_none() {
            return Err(ApiError::field("/to", "a question without a patient goes to a desk or to a practitioner"));
        }
        sheet.to_org = target.org.clone();
        sheet.to_practitioner = target.practitioner.clone();
        sheet.state = State::Forwarded.as_str().to_owned();
        sheet.read_at = None;
        sheet.read_by = None;
        contact_sheets::add_party(tx, &sheet.id, &target.org)?;
        let to = Some((target.org.as_str(), target.practitioner.as_deref()));
        record(
            tx,
            key,
            sheet,
            caller,
            Entry { op: "forwarded", to, note: input.note.as_deref() },
            (seq, &st.clock.stamp()),
        )
    });
    apply(state, ctx, "contact_sheet.forward", id, change).await
}

/// Takes the sheet back (its sender's organisation), only while nobody has read it.
pub async fn withdraw(state: &Arc<AppState>, ctx: Context, id: String) -> Result<Sheet, ApiError> {
    let clock = state.clock.clone();
    let change: Change = Box::new(move |tx, key, sheet, caller, seq| {
        if sheet.sender_org != caller.org {
            return Err(ApiError::Forbidden("only the sender may withdraw a sheet".into()));
        }
        if state_of(sheet)? != State::Delivered {
            return Err(ApiError::Conflict(format!(
                "the sheet is {}: it can be withdrawn only before it is read",
                sheet.state
            )));
        }
        sheet.state = State::Withdrawn.as_str().to_owned();
        sheet.withdrawn_at = Some(clock.stamp());
        record(tx, key, sheet, caller, Entry { op: "withdrawn", to: None, note: None }, (seq, &clock.stamp()))
    });
    apply(state, ctx, "contact_sheet.withdraw", id, change).await
}

/// Closes the sheet (sender or current addressee); nothing more is expected of it.
pub async fn close(state: &Arc<AppState>, ctx: Context, id: String) -> Result<Sheet, ApiError> {
    let clock = state.clock.clone();
    let change: Change = Box::new(move |tx, key, sheet, caller, seq| {
        if sheet.sender_org != caller.org && !addressed_to(sheet, caller) {
            return Err(ApiError::Forbidden("only the sender or the addressee may close a sheet".into()));
        }
        if matches!(state_of(sheet)?, State::Withdrawn | State::Closed) {
            return Err(ApiError::Conflict(format!("the sheet is already {}", sheet.state)));
        }
        sheet.state = State::Closed.as_str().to_owned();
        sheet.closed_at = Some(clock.stamp());
        record(tx, key, sheet, caller, Entry { op: "closed", to: None, note: None }, (seq, &clock.stamp()))
    });
    apply(state, ctx, "contact_sheet.close", id, change).await
}
