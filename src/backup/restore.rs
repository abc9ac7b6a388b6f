//! `carepath restore --from DIR`: a backup into an empty data directory, only if it holds.
//!
//! Checked before anything is kept: the manifest's format and signature (against the key kept
//! apart when `--public-key` is given), every file's size and SHA-256, the audit chain of the snapshot from its first event to the head the manifest names (with every
//! signed checkpoint), and, given a master key file, that it opens the wrapped data keys.

use std::path::Path;

use super::{BackupError, DATABASE, FORMAT, MANIFEST, Manifest, checksum, ensure_empty_dir, io, remove_sidecars};
use crate::audit::KeySet;
use crate::config::{Backend, Settings};
use crate::db::{self, DbConn};

/// What a restore checked and put in place.
#[derive(Debug, serde::Serialize)]
pub struct RestoreReport {
    pub database: String,
    pub audit_head_seq: i64,
    pub checkpoints_verified: u64,
    /// Whether a master key file was given and opened the data keys.
    pub master_key_checked: bool,
    /// The audit signing key whose signature of the manifest verified.
    pub signed_by: String,
    /// Whether that signature was checked against a key kept apart (`--public-key`); if not,
    /// only against the key the backup itself carries, which whoever altered it could replace.
    pub signature_checked_against_kept_key: bool,
}

/// What a restore without a key kept apart says on stderr.
pub const UNCHECKED_SIGNATURE_WARNING: &str = "WARNING: restored WITHOUT --public-key: the backup's signature was \
     checked only against the key the backup itself carries, so a backup altered and re-signed by someone else \
     would pass. Check it again with `carepath restore --public-key <key kept apart>` before serving it.";

/// Restores the backup in `from` into the (empty) data directory of `settings`. `public_key`,
/// if given, replaces the manifest's keys for checking the audit checkpoints (a key kept apart
/// from the backup proves more than one that travels with it).
pub fn restore(settings: &Settings, from: &Path, public_key: Option<KeySet>) -> Result<RestoreReport, BackupError> {
    if settings.database().0 == Backend::Postgres {
        return Err(BackupError::Postgres);
    }
    let manifest = read_manifest(from)?;
    let kept_apart = public_key.is_some();
    let keys = match public_key {
        Some(keys) => keys,
        None => KeySet::from_keys(manifest.audit.public_keys.clone())
            .map_err(|e| BackupError::Refused(format!("{MANIFEST}: {e}")))?,
    };
    let signed_by = check_signature(&manifest, &keys)?;
    if !kept_apart {
        tracing::warn!("{UNCHECKED_SIGNATURE_WARNING}");
    }
    for file in &manifest.files {
        let found = checksum(&from.join(&file.name))?;
        if found.sha256 != file.sha256 || found.bytes != file.bytes {
            return Err(BackupError::Refused(format!(
                "{}: the checksum does not match the manifest; the backup is damaged or was altered",
                file.name
            )));
        }
    }
    if !manifest.files.iter().any(|f| f.name == DATABASE) {
        return Err(BackupError::Refused(format!("the manifest lists no {DATABASE}")));
    }
    ensure_empty_dir(&settings.data_dir)?;
    let target = std::path::PathBuf::from(settings.database().1);
    std::fs::copy(from.join(DATABASE), &target).map_err(io(&target))?;
    let checked = check_restored(&target, &manifest, &keys, settings);
    if checked.is_err() {
        // Nothing of a refused backup stays in the data directory.
        let _gone = std::fs::remove_file(&target);
        remove_sidecars(&target);
    }
    let (checkpoints_verified, master_key_checked) = checked?;
    Ok(RestoreReport {
        database: target.display().to_string(),
        audit_head_seq: manifest.audit.head_seq,
        checkpoints_verified,
        master_key_checked,
        signed_by,
        signature_checked_against_kept_key: kept_apart,
    })
}

/// The manifest's signature, by one of `keys`; returns the signing key's id.
fn check_signature(manifest: &Manifest, keys: &KeySet) -> Result<String, BackupError> {
    let Some(signed) = &manifest.signature else {
        return Err(BackupError::Refused(format!("{MANIFEST} is not signed; the backup cannot be trusted")));
    };
    keys.verify_signature(&signed.key_id, &manifest.signed_message()?, &signed.signature).map_err(|e| {
        BackupError::Refused(format!(
            "the signature of {MANIFEST} does not hold ({e}): the backup was altered or signed by another server"
        ))
    })?;
    Ok(signed.key_id.clone())
}

fn read_manifest(from: &Path) -> Result<Manifest, BackupError> {
    let path = from.join(MANIFEST);
    let text = std::fs::read(&path).map_err(io(&path))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| BackupError::Refused(format!("{}: not a carepath backup manifest: {e}", path.display())))?;
    if manifest.format != FORMAT {
        return Err(BackupError::Refused(format!("{}: unknown format {:?}", path.display(), manifest.format)));
    }
    Ok(manifest)
}

/// The restored copy's audit chain and keys: (checkpoints verified, master key checked).
fn check_restored(
    target: &Path,
    manifest: &Manifest,
    keys: &KeySet,
    settings: &Settings,
) -> Result<(u64, bool), BackupError> {
    let mut conn = db::open_sqlite_file(target)?;
    let (seq, hash) = db::audit::head(&mut conn)?;
    if seq != manifest.audit.head_seq || hash != manifest.audit.head_hash {
        return Err(BackupError::Refused(format!(
            "the database's audit head ({seq}) is not the one the manifest names ({})",
            manifest.audit.head_seq
        )));
    }
    let v = crate::audit::verify_with(&mut conn, keys)?;
    if !v.ok {
        let reason = v.reason.unwrap_or_else(|| format!("broken at event {:?}", v.first_broken));
        return Err(BackupError::Refused(format!("the audit chain in the backup does not verify: {reason}")));
    }
    let checkpoints = v.checkpoints_verified;
    let master_key_checked = match &settings.master_key_file {
        Some(_) => {
            check_master_key(&mut conn, settings)?;
            true
        }
        None => false,
    };
    Ok((checkpoints, master_key_checked))
}

/// The master key file must open a data key of every master key id in use.
fn check_master_key(conn: &mut DbConn, settings: &Settings) -> Result<(), BackupError> {
    let keyring = crate::crypto::Keyring::load_or_create(settings, true)
        .map_err(|e| BackupError::Refused(format!("master key: {e}")))?;
    for kid in crate::db::patients::PatientRow::kids_in_use(conn)? {
        let Some(patient) = crate::db::patients::PatientRow::one_wrapped_by(conn, &kid)? else { continue };
        let wrapped = crate::crypto::WrappedKey { kid, blob: patient.data_key.unwrap_or_default() };
        keyring.unwrap_data_key(&patient.id, &wrapped).map_err(|e| {
            BackupError::Refused(format!("the master key file does not open the backup's data keys: {e}"))
        })?;
    }
    Ok(())
}
