//! Coverage for care managers: for each organisation on the patient's active care team, whether
//! a consent in force covers it, for which types and until when, so that a missing or expiring
//! consent is seen before a colleague's read is refused.

use std::sync::Arc;

use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

use crate::access::{self, ConsentTerms, PatientFacts, Resource};
use crate::audit::Event;
use crate::clock;
use crate::context::Context;
use crate::error::ApiError;
use crate::gate::{Want, authorize};
use crate::ids::PatientId;
use crate::state::AppState;

/// Consents ending within this many days are flagged as expiring.
pub const EXPIRING_DAYS: i64 = 30;

/// A consent in force that covers a member.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoveringConsent {
    /// The consent.
    pub consent_id: String,
    /// Its current version.
    pub version: i32,
    /// Document types shared; empty: every type.
    pub permitted_types: Vec<String>,
    /// Document types never shared.
    pub denied_types: Vec<String>,
    /// What the sharing is for.
    pub purposes: Vec<String>,
    /// Its last day (YYYY-MM-DD); absent when open-ended.
    #[schema(format = Date)]
    pub until: Option<String>,
}

/// One care-team organisation and the consent that covers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberCoverage {
    /// The organisation on the team.
    pub organization: String,
    /// Whether any consent in force shares documents with it.
    pub covered: bool,
    /// The consents in force that name it (or the care team).
    pub consents: Vec<CoveringConsent>,
    /// The last day it stays covered if nothing is renewed; absent when open-ended or uncovered.
    #[schema(format = Date)]
    pub covered_until: Option<String>,
    /// Covered now, but only until a day within the next 30 days.
    pub expiring: bool,
}

/// Who on the care team a consent covers today.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentCoverage {
    /// The patient.
    pub patient_id: String,
    /// The day the coverage is computed for (the service's calendar).
    #[schema(format = Date)]
    pub as_of: String,
    /// One entry per organisation on the active care team (the managing organisation needs no
    /// consent and is not listed).
    pub members: Vec<MemberCoverage>,
}

fn covering(c: &ConsentTerms) -> CoveringConsent {
    CoveringConsent {
        consent_id: c.id.clone(),
        version: c.version,
        permitted_types: c.permitted_types.clone(),
        denied_types: c.denied_types.clone(),
        purposes: c.purposes.clone(),
        until: c.end.map(clock::format_day),
    }
}

/// The coverage of each active team organisation on `today`.
pub fn compute(facts: &PatientFacts, today: Date) -> Vec<MemberCoverage> {
    let mut orgs: Vec<&str> = facts
        .team
        .iter()
        .filter(|m| m.active_on(today) && m.organization != facts.managing_organization)
        .map(|m| m.organization.as_str())
        .collect();
    orgs.sort_unstable();
    orgs.dedup();
    orgs.into_iter()
        .map(|org| {
            let consents = access::covering(facts, org, true, today);
            // Open-ended if any covering consent is; else the latest last day among them.
            let until = if consents.iter().any(|c| c.end.is_none()) {
                None
            } else {
                consents.iter().filter_map(|c| c.end).max()
            };
            let soon = today + time::Duration::days(EXPIRING_DAYS);
            MemberCoverage {
                organization: org.to_owned(),
                covered: !consents.is_empty(),
                expiring: until.is_some_and(|u| u <= soon),
                covered_until: until.map(clock::format_day),
                consents: consents.into_iter().map(covering).collect(),
            }
        })
        .collect()
}

/// The care team's consent coverage (whoever may read the patient's consents: the managing
/// organisation, the team's care manager and the other professions on the team).
pub async fn coverage(state: &Arc<AppState>, ctx: Context, patient: PatientId) -> Result<ConsentCoverage, ApiError> {
    let event = Event::new(&ctx, "consent.coverage").resource("consent_coverage", &patient);
    crate::domain::read(state, event, move |conn, st, ev| {
        let access = authorize(conn, st, &ctx.caller, &patient, Want::read(Resource::Consent), ev)?;
        crate::domain::patients::erased_patient_gone(&access.patient)?;
        let today = st.calendar.today();
        Ok(ConsentCoverage {
            patient_id: access.patient.id.clone(),
            as_of: clock::format_day(today),
            members: compute(&access.facts, today),
        })
    })
    .await
}
