//! The one way to a patient's data: load the facts the access rule needs (managing
//! organisation, care team) in the caller's transaction, and apply the rule.

use crate::access::{self, Action, Denial, Membership, PatientFacts, Resource};
use crate::auth::Caller;
use crate::clock;
use crate::db::DbConn;
use crate::db::patients::{CareTeamRow, PatientRow};
use crate::error::ApiError;
use crate::startup::AppState;

/// The facts the access rule needs about a patient, read in the caller's transaction.
pub fn facts(conn: &mut DbConn, patient: &PatientRow) -> Result<PatientFacts, ApiError> {
    let team = CareTeamRow::for_patient(conn, &patient.id)?
        .into_iter()
        .filter_map(|m| {
            Some(Membership {
                since: clock::parse_day(&m.since)?,
                until: match m.until.as_deref() {
                    Some(u) => Some(clock::parse_day(u)?),
                    None => None,
                },
                organization: m.organization_id,
            })
        })
        .collect();
    Ok(PatientFacts { managing_organization: patient.managing_organization_id.clone(), team })
}

/// Loads a patient the caller may act on, or the error the rule calls for (404 for strangers).
pub fn load_authorised(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    id: &str,
    resource: Resource,
    action: Action,
) -> Result<PatientRow, ApiError> {
    access::check(caller, resource, action)?;
    let row = PatientRow::find(conn, id)?.ok_or(Denial::NoRelationship)?;
    let facts = facts(conn, &row)?;
    access::check_patient(caller, &state.settings.operator_org, resource, action, &facts, clock::today())?;
    Ok(row)
}
