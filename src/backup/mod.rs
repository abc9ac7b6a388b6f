//! `carepath backup` and `carepath restore` for the embedded (SQLite) store.
//!
//! A backup is a directory: `carepath.db`, a consistent snapshot taken with `VACUUM INTO` while
//! the service runs, and `manifest.json`, which names the audit chain's head at the snapshot, the
//! master key ids the wrapped data keys need, the public key that verifies the audit checkpoints,
//! and the SHA-256 of every file. No key is ever written into a backup: the wrapped data keys are
//! useless without the master key, which the operator keeps apart (see the README).
//!
//! The manifest is signed with the audit signing key (Ed25519): the message is
//! `carepath:backup-manifest:v1\0` ‖ the manifest's compact JSON without its `signature`. The
//! snapshot is a file copy, so the SHA-256 of `carepath.db` is a digest of every table's contents
//! (and of the wrapped data keys in it); the master key ids and the audit public keys are in the
//! signed manifest. A restore checks the signature before anything else: with `--public-key` (a
//! key kept apart) against that key, which an attacker who rewrote the backup cannot forge;
//! without it only against the key the manifest itself names, which catches damage and naive
//! edits but not someone who re-signed the backup with a key of their own, so it warns.
//!
//! PostgreSQL is backed up with `pg_dump` and checked with `carepath audit verify`; both
//! commands here refuse a `postgres://` store and say so.

mod restore;

pub use restore::{RestoreReport, UNCHECKED_SIGNATURE_WARNING, restore};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Backend, Settings};
use crate::db::audit::CheckpointRow;
use crate::db::patients::PatientRow;
use crate::db::{self, DbConn};

/// The manifest's format name; a restore refuses any other.
pub const FORMAT: &str = "carepath-backup/1";
/// The manifest's file name in a backup directory.
pub const MANIFEST: &str = "manifest.json";
/// The database snapshot's file name in a backup directory.
pub const DATABASE: &str = "carepath.db";

/// What a backup holds, written beside the snapshot as `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub created_at: String,
    pub carepath_version: String,
    /// Every file of the backup but the manifest, with its size and SHA-256.
    pub files: Vec<FileSum>,
    pub audit: AuditState,
    pub keys: KeyState,
    /// The audit signing key's signature of everything above (absent only while signing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<ManifestSignature>,
}

/// Who signed a manifest, and the signature.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestSignature {
    /// The id of the audit signing key that signed it.
    pub key_id: String,
    /// Base64 of the Ed25519 signature of [`Manifest::signed_message`].
    pub signature: String,
}

impl Manifest {
    /// What the signature covers: a domain prefix and the manifest without its signature.
    pub fn signed_message(&self) -> Result<Vec<u8>, BackupError> {
        let unsigned = Self { signature: None, ..self.clone() };
        let mut message = b"carepath:backup-manifest:v1\0".to_vec();
        serde_json::to_writer(&mut message, &unsigned).map_err(|e| BackupError::Db(e.to_string()))?;
        Ok(message)
    }
}

/// A file of the backup and its checksum.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileSum {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// The audit chain as the snapshot holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditState {
    pub head_seq: i64,
    pub head_hash: String,
    /// The last signed checkpoint in the snapshot (0 if none yet).
    pub last_checkpoint_seq: i64,
    /// The public keys that verify the snapshot's checkpoints, each with its validity.
    pub public_keys: Vec<crate::audit::PublicKey>,
    /// Whether the chain verified when the backup was taken.
    pub verified: bool,
}

/// The wrapped-key state: which master keys the snapshot's data keys are wrapped under. The
/// master key file must hold every one of them for the restored data to be readable.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyState {
    pub master_key_ids: Vec<String>,
    pub patients_with_data_keys: i64,
}

/// Errors of a backup or a restore, worded for the operator.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "the store is PostgreSQL: back it up with pg_dump and check it with `carepath audit verify` \
         (README, \"Backup and restore\")"
    )]
    Postgres,
    #[error("{0}")]
    Refused(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] db::StoreError),
    #[error("database: {0}")]
    Db(String),
}

impl From<diesel::result::Error> for BackupError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.to_string())
    }
}

impl From<crate::error::ApiError> for BackupError {
    fn from(e: crate::error::ApiError) -> Self {
        Self::Db(e.to_string())
    }
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io { path: path.display().to_string(), source }
}

/// Takes a backup of the running (or stopped) SQLite store into `to`, which must not exist or be
/// empty. Returns the manifest written.
pub fn backup(settings: &Settings, to: &Path) -> Result<Manifest, BackupError> {
    let (backend, _) = settings.database();
    if backend == Backend::Postgres {
        return Err(BackupError::Postgres);
    }
    let created = !to.exists();
    let written = write_backup(settings, to);
    if written.is_err() && created {
        // A failed backup leaves no directory behind that it made (a retry would find it
        // "not empty"); one that was given, empty, stays.
        let _gone_or_never_made = std::fs::remove_dir_all(to);
    }
    written
}

fn write_backup(settings: &Settings, to: &Path) -> Result<Manifest, BackupError> {
    ensure_empty_dir(to)?;
    let signer = crate::audit::Signer::open_existing(&settings.data_dir).map_err(BackupError::Refused)?;
    let public_key = signer.public_key();
    let snapshot = to.join(DATABASE);
    {
        let pool = db::side_pool(settings, 1);
        let mut conn = pool.get().map_err(|e| BackupError::Db(e.to_string()))?;
        db::snapshot_into(&mut conn, &snapshot)?;
    }
    let mut conn = db::open_sqlite_file(&snapshot)?;
    let (mut audit, keys) = describe(&mut conn, &public_key)?;
    drop(conn);
    if !audit.public_keys.iter().any(|k| k.key_id == signer.key_id())
        && let Some(mut key) = crate::audit::KeySet::single(&public_key).keys().into_iter().next()
    {
        // A signing key not yet registered (it has signed no checkpoint): named so that the
        // manifest's own keys check its signature, valid for no checkpoint of this chain.
        key.valid_from_seq = i64::MAX;
        audit.public_keys.push(key);
    }
    remove_sidecars(&snapshot);
    let mut manifest = Manifest {
        format: FORMAT.to_owned(),
        created_at: crate::clock::Clock::system().stamp(),
        carepath_version: env!("CARGO_PKG_VERSION").to_owned(),
        files: vec![checksum(&snapshot)?],
        audit,
        keys,
        signature: None,
    };
    let (key_id, signature) = signer.sign(&manifest.signed_message()?);
    manifest.signature = Some(ManifestSignature { key_id, signature });
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Db(e.to_string()))?;
    let path = to.join(MANIFEST);
    crate::crypto::keyfile::write_atomic(&path, &text, false).map_err(io(&path))?;
    Ok(manifest)
}

/// The audit chain and the wrapped-key state of a snapshot.
fn describe(conn: &mut DbConn, public_key: &[u8]) -> Result<(AuditState, KeyState), BackupError> {
    let (head_seq, head_hash) = db::audit::head(conn)?;
    let last_checkpoint_seq = CheckpointRow::latest(conn)?.map_or(0, |c| c.seq);
    let keys = crate::audit::registered_keys(conn, public_key)?;
    let verification = crate::audit::verify_with(conn, &keys)?;
    if !verification.ok {
        tracing::warn!(reason = ?verification.reason, "the audit chain in this backup does not verify");
    }
    let mut master_key_ids = PatientRow::kids_in_use(conn)?;
    master_key_ids.sort();
    let patients_with_data_keys = PatientRow::count_with_data_key(conn)?;
    let audit =
        AuditState { head_seq, head_hash, last_checkpoint_seq, public_keys: keys.keys(), verified: verification.ok };
    Ok((audit, KeyState { master_key_ids, patients_with_data_keys }))
}

/// The size and SHA-256 of a file of the backup.
pub fn checksum(path: &Path) -> Result<FileSum, BackupError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
        bytes += n as u64;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(FileSum { name, bytes, sha256: crate::crypto::keyfile::hex(ctx.finish().as_ref()) })
}

/// Creates `dir` (0700) if missing; refuses one that holds anything.
pub(crate) fn ensure_empty_dir(dir: &Path) -> Result<(), BackupError> {
    crate::crypto::keyfile::create_private_dir(dir).map_err(io(dir))?;
    let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
    if entries.next().is_some() {
        return Err(BackupError::Refused(format!("{} is not empty", dir.display())));
    }
    Ok(())
}

/// Removes the -wal and -shm files SQLite may leave beside a database it had open.
pub(crate) fn remove_sidecars(db: &Path) {
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let _absent_is_fine = std::fs::remove_file(PathBuf::from(name));
    }
}
