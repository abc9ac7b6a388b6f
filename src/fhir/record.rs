//! What a caller may read of one patient, gathered in one audited read through the same domain
//! functions the JSON API uses: the patient (as `GET /v1/patients/{id}`), its care team and
//! consents when the rule lets the caller read them, and every live document the consents share
//! with the caller, restricted fields withheld as `GET /v1/documents/{id}` withholds them.

use crate::access::Resource;
use crate::audit::Event;
use crate::auth::Caller;
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
use crate::state::AppState;

/// One patient's record as the caller may see it.
pub struct Record {
    pub patient: Patient,
    /// The managing organisation and every organisation of the care team, as the directory has them.
    pub organizations: Vec<OrganizationRow>,
    /// The practitioners named on the care team.
    pub practitioners: Vec<PractitionerRow>,
    /// `None` when the caller's role may not read care teams.
    pub team: Option<CareTeam>,
    /// `None` when the caller's role may not read consents.
    pub consents: Option<Vec<Consent>>,
    /// Live documents the consents share with the caller, oldest change first.
    pub documents: Vec<Document>,
}

/// Documents fetched per page while gathering (the listing's own consent filter runs per page).
const PAGE: i64 = 200;

/// Which parts of the record a read needs. A search of one type reads only what that type is
/// made from; what it leaves out is left out of the record, never shown unchecked.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    pub team: bool,
    pub consents: bool,
    pub documents: bool,
    pub directory: bool,
}

impl Parts {
    /// The whole record (the Bundle, an export, a read, `$everything`).
    pub const ALL: Self = Self { team: true, consents: true, documents: true, directory: true };
}

/// Gathers the record inside a read on `conn`. A caller who may not read the patient gets the
/// same 404 (or 410) as `GET /v1/patients/{id}`; the event names the patient and the basis of
/// the patient read.
pub fn gather(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient_id: &str,
    since: Option<&str>,
    event: &mut Event,
) -> Result<Record, ApiError> {
    gather_parts(conn, state, caller, patient_id, since, Parts::ALL, event)
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
    let access = authorize(conn, state, caller, patient_id, Want::read(Resource::Patient), event)?;
    let patient = Patient::reveal(state, &access.patient)?;
    let allowed = |resource| crate::gate::allows(state, caller, &access.facts, Want::read(resource), event.break_glass);
    let team = match allowed(Resource::CareTeam) {
        Ok(_) if parts.team => {
            Some(team_of(&access.patient, CareTeamRow::for_patient(conn, &access.patient.id)?, state.calendar.today())?)
        }
        _ => None,
    };
    let consents = match allowed(Resource::Consent) {
        Ok(_) if parts.consents => {
            let key = state.data_key(&access.patient)?;
            let rows = ConsentRow::for_patient(conn, &access.patient.id)?;
            Some(rows.iter().map(|row| reveal_consent(&key, row)).collect::<Result<Vec<_>, _>>()?)
        }
        _ => None,
    };
    let basis = event.basis.clone();
    let mut docs = Vec::new();
    let mut filter = ListFilter { updated_since: since.map(str::to_owned), ..ListFilter::default() };
    let mut more = parts.documents;
    while more {
        let (page, next) = documents::list(conn, state, caller, &access.patient.id, &filter, PAGE, event)?;
        docs.extend(page);
        more = next.is_some();
        filter.after = next;
    }
    // The listing notes its own basis; the event is about the patient's record as a whole.
    event.basis = basis;
    event.resource_type = Some("patient");
    event.resource_id = Some(access.patient.id.clone());

    let mut org_ids = vec![patient.managing_organization.clone()];
    let mut practitioner_ids = Vec::new();
    for m in team.iter().flat_map(|t| &t.members) {
        org_ids.push(m.member.organization.clone());
        practitioner_ids.extend(m.member.practitioner.clone());
    }
    org_ids.sort();
    org_ids.dedup();
    practitioner_ids.sort();
    practitioner_ids.dedup();
    let mut organizations = Vec::new();
    if !parts.directory {
        org_ids.clear();
        practitioner_ids.clear();
    }
    for id in &org_ids {
        organizations.extend(OrganizationRow::find(conn, id)?);
    }
    let mut practitioners = Vec::new();
    for id in &practitioner_ids {
        practitioners.extend(PractitionerRow::find(conn, id)?);
    }
    Ok(Record { patient, organizations, practitioners, team, consents, documents: docs })
}

/// The patient's record as a FHIR `collection` Bundle, for a caller who may read the patient:
/// one audited read (`patient.fhir`), refused exactly as `GET /v1/patients/{id}` is.
pub async fn read_bundle(
    state: &std::sync::Arc<AppState>,
    ctx: crate::context::Context,
    patient: crate::ids::PatientId,
    base: String,
) -> Result<serde_json::Value, ApiError> {
    let event = Event::new(&ctx, "patient.fhir").resource("patient", &patient);
    let record =
        crate::domain::read(state, event, move |conn, st, ev| gather(conn, st, &ctx.caller, &patient, None, ev))
            .await?;
    Ok(super::bundle(&record, &base, &state.clock.stamp()))
}
