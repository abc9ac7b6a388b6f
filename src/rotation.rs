//! `carepath keys rotate`: a new master key, every patient's data key re-wrapped under it (the
//! documents themselves are not rewritten), then retirement of master keys no data key uses.
//!
//! Safe while the service runs and safe to interrupt: each data key is swapped in its own small
//! transaction, only if it is still the one read; a rerun first finishes an unfinished rotation
//! instead of starting another. A running service that meets the new key id reloads the keyring.

use crate::audit::{self, Event};
use crate::config::Settings;
use crate::crypto::{Keyring, WrappedKey};
use crate::db::contact_sheets::{self, SheetRow};
use crate::db::patients::PatientRow;
use crate::db::{self, DbConn, write_tx};
use crate::error::ApiError;

/// What a rotation did.
#[derive(Debug, serde::Serialize)]
pub struct RotationReport {
    pub current_kid: String,
    pub started_new_key: bool,
    pub rewrapped: u64,
    pub retired: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Store(#[from] db::StoreError),
    #[error(transparent)]
    Keys(#[from] crate::crypto::KeyError),
    #[error("{0}")]
    Failed(String),
}

impl From<ApiError> for RotateError {
    fn from(e: ApiError) -> Self {
        Self::Failed(e.to_string())
    }
}

impl From<diesel::result::Error> for RotateError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e.to_string())
    }
}

const BATCH: i64 = 200;

/// Rotates the master key; `progress(done, remaining)` is called after every batch.
pub fn rotate(settings: &Settings, mut progress: impl FnMut(u64, i64)) -> Result<RotationReport, RotateError> {
    let pool = db::open(settings)?;
    let mut conn = pool.get().map_err(|e| RotateError::Failed(e.to_string()))?;
    let mut keys = Keyring::load_or_create(settings, true)?;
    let unfinished = PatientRow::count_wrapped_by_other(&mut conn, keys.current_kid())? > 0;
    if !unfinished {
        keys.add_master_key()?;
    }
    let current = keys.current_kid().to_owned();
    let mut rewrapped = 0;
    loop {
        let batch = PatientRow::wrapped_by_other(&mut conn, &current, BATCH)?;
        if batch.is_empty() {
            break;
        }
        rewrapped += rewrap_batch(&mut conn, &keys, &batch)?;
        progress(rewrapped, PatientRow::count_wrapped_by_other(&mut conn, &current)?);
    }
    // A service that had not yet noticed the new key may have wrapped a new patient's key under
    // the old one a moment ago; give it time to commit, then look at what is in use.
    std::thread::sleep(std::time::Duration::from_secs(2));
    while PatientRow::count_wrapped_by_other(&mut conn, &current)? > 0 {
        let batch = PatientRow::wrapped_by_other(&mut conn, &current, BATCH)?;
        rewrapped += rewrap_batch(&mut conn, &keys, &batch)?;
    }
    rewrapped += rewrap_sheets(&mut conn, &keys, &current)?;
    let mut in_use = PatientRow::kids_in_use(&mut conn)?;
    in_use.extend(SheetRow::with_own_keys(&mut conn)?.into_iter().filter_map(|s| s.data_key_kid));
    // Webhook signing secrets are wrapped by master keys too, and are not re-wrapped here: the
    // keys that wrap them stay until the subscription is deleted.
    in_use.extend(crate::db::subscriptions::SubscriptionRow::kids_in_use(&mut conn)?);
    // So are console accounts' TOTP secrets, likewise kept under their key until re-enrolment.
    in_use.extend(crate::db::accounts::AccountRow::secret_kids(&mut conn)?);
    let retired = keys.retire_unused(&in_use)?;
    let event = Event::system("keys.rotate").resource("master_key", &current);
    write_tx(&mut conn, |tx| {
        db::lock_batch(tx)?;
        audit::append(tx, &event, "allowed", 200)
    })?;
    Ok(RotationReport { current_kid: current, started_new_key: !unfinished, rewrapped, retired })
}

fn rewrap_batch(conn: &mut DbConn, keys: &Keyring, batch: &[PatientRow]) -> Result<u64, RotateError> {
    write_tx(conn, |tx| {
        // The one lock order (docs/architecture.md): a serving instance's batch holds these
        // before it takes patients' rows, so taking patients' rows first could deadlock it.
        db::lock_batch(tx)?;
        let mut n = 0;
        for patient in batch {
            let Some(blob) = &patient.data_key else { continue };
            let old = WrappedKey { kid: patient.data_key_kid.clone(), blob: blob.clone() };
            let new = keys
                .rewrap(&patient.id, &old)
                .map_err(|e| RotateError::Failed(format!("patient {}: {e}", patient.id)))?;
            if PatientRow::replace_data_key(tx, &patient.id, &old.kid, &new.kid, &new.blob)? {
                n += 1;
            }
        }
        Ok(n)
    })
}

/// Consultation-desk questions without a patient carry a data key of their own: re-wrapped like
/// a patient's (they are few, so in one pass).
fn rewrap_sheets(conn: &mut DbConn, keys: &Keyring, current: &str) -> Result<u64, RotateError> {
    let sheets: Vec<SheetRow> =
        SheetRow::with_own_keys(conn)?.into_iter().filter(|s| s.data_key_kid.as_deref() != Some(current)).collect();
    write_tx(conn, |tx| {
        db::lock_batch(tx)?;
        let mut n = 0;
        for sheet in &sheets {
            let (Some(kid), Some(blob)) = (&sheet.data_key_kid, &sheet.data_key) else { continue };
            let old = WrappedKey { kid: kid.clone(), blob: blob.clone() };
            let subject = contact_sheets::key_subject(&sheet.id);
            let new =
                keys.rewrap(&subject, &old).map_err(|e| RotateError::Failed(format!("sheet {}: {e}", sheet.id)))?;
            if SheetRow::replace_data_key(tx, &sheet.id, &old.kid, &new.kid, &new.blob)? {
                n += 1;
            }
        }
        Ok(n)
    })
}
