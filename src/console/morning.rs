//! The morning page (`/console/` for a clinician, worded for the care manager): what needs her
//! today. New answers to the sheets she sent, her sheets past their deadline and still open,
//! sheets waiting in her inbox, consents of her patients' care teams missing or ending soon, and
//! her patients discharged in the last days.
//!
//! Every part is a read the API makes for the same question, with its own audit event: the boxes
//! (`contact_sheet.list`), her patients (`patient.list`, narrowed to `mine`), each patient's
//! consent coverage (`consent.coverage`) and discharge summaries (`document.list`). A part the
//! rule refuses her is left out, as the API would answer it, rather than failing the page.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use askama::Template;

use super::{Console, ConsoleError, Names, PageResult, Ui, ok};
use crate::clock;
use crate::context::Context;
use crate::domain::consents::coverage;
use crate::domain::coordination::inbox::{self, BoxName, SheetQuery};
use crate::domain::coordination::{SheetSummary, State};
use crate::domain::documents::{self, ListFilter};
use crate::domain::paging;
use crate::domain::patients::{self, Patient, PatientSearch};
use crate::error::ApiError;
use crate::state::AppState;

/// The document type that records a hospital discharge.
const DISCHARGE: &str = "discharge-summary";
/// A discharge is news for this many days after its date.
const DISCHARGE_DAYS: i64 = 14;
/// Discharge summaries shared longer ago than this are not looked at (a summary is shared
/// within days of the discharge; an older one names an older discharge).
const SHARED_DAYS: i64 = 30;

/// One sheet as the page lists it.
struct SheetLine {
    id: String,
    patient: String,
    /// The other side: the addressee of a sheet she sent, the sender of one she received.
    party: String,
    category: String,
    state: String,
    /// The instant the line is about (answered, deadline, sent), as the region writes it.
    when: String,
    unread: bool,
}

/// A care-team organisation of one of her patients whose consent is missing or ends soon.
struct ConsentLine {
    patient_id: String,
    patient: String,
    organization: String,
    /// The last day it stays covered, as the region writes it; empty when not covered at all.
    until: String,
}

/// One of her patients back from hospital.
struct DischargeLine {
    patient_id: String,
    patient: String,
    /// The discharge day as the region writes it.
    day: String,
}

#[derive(Template)]
#[template(path = "console/morning.html")]
struct Morning {
    ui: Ui,
    answered: Vec<SheetLine>,
    overdue: Vec<SheetLine>,
    waiting: Vec<SheetLine>,
    consents: Vec<ConsentLine>,
    discharges: Vec<DischargeLine>,
    /// Her patients (their care team names her): how many the consent and discharge parts cover.
    caseload: usize,
    expiring_days: i64,
    discharge_days: i64,
}

/// Whether `/console/` is the morning page for this caller: roles that read patients and
/// contact sheets (every clinician); the others keep the plain home page.
pub fn serves(ctx: &Context) -> bool {
    use crate::access::{Action, Resource, check};
    check(&ctx.caller, Resource::Patient, Action::Read).is_ok()
        && check(&ctx.caller, Resource::ContactSheet, Action::Read).is_ok()
}

/// The page.
pub async fn page(state: &Arc<AppState>, console: Console) -> PageResult {
    let Console { ctx, ui } = console;
    let fail = |e| ConsoleError::new(e, ui.lang);
    let sub = ctx.caller.sub.clone();
    let limit = paging::page_size(None).map_err(fail)?;
    let mine = |s: &SheetSummary| s.from.practitioner == sub;
    let answered = boxed(state, &ctx, BoxName::Sent, Some(State::Answered), false, limit).await.map_err(fail)?;
    let answered: Vec<SheetSummary> = answered.into_iter().filter(mine).collect();
    let overdue = boxed(state, &ctx, BoxName::Sent, None, true, limit).await.map_err(fail)?;
    let overdue: Vec<SheetSummary> = overdue.into_iter().filter(mine).collect();
    let waiting = boxed(state, &ctx, BoxName::Inbox, None, false, limit).await.map_err(fail)?;
    let waiting: Vec<SheetSummary> = waiting.into_iter().filter(|s| s.state.is_open()).collect();

    let search = PatientSearch { mine: true, ..PatientSearch::default() };
    let max = paging::page_size(Some(paging::MAX_LIMIT)).map_err(fail)?;
    let caseload = patients::list(state, ctx.clone(), search, None, max).await.map_err(fail)?.items;
    let mut patient_names: HashMap<String, String> =
        caseload.iter().map(|p| (p.id.clone(), p.identity.name.clone())).collect();
    let (consents, discharges) = caseload_news(state, &ctx, &caseload).await.map_err(fail)?;

    let sheets = answered.iter().chain(&overdue).chain(&waiting);
    for pid in sheets.clone().filter_map(|s| s.patient_id.clone()).collect::<Vec<_>>() {
        if let Entry::Vacant(slot) = patient_names.entry(pid) {
            // A sheet about a patient outside her caseload: the name as the API reads it.
            let read = patients::get(state, ctx.clone(), slot.key().clone().into()).await;
            let name = unless_refused(read).map_err(fail)?;
            slot.insert(name.map(|p| p.identity.name).unwrap_or_default());
        }
    }
    let orgs: Vec<String> = sheets
        .clone()
        .flat_map(|s| [Some(s.from.organization.clone()), s.to.organization.clone()])
        .flatten()
        .chain(consents.iter().map(|(_, org, _)| org.clone()))
        .collect();
    let people: Vec<String> =
        sheets.flat_map(|s| [Some(s.from.practitioner.clone()), s.to.practitioner.clone()]).flatten().collect();
    let names = Names::of(state, &ctx, orgs, people).await;

    let line = |s: &SheetSummary, when: &str, received: bool| {
        let party = if received {
            names.get(&s.from.practitioner).to_owned() + " · " + names.get(&s.from.organization)
        } else {
            match (&s.to.practitioner, &s.to.organization) {
                (Some(p), Some(o)) => names.get(p).to_owned() + " · " + names.get(o),
                (Some(p), None) => names.get(p).to_owned(),
                (None, Some(o)) => names.get(o).to_owned(),
                (None, None) => String::new(),
            }
        };
        SheetLine {
            id: s.id.clone(),
            patient: s.patient_id.as_ref().and_then(|p| patient_names.get(p)).cloned().unwrap_or_default(),
            party,
            category: super::wire(&s.category),
            state: super::wire(&s.state),
            when: ui.at(when),
            unread: matches!(s.state, State::Delivered | State::Forwarded),
        }
    };
    let answered = answered.iter().map(|s| line(s, s.answered_at.as_deref().unwrap_or(&s.sent_at), false)).collect();
    let overdue = overdue.iter().map(|s| line(s, s.reply_by.as_deref().unwrap_or(&s.sent_at), false)).collect();
    let waiting = waiting.iter().map(|s| line(s, &s.sent_at, true)).collect();
    let consents = consents
        .into_iter()
        .map(|(p, org, until)| ConsentLine {
            patient: p.identity.name.clone(),
            patient_id: p.id.clone(),
            organization: names.get(&org).to_owned(),
            until: until.map(|d| ui.date(&d)).unwrap_or_default(),
        })
        .collect();
    let discharges = discharges
        .into_iter()
        .map(|(p, day)| DischargeLine {
            patient: p.identity.name.clone(),
            patient_id: p.id.clone(),
            day: ui.date(&day),
        })
        .collect();
    ok(&Morning {
        caseload: caseload.len(),
        ui,
        answered,
        overdue,
        waiting,
        consents,
        discharges,
        expiring_days: coverage::EXPIRING_DAYS,
        discharge_days: DISCHARGE_DAYS,
    })
}

/// One box, as `GET /v1/contact-sheets` lists it, newest first.
async fn boxed(
    state: &Arc<AppState>,
    ctx: &Context,
    side: BoxName,
    wanted: Option<State>,
    overdue: bool,
    limit: i64,
) -> Result<Vec<SheetSummary>, ApiError> {
    let query = SheetQuery { side, state: wanted, patient_id: None, overdue, unanswered: false, limit, after: None };
    Ok(inbox::list(state, ctx.clone(), query).await?.items)
}

/// A consent to see to: the patient, the organisation, its last covered day (none: uncovered).
type ConsentNews<'a> = (&'a Patient, String, Option<String>);
/// A discharge: the patient and the day.
type DischargeNews<'a> = (&'a Patient, String);

/// For each of her patients, the team organisations whose consent is missing or expiring, and a
/// recent discharge. A patient whose consents or documents the rule keeps from her is skipped
/// for that part, as its route would refuse her.
async fn caseload_news<'a>(
    state: &Arc<AppState>,
    ctx: &Context,
    caseload: &'a [Patient],
) -> Result<(Vec<ConsentNews<'a>>, Vec<DischargeNews<'a>>), ApiError> {
    let today = state.calendar.today();
    let since = clock::format(state.calendar.now() - time::Duration::days(SHARED_DAYS));
    let recent = clock::format_day(today - time::Duration::days(DISCHARGE_DAYS));
    let mut consents = Vec::new();
    let mut discharges = Vec::new();
    for patient in caseload {
        if let Some(c) = unless_refused(coverage::coverage(state, ctx.clone(), patient.id.clone().into()).await)? {
            consents.extend(
                c.members
                    .into_iter()
                    .filter(|m| !m.covered || m.expiring)
                    .map(|m| (patient, m.organization, m.covered_until)),
            );
        }
        let filter = ListFilter { doc_type: Some(DISCHARGE.into()), updated_since: Some(since.clone()), after: None };
        let listed = documents::audited::list(state, ctx.clone(), patient.id.clone().into(), filter, 20).await;
        let docs = unless_refused(listed)?.map(|(docs, _)| docs).unwrap_or_default();
        let latest = docs
            .iter()
            .filter(|d| !d.deleted)
            .filter_map(|d| d.content.get("discharge_date").and_then(|v| v.as_str()).map(str::to_owned))
            .filter(|day| *day >= recent)
            .max();
        discharges.extend(latest.map(|day| (patient, day)));
    }
    Ok((consents, discharges))
}

/// A part the rule refuses (or a patient gone meanwhile) is left out; any other failure fails
/// the page, as it would fail the API's request.
fn unless_refused<T>(result: Result<T, ApiError>) -> Result<Option<T>, ApiError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(ApiError::Forbidden(_) | ApiError::NotFound(_) | ApiError::Gone(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
