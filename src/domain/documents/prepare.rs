//! A create made ready before it reaches the committer: its content validated and sealed on the
//! request's own thread, so that the one writer only runs statements (issue 28: validation,
//! sealing and the echo were a fifth of the committer's time per create). Inside the batch only
//! what could have changed meanwhile is checked again: the patient's wrapped data key (a rotation
//! re-wraps it, an erasure drops it); if it changed, the content is sealed there after all.

use crate::crypto::WrappedKey;
use crate::crypto::sealing::{self, Place};
use crate::db::DbConn;
use crate::db::patients::PatientRow;
use crate::error::ApiError;
use crate::state::AppState;

use super::DocumentInput;

/// The subject of the throwaway key an unknown patient's content is sealed under.
const DECOY: &str = "decoy";

/// A create's content, checked and sealed for the document it will become.
pub struct Prepared {
    /// The new document's id, bound into its sealed fields.
    pub(super) id: String,
    /// The schema's verdict on the content, answered only once the caller is authorised (a
    /// stranger hears 404 whatever the content).
    pub(super) verdict: Result<(), ApiError>,
    /// The sealed content, with the wrapped key it was sealed under.
    sealed: Option<(WrappedKey, String)>,
}

impl Prepared {
    /// The sealed content, if it was sealed under the key `patient` holds now.
    pub(super) fn sealed_for(&self, patient: &PatientRow) -> Option<String> {
        let (wrapped, sealed) = self.sealed.as_ref()?;
        let same = patient.data_key.as_deref() == Some(wrapped.blob.as_str()) && patient.data_key_kid == wrapped.kid;
        same.then(|| sealed.clone())
    }
}

/// Validates and seals `input` for a new document of `patient_id`. It does the same work for
/// every patient id: an unknown one (or an erased patient, or a key that does not open) seals
/// under a throwaway key, so the time this takes does not tell whether the patient exists.
pub fn prepare(
    conn: &mut DbConn,
    state: &AppState,
    patient_id: &str,
    input: &DocumentInput,
) -> Result<Prepared, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    let checked = super::check(state, input);
    let wrapped =
        PatientRow::find(conn, patient_id)?.and_then(|p| Some(WrappedKey { kid: p.data_key_kid, blob: p.data_key? }));
    let opened = wrapped.as_ref().and_then(|w| state.unwrap_key(patient_id, w).ok());
    let real = opened.is_some();
    let key = match opened {
        Some(key) => key,
        None => state.keys().new_data_key(DECOY).map_err(ApiError::internal)?.0,
    };
    let sealed = match &checked {
        Ok(entry) => {
            let place = Place { patient_id, document_id: &id, version: 1 };
            Some(sealing::seal(&entry.marked, &input.content, &key, place).map_err(ApiError::internal)?.to_string())
        }
        Err(_) => None,
    };
    let sealed = if real { wrapped.zip(sealed) } else { None };
    Ok(Prepared { id, verdict: checked.map(drop), sealed })
}
