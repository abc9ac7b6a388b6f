//! Consent versions under the chain: the event that creates a version carries the digest of
//! the version as stored, so a consent row edited in the database no longer matches its event.
//!
//! The digest covers the stored row with its sealed fields (the proxy, the revocation reason)
//! replaced by the SHA-256 of their ciphertext: the consent log can then show, and an auditor
//! re-hash, everything the digest covers without the sealed text ever leaving.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::db::audit::AuditRow;
use crate::db::consent_versions::ConsentVersionRow;
use crate::db::consents::ConsentRow;
use crate::db::patients::PatientRow;
use crate::error::ApiError;

/// One consent version exactly as stored, sealed fields as digests: what the audit event's
/// `digest` covers. `digest = SHA-256("carepath:consent-version:v1\n" + this object as compact
/// JSON, fields in this order)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentRecord {
    /// The consent id.
    pub id: String,
    /// The version (1 when recorded; each revocation or amendment adds one).
    pub version: i32,
    /// The patient.
    pub patient_id: String,
    /// `active` or `revoked`.
    pub status: String,
    /// As stored: JSON text of `"care_team"` or a list of organisation ids.
    pub organizations: String,
    /// As stored: JSON text of a list of document types.
    pub permitted_types: String,
    /// As stored: JSON text of a list of document types.
    pub denied_types: String,
    /// As stored: JSON text of a list of purposes.
    pub purposes: String,
    /// First day, YYYY-MM-DD.
    pub period_start: String,
    /// Last day, YYYY-MM-DD.
    pub period_end: Option<String>,
    /// `signed_form`, `verbal` or `proxy`.
    pub obtained_by: String,
    /// SHA-256 (hex) of the sealed proxy (name and relation); the text itself stays sealed.
    pub proxy_sha256: Option<String>,
    /// Restricted fields released too.
    pub release_restricted: bool,
    /// Who recorded the consent (token `sub`).
    pub recorded_by: String,
    /// Their organisation.
    pub recorded_org: String,
    /// When it was recorded.
    pub recorded_at: String,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
    /// SHA-256 (hex) of the sealed revocation reason.
    pub revoke_reason_sha256: Option<String>,
}

fn sha256(bytes: &[u8]) -> String {
    crate::crypto::keyfile::hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

impl ConsentRecord {
    /// The record of a stored version.
    pub fn of(row: &ConsentVersionRow) -> Self {
        let sealed = |s: &Option<String>| s.as_deref().map(|s| sha256(s.as_bytes()));
        Self {
            id: row.id.clone(),
            version: row.version,
            patient_id: row.patient_id.clone(),
            status: row.status.clone(),
            organizations: row.organizations.clone(),
            permitted_types: row.permitted_types.clone(),
            denied_types: row.denied_types.clone(),
            purposes: row.purposes.clone(),
            period_start: row.period_start.clone(),
            period_end: row.period_end.clone(),
            obtained_by: row.obtained_by.clone(),
            proxy_sha256: sealed(&row.proxy),
            release_restricted: row.release_restricted,
            recorded_by: row.recorded_by.clone(),
            recorded_org: row.recorded_org.clone(),
            recorded_at: row.recorded_at.clone(),
            revoked_at: row.revoked_at.clone(),
            revoked_by: row.revoked_by.clone(),
            revoke_reason_sha256: sealed(&row.revoke_reason),
        }
    }

    /// The digest the creating audit event carries.
    pub fn digest(&self) -> String {
        // Serialising a struct of strings, numbers and booleans cannot fail.
        let json = serde_json::to_string(self).unwrap_or_default();
        sha256(format!("carepath:consent-version:v1\n{json}").as_bytes())
    }
}

/// Checks the consent version an event created, and the current consent row if it is that
/// version, against the event's digest. Returns why they do not match, naming the event.
pub(super) fn check_event(conn: &mut DbConn, event: &AuditRow) -> Result<Option<String>, ApiError> {
    let (Some(digest), Some(id), Some(version)) = (&event.digest, &event.resource_id, event.resource_version) else {
        return Ok(None);
    };
    let seq = event.seq;
    let Some(stored) = ConsentVersionRow::find(conn, id, version)? else {
        let erased = match &event.patient_id {
            Some(p) => PatientRow::find(conn, p)?.is_some_and(|p| p.erased_at.is_some()),
            None => false,
        };
        return Ok((!erased).then(|| format!("consent {id} version {version}, created by event {seq}, is missing")));
    };
    if &ConsentRecord::of(&stored).digest() != digest {
        return Ok(Some(format!(
            "consent {id} version {version} was altered: it does not match the digest in event {seq}"
        )));
    }
    // The current row (the one the access rule reads) must be the newest version, as written.
    let altered = match ConsentRow::find(conn, &stored.patient_id, id)? {
        Some(row) if row.version < version => true,
        Some(row) if row.version == version => ConsentRecord::of(&ConsentVersionRow::from(row)).digest() != *digest,
        _ => false,
    };
    Ok(altered.then(|| {
        format!("consent {id} was altered: its current row does not match version {version}'s digest in event {seq}")
    }))
}

/// Checks a consent-log NDJSON export against an audit export already verified (`result`):
/// every line's `record` must re-hash to the digest of the event it names, an event the
/// verified chain holds, about that consent version. The first line that does not is reported
/// on `result` (not ok, its reason naming the consent, version and event).
pub fn check_consent_log(
    audit_ndjson: &str,
    consent_ndjson: &str,
    result: &mut super::Verification,
) -> Result<(), String> {
    use std::collections::HashMap;
    if !result.ok {
        return Ok(());
    }
    let mut events: HashMap<i64, AuditRow> = HashMap::new();
    for line in audit_ndjson.lines().filter(|l| !l.trim().is_empty()) {
        if let Ok(super::ExportLine::Event(row)) = serde_json::from_str(line)
            && row.seq <= result.verified_through
        {
            events.insert(row.seq, *row);
        }
    }
    #[derive(Deserialize)]
    struct Line {
        event_seq: Option<i64>,
        record: ConsentRecord,
    }
    for (n, text) in consent_ndjson.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line: Line = serde_json::from_str(text).map_err(|e| format!("consent log line {}: {e}", n + 1))?;
        let (id, version) = (&line.record.id, line.record.version);
        let fault = match line.event_seq.and_then(|seq| events.get(&seq)) {
            None => Some(format!("consent {id} version {version}: no verified audit event vouches for it")),
            Some(e)
                if e.resource_id.as_deref() != Some(id.as_str())
                    || e.resource_version != Some(version)
                    || e.digest.as_deref() != Some(line.record.digest().as_str()) =>
            {
                Some(format!("consent {id} version {version} does not match the digest in event {}", e.seq))
            }
            Some(_) => None,
        };
        if let Some(reason) = fault {
            result.ok = false;
            result.first_broken = line.event_seq;
            result.reason = Some(reason);
            return Ok(());
        }
    }
    Ok(())
}
