//! A received document's notice in the addressee's contact-sheet inbox: a JP-CLINS referral
//! letter (or discharge summary, patient summary) names the organisation it is addressed to; when
//! that organisation is in the directory and may see the patient's contact sheets, the import
//! files a sheet to it in the same transaction as the document, so the referral does not sit
//! unread: it shows in the inbox as delivered, and the addressee's first open is the read
//! receipt, as for any sheet.
//!
//! Filed only when nothing would refuse it: the importer may write the patient's contact sheets
//! and the addressee may read them (on the care team, managing, or named by a consent). Anything
//! else files nothing and the import stands; the document itself is the record.

use super::keys::SheetKey;
use super::steps::{Entry, Target, check_addressee, record};
use super::{Category, SHEET_TYPE, State, Urgency};
use crate::access::Resource;
use crate::audit::Event;
use crate::auth::Caller;
use crate::db::DbConn;
use crate::db::contact_sheets::{self, SheetRow};
use crate::db::directory::OrganizationRow;
use crate::db::documents::next_seq;
use crate::error::ApiError;
use crate::gate::{Want, authorize};
use crate::state::AppState;

/// What the notice says and to whom.
pub struct Notice<'a> {
    /// The patient the document is about.
    pub patient_id: &'a str,
    /// The addressee organisation's name as the document gives it (directory names are unique).
    pub to_name: &'a str,
    /// A referral is a request, a discharge summary a discharge, a patient summary a report.
    pub category: Category,
    /// What the sheet says: the document, its sender and purpose, where to read it.
    pub body: String,
}

/// Files the notice in `tx`; the id of the sheet filed, or `None` when nothing was filed.
/// `ev` is a scratch copy: the import's own event records the document.
pub fn file(
    tx: &mut DbConn,
    st: &AppState,
    caller: &Caller,
    notice: &Notice<'_>,
    ev: &mut Event,
) -> Result<Option<String>, ApiError> {
    let Some(org) = OrganizationRow::find_by_name(tx, notice.to_name)? else { return Ok(None) };
    if org.id == caller.org {
        return Ok(None);
    }
    let want = Want::write(Resource::ContactSheet).of_type(SHEET_TYPE);
    let access = match authorize(tx, st, caller, notice.patient_id, want, ev) {
        Ok(a) => a,
        Err(ApiError::NotFound(_) | ApiError::Forbidden(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let target = Target { org: org.id.clone(), practitioner: None, desk: org.kind == "consultation_desk" };
    if check_addressee(st, caller, &access.facts, &target, "/to").is_err() {
        return Ok(None);
    }
    let id = uuid::Uuid::new_v4().to_string();
    let key = SheetKey::of_patient(st, &access.patient, &id)?;
    let now = st.clock.stamp();
    let sent_seq = next_seq(tx)?;
    let mut row = SheetRow {
        id: id.clone(),
        patient_id: Some(access.patient.id.clone()),
        sender_sub: caller.sub.clone(),
        sender_org: caller.org.clone(),
        to_org: org.id.clone(),
        to_practitioner: None,
        category: notice.category.as_str().to_owned(),
        urgency: Urgency::Routine.as_str().to_owned(),
        body: key.seal(1, "/body", &notice.body)?,
        reply_by: None,
        state: State::Sent.as_str().to_owned(),
        version: 0,
        sent_at: now.clone(),
        delivered_at: None,
        read_at: None,
        read_by: None,
        answered_at: None,
        closed_at: None,
        withdrawn_at: None,
        updated_at: now.clone(),
        data_key_kid: None,
        data_key: None,
    };
    row.insert(tx)?;
    let to = Some((org.id.as_str(), None));
    record(tx, &key, &mut row, caller, Entry { op: "sent", to, note: None }, (sent_seq, &now))?;
    let delivered_seq = next_seq(tx)?;
    row.state = State::Delivered.as_str().to_owned();
    row.delivered_at = Some(now.clone());
    record(tx, &key, &mut row, caller, Entry { op: "delivered", to: None, note: None }, (delivered_seq, &now))?;
    contact_sheets::add_party(tx, &id, &caller.org)?;
    contact_sheets::add_party(tx, &id, &org.id)?;
    Ok(Some(id))
}
