//! Reading documents: one version, a history, a patient's list.

use crate::access::{Action, Resource};
use crate::audit::Event;
use crate::auth::Caller;
use crate::db::DbConn;
use crate::db::documents::{DocumentRow, VersionRow};
use crate::domain::paging;
use crate::domain::patients::erased_patient_gone;
use crate::error::ApiError;
use crate::gate::{Want, authorize};
use crate::state::AppState;

use super::{Document, ListCursor, ListFilter, load_head, note, render};

/// Reads the current version, or version `n`.
pub fn read(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    id: &str,
    n: Option<i32>,
    event: &mut Event,
) -> Result<Document, ApiError> {
    let (head, access) = load_head(conn, state, caller, id, Action::Read, event)?;
    if n.is_none() && head.deleted {
        return Err(ApiError::Gone("this document was deleted".into()));
    }
    let v = VersionRow::find(conn, id, n.unwrap_or(head.version))?
        .ok_or_else(|| ApiError::NotFound("no such version".into()))?;
    note(event, &v);
    render(state, access.allowed.restricted, &access.patient, &head, &v)
}

/// Every version, newest first, below version `before`.
pub fn history(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    id: &str,
    before: Option<i32>,
    limit: i64,
    event: &mut Event,
) -> Result<Vec<Document>, ApiError> {
    let (head, access) = load_head(conn, state, caller, id, Action::Read, event)?;
    let restricted = access.allowed.restricted;
    VersionRow::history(conn, id, before, limit)?
        .iter()
        .map(|v| render(state, restricted, &access.patient, &head, v))
        .collect()
}

/// A patient's live documents (current versions), oldest change first, and the cursor of the
/// next page. Consent may share some types and not others: each document is asked about on its
/// own, those not shared are absent, and the page is filled past them (`paging::fill`). A caller
/// who may read the patient but whom no consent shares any document with (none yet, or revoked)
/// gets an empty page, as the patient record answers 200: not a 404 that says the patient is gone.
pub fn list(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient_id: &str,
    filter: &ListFilter,
    limit: i64,
    event: &mut Event,
) -> Result<(Vec<Document>, Option<ListCursor>), ApiError> {
    let access = match authorize(conn, state, caller, patient_id, Want::read(Resource::Document), event) {
        Err(ApiError::NotFound(_)) => {
            // No consent shares any type with the caller: if the patient is readable, nothing is.
            let access = authorize(conn, state, caller, patient_id, Want::read(Resource::Patient), event)?;
            erased_patient_gone(&access.patient)?;
            return Ok((Vec::new(), None));
        }
        other => other?,
    };
    erased_patient_gone(&access.patient)?;
    let fetch = |conn: &mut DbConn, after: Option<&ListCursor>, n: i64| {
        Ok(DocumentRow::list_for_patient(
            conn,
            &access.patient.id,
            filter.doc_type.as_deref(),
            filter.updated_since.as_deref(),
            after.map(|(a, b)| (a.as_str(), b.as_str())),
            n,
        )?)
    };
    let keep = |conn: &mut DbConn, head: DocumentRow| {
        let decision = crate::gate::allows(
            state,
            caller,
            &access.facts,
            Want::read(Resource::Document).of_type(&head.doc_type),
            event.break_glass,
        );
        let Ok(allowed) = decision else { return Ok(None) };
        let v = VersionRow::find(conn, &head.id, head.version)?
            .ok_or_else(|| ApiError::internal("head without version"))?;
        render(state, allowed.restricted, &access.patient, &head, &v).map(Some)
    };
    let key = |head: &DocumentRow| (head.updated_at.clone(), head.id.clone());
    paging::fill(conn, limit, filter.after.clone(), fetch, key, keep)
}
