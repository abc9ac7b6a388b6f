//! The audit log as a resource: auditors query events, review break-glass accesses, verify the
//! chain and export it; a patient's managing organisation sees who opened the record. The chain
//! itself (hashing, signing, recording) is `crate::audit`.

use std::sync::Arc;

use crate::access::{self, Action, Resource};
use crate::audit::{self, Event, Verification};
use crate::context::Context;
use crate::db::audit::{AuditFilter, AuditRow, CheckpointRow, ReviewRow};
use crate::db::{self, DbConn};
use crate::domain::fields::Errors;
use crate::domain::params;
use crate::error::ApiError;
use crate::state::AppState;

mod openings;
mod record_access;
mod search;
mod types;

pub use openings::{Opening, Openings, openings};
pub use record_access::{AccessLogPage, access_log, access_log_newest};
pub use search::{EventSearch, Found, MAX_SEARCH, OUTCOMES, Window, search};
pub use types::{AccessEntry, AuditEvent, AuditPage, AuditQuery, RecordedEvent, Review, ReviewInput, SigningKey};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

impl AuditQuery {
    /// The page size and the database filter; the log is larger than other listings, hence its
    /// own limits.
    fn filter(self) -> Result<(AuditFilter, i64), ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field("/query/limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let filter = AuditFilter {
            from: params::optional_instant("/query/from", self.from.as_deref())?,
            to: params::optional_instant("/query/to", self.to.as_deref())?,
            patient_id: self.patient_id,
            actor_sub: self.actor,
            actor_org: self.organization,
            action: self.action,
            break_glass: self.break_glass,
            after_seq: self.cursor,
            ..AuditFilter::default()
        };
        Ok((filter, limit))
    }
}

fn with_reviews(conn: &mut DbConn, rows: Vec<AuditRow>) -> Result<Vec<AuditEvent>, ApiError> {
    let reviewed = |r: &AuditRow| r.break_glass || r.action == super::consents::RELEASE_ACTION;
    let seqs: Vec<i64> = rows.iter().filter(|r| reviewed(r)).map(|r| r.seq).collect();
    let mut reviews = ReviewRow::for_events(conn, &seqs)?;
    Ok(rows
        .into_iter()
        .map(|event| {
            let review = reviews.iter().position(|r| r.event_seq == event.seq).map(|i| reviews.swap_remove(i));
            AuditEvent { event: event.into(), review: review.map(Review::from) }
        })
        .collect())
}

/// Rows as an auditor reads them: with their reviews, and the break-glass reason opened from
/// the grant the event references.
fn with_reasons(conn: &mut DbConn, st: &AppState, mut rows: Vec<AuditRow>) -> Result<Vec<AuditEvent>, ApiError> {
    for row in rows.iter_mut().filter(|r| r.break_glass) {
        if let Some(stored) = row.break_glass_reason.take() {
            row.break_glass_reason = crate::gate::break_glass::reveal_reason(conn, st, &stored)?;
        }
    }
    with_reviews(conn, rows)
}

/// Events matching `query`, in sequence order (auditor).
pub async fn list_events(state: &Arc<AppState>, ctx: Context, query: AuditQuery) -> Result<AuditPage, ApiError> {
    // The role check runs inside the audited read (as on every audit route), so a refused
    // query is an event too.
    let (items, limit) = super::read(state, Event::new(&ctx, "audit.read"), move |conn, st, _| {
        access::check(&ctx.caller, Resource::Audit, Action::Read)?;
        let (filter, limit) = query.filter()?;
        let rows = AuditRow::list(conn, &filter, limit)?;
        Ok((with_reasons(conn, st, rows)?, limit))
    })
    .await?;
    let full = usize::try_from(limit).is_ok_and(|l| items.len() == l);
    let next_cursor = if full { items.last().map(|e| e.event.seq) } else { None };
    Ok(AuditPage { items, next_cursor })
}

/// Marks a break-glass access reviewed, with a comment (auditor); each access is reviewed once.
pub async fn review(state: &Arc<AppState>, ctx: Context, seq: i64, input: ReviewInput) -> Result<Review, ApiError> {
    let event = Event::new(&ctx, "audit.review").resource("audit_event", &seq.to_string());
    super::write(state, event, 200, move |tx, st, ev| {
        access::check(&ctx.caller, Resource::Audit, Action::Write)?;
        let mut errors = Errors::default();
        errors.text("/comment", &input.comment, 2000);
        errors.finish()?;
        let target = AuditRow::find(tx, seq)?.ok_or_else(|| ApiError::NotFound("no such audit event".into()))?;
        if !target.break_glass && target.action != super::consents::RELEASE_ACTION {
            return Err(ApiError::field(
                "/seq",
                "only break-glass accesses and releases of restricted fields are reviewed",
            ));
        }
        ev.patient_id = target.patient_id.clone();
        if !ReviewRow::for_events(tx, &[seq])?.is_empty() {
            return Err(ApiError::Conflict("this access was already reviewed".into()));
        }
        let review = ReviewRow {
            event_seq: seq,
            reviewer_sub: ctx.caller.sub.clone(),
            reviewer_org: ctx.caller.org.clone(),
            comment: input.comment.clone(),
            reviewed_at: st.clock.stamp(),
        };
        review.insert(tx)?;
        Ok(review.into())
    })
    .await
}

/// Recomputes the hash chain and checks every signed checkpoint (auditor).
pub async fn verify(state: &Arc<AppState>, ctx: Context) -> Result<Verification, ApiError> {
    super::read(state, Event::new(&ctx, "audit.verify"), move |conn, st, _| {
        access::check(&ctx.caller, Resource::Audit, Action::Read)?;
        let keys = audit::registered_keys(conn, &st.audit_signer.public_key())?;
        audit::verify_with(conn, &keys)
    })
    .await
}

/// The last signed checkpoint, if any (auditor): what the console's chain card shows beside
/// the verification.
pub async fn latest_checkpoint(state: &Arc<AppState>, ctx: Context) -> Result<Option<CheckpointRow>, ApiError> {
    access::check(&ctx.caller, Resource::Audit, Action::Read)?;
    db::run(&state.pool, |conn| Ok(CheckpointRow::latest(conn)?)).await
}

/// The public key of the checkpoint signer, and every key that ever signed with its validity
/// (anyone authenticated may have them).
pub async fn signing_key(state: &Arc<AppState>) -> Result<SigningKey, ApiError> {
    let st = state.clone();
    let keys = db::run(&state.pool, move |conn| audit::registered_keys(conn, &st.audit_signer.public_key())).await?;
    Ok(SigningKey {
        algorithm: "Ed25519",
        key_id: state.audit_signer.key_id(),
        public_key: state.audit_signer.public_key_base64(),
        keys: keys.keys(),
    })
}

/// The whole log as NDJSON, ending on a checkpoint signed for the occasion (auditor).
pub async fn export(state: &Arc<AppState>, ctx: Context, from: Option<i64>) -> Result<String, ApiError> {
    let event = Event::new(&ctx, "audit.export");
    let st = state.clone();
    db::run(&state.pool, move |conn| {
        if let Err(denial) = access::check(&ctx.caller, Resource::Audit, Action::Read) {
            let refused = ApiError::from(denial);
            st.committer.record_blocking(event, "denied", refused.status())?;
            return Err(refused);
        }
        if let Some(from) = from
            && crate::db::audit::CheckpointRow::find(conn, from)?.is_none()
        {
            let refused = ApiError::field("/query/from", "must be the sequence number of a signed checkpoint");
            st.committer.record_blocking(event, "rejected", refused.status())?;
            return Err(refused);
        }
        // Recorded first, so that the export holds its own event under the closing signature.
        st.committer.record_blocking(event, "allowed", 200)?;
        st.audit_signer.checkpoint(conn, 1, time::Duration::ZERO)?;
        audit::export(conn, from)
    })
    .await
}
