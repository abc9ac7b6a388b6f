//! Loading a patient's access facts in the caller's transaction (care team, consents as the
//! rule reads them, the desks they name), through the kept ones while the patient's
//! `access_rev` has not moved (`access::FactsCache`).

use std::sync::Arc;

use serde_json::Value;

use crate::access::{ConsentScope, ConsentTerms, KeptFacts, Membership, PatientFacts};
use crate::clock;
use crate::db::DbConn;
use crate::db::consents::ConsentRow;
use crate::db::directory::OrganizationRow;
use crate::db::patients::{CareTeamRow, PatientRow};
use crate::error::ApiError;
use crate::state::AppState;

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
pub(super) fn facts_kept(
    conn: &mut DbConn,
    state: &AppState,
    patient: &PatientRow,
) -> Result<(PatientFacts, bool), ApiError> {
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

fn load_facts(conn: &mut DbConn, patient_id: &str) -> Result<KeptFacts, ApiError> {
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
    Ok(KeptFacts { team, consents, desks })
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
