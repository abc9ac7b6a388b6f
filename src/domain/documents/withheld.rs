//! Restricted values withheld from a writer who is not cleared for them. An update by such a
//! writer keeps them: each current value is opened (bound to the current version's place) and
//! carried into the new content, to be sealed again for the new version's place. Setting a value
//! at a withheld pointer is refused (422 naming it), so nothing is ever dropped or overwritten
//! unseen. Values are opened only in memory, and never shown to the writer.

use serde_json::Value;

use crate::crypto::sealing::{self, Place};
use crate::db::documents::VersionRow;
use crate::db::patients::PatientRow;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// The restricted values of a stored version, opened, by pointer into its content.
pub fn current(state: &AppState, patient: &PatientRow, v: &VersionRow) -> Result<Vec<(String, Value)>, ApiError> {
    let Some(stored) = &v.content else { return Ok(Vec::new()) };
    let entry = state
        .schemas
        .get(&v.doc_type, &v.schema_version)
        .ok_or_else(|| ApiError::internal(format!("stored schema {} {} is gone", v.doc_type, v.schema_version)))?;
    let stored: Value = serde_json::from_str(stored).map_err(ApiError::internal)?;
    let key = state.data_key(patient)?;
    let place = Place { patient_id: &v.patient_id, document_id: &v.document_id, version: i64::from(v.version) };
    sealing::restricted(&entry.marked, &stored, &key, place).map_err(ApiError::internal)
}

/// Puts each withheld value back into `content` where it was, and returns their pointers. The
/// writer's content must leave each one absent (or `null`, as a withheld array element reads),
/// and must keep the object or array that held it; otherwise 422 names every such pointer.
pub fn carry(content: &mut Value, values: Vec<(String, Value)>) -> Result<Vec<String>, ApiError> {
    let mut errors = Vec::new();
    let mut kept = Vec::new();
    for (pointer, value) in values {
        if content.pointer(&pointer).is_some_and(|v| !v.is_null()) {
            errors.push(FieldError::new(
                format!("/content{pointer}"),
                "this restricted field is withheld from you: leave it out and its current value is kept",
            ));
        } else if put(content, &pointer, value) {
            kept.push(pointer);
        } else {
            errors.push(FieldError::new(
                format!("/content{pointer}"),
                "this restricted field is withheld from you: keep the object or array element that holds it",
            ));
        }
    }
    if errors.is_empty() { Ok(kept) } else { Err(ApiError::Validation(errors)) }
}

fn put(content: &mut Value, pointer: &str, value: Value) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else { return false };
    match content.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last.replace("~1", "/").replace("~0", "~"), value);
            true
        }
        Some(Value::Array(items)) => match last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// Validation messages quote the values they judge: where an error touches a kept value (at,
/// under or above its pointer), its message is replaced so the writer learns nothing of it.
pub fn redact(errors: Vec<FieldError>, kept: &[String], schema_version: &str) -> Vec<FieldError> {
    let touches = |pointer: &str| {
        pointer.starts_with("/content")
            && kept
                .iter()
                .map(|k| format!("/content{k}"))
                .any(|k| k == pointer || k.starts_with(&format!("{pointer}/")) || pointer.starts_with(&format!("{k}/")))
    };
    errors
        .into_iter()
        .map(|e| {
            if touches(&e.pointer) {
                FieldError::new(
                    e.pointer,
                    format!(
                        "does not fit schema version {schema_version}; the details are withheld because this \
                         part holds restricted values withheld from you"
                    ),
                )
            } else {
                e
            }
        })
        .collect()
}
