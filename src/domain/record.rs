//! A patient's record as this caller may see it, in one audited read: the patient (as
//! `GET /v1/patients/{id}`), its care team and consents when the rule lets the caller read them,
//! the live documents the consents share with the caller (restricted fields withheld as
//! `GET /v1/documents/{id}` withholds them), the directory entries they name, and, when asked,
//! the version history of one document. The FHIR face maps it (`patient.fhir` and the FHIR
//! server's reads); the console's patient page shows it (`patient.record`).
//!
//! The patient's gate decision is the one the event records: every part after it is asked of the
//! rule over the facts that decision loaded, in the same read, so a page of five parts is one
//! event an auditor can read as "the record was shown", not five that each look like a visit.

use std::sync::Arc;

use crate::access::{Denial, Resource};
use crate::audit::Event;
use crate::auth::Caller;
use crate::context::Context;
use crate::db::DbConn;
use crate::db::consents::ConsentRow;
use crate::db::directory::{OrganizationRow, PractitionerRow};
use crate::db::patients::CareTeamRow;
use crate::domain::care_team::{CareTeam, team_of};
use crate::domain::consents::{Consent, reveal as reveal_consent};
use crate::domain::documents::{self, Document, ListFilter};
use crate::domain::patients::Patient;
use crate::error::ApiError;
use crate::gate::{Want, authorize};
use crate::ids::PatientId;
use crate::state::AppState;

/// One patient's record as the caller may see it.
pub struct Record {
    /// The patient, as `GET /v1/patients/{id}` shows it.
    pub patient: Patient,
    /// The managing organisation and every organisation of the care team, as the directory has them.
    pub organizations: Vec<OrganizationRow>,
    /// The practitioners named on the care team and as authors in the history.
    pub practitioners: Vec<PractitionerRow>,
    /// `None` when the rule does not let the caller read the care team (or it was not asked for).
    pub team: Option<CareTeam>,
    /// `None` when the rule does not let the caller read consents (or they were not asked for).
    pub consents: Option<Vec<Consent>>,
    /// Live documents the consents share with the caller, oldest change first.
    pub documents: Vec<Document>,
    /// The versions of the first live document, newest first, when [`Ask::history`] asked.
    pub history: Vec<Document>,
    /// Why the team, and the consents, were left out: what their own routes would refuse with.
    pub refused: Refused,
}

/// The rule's reasons for parts left out, for a face that says why instead of showing nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Refused {
    /// Why the care team was left out.
    pub team: Option<Denial>,
    /// Why the consents were left out.
    pub consents: Option<Denial>,
    /// Why a care path would not be shown to the caller (no consent shares it, say), so that a
    /// face can tell "not shared" from "none written yet".
    pub care_path: Option<Denial>,
}

/// Documents fetched per page while gathering (the listing's own consent filter runs per page).
const PAGE: i64 = 200;

/// Which parts of the record a read needs. A search of one type reads only what that type is
/// made from; what it leaves out is left out of the record, never shown unchecked.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    /// The care team.
    pub team: bool,
    /// The consents.
    pub consents: bool,
    /// The live documents the consents share.
    pub documents: bool,
    /// The directory entries the record names.
    pub directory: bool,
}

impl Parts {
    /// The whole record (the Bundle, an export, a read, `$everything`).
    pub const ALL: Self = Self { team: true, consents: true, documents: true, directory: true };
}

/// What a read asks for beyond [`Parts`]: documents of one type only, and the history of the
/// first of them.
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    /// The parts of the record.
    pub parts: Parts,
    /// Documents of this type only.
    pub doc_type: Option<&'static str>,
    /// Versions of the first live document to read (0: none).
    pub history: i64,
}

impl From<Parts> for Ask {
    fn from(parts: Parts) -> Self {
        Self { parts, doc_type: None, history: 0 }
    }
}

/// The record in a read of its own, recorded as one event of `action` (`patient.fhir`,
/// `patient.record`) on the patient.
pub async fn read(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    action: &'static str,
    ask: Ask,
) -> Result<Record, ApiError> {
    let event = Event::new(&ctx, action).resource("patient", &patient);
    super::read(state, event, move |conn, st, ev| gather_asked(conn, st, &ctx.caller, &patient, None, ask, ev)).await
}

/// Gathers the whole record inside a read on `conn`. A caller who may not read the patient gets
/// the same 404 (or 410) as `GET /v1/patients/{id}`; the event names the patient and the basis
/// of the patient read.
pub fn gather(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient_id: &str,
    since: Option<&str>,
    event: &mut Event,
) -> Result<Record, ApiError> {
    gather_asked(conn, state, caller, patient_id, since, Parts::ALL.into(), event)
}

/// [`gather`] of the parts asked for only (the patient always).
pub fn gather_parts(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient_id: &str,
    since: Option<&str>,
    parts: Parts,
    event: &mut Event,
) -> Result<Record, ApiError> {
    gather_asked(conn, state, caller, patient_id, since, parts.into(), event)
}

fn gather_asked(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient_id: &str,
    since: Option<&str>,
    ask: Ask,
    event: &mut Event,
) -> Result<Record, ApiError> {
    let parts = ask.parts;
    let access = authorize(conn, state, caller, patient_id, Want::read(Resource::Patient), event)?;
    let patient = Patient::reveal(state, &access.patient)?;
    let allowed = |resource| crate::gate::allows(state, caller, &access.facts, Want::read(resource), event.break_glass);
    let mut refused = Refused::default();
    let team = match allowed(Resource::CareTeam) {
        Ok(_) if parts.team => {
            Some(team_of(&access.patient, CareTeamRow::for_patient(conn, &access.patient.id)?, state.calendar.today())?)
        }
        Ok(_) => None,
        Err(denial) => {
            refused.team = Some(denial);
            None
        }
    };
    let consents = match allowed(Resource::Consent) {
        Ok(_) if parts.consents => {
            let key = state.data_key(&access.patient)?;
            let rows = ConsentRow::for_patient(conn, &access.patient.id)?;
            Some(rows.iter().map(|row| reveal_consent(&key, row)).collect::<Result<Vec<_>, _>>()?)
        }
        Ok(_) => None,
        Err(denial) => {
            refused.consents = Some(denial);
            None
        }
    };
    let care_path = Want::read(Resource::Document).of_type("care-path");
    refused.care_path = crate::gate::allows(state, caller, &access.facts, care_path, event.break_glass).err();
    // The listing and the history note their own basis; the event is about the record as a whole.
    let basis = event.basis.clone();
    let mut docs = Vec::new();
    let mut filter = ListFilter {
        doc_type: ask.doc_type.map(str::to_owned),
        updated_since: since.map(str::to_owned),
        ..ListFilter::default()
    };
    let mut more = parts.documents;
    while more {
        let (page, next) = documents::list(conn, state, caller, &access.patient.id, &filter, PAGE, event)?;
        docs.extend(page);
        more = next.is_some();
        filter.after = next;
    }
    let history = match docs.iter().find(|d| !d.deleted) {
        Some(doc) if ask.history > 0 => documents::history(conn, state, caller, &doc.id, None, ask.history, event)?,
        _ => Vec::new(),
    };
    event.basis = basis;
    event.resource_type = Some("patient");
    event.resource_id = Some(access.patient.id.clone());

    let mut org_ids = vec![patient.managing_organization.clone()];
    let mut practitioner_ids: Vec<String> = history.iter().map(|d| d.updated_by.clone()).collect();
    for m in team.iter().flat_map(|t| &t.members) {
        org_ids.push(m.member.organization.clone());
        practitioner_ids.extend(m.member.practitioner.clone());
    }
    if !parts.directory {
        org_ids.clear();
        practitioner_ids.clear();
    }
    let (organizations, practitioners) = directory(conn, org_ids, practitioner_ids)?;
    Ok(Record { patient, organizations, practitioners, team, consents, documents: docs, history, refused })
}

/// The directory's entries for these ids, each once; an id it does not know (a token's `sub`
/// that is no practitioner) is left out.
fn directory(
    conn: &mut DbConn,
    mut org_ids: Vec<String>,
    mut practitioner_ids: Vec<String>,
) -> Result<(Vec<OrganizationRow>, Vec<PractitionerRow>), ApiError> {
    org_ids.sort();
    org_ids.dedup();
    practitioner_ids.sort();
    practitioner_ids.dedup();
    let mut organizations = Vec::new();
    for id in &org_ids {
        organizations.extend(OrganizationRow::find(conn, id)?);
    }
    let mut practitioners = Vec::new();
    for id in &practitioner_ids {
        practitioners.extend(PractitionerRow::find(conn, id)?);
    }
    Ok((organizations, practitioners))
}
