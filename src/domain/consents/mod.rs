//! Consent records: grant, list, revoke. Opt-in: without an active consent only the managing
//! organisation sees the patient's documents. The proxy's name and note and the revocation
//! reason are sealed under the patient's data key. The auditors' side (the consent log, the
//! accesses a consent allowed) and the patient's side (coverage) are modules of their own here.

pub mod accesses;
pub mod coverage;
pub mod log;
mod proxy;
mod stored;
mod terms;

use std::sync::Arc;

use serde_json::json;

use crate::access::{self, PatientFacts, Resource};
use crate::audit::Event;
use crate::context::Context;
use crate::db::DbConn;
use crate::db::consents::ConsentRow;
use crate::db::patients::PatientRow;
use crate::domain::fields::Errors;
use crate::error::ApiError;
use crate::gate::{Want, authorize};
use crate::ids::PatientId;
use crate::state::AppState;

pub use proxy::{Proxy, Relation};
pub(crate) use stored::reveal;
use stored::{record_version, seal};
pub use terms::{
    CareTeamWord, Consent, ConsentInput, ConsentList, ConsentOrganizations, NewConsentStatus, ObtainedBy, Period,
    Purpose, RevokeInput,
};

/// Records a consent (physician, care manager of the managing organisation).
pub async fn create(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    input: ConsentInput,
) -> Result<Consent, ApiError> {
    crate::domain::write(state, Event::new(&ctx, "consent.create"), 201, move |tx, st, ev| {
        // Authorised first: a caller without access learns nothing, not even from a 422.
        let access = authorize(tx, st, &ctx.caller, &patient, Want::write(Resource::Consent), ev)?;
        if input.release_restricted {
            may_release_restricted(&ctx, &access.patient)?;
        }
        input.check(st)?;
        input.check_organizations(tx)?;
        let key = st.data_key(&access.patient)?;
        let row = input.clone().into_row(&key, &access.patient.id, &ctx, st.clock.stamp())?;
        ev.resource_type = Some("consent");
        ev.resource_id = Some(row.id.clone());
        row.insert(tx)?;
        record_version(tx, &row, ev)?;
        if row.release_restricted {
            flag_release(tx, ev)?;
        }
        let mut consent = reveal(&key, &row)?;
        consent.warnings = off_the_team(&consent.organizations, &access.facts, st.calendar.today());
        Ok(consent)
    })
    .await
}

/// The audit action of a consent that releases restricted fields: auditors review each one
/// (`POST /v1/audit-events/{seq}/review`), as they review break-glass accesses.
pub const RELEASE_ACTION: &str = "consent.release_restricted";

/// 403 unless the caller may release restricted fields (`access::may_release_restricted`).
fn may_release_restricted(ctx: &Context, patient: &PatientRow) -> Result<(), ApiError> {
    if access::may_release_restricted(&ctx.caller, &patient.managing_organization_id) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "release_restricted: only a physician of the managing organisation may release restricted fields".into(),
        ))
    }
}

/// The release's own event, beside `consent.create`, for auditors to find and review.
fn flag_release(tx: &mut DbConn, ev: &Event) -> Result<(), ApiError> {
    let mut flag = ev.clone();
    flag.action = RELEASE_ACTION;
    flag.digest = None;
    crate::audit::append(tx, &flag, "allowed", 201).map(drop)
}

/// The named organisations that could not use the consent today: neither managing the patient
/// nor on its active care team.
fn off_the_team(named: &ConsentOrganizations, facts: &PatientFacts, today: time::Date) -> Vec<String> {
    let ConsentOrganizations::List(orgs) = named else { return Vec::new() };
    orgs.iter()
        .filter(|org| {
            **org != facts.managing_organization
                && !facts.team.iter().any(|m| &m.organization == *org && m.active_on(today))
        })
        .map(|org| format!("organisation {org} is not on the patient's care team: it sees nothing until it is added"))
        .collect()
}

/// A patient's consents, active and revoked, oldest first.
pub async fn list(state: &Arc<AppState>, ctx: Context, patient: PatientId) -> Result<ConsentList, ApiError> {
    let items = crate::domain::read(state, Event::new(&ctx, "consent.list"), move |conn, st, ev| {
        let access = authorize(conn, st, &ctx.caller, &patient, Want::read(Resource::Consent), ev)?;
        let key = st.data_key(&access.patient)?;
        ConsentRow::for_patient(conn, &access.patient.id)?.iter().map(|row| reveal(&key, row)).collect()
    })
    .await?;
    Ok(ConsentList { items })
}

/// Revokes an active consent, the reason sealed: a new version of it, whose digest the event
/// carries. It stops counting from the next request on.
pub async fn revoke(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    consent_id: String,
    input: RevokeInput,
) -> Result<Consent, ApiError> {
    let event = Event::new(&ctx, "consent.revoke").resource("consent", &consent_id);
    crate::domain::write(state, event, 200, move |tx, st, ev| {
        let access = authorize(tx, st, &ctx.caller, &patient, Want::write(Resource::Consent), ev)?;
        let mut errors = Errors::default();
        errors.text("/reason", &input.reason, 1000);
        errors.finish()?;
        let key = st.data_key(&access.patient)?;
        let row = ConsentRow::find(tx, &access.patient.id, &consent_id)?
            .ok_or_else(|| ApiError::NotFound("no such consent".into()))?;
        let reason = seal(&key, &row, "/revoke_reason", &json!(input.reason))?;
        if !ConsentRow::revoke(tx, &row.id, &ctx.caller.sub, &st.clock.stamp(), &reason)? {
            return Err(ApiError::Conflict("this consent is not active".into()));
        }
        let row = ConsentRow::find(tx, &access.patient.id, &consent_id)?
            .ok_or_else(|| ApiError::internal("revoked consent vanished"))?;
        record_version(tx, &row, ev)?;
        reveal(&key, &row)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_words_are_the_wire_words() {
        for &way in ObtainedBy::ALL {
            assert_eq!(serde_json::to_value(way).unwrap(), json!(way.as_str()));
            assert_eq!(way.as_str().parse::<ObtainedBy>().unwrap(), way);
        }
        assert!("signed form".parse::<ObtainedBy>().is_err());
    }
}
