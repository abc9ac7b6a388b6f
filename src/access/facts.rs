//! The access facts of recently seen patients (care team and consents as the rule reads them),
//! kept between requests. An entry is keyed by the patient's `access_rev`, a random tag that a
//! trigger replaces in the same transaction as any change to the team or the consents, and which
//! every request reads fresh with the patient row: a change committed by any instance is seen by
//! the next request, and facts are loaded after their tag was read, so they are never older than
//! it. A tag is never reused (random, not counted), so facts a rolled-back write saw cannot be
//! served under the tag of a later change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::{ConsentScope, ConsentTerms, Membership, PatientFacts};
use crate::clock;
use crate::db::DbConn;
use crate::db::consents::ConsentRow;
use crate::db::directory::OrganizationRow;
use crate::db::patients::{CareTeamRow, PatientRow};
use crate::error::ApiError;
use crate::state::AppState;

/// Patients whose facts are kept at most; past it, an arbitrary entry makes room.
const CAPACITY: usize = 20_000;

/// A patient's care team and consents, as loaded at one revision.
#[derive(Debug)]
pub struct KeptFacts {
    /// Care-team memberships with their dates.
    pub team: Vec<Membership>,
    /// The consents' terms.
    pub consents: Vec<ConsentTerms>,
    /// Consultation desks the consents name.
    pub desks: Vec<String>,
}

/// Facts by patient id, each with the revision it was loaded at.
#[derive(Default)]
pub struct FactsCache {
    entries: Mutex<HashMap<String, (i64, Arc<KeptFacts>)>>,
}

impl FactsCache {
    /// The facts loaded at exactly `rev`, if kept.
    pub fn get(&self, patient_id: &str, rev: i64) -> Option<Arc<KeptFacts>> {
        let entries = self.entries.lock().ok()?;
        entries.get(patient_id).filter(|(at, _)| *at == rev).map(|(_, facts)| facts.clone())
    }

    /// Keeps facts loaded after reading tag `rev` (they are at least that recent). A slow reader
    /// may replace a newer entry with its older one: that costs the next reader a reload, never
    /// a wrong decision.
    pub fn put(&self, patient_id: &str, rev: i64, facts: Arc<KeptFacts>) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= CAPACITY
            && !entries.contains_key(patient_id)
            && let Some(evict) = entries.keys().next().cloned()
        {
            entries.remove(&evict);
        }
        entries.insert(patient_id.to_owned(), (rev, facts));
    }
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

    fn facts() -> Arc<KeptFacts> {
        Arc::new(KeptFacts { team: Vec::new(), consents: Vec::new(), desks: Vec::new() })
    }

    #[test]
    fn an_entry_serves_only_its_own_revision() {
        let cache = FactsCache::default();
        cache.put("p1", 3, facts());
        assert!(cache.get("p1", 3).is_some());
        assert!(cache.get("p1", 4).is_none(), "a moved revision must reload");
        assert!(cache.get("p2", 3).is_none());
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = FactsCache::default();
        for i in 0..=CAPACITY {
            cache.put(&format!("p{i}"), 1, facts());
        }
        assert_eq!(cache.entries.lock().unwrap().len(), CAPACITY);
        assert!(cache.get(&format!("p{CAPACITY}"), 1).is_some(), "the newest entry is kept");
    }

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
