//! The one way to a patient's data: load the facts the access rule needs (managing
//! organisation, care team, consents, break-glass grant) in the caller's transaction, apply the
//! rule, and note on the audit event what it decided.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::access::{
    self, Action, Allowed, Ask, Basis, ConsentScope, ConsentTerms, Denial, Membership, PatientFacts, Resource,
};
use crate::audit::Event;
use crate::auth::Caller;
use crate::break_glass;
use crate::clock;
use crate::db::DbConn;
use crate::db::consents::{BreakGlassRow, ConsentRow};
use crate::db::directory::OrganizationRow;
use crate::db::patients::{CareTeamRow, PatientRow};
use crate::error::ApiError;
use crate::facts_cache::Facts;
use crate::state::AppState;

/// A patient the caller may act on, and what the rule allowed.
pub struct Access {
    pub patient: PatientRow,
    pub allowed: Allowed,
    pub facts: PatientFacts,
}

fn day(s: &str) -> Option<time::Date> {
    clock::parse_day(s)
}

fn list(json: &str) -> Option<Vec<String>> {
    serde_json::from_str(json).ok()
}

/// A consent's terms as the rule needs them. A consent whose stored terms cannot be read grants
/// nothing (consent is opt-in, so leaving it out denies) and is logged as an error: an empty
/// `denied_types` read from garbage must never widen what is shared.
pub fn consent_terms(row: &ConsentRow) -> Option<ConsentTerms> {
    let terms = read_terms(row);
    if terms.is_none() {
        tracing::error!(consent = %row.id, "unreadable consent terms: the consent is treated as granting nothing");
    }
    terms
}

fn read_terms(row: &ConsentRow) -> Option<ConsentTerms> {
    let scope = match serde_json::from_str::<Value>(&row.organizations).ok()? {
        Value::String(s) if s == "care_team" => ConsentScope::CareTeam,
        Value::Array(items) => {
            ConsentScope::Organizations(items.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        }
        _ => return None,
    };
    Some(ConsentTerms {
        id: row.id.clone(),
        version: row.version,
        active: row.status == "active",
        scope,
        permitted_types: list(&row.permitted_types)?,
        denied_types: list(&row.denied_types)?,
        purposes: list(&row.purposes)?,
        start: day(&row.period_start)?,
        end: match row.period_end.as_deref() {
            Some(e) => Some(day(e)?),
            None => None,
        },
        release_restricted: row.release_restricted,
    })
}

/// The facts the access rule needs about a patient: kept ones while the patient's `access_rev`
/// (read with the row) has not moved, else loaded and kept.
pub fn facts(conn: &mut DbConn, state: &AppState, patient: &PatientRow) -> Result<PatientFacts, ApiError> {
    facts_kept(conn, state, patient).map(|(facts, _)| facts)
}

/// [`facts`], and whether they came from the cache (so made no lookup).
fn facts_kept(conn: &mut DbConn, state: &AppState, patient: &PatientRow) -> Result<(PatientFacts, bool), ApiError> {
    let (kept, cached) = match state.facts.get(&patient.id, patient.access_rev) {
        Some(kept) => (kept, true),
        None => {
            let loaded = Arc::new(load_facts(conn, &patient.id)?);
            state.facts.put(&patient.id, patient.access_rev, loaded.clone());
            (loaded, false)
        }
    };
    let facts = PatientFacts {
        managing_organization: patient.managing_organization_id.clone(),
        team: kept.team.clone(),
        consents: kept.consents.clone(),
        desks: kept.desks.clone(),
    };
    Ok((facts, cached))
}

fn load_facts(conn: &mut DbConn, patient_id: &str) -> Result<Facts, ApiError> {
    let team = CareTeamRow::for_patient(conn, patient_id)?
        .into_iter()
        .filter_map(|m| {
            Some(Membership {
                since: day(&m.since)?,
                until: match m.until.as_deref() {
                    Some(u) => Some(day(u)?),
                    None => None,
                },
                organization: m.organization_id,
            })
        })
        .collect();
    let consents: Vec<ConsentTerms> =
        ConsentRow::for_patient(conn, patient_id)?.iter().filter_map(consent_terms).collect();
    let named: Vec<String> = consents
        .iter()
        .filter_map(|c| match &c.scope {
            ConsentScope::Organizations(orgs) => Some(orgs.clone()),
            ConsentScope::CareTeam => None,
        })
        .flatten()
        .collect();
    let desks = if named.is_empty() { Vec::new() } else { OrganizationRow::desks_among(conn, &named)? };
    Ok(Facts { team, consents, desks })
}

/// The break-glass reason the request carries, checked: only physicians and nurses, and a reason
/// of substance within bounds (`crate::break_glass::check_reason`).
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
fn decoy_lookups(conn: &mut DbConn, caller: &Caller, patient_id: &str) -> Result<(), ApiError> {
    decoy_facts(conn, patient_id)?;
    BreakGlassRow::open(conn, patient_id, grant_holder(caller), &clock::now())?;
    Ok(())
}

/// The lookups that loading a patient's facts makes, for a refusal whose facts came from the
/// cache: with them, a hidden patient answers no faster than a missing one.
fn decoy_facts(conn: &mut DbConn, patient_id: &str) -> Result<(), ApiError> {
    CareTeamRow::for_patient(conn, patient_id)?;
    ConsentRow::for_patient(conn, patient_id)?;
    Ok(())
}

/// Decides with the facts already loaded; for listings that check many documents of one patient.
pub fn decide(
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

/// Loads a patient the caller may act on, or the error the rule calls for (404 for strangers),
/// and records on `event` the patient, whether break-glass opened it, and the basis: what the
/// access rests on (managing organisation, care team, consent id and version, break-glass grant,
/// operator) or the condition that refused it. A first break-glass opens a grant for the
/// configured time; reads within it are allowed and flagged.
pub fn authorise(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient_id: &str,
    want: Want<'_>,
    event: &mut Event,
) -> Result<Access, ApiError> {
    let patient = PatientRow::find(conn, patient_id)?;
    authorise_loaded(conn, state, caller, (patient_id, patient), want, event)
}

/// [`authorise`] for a patient row the caller already loaded (with the document it asks for, in
/// one query): `None` when `patient_id` names no patient.
pub fn authorise_loaded(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    loaded: (&str, Option<PatientRow>),
    want: Want<'_>,
    event: &mut Event,
) -> Result<Access, ApiError> {
    let result = decide_and_load(conn, state, caller, loaded, want, event);
    match &result {
        Ok(access) if access.allowed.by_break_glass => {}
        Ok(access) => note_basis(event, &access.allowed.basis),
        Err(Refusal::Rule(denial)) => note_denial(event, *denial),
        Err(Refusal::Other(_)) => {}
    }
    result.map_err(ApiError::from)
}

/// Why `authorise` refused: a condition of the access rule (named on the event), or anything
/// else (a bad break-glass request, a database error).
enum Refusal {
    Rule(Denial),
    Other(ApiError),
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Rule(denial) => denial.into(),
            Refusal::Other(error) => error,
        }
    }
}

impl From<Denial> for Refusal {
    fn from(denial: Denial) -> Self {
        Self::Rule(denial)
    }
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Self::Other(error)
    }
}

impl From<diesel::result::Error> for Refusal {
    fn from(error: diesel::result::Error) -> Self {
        Self::Other(error.into())
    }
}

/// The basis of an allowed access, on its event (JSON text; see `access::Basis`).
fn note_basis(event: &mut Event, basis: &Basis) {
    event.basis = serde_json::to_string(basis).ok();
}

/// The condition a refused access failed, on its event.
fn note_denial(event: &mut Event, denial: Denial) {
    event.basis = Some(json!({"kind": "denied", "condition": denial.condition()}).to_string());
}

/// `authorise` itself, with the refusals kept apart by kind.
fn decide_and_load(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    (patient_id, patient): (&str, Option<PatientRow>),
    want: Want<'_>,
    event: &mut Event,
) -> Result<Access, Refusal> {
    let Want { resource, action, .. } = want;
    access::check(caller, resource, action)?;
    let requested = requested_break_glass(caller, event)?;
    let Some(patient) = patient else {
        decoy_lookups(conn, caller, patient_id)?;
        return Err(Denial::NoRelationship.into());
    };
    event.patient_id = Some(patient.id.clone());
    let (facts, cached) = facts_kept(conn, state, &patient)?;
    let denial = match decide(state, caller, &facts, want, false) {
        Ok(allowed) => return Ok(Access { patient, allowed, facts }),
        Err(denial) => denial,
    };
    let now = clock::now();
    let open = BreakGlassRow::open(conn, &patient.id, grant_holder(caller), &now)?;
    if requested.is_none() && open.is_none() {
        if cached {
            decoy_facts(conn, &patient.id)?;
        }
        return Err(denial.into());
    }
    let allowed = decide(state, caller, &facts, want, true)?;
    let grant_id = match (open, requested) {
        (Some(grant), _) => grant.id,
        (None, Some(reason)) => {
            let hours = time::Duration::seconds(i64::try_from(state.settings.break_glass_secs).unwrap_or(4 * 3600));
            let id = uuid::Uuid::new_v4().to_string();
            BreakGlassRow {
                reason: break_glass::seal_reason(state, &patient, &id, &reason)?,
                id: id.clone(),
                patient_id: patient.id.clone(),
                actor_sub: caller.sub.clone(),
                actor_org: caller.org.clone(),
                actor_role: caller.role.as_str().to_owned(),
                started_at: now,
                expires_at: clock::format(time::OffsetDateTime::now_utc() + hours),
            }
            .insert(conn)?;
            id
        }
        (None, None) => return Err(denial.into()),
    };
    // The reason is stored once, sealed, with the grant; the event points at it.
    event.break_glass = true;
    event.break_glass_reason = Some(break_glass::reference(&grant_id));
    event.purpose = "emergency".into();
    event.basis = Some(json!({"kind": "break_glass", "grant_id": grant_id}).to_string());
    Ok(Access { patient, allowed, facts })
}

/// Whether the caller would be let in, without a side effect: no grant opened, nothing noted.
/// For work too large for the committer's thread (an import's mapping), done before it only for
/// a caller the rule will admit; `authorise` in the write itself still decides and records.
/// A requested or open break-glass counts as admitting here; `authorise` then checks it whole.
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
    if decide(state, caller, &facts, want, false).is_ok() {
        return Ok(Some(patient));
    }
    let glass = (break_glass && access::may_break_glass(caller.role))
        || BreakGlassRow::open(conn, &patient.id, grant_holder(caller), &clock::now())?.is_some();
    Ok((glass && decide(state, caller, &facts, want, true).is_ok()).then_some(patient))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consent(denied_types: &str) -> ConsentRow {
        ConsentRow {
            id: "c-1".into(),
            patient_id: "p-1".into(),
            status: "active".into(),
            organizations: r#""care_team""#.into(),
            permitted_types: "[]".into(),
            denied_types: denied_types.into(),
            purposes: "[]".into(),
            period_start: "2026-01-01".into(),
            period_end: None,
            obtained_by: "written".into(),
            proxy: None,
            release_restricted: false,
            recorded_by: "dr-1".into(),
            recorded_org: "org-1".into(),
            recorded_at: "2026-01-01T00:00:00Z".into(),
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            version: 1,
        }
    }

    #[test]
    fn readable_terms_are_read() {
        let terms = consent_terms(&consent(r#"["end-of-life"]"#)).map(|t| t.denied_types);
        assert_eq!(terms, Some(vec!["end-of-life".to_owned()]));
    }

    #[test]
    fn unreadable_terms_grant_nothing() {
        // Before, garbage here read as "no type denied", widening what the consent shared.
        assert!(consent_terms(&consent("not json")).is_none());
        assert!(consent_terms(&consent(r#"{"x":1}"#)).is_none());
    }
}
