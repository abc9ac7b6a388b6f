//! The key a sheet is sealed under, and sealing its texts.
//!
//! A sheet about a patient uses the patient's data key, so erasing the patient shreds its
//! sheets with the rest of the record. A consultation-desk question without a patient has no
//! such key, so it gets one of its own: a fresh random data key, wrapped by the current master
//! key exactly like a patient's (same format, rotated by `carepath keys rotate`), for the
//! subject `desk-question:<sheet id>`, and stored on the sheet row. The subject binds the
//! wrapped key to that one sheet (copied onto another row it does not unwrap), and its prefix
//! keeps it apart from patient ids (UUIDs) in the associated data of both the wrapping and the
//! sealed values.

use serde_json::Value;

use crate::crypto::{DataKey, FieldContext};
use crate::db::DbConn;
use crate::db::contact_sheets::{self, SheetRow};
use crate::db::patients::PatientRow;
use crate::error::ApiError;
use crate::state::AppState;

/// A sheet's key and the subject its values are bound to.
pub struct SheetKey {
    key: DataKey,
    subject: String,
    sheet_id: String,
}

impl SheetKey {
    /// A new key of its own for a patient-less sheet: the key, and `(kid, wrapped blob)`.
    pub fn fresh(state: &AppState, sheet_id: &str) -> Result<(Self, (String, String)), ApiError> {
        let subject = contact_sheets::key_subject(sheet_id);
        let (key, wrapped) = state.keys().new_data_key(&subject).map_err(ApiError::internal)?;
        Ok((Self { key, subject, sheet_id: sheet_id.to_owned() }, (wrapped.kid, wrapped.blob)))
    }

    /// The key of a patient's sheet.
    pub fn of_patient(state: &AppState, patient: &PatientRow, sheet_id: &str) -> Result<Self, ApiError> {
        Ok(Self { key: state.data_key(patient)?, subject: patient.id.clone(), sheet_id: sheet_id.to_owned() })
    }

    /// The key a stored sheet is sealed under (its patient's, or its own).
    pub fn of_sheet(conn: &mut DbConn, state: &AppState, sheet: &SheetRow) -> Result<Self, ApiError> {
        match &sheet.patient_id {
            Some(pid) => {
                let patient =
                    PatientRow::find(conn, pid)?.ok_or_else(|| ApiError::internal("sheet without its patient"))?;
                Self::of_patient(state, &patient, &sheet.id)
            }
            None => {
                let (Some(kid), Some(blob)) = (&sheet.data_key_kid, &sheet.data_key) else {
                    return Err(ApiError::internal("desk question without its key"));
                };
                let subject = contact_sheets::key_subject(&sheet.id);
                let wrapped = crate::crypto::WrappedKey { kid: kid.clone(), blob: blob.clone() };
                Ok(Self { key: state.unwrap_key(&subject, &wrapped)?, subject, sheet_id: sheet.id.clone() })
            }
        }
    }

    fn at<'a>(&'a self, version: i32, pointer: &'a str) -> FieldContext<'a> {
        FieldContext { patient_id: &self.subject, document_id: &self.sheet_id, version: i64::from(version), pointer }
    }

    /// Seals a text written at `version` of the sheet, bound to `pointer`.
    pub fn seal(&self, version: i32, pointer: &str, text: &str) -> Result<String, ApiError> {
        self.key.seal(&self.at(version, pointer), &Value::String(text.to_owned())).map_err(ApiError::internal)
    }

    /// Opens a text sealed by [`SheetKey::seal`].
    pub fn open(&self, version: i32, pointer: &str, sealed: &str) -> Result<String, ApiError> {
        match self.key.open(&self.at(version, pointer), sealed).map_err(ApiError::internal)? {
            Value::String(s) => Ok(s),
            _ => Err(ApiError::internal("a sealed sheet text is not text")),
        }
    }
}
