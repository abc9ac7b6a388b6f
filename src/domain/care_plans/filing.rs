//! Filing one patient's document from a send unit, inside the import's transaction: the same
//! create and update as `POST /v1/patients/{id}/documents` and `PUT /v1/documents/{id}` (the
//! gate, the schema, sealing, the feed), each with its audit event. A document whose content
//! the file repeats is left as it is: sending a file again changes nothing.

use serde_json::Value;

use crate::audit::{self, Event};
use crate::auth::Caller;
use crate::careplan::content::schema_version;
use crate::db::DbConn;
use crate::db::documents::{DocumentRow, VersionRow};
use crate::domain::documents::{self, DocumentInput, IfMatch, Update};
use crate::error::ApiError;
use crate::state::AppState;

use super::Outcome;

/// What happened to one document.
pub struct Filed {
    pub outcome: Outcome,
    pub document_id: String,
    pub version: i32,
}

/// The patient's live documents of `doc_type` whose stored (unsealed) member `key` is `value`,
/// newest first; with `key` `None`, all of them.
pub fn existing(
    conn: &mut DbConn,
    patient_id: &str,
    doc_type: &str,
    key: Option<(&str, &str)>,
) -> Result<Vec<DocumentRow>, ApiError> {
    let mut found = Vec::new();
    for head in DocumentRow::list_for_patient(conn, patient_id, Some(doc_type), None, None, 1000)? {
        let Some((member, value)) = key else {
            found.push(head);
            continue;
        };
        // The member is an unmarked one (the month), so it reads without opening anything.
        let stored = VersionRow::find(conn, &head.id, head.version)?.and_then(|v| v.content);
        let stored: Value = stored
            .as_deref()
            .map(serde_json::from_str::<Value>)
            .transpose()
            .map_err(ApiError::internal)?
            .unwrap_or_default();
        if stored[member].as_str() == Some(value) {
            found.push(head);
        }
    }
    found.reverse();
    Ok(found)
}

/// The current content of a document as `caller` reads it (`None` if it may not).
pub fn current(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    id: &str,
    event: &Event,
) -> Result<Value, ApiError> {
    let mut ev = event.clone();
    Ok(documents::read(conn, state, caller, id, None, &mut ev)?.content)
}

/// Creates the document, replaces `head`'s content as a new version, or leaves it when the
/// content is the same; the written version's audit event is appended to the transaction.
pub fn file(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    (patient_id, doc_type): (&str, &str),
    head: Option<&DocumentRow>,
    content: Value,
    event: &mut Event,
) -> Result<Filed, ApiError> {
    let input =
        DocumentInput { doc_type: doc_type.to_owned(), schema_version: schema_version(doc_type).into(), content };
    let written = match head {
        None => {
            event.action = "document.create";
            documents::create(conn, state, caller, patient_id, &input, None, event)?
        }
        Some(head) => {
            if current(conn, state, caller, &head.id, event)? == input.content {
                return Ok(Filed { outcome: Outcome::Unchanged, document_id: head.id.clone(), version: head.version });
            }
            event.action = "document.update";
            let change = Update { id: &head.id, if_match: IfMatch::Any, input: &input, idem: None };
            documents::update(conn, state, caller, change, event)?
        }
    };
    audit::append(conn, event, "allowed", written.status)?;
    let outcome = if written.status == 201 { Outcome::Created } else { Outcome::Updated };
    Ok(Filed { outcome, document_id: written.document.id, version: written.document.version })
}

/// Ends a document as withdrawn (a tombstone version; its history stays).
pub fn withdraw(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    head: &DocumentRow,
    event: &mut Event,
) -> Result<Filed, ApiError> {
    event.action = "document.delete";
    let doc = documents::delete(conn, state, caller, &head.id, IfMatch::Any, event)?;
    audit::append(conn, event, "allowed", 200)?;
    Ok(Filed { outcome: Outcome::Withdrawn, document_id: doc.id, version: doc.version })
}
