//! What the audit log's routes take and answer: domain types, so that the storage rows
//! (`db::audit`) never leave as they are.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit;
use crate::db::audit::{AuditRow, ReviewRow};

/// Which events an auditor's query returns, and how many.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events about this patient.
    pub patient_id: Option<String>,
    /// Only events by this actor (`sub`).
    pub actor: Option<String>,
    /// Only events by members of this organisation.
    pub organization: Option<String>,
    /// Only this action, e.g. `document.read`.
    pub action: Option<String>,
    /// Events at or after this time (RFC 3339).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Events before this time (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Only break-glass accesses (`true`), or none of them (`false`).
    pub break_glass: Option<bool>,
    /// Events after this sequence number (the `next_cursor` of the previous page).
    pub cursor: Option<i64>,
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// One event of the log, with its review when it is a reviewed break-glass access.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    /// The event as recorded, at the top level of the object.
    #[serde(flatten)]
    pub event: RecordedEvent,
    /// For break-glass events (and releases of restricted fields): the auditor's review, once made.
    pub review: Option<Review>,
}

/// An event as the log recorded it. Every field is as chained: the hashes cover them all.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordedEvent {
    /// Its place in the chain, from 1.
    pub seq: i64,
    /// When it happened; RFC 3339 in UTC.
    pub at: String,
    /// Who acted: the caller's `sub`.
    pub actor_sub: String,
    /// The caller's organisation.
    pub actor_org: String,
    /// The caller's role.
    pub actor_role: String,
    /// What was done, e.g. `document.read`.
    pub action: String,
    /// The patient whose data it concerned, if any.
    pub patient_id: Option<String>,
    /// The kind of resource, e.g. `document`.
    pub resource_type: Option<String>,
    /// Its id.
    pub resource_id: Option<String>,
    /// Its version, where it has versions.
    pub resource_version: Option<i32>,
    /// `success`, `denied` or `failure`.
    pub outcome: String,
    /// The HTTP status answered.
    pub status: i32,
    /// The purpose of use the access was made under.
    pub purpose: String,
    /// An emergency access.
    pub break_glass: bool,
    /// The reason given for an emergency access.
    pub break_glass_reason: Option<String>,
    /// The request's `X-Request-Id`.
    pub request_id: String,
    /// The hash of the event before it.
    pub prev_hash: String,
    /// This event's hash, over its fields and `prev_hash`.
    pub hash: String,
    /// What the access rested on (JSON text: `kind` and its ids), or the failed condition
    /// (`{"kind": "denied", "condition": ...}`); absent where no access rule was asked.
    pub basis: Option<String>,
    /// The SHA-256 of the consent version this event created.
    pub digest: Option<String>,
}

impl From<AuditRow> for RecordedEvent {
    fn from(r: AuditRow) -> Self {
        Self {
            seq: r.seq,
            at: r.at,
            actor_sub: r.actor_sub,
            actor_org: r.actor_org,
            actor_role: r.actor_role,
            action: r.action,
            patient_id: r.patient_id,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            resource_version: r.resource_version,
            outcome: r.outcome,
            status: r.status,
            purpose: r.purpose,
            break_glass: r.break_glass,
            break_glass_reason: r.break_glass_reason,
            request_id: r.request_id,
            prev_hash: r.prev_hash,
            hash: r.hash,
            basis: r.basis,
            digest: r.digest,
        }
    }
}

/// An auditor's review of a break-glass access or a release of restricted fields.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Review {
    /// The event reviewed.
    pub event_seq: i64,
    /// The reviewing auditor's `sub`.
    pub reviewer_sub: String,
    /// The reviewing auditor's organisation.
    pub reviewer_org: String,
    /// The auditor's finding.
    pub comment: String,
    /// When; RFC 3339 in UTC.
    pub reviewed_at: String,
}

impl From<ReviewRow> for Review {
    fn from(r: ReviewRow) -> Self {
        Self {
            event_seq: r.event_seq,
            reviewer_sub: r.reviewer_sub,
            reviewer_org: r.reviewer_org,
            comment: r.comment,
            reviewed_at: r.reviewed_at,
        }
    }
}

/// One page of events in sequence order; the cursor is a sequence number.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The events of this page.
    pub items: Vec<AuditEvent>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

/// An auditor's review of a break-glass access.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// The auditor's finding, at most 2000 characters.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub comment: String,
}

/// The key that verifies the log's signed checkpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKey {
    /// Always `Ed25519`.
    pub algorithm: &'static str,
    /// The key's id, as named by the checkpoints it signs.
    pub key_id: String,
    /// Base64 of the raw 32-byte Ed25519 public key.
    pub public_key: String,
    /// Every key that has signed checkpoints, with the checkpoints it may sign: give this whole
    /// answer to `carepath audit verify --public-key` to check an export spanning a rotation.
    pub keys: Vec<audit::PublicKey>,
}

/// One opening of a patient's record, told without clinical content or individual names.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntry {
    /// The audit event's sequence number.
    pub seq: i64,
    /// When the record was opened; RFC 3339 in UTC.
    pub at: String,
    /// The organisation whose member opened the record.
    pub organization: String,
    /// Its name in the directory, when it has one.
    pub organization_name: Option<String>,
    /// The profession (role) of the member who opened it.
    pub profession: String,
    /// What was read, e.g. `document.read` or `care_team.read`.
    pub action: String,
    /// Whether it was an emergency (break-glass) access.
    pub break_glass: bool,
}
