//! The gate: the one way to a patient's data. It loads the facts the rule needs (managing
//! organisation, care team, consents, break-glass grant) in the caller's transaction, asks the
//! rule, and notes on the audit event what it decided. [`admits`] asks the same question without
//! a side effect, on the same path.

use serde_json::json;

pub mod break_glass;
mod facts;

pub use facts::{consent_terms, facts};

use crate::access::{self, Action, Allowed, Ask, Denial, PatientFacts, Resource};
use crate::audit::Event;
use crate::auth::Caller;
use crate::clock;
use crate::db::DbConn;
use crate::db::consents::{BreakGlassRow, ConsentRow};
use crate::db::patients::{CareTeamRow, PatientRow};
use crate::error::ApiError;
use crate::state::AppState;
use facts::facts_kept;

/// A patient the caller may act on, and what the rule allowed.
pub struct Admitted {
    pub patient: PatientRow,
    pub allowed: Allowed,
    pub facts: PatientFacts,
}

/// What a request wants to do with a patient's data: the kind of resource, read or write, and for
/// a document its type (consents share or deny by type).
#[derive(Debug, Clone, Copy)]
pub struct Want<'a> {
    /// The kind of resource touched.
    pub resource: Resource,
    /// Read or write.
    pub action: Action,
    /// The document's type, when the resource is a document of a known type.
    pub doc_type: Option<&'a str>,
}

impl<'a> Want<'a> {
    /// Reading `resource`.
    pub fn read(resource: Resource) -> Self {
        Self { resource, action: Action::Read, doc_type: None }
    }

    /// Writing `resource`.
    pub fn write(resource: Resource) -> Self {
        Self { resource, action: Action::Write, doc_type: None }
    }

    /// `action` on `resource`.
    pub fn to(action: Action, resource: Resource) -> Self {
        Self { resource, action, doc_type: None }
    }

    /// The same, for a document of type `doc_type`.
    pub fn of_type(self, doc_type: &'a str) -> Self {
        Self { doc_type: Some(doc_type), ..self }
    }
}

/// The rule's answer for facts already loaded; for listings that check many documents of one
/// patient.
pub fn allows(
    state: &AppState,
    caller: &Caller,
    facts: &PatientFacts,
    want: Want<'_>,
    break_glass: bool,
) -> Result<Allowed, Denial> {
    let Want { resource, action, doc_type } = want;
    let ask = Ask {
        caller,
        operator_org: &state.settings.operator_org,
        resource,
        action,
        doc_type,
        break_glass,
        today: state.calendar.today(),
    };
    access::decide(&ask, facts)
}

/// Loads a patient the caller may act on, or the error the rule calls for (404 for strangers),
/// and records on `event` the patient, whether break-glass opened it, and the basis: what the
/// access rests on (managing organisation, care team, consent id and version, break-glass grant,
/// operator) or the condition that refused it. A first break-glass opens a grant for the
/// configured time; reads within it are allowed and flagged.
pub fn authorize(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient_id: &str,
    want: Want<'_>,
    event: &mut Event,
) -> Result<Admitted, ApiError> {
    let patient = PatientRow::find(conn, patient_id)?;
    authorize_loaded(conn, state, caller, (patient_id, patient), want, event)
}

/// [`authorize`] for a patient row the caller already loaded (with the document it asks for, in
/// one query): `None` when `patient_id` names no patient.
pub fn authorize_loaded(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    (patient_id, patient): (&str, Option<PatientRow>),
    want: Want<'_>,
    event: &mut Event,
) -> Result<Admitted, ApiError> {
    if let Err(denial) = access::check(caller, want.resource, want.action) {
        return Err(refuse(event, denial));
    }
    let requested = requested_break_glass(caller, event)?;
    let Some(patient) = patient else {
        decoy_lookups(conn, caller, patient_id, &state.clock.stamp())?;
        return Err(refuse(event, Denial::NoRelationship));
    };
    event.patient_id = Some(patient.id.clone());
    let (facts, cached) = facts_kept(conn, state, &patient)?;
    let now = state.clock.stamp();
    let (allowed, grant_id) = match judge(conn, state, caller, &patient, &facts, want, requested.is_some(), &now)? {
        Verdict::Allowed(allowed) => {
            event.basis = serde_json::to_string(&allowed.basis).ok();
            return Ok(Admitted { patient, allowed, facts });
        }
        Verdict::Denied(denial) => {
            if cached {
                decoy_facts(conn, &patient.id)?;
            }
            return Err(refuse(event, denial));
        }
        Verdict::ByGrant(allowed, Some(grant_id)) => (allowed, grant_id),
        Verdict::ByGrant(allowed, None) => {
            let reason = requested.unwrap_or_default();
            (allowed, open_grant(conn, state, caller, &patient, &reason, now)?)
        }
    };
    // The reason is stored once, sealed, with the grant; the event points at it.
    event.break_glass = true;
    event.break_glass_reason = Some(break_glass::reference(&grant_id));
    event.purpose = "emergency".into();
    event.basis = Some(json!({"kind": "break_glass", "grant_id": grant_id}).to_string());
    Ok(Admitted { patient, allowed, facts })
}

/// Whether the caller would be let in, without a side effect: no grant opened, nothing noted.
/// For work too large for the committer's thread (an import's mapping), done before it only for
/// a caller the rule will admit; [`authorize`] in the write itself still decides and records.
/// A requested or open break-glass counts as admitting here; `authorize` then checks it whole.
pub fn admits(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient_id: &str,
    want: Want<'_>,
    break_glass: bool,
) -> Result<Option<PatientRow>, ApiError> {
    let Some(patient) = PatientRow::find(conn, patient_id)? else { return Ok(None) };
    if access::check(caller, want.resource, want.action).is_err() {
        return Ok(None);
    }
    let facts = facts(conn, state, &patient)?;
    let requested = break_glass && access::may_break_glass(caller.role);
    let verdict = judge(conn, state, caller, &patient, &facts, want, requested, &state.clock.stamp())?;
    Ok((!matches!(verdict, Verdict::Denied(_))).then_some(patient))
}

/// What the rule and the caller's grants say, before anything is written or noted.
enum Verdict {
    /// Allowed on its basis (team, consent, managing organisation, operator).
    Allowed(Allowed),
    /// Allowed by break-glass: under the open grant named, or under a new one to be opened.
    ByGrant(Allowed, Option<String>),
    Denied(Denial),
}

#[allow(clippy::too_many_arguments)]
fn judge(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient: &PatientRow,
    facts: &PatientFacts,
    want: Want<'_>,
    requested: bool,
    now: &str,
) -> Result<Verdict, ApiError> {
    let denial = match allows(state, caller, facts, want, false) {
        Ok(allowed) => return Ok(Verdict::Allowed(allowed)),
        Err(denial) => denial,
    };
    let open = BreakGlassRow::open(conn, &patient.id, grant_holder(caller), now)?;
    if !requested && open.is_none() {
        return Ok(Verdict::Denied(denial));
    }
    Ok(match allows(state, caller, facts, want, true) {
        Ok(allowed) => Verdict::ByGrant(allowed, open.map(|grant| grant.id)),
        Err(denial) => Verdict::Denied(denial),
    })
}

/// Opens a break-glass grant for the configured time, its reason sealed; returns its id.
fn open_grant(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient: &PatientRow,
    reason: &str,
    now: String,
) -> Result<String, ApiError> {
    let hours = time::Duration::seconds(i64::try_from(state.settings.break_glass_secs).unwrap_or(4 * 3600));
    let id = uuid::Uuid::new_v4().to_string();
    BreakGlassRow {
        reason: break_glass::seal_reason(state, patient, &id, reason)?,
        id: id.clone(),
        patient_id: patient.id.clone(),
        actor_sub: caller.sub.clone(),
        actor_org: caller.org.clone(),
        actor_role: caller.role.as_str().to_owned(),
        started_at: now,
        expires_at: clock::format(state.clock.now() + hours),
    }
    .insert(conn)?;
    Ok(id)
}

/// Notes on the event the condition a refused access failed, and gives the error it answers.
fn refuse(event: &mut Event, denial: Denial) -> ApiError {
    event.basis = Some(json!({"kind": "denied", "condition": denial.condition()}).to_string());
    denial.into()
}

/// The break-glass reason the request carries, checked: only physicians and nurses, and a reason
/// of substance within bounds (`break_glass::check_reason`).
fn requested_break_glass(caller: &Caller, event: &Event) -> Result<Option<String>, ApiError> {
    let Some(reason) = event.requested_break_glass.as_deref() else { return Ok(None) };
    if !access::may_break_glass(caller.role) {
        return Err(ApiError::Forbidden("only physicians and nurses may break the glass".into()));
    }
    break_glass::check_reason(reason).map(Some)
}

/// The caller as a grant is keyed: subject, organisation and role.
fn grant_holder(caller: &Caller) -> (&str, &str, &str) {
    (&caller.sub, &caller.org, caller.role.as_str())
}

/// For an id that names no patient: the same lookups an unrelated caller's request makes (care
/// team, consents, grant), so the 404 takes about as long either way.
fn decoy_lookups(conn: &mut DbConn, caller: &Caller, patient_id: &str, now: &str) -> Result<(), ApiError> {
    decoy_facts(conn, patient_id)?;
    BreakGlassRow::open(conn, patient_id, grant_holder(caller), now)?;
    Ok(())
}

/// The lookups that loading a patient's facts makes, for a refusal whose facts came from the
/// cache: with them, a hidden patient answers no faster than a missing one.
fn decoy_facts(conn: &mut DbConn, patient_id: &str) -> Result<(), ApiError> {
    CareTeamRow::for_patient(conn, patient_id)?;
    ConsentRow::for_patient(conn, patient_id)?;
    Ok(())
}
