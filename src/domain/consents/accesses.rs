//! Access under a consent: every audited access that a consent was the basis for, and every
//! access (or attempt) by the organisations it named after it was revoked. The second list
//! should hold only refusals; an auditor checks that it does.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::access;
use crate::audit::Event;
use crate::context::Context;
use crate::db::DbConn;
use crate::db::audit::{AuditFilter, AuditRow};
use crate::db::consent_versions::ConsentVersionRow;
use crate::db::patients::CareTeamRow;
use crate::domain::paging::{self, Page};
use crate::error::ApiError;
use crate::state::AppState;

/// One audited access, as the consent's review shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentAccess {
    /// The audit event's sequence number.
    pub seq: i64,
    /// When; RFC 3339 in UTC.
    pub at: String,
    /// Who (token `sub`).
    pub actor: String,
    /// Their organisation.
    pub organization: String,
    /// Their profession (role).
    pub profession: String,
    /// What was done, e.g. `document.read`.
    pub action: String,
    /// The document (or other resource) touched.
    pub resource_id: Option<String>,
    /// `allowed`, `denied`, ...
    pub outcome: String,
    /// What the access rested on, or the condition that refused it (`kind`, and the consent id
    /// and version, grant id or condition).
    #[schema(value_type = Object)]
    pub basis: Option<Value>,
    /// True when the access came after the consent's revocation.
    pub after_revocation: bool,
}

/// The organisations a consent named: its list, or everyone who was ever on the care team.
fn named(conn: &mut DbConn, consent: &ConsentVersionRow) -> Result<Vec<String>, ApiError> {
    match serde_json::from_str::<Vec<String>>(&consent.organizations) {
        Ok(list) => Ok(list),
        Err(_) => {
            Ok(CareTeamRow::for_patient(conn, &consent.patient_id)?.into_iter().map(|m| m.organization_id).collect())
        }
    }
}

/// Whether `row` belongs in the review of `consent`, and if so the entry.
fn review(row: AuditRow, consent: &ConsentVersionRow, orgs: &[String]) -> Option<ConsentAccess> {
    let basis: Option<Value> = row.basis.as_deref().and_then(|b| serde_json::from_str(b).ok());
    let rests_on_it =
        basis.as_ref().is_some_and(|b| b["kind"] == "consent" && b["consent_id"].as_str() == Some(consent.id.as_str()));
    let after_revocation = consent.revoked_at.as_deref().is_some_and(|r| row.at.as_str() >= r);
    let same_org_after = after_revocation && row.action.starts_with("document.") && orgs.contains(&row.actor_org);
    if !rests_on_it && !same_org_after {
        return None;
    }
    Some(ConsentAccess {
        seq: row.seq,
        at: row.at,
        actor: row.actor_sub,
        organization: row.actor_org,
        profession: row.actor_role,
        action: row.action,
        resource_id: row.resource_id,
        outcome: row.outcome,
        basis,
        after_revocation,
    })
}

/// The accesses of a consent, oldest first, paged by sequence number (auditor, operator's admin).
pub async fn accesses(
    state: &Arc<AppState>,
    ctx: Context,
    consent_id: String,
    after: Option<i64>,
    limit: i64,
) -> Result<Page<ConsentAccess>, ApiError> {
    let event = Event::new(&ctx, "consent_log.accesses").resource("consent", &consent_id);
    let (items, next) = crate::domain::read(state, event, move |conn, st, ev| {
        access::may_review_consents(&ctx.caller, &st.settings.operator_org)?;
        let consent = ConsentVersionRow::latest(conn, &consent_id)?
            .ok_or_else(|| ApiError::NotFound("no such consent".into()))?;
        ev.patient_id = Some(consent.patient_id.clone());
        let orgs = named(conn, &consent)?;
        let filter = AuditFilter { patient_id: Some(consent.patient_id.clone()), ..AuditFilter::default() };
        let fetch = |conn: &mut DbConn, after: Option<&i64>, n: i64| {
            let filter = AuditFilter { after_seq: after.copied(), ..filter.clone() };
            Ok(AuditRow::list(conn, &filter, n)?)
        };
        let keep = |_: &mut DbConn, row: AuditRow| Ok(review(row, &consent, &orgs));
        paging::fill(conn, limit, after, fetch, |row: &AuditRow| row.seq, keep)
    })
    .await?;
    Ok(Page { items, next_cursor: next.map(|seq| seq.to_string()) })
}
