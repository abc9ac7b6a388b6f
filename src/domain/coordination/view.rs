//! How a sheet is answered: whole (body and thread opened) to its parties, or as a summary in a
//! listing (no sealed text at all).

use serde::Serialize;
use utoipa::ToSchema;

use super::keys::SheetKey;
use super::{Addressee, Category, State, Urgency};
use crate::db::contact_sheets::{SheetEventRow, SheetRow};
use crate::error::ApiError;

/// Who sent a sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sender {
    /// The sender's organisation.
    pub organization: String,
    /// The sending practitioner (token `sub`).
    pub practitioner: String,
}

/// A sheet without its texts, as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetSummary {
    /// The sheet id (a UUID).
    pub id: String,
    /// The patient it is about; absent for a general question to a consultation desk.
    pub patient_id: Option<String>,
    /// Who sent it.
    pub from: Sender,
    /// Whom it is addressed to now (after a forward, the new addressee).
    pub to: Addressee,
    /// What it is about.
    pub category: Category,
    /// How soon an answer is needed.
    pub urgency: Urgency,
    /// Answer wanted by; RFC 3339 in UTC.
    pub reply_by: Option<String>,
    /// Where it is in its life.
    pub state: State,
    /// Bumped by every state change.
    pub version: i32,
    /// Past `reply_by` and still unanswered (sent, delivered, read or forwarded).
    pub overdue: bool,
    /// When it was sent; RFC 3339 in UTC.
    pub sent_at: String,
    /// When it reached the addressee's inbox.
    pub delivered_at: Option<String>,
    /// When the (current) addressee first opened it: the read receipt.
    pub read_at: Option<String>,
    /// Who opened it (token `sub`).
    pub read_by: Option<String>,
    /// When it was first answered.
    pub answered_at: Option<String>,
    /// When it was closed.
    pub closed_at: Option<String>,
    /// When the sender withdrew it.
    pub withdrawn_at: Option<String>,
}

/// One entry of a sheet's thread: a state change or a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadEntry {
    /// The sheet version this entry made.
    pub version: i32,
    /// `sent`, `delivered`, `read`, `answered` (the addressee's reply), `replied` (a further
    /// message), `forwarded`, `withdrawn` or `closed`.
    pub op: String,
    /// Who did it (token `sub`).
    pub by: String,
    /// Their organisation: for a reply, this is who answered.
    pub organization: String,
    /// For `sent` and `forwarded`: the addressee.
    pub to: Option<Addressee>,
    /// A reply's text, or a forwarding note.
    pub text: Option<String>,
    /// When; RFC 3339 in UTC.
    pub at: String,
}

/// A sheet with its body and thread, as its parties see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sheet {
    /// Addressing, state and times.
    #[serde(flatten)]
    pub summary: SheetSummary,
    /// The sheet's text.
    pub body: String,
    /// Every state change and message, oldest first.
    pub thread: Vec<ThreadEntry>,
}

fn state_of(row: &SheetRow) -> Result<State, ApiError> {
    row.state.parse().map_err(ApiError::internal)
}

/// The summary of a stored sheet, judged overdue at `now`.
pub fn summary(row: &SheetRow, now: &str) -> Result<SheetSummary, ApiError> {
    let state = state_of(row)?;
    Ok(SheetSummary {
        id: row.id.clone(),
        patient_id: row.patient_id.clone(),
        from: Sender { organization: row.sender_org.clone(), practitioner: row.sender_sub.clone() },
        to: Addressee { organization: Some(row.to_org.clone()), practitioner: row.to_practitioner.clone() },
        category: row.category.parse().map_err(ApiError::internal)?,
        urgency: row.urgency.parse().map_err(ApiError::internal)?,
        reply_by: row.reply_by.clone(),
        state,
        version: row.version,
        overdue: state.is_open() && row.reply_by.as_deref().is_some_and(|by| by < now),
        sent_at: row.sent_at.clone(),
        delivered_at: row.delivered_at.clone(),
        read_at: row.read_at.clone(),
        read_by: row.read_by.clone(),
        answered_at: row.answered_at.clone(),
        closed_at: row.closed_at.clone(),
        withdrawn_at: row.withdrawn_at.clone(),
    })
}

/// Where a thread entry's text is sealed.
pub fn note_pointer(version: i32) -> String {
    format!("/thread/{version}/text")
}

/// The whole sheet, its texts opened with `key`.
pub fn whole(row: &SheetRow, thread: &[SheetEventRow], key: &SheetKey, now: &str) -> Result<Sheet, ApiError> {
    let body = key.open(1, "/body", &row.body)?;
    let thread = thread
        .iter()
        .map(|e| {
            Ok(ThreadEntry {
                version: e.version,
                op: e.op.clone(),
                by: e.actor_sub.clone(),
                organization: e.actor_org.clone(),
                to: e
                    .to_org
                    .as_ref()
                    .map(|org| Addressee { organization: Some(org.clone()), practitioner: e.to_practitioner.clone() }),
                text: e.note.as_deref().map(|n| key.open(e.version, &note_pointer(e.version), n)).transpose()?,
                at: e.at.clone(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Sheet { summary: summary(row, now)?, body, thread })
}
