//! The audit log: an event for every access to patient data (read, list, search, write, denial),
//! every consent change, break-glass, key rotation and erasure. Events name who, what, which
//! patient and resource, and the outcome; never clinical content.
//!
//! Each event's hash is SHA-256 over the previous hash and a canonical encoding of the event, so
//! changing, inserting or removing any event breaks every later hash. A write's event commits in
//! the write's own transaction; a read's event commits before the response leaves.

mod chain;
mod checkpoint;
mod consent;
mod event;
mod keys;
mod signer;
mod verify;

pub use chain::{GENESIS, append, append_all, canonical, chain_hash};
pub use consent::{ConsentRecord, check_consent_log};
pub use event::Event;
pub use keys::{KeySet, PublicKey};
pub use signer::{Signer, registered_keys, rotate as rotate_signing_key};
pub use verify::{ExportLine, Verification, export, verify, verify_export, verify_export_with, verify_with};

use diesel::Connection;

use crate::db::DbConn;
use crate::error::ApiError;

/// The outcome word and status an error stands for.
pub fn outcome_of(error: &ApiError) -> (&'static str, u16) {
    let status = error.status();
    let outcome = match error {
        ApiError::Forbidden(_) | ApiError::NotFound(_) | ApiError::Unauthorized(_) => "denied",
        ApiError::Internal(_) | ApiError::ServiceUnavailable(_) | ApiError::Contended(_) => "failed",
        _ => "rejected",
    };
    (outcome, status)
}

/// The outcome a read ends with, for its event.
pub fn read_outcome<T>(result: &Result<T, ApiError>) -> (&'static str, u16) {
    match result {
        Ok(_) => ("allowed", 200),
        Err(e) => outcome_of(e),
    }
}

/// Runs a write with its audit event under a savepoint of the caller's transaction (the
/// committer's batch). A refused write is rolled back to the savepoint and its refusal recorded
/// in its place; a failed one (the database's fault, not the request's) records nothing.
pub fn write<T>(
    conn: &mut DbConn,
    mut event: Event,
    success_status: u16,
    f: impl FnOnce(&mut DbConn, &mut Event) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let result = conn.transaction(|tx| {
        let value = f(tx, &mut event)?;
        append(tx, &event, "allowed", success_status)?;
        Ok(value)
    });
    if let Err(e) = &result {
        let (outcome, status) = outcome_of(e);
        if outcome != "failed" {
            conn.transaction(|tx| append(tx, &event, outcome, status))?;
        }
    }
    result
}
