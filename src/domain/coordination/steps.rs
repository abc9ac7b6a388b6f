//! The steps every sheet request shares: finding the addressee in the directory and checking
//! that it may see the patient (the 422 that says why), checking texts, and recording a state
//! change as the sheet's next version with its thread entry.

use super::Addressee;
use super::SHEET_TYPE;
use super::keys::SheetKey;
use super::view::note_pointer;
use crate::access::{self, Denial, PatientFacts, Resource};
use crate::auth::{Caller, Role};
use crate::db::DbConn;
use crate::db::contact_sheets::{SheetEventRow, SheetRow};
use crate::db::directory::{OrganizationRow, PractitionerRow};
use crate::domain::fields::Errors;
use crate::error::ApiError;
use crate::gate::Want;
use crate::state::AppState;

/// The longest body, reply or note, in characters.
pub const MAX_TEXT: usize = 4000;

/// An addressee found in the directory.
pub(super) struct Target {
    pub org: String,
    pub practitioner: Option<String>,
    pub desk: bool,
}

/// Finds the addressee (`pointer` names the field for a 422).
pub(super) fn resolve(conn: &mut DbConn, to: &Addressee, pointer: &str) -> Result<Target, ApiError> {
    let (org, practitioner) = match (&to.organization, &to.practitioner) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::field(pointer, "name either an organization or a practitioner"));
        }
        (Some(org), None) => (org.clone(), None),
        (None, Some(p)) => {
            let row = PractitionerRow::find(conn, p)?
                .ok_or_else(|| ApiError::field(format!("{pointer}/practitioner"), "no such practitioner"))?;
            (row.organization_id, Some(row.id))
        }
    };
    let kind = OrganizationRow::find(conn, &org)?
        .ok_or_else(|| ApiError::field(format!("{pointer}/organization"), "no such organization"))?
        .kind;
    Ok(Target { org, practitioner, desk: kind == "consultation_desk" })
}

/// The addressee must be allowed to see the patient's contact sheets under the access rule
/// itself (asked as if it were reading); else a 422 that says why, never a silent drop.
pub(super) fn check_addressee(
    state: &AppState,
    caller: &Caller,
    facts: &PatientFacts,
    target: &Target,
    pointer: &str,
) -> Result<(), ApiError> {
    let addressee = Caller {
        sub: "addressee".into(),
        org: target.org.clone(),
        role: Role::Physician,
        purpose: caller.purpose.clone(),
    };
    let want = Want::read(Resource::ContactSheet).of_type(SHEET_TYPE);
    match crate::gate::allows(state, &addressee, facts, want, false) {
        Ok(_) => Ok(()),
        Err(Denial::NoConsent) => Err(ApiError::field(
            pointer,
            format!(
                "consent missing: no consent of the patient in force names organisation {} for contact sheets and \
                 purpose {}; record the patient's consent first",
                target.org,
                access::purpose_of(caller)
            ),
        )),
        Err(_) => Err(ApiError::field(
            pointer,
            format!(
                "organisation {} neither manages the patient nor is on its care team (nor is it a consultation desk \
                 named by the patient's consent), so it may not see this patient",
                target.org
            ),
        )),
    }
}

pub(super) fn check_text(errors: &mut Errors, pointer: &str, text: &str) {
    if text.trim().is_empty() {
        errors.add(pointer, "must not be empty");
    } else if text.chars().count() > MAX_TEXT {
        errors.add(pointer, format!("at most {MAX_TEXT} characters"));
    }
}

/// A thread entry for a state change or message, at the sheet's new version.
pub(super) struct Entry<'a> {
    pub op: &'static str,
    pub to: Option<(&'a str, Option<&'a str>)>,
    pub note: Option<&'a str>,
}

/// Moves the sheet to its next version with this entry; the caller has already changed the row.
pub(super) fn record(
    tx: &mut DbConn,
    key: &SheetKey,
    sheet: &mut SheetRow,
    caller: &Caller,
    entry: Entry<'_>,
    (seq, now): (i64, &str),
) -> Result<(), ApiError> {
    let expected = sheet.version;
    sheet.version += 1;
    sheet.updated_at = now.to_owned();
    let note = entry.note.map(|n| key.seal(sheet.version, &note_pointer(sheet.version), n)).transpose()?;
    SheetEventRow {
        sheet_id: sheet.id.clone(),
        version: sheet.version,
        seq,
        patient_id: sheet.patient_id.clone(),
        op: entry.op.to_owned(),
        actor_sub: caller.sub.clone(),
        actor_org: caller.org.clone(),
        to_org: entry.to.map(|(org, _)| org.to_owned()),
        to_practitioner: entry.to.and_then(|(_, p)| p.map(str::to_owned)),
        note,
        at: sheet.updated_at.clone(),
    }
    .insert(tx)?;
    if !sheet.advance(tx, expected)? {
        return Err(ApiError::Conflict("the sheet changed meanwhile; try again".into()));
    }
    Ok(())
}
