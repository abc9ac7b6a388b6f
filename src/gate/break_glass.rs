//! Break-glass reasons: bounded, stored once with the grant, sealed under the patient's data key
//! (so erasure destroys them), and referenced from audit events as `grant:<id>`.

use serde_json::Value;

use crate::crypto::FieldContext;
use crate::db::DbConn;
use crate::db::consents::BreakGlassRow;
use crate::db::patients::PatientRow;
use crate::error::ApiError;
use crate::state::AppState;

/// A break-glass reason must say something...
pub const MIN_REASON: usize = 10;
/// ...and not too much: it is free text stored with the grant, never copied per event.
pub const MAX_REASON: usize = 500;
/// Filler such as `aaaaaaaaaa` or `.-.-.-.-.-` says nothing.
pub const MIN_DISTINCT: usize = 5;

const POINTER: &str = "/break_glass_reason";
const PREFIX: &str = "grant:";

/// The reason as sent, checked and trimmed; the message names what is wrong.
pub fn check_reason(raw: &str) -> Result<String, ApiError> {
    let bad = |message: String| Err(ApiError::field("/header/X-Break-Glass", message));
    let reason = raw.trim();
    let length = reason.chars().count();
    if !(MIN_REASON..=MAX_REASON).contains(&length) {
        return bad(format!("give a reason of {MIN_REASON} to {MAX_REASON} characters"));
    }
    if reason.chars().any(|c| c.is_control() || c == '\u{fffd}') {
        return bad("the reason must be printable text (no control characters)".into());
    }
    let mut distinct: Vec<char> = reason.chars().filter(|c| !c.is_whitespace()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT {
        return bad("the reason must say why (repeated filler is not a reason)".into());
    }
    Ok(reason.to_owned())
}

fn at<'a>(patient_id: &'a str, grant_id: &'a str) -> FieldContext<'a> {
    FieldContext { patient_id, document_id: grant_id, version: 1, pointer: POINTER }
}

/// The reason sealed for the grant `grant_id` of `patient`.
pub fn seal_reason(state: &AppState, patient: &PatientRow, grant_id: &str, reason: &str) -> Result<String, ApiError> {
    let key = state.data_key(patient)?;
    key.seal(&at(&patient.id, grant_id), &Value::String(reason.to_owned())).map_err(ApiError::internal)
}

/// What an audit event records instead of the reason.
pub fn reference(grant_id: &str) -> String {
    format!("{PREFIX}{grant_id}")
}

/// The reason an audit event's `break_glass_reason` stands for, for a caller who may review
/// break-glass accesses: a `grant:<id>` reference is opened from the grant; `None` once the
/// patient was erased (the key is gone) or the grant cannot be read. Events written before
/// reasons moved to the grant hold the text itself, returned as it is.
pub fn reveal_reason(conn: &mut DbConn, state: &AppState, stored: &str) -> Result<Option<String>, ApiError> {
    let Some(grant_id) = stored.strip_prefix(PREFIX) else { return Ok(Some(stored.to_owned())) };
    let Some(grant) = BreakGlassRow::find(conn, grant_id)? else { return Ok(None) };
    let Some(patient) = PatientRow::find(conn, &grant.patient_id)? else { return Ok(None) };
    if patient.data_key.is_none() || grant.reason.is_empty() {
        return Ok(None);
    }
    let key = state.data_key(&patient)?;
    match key.open(&at(&patient.id, &grant.id), &grant.reason) {
        Ok(Value::String(text)) => Ok(Some(text)),
        Ok(_) | Err(_) => {
            tracing::error!(grant = %grant.id, "unreadable break-glass reason");
            Ok(None)
        }
    }
}
