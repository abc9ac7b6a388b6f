//! The audit log: an event for every access to patient data (read, list, search, write, denial),
//! every consent change, break-glass, key rotation and erasure. Events name who, what, which
//! patient and resource, and the outcome; never clinical content.
//!
//! Each event's hash is SHA-256 over the previous hash and a canonical encoding of the event, so
//! changing, inserting or removing any event breaks every later hash. A write's event commits in
//! the write's own transaction; a read's event commits before the response leaves.

use actix_web::HttpRequest;
use serde_json::json;

use crate::auth::Caller;
use crate::clock;
use crate::db::audit::{AuditRow, advance_head, set_head_hash};
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;
use crate::request_id::RequestId;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event being assembled by a handler; the outcome is filled in from the result.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    pub actor_sub: String,
    pub actor_org: String,
    pub actor_role: String,
    pub patient_id: Option<String>,
    pub resource_type: Option<&'static str>,
    pub resource_id: Option<String>,
    pub resource_version: Option<i32>,
    pub purpose: String,
    pub break_glass: bool,
    pub break_glass_reason: Option<String>,
    pub request_id: String,
    /// The `X-Break-Glass` header as sent; the access rule checks it.
    pub requested_break_glass: Option<String>,
}

impl Event {
    pub fn new(caller: &Caller, req: &HttpRequest, action: &'static str) -> Self {
        use actix_web::HttpMessage;
        Self {
            action,
            actor_sub: caller.sub.clone(),
            actor_org: caller.org.clone(),
            actor_role: caller.role.as_str().to_owned(),
            patient_id: None,
            resource_type: None,
            resource_id: None,
            resource_version: None,
            purpose: crate::access::purpose_of(caller).to_owned(),
            break_glass: false,
            break_glass_reason: None,
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default(),
            requested_break_glass: req
                .headers()
                .get("x-break-glass")
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        }
    }

    /// An event of the operator's own tools (key rotation), with no HTTP request behind it.
    pub fn system(action: &'static str) -> Self {
        Self {
            action,
            actor_sub: "carepath".into(),
            actor_org: "carepath".into(),
            actor_role: "system".into(),
            patient_id: None,
            resource_type: None,
            resource_id: None,
            resource_version: None,
            purpose: "operations".into(),
            break_glass: false,
            break_glass_reason: None,
            request_id: String::new(),
            requested_break_glass: None,
        }
    }

    pub fn patient(mut self, id: &str) -> Self {
        self.patient_id = Some(id.to_owned());
        self
    }

    pub fn resource(mut self, kind: &'static str, id: &str) -> Self {
        self.resource_type = Some(kind);
        self.resource_id = Some(id.to_owned());
        self
    }
}

/// The canonical encoding that the hash covers: a JSON array in fixed field order.
pub fn canonical(row: &AuditRow) -> String {
    json!([
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
    ])
    .to_string()
}

pub fn chain_hash(prev: &str, canonical: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(prev.as_bytes());
    ctx.update(b"\n");
    ctx.update(canonical.as_bytes());
    ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Appends one event (call inside a write transaction). Returns its sequence number.
pub fn append(conn: &mut DbConn, event: &Event, outcome: &str, status: u16) -> Result<i64, ApiError> {
    let (seq, prev_hash) = advance_head(conn)?;
    let mut row = AuditRow {
        seq,
        at: clock::now(),
        actor_sub: event.actor_sub.clone(),
        actor_org: event.actor_org.clone(),
        actor_role: event.actor_role.clone(),
        action: event.action.to_owned(),
        patient_id: event.patient_id.clone(),
        resource_type: event.resource_type.map(str::to_owned),
        resource_id: event.resource_id.clone(),
        resource_version: event.resource_version,
        outcome: outcome.to_owned(),
        status: i32::from(status),
        purpose: event.purpose.clone(),
        break_glass: event.break_glass,
        break_glass_reason: event.break_glass_reason.clone(),
        request_id: event.request_id.clone(),
        prev_hash,
        hash: String::new(),
    };
    row.hash = chain_hash(&row.prev_hash, &canonical(&row));
    row.insert(conn)?;
    set_head_hash(conn, &row.hash)?;
    Ok(seq)
}

/// The outcome word and status an error stands for.
fn outcome_of(error: &ApiError) -> (&'static str, u16) {
    use actix_web::ResponseError;
    let status = error.status_code().as_u16();
    let outcome = match error {
        ApiError::Forbidden(_) | ApiError::NotFound(_) | ApiError::Unauthorized(_) => "denied",
        ApiError::Internal(_) | ApiError::ServiceUnavailable(_) => "failed",
        _ => "rejected",
    };
    (outcome, status)
}

/// Runs a read and records it (or its denial) durably before the answer leaves.
pub fn read<T>(
    conn: &mut DbConn,
    mut event: Event,
    f: impl FnOnce(&mut DbConn, &mut Event) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let result = f(conn, &mut event);
    let (outcome, status) = match &result {
        Ok(_) => ("allowed", 200),
        Err(e) => outcome_of(e),
    };
    write_tx(conn, |tx| append(tx, &event, outcome, status))?;
    result
}

/// Runs a write in one transaction with its audit event. A refused write is recorded on its own
/// (its transaction rolled back, so nothing else of it remains).
pub fn write<T>(
    conn: &mut DbConn,
    mut event: Event,
    success_status: u16,
    f: impl FnOnce(&mut DbConn, &mut Event) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let result = write_tx(conn, |tx| {
        let value = f(tx, &mut event)?;
        append(tx, &event, "allowed", success_status)?;
        Ok(value)
    });
    if let Err(e) = &result {
        let (outcome, status) = outcome_of(e);
        if outcome != "failed" {
            write_tx(conn, |tx| append(tx, &event, outcome, status))?;
        }
    }
    result
}

/// The result of checking the whole chain.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub valid: bool,
    pub events: i64,
    /// The head's hash: publish it, and a later verify proves nothing before it changed.
    pub head_hash: String,
    /// The first event whose hash or link does not hold.
    pub first_broken_seq: Option<i64>,
}

/// Recomputes every hash from the first event on, in pages.
pub fn verify(conn: &mut DbConn) -> Result<Verification, ApiError> {
    use crate::db::audit::{AuditFilter, head};
    let (head_seq, head_hash) = head(conn)?;
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    let mut filter = AuditFilter::default();
    loop {
        let page = AuditRow::list(conn, &filter, 1000)?;
        let Some(last) = page.last() else { break };
        filter.after_seq = Some(last.seq);
        for row in &page {
            let intact =
                row.seq == expected_seq && row.prev_hash == prev && chain_hash(&prev, &canonical(row)) == row.hash;
            if !intact {
                return Ok(Verification {
                    valid: false,
                    events: expected_seq - 1,
                    head_hash,
                    first_broken_seq: Some(expected_seq),
                });
            }
            prev = row.hash.clone();
            expected_seq += 1;
        }
    }
    let complete = expected_seq - 1 == head_seq && prev == head_hash;
    Ok(Verification {
        valid: complete,
        events: expected_seq - 1,
        first_broken_seq: (!complete).then_some(expected_seq),
        head_hash,
    })
}
