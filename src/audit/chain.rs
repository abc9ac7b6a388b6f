//! The hash chain: the canonical encoding of an event and appending events to the chain.

use serde_json::json;

use super::event::Event;
use crate::clock;
use crate::db::DbConn;
use crate::db::audit::{AuditRow, advance_head, set_head_hash};
use crate::error::ApiError;

/// The hash before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The canonical encoding that the hash covers: a JSON array in fixed field order. The basis
/// and the consent digest (added later) are appended only when the event has one of them, so
/// events written before they existed encode, and verify, exactly as they were hashed.
pub fn canonical(row: &AuditRow) -> String {
    let mut fields = json!([
        row.seq,
        row.at,
        row.actor_sub,
        row.actor_org,
        row.actor_role,
        row.action,
        row.patient_id,
        row.resource_type,
        row.resource_id,
        row.resource_version,
        row.outcome,
        row.status,
        row.purpose,
        row.break_glass,
        row.break_glass_reason,
        row.request_id,
    ]);
    if (row.basis.is_some() || row.digest.is_some())
        && let Some(fields) = fields.as_array_mut()
    {
        fields.push(json!(row.basis));
        fields.push(json!(row.digest));
    }
    fields.to_string()
}

pub fn chain_hash(prev: &str, canonical: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(prev.as_bytes());
    ctx.update(b"\n");
    ctx.update(canonical.as_bytes());
    crate::crypto::keyfile::hex(ctx.finish().as_ref())
}

/// Appends one event, with one per patient it disclosed (call inside a write transaction).
/// Returns the last sequence number.
pub fn append(conn: &mut DbConn, event: &Event, outcome: &str, status: u16) -> Result<i64, ApiError> {
    if event.disclosed.is_empty() {
        return append_all(conn, &[(event, outcome, status)]);
    }
    let events = event.clone().expand();
    append_all(conn, &events.iter().map(|e| (e, outcome, status)).collect::<Vec<_>>())
}

/// Appends events in order (call inside a write transaction): the head moves once for all of
/// them. Returns the last sequence number.
pub fn append_all(conn: &mut DbConn, events: &[(&Event, &str, u16)]) -> Result<i64, ApiError> {
    let n = i64::try_from(events.len()).map_err(ApiError::internal)?;
    let (last, mut prev_hash) = advance_head(conn, n)?;
    // The log's own times are the wall clock, never the service's movable one: they are evidence
    // of when, and no rule reads them.
    let at = clock::Clock::system().stamp();
    let mut rows = Vec::with_capacity(events.len());
    for (seq, (event, outcome, status)) in (last - n + 1..).zip(events) {
        let mut row = AuditRow {
            seq,
            at: at.clone(),
            actor_sub: event.actor_sub.clone(),
            actor_org: event.actor_org.clone(),
            actor_role: event.actor_role.clone(),
            action: event.action.to_owned(),
            patient_id: event.patient_id.clone(),
            resource_type: event.resource_type.map(str::to_owned),
            resource_id: event.resource_id.clone(),
            resource_version: event.resource_version,
            outcome: (*outcome).to_owned(),
            status: i32::from(*status),
            purpose: event.purpose.clone(),
            break_glass: event.break_glass,
            break_glass_reason: event.break_glass_reason.clone(),
            request_id: event.request_id.clone(),
            prev_hash,
            hash: String::new(),
            basis: event.basis.clone(),
            digest: event.digest.clone(),
        };
        row.hash = chain_hash(&row.prev_hash, &canonical(&row));
        prev_hash = row.hash.clone();
        rows.push(row);
    }
    AuditRow::insert_all(conn, &rows)?;
    set_head_hash(conn, &prev_hash)?;
    Ok(last)
}
