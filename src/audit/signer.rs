//! The checkpoint signer: an Ed25519 key that signs the chain's head now and then, and the
//! register of every signing key with the checkpoints it may sign (`audit_signing_keys`).
//!
//! Rotation (`carepath audit rotate-signing-key`) writes a new key file and registers the new
//! key in one transaction with its audit event: the old key's validity ends at that event, the
//! new key's begins there. A server still holding the old key notices at its next checkpoint
//! (the register names another current key), reloads the file and signs with the new key.

use std::sync::RwLock;

use super::checkpoint::checkpoint_message;
use super::keys::{KeySet, PublicKey};
use crate::clock;
use crate::db::audit::{CheckpointRow, SigningKeyRow};
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;

/// The key pair in use and its id (`crypto::keyfile::key_id` of its public key).
struct Loaded {
    pair: ring::signature::Ed25519KeyPair,
    key_id: String,
}

/// The Ed25519 key that signs checkpoints: `audit-signing.pem` in the data directory (0600),
/// made on first start. Its public key is what an offline verifier needs.
pub struct Signer {
    loaded: RwLock<Loaded>,
    data_dir: std::path::PathBuf,
}

const SIGNING_KEY_FILE: &str = "audit-signing.pem";

impl Signer {
    pub fn load_or_create(data_dir: &std::path::Path) -> Result<Self, String> {
        let path = data_dir.join(SIGNING_KEY_FILE);
        let file = crate::crypto::keyfile::KeyFile::open(data_dir, SIGNING_KEY_FILE, "audit signing key")
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_file(data_dir, &file)
    }

    /// The signing key a server made in this data directory; never creates one (a new key would
    /// verify nothing the server signed). Errors name the path.
    pub fn open_existing(data_dir: &std::path::Path) -> Result<Self, String> {
        Self::from_file(data_dir, &Self::read_existing(data_dir)?)
    }

    fn read_existing(data_dir: &std::path::Path) -> Result<crate::crypto::keyfile::KeyFile, String> {
        let path = data_dir.join(SIGNING_KEY_FILE);
        match crate::crypto::keyfile::KeyFile::open_existing(data_dir, SIGNING_KEY_FILE) {
            Ok(Some(file)) => Ok(file),
            Ok(None) => Err(format!(
                "{}: no audit signing key here; start `carepath serve` on this data directory first, or pass \
                 --data-dir (or set CAREPATH_DATA_DIR) to the server's data directory",
                path.display()
            )),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    fn loaded_from(file: &crate::crypto::keyfile::KeyFile, path: &std::path::Path) -> Result<Loaded, String> {
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&file.pkcs8)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Loaded { pair, key_id: file.kid.clone() })
    }

    fn from_file(data_dir: &std::path::Path, file: &crate::crypto::keyfile::KeyFile) -> Result<Self, String> {
        let loaded = Self::loaded_from(file, &data_dir.join(SIGNING_KEY_FILE))?;
        Ok(Self { loaded: RwLock::new(loaded), data_dir: data_dir.to_path_buf() })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.loaded.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The id of the key in use.
    pub fn key_id(&self) -> String {
        self.read().key_id.clone()
    }

    /// The public key as `carepath audit public-key` shows it.
    pub fn public_key_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.public_key())
    }

    pub fn public_key(&self) -> Vec<u8> {
        use ring::signature::KeyPair;
        self.read().pair.public_key().as_ref().to_vec()
    }

    /// Signs `message` (a backup manifest's, never a checkpoint's: the callers' messages carry
    /// prefixes of their own). Returns the key id and the base64 signature.
    pub fn sign(&self, message: &[u8]) -> (String, String) {
        use base64::Engine;
        let loaded = self.read();
        let signature = loaded.pair.sign(message);
        (loaded.key_id.clone(), base64::engine::general_purpose::STANDARD.encode(signature.as_ref()))
    }

    /// Re-reads the key file (after a rotation by another process).
    fn reload(&self) -> Result<(), ApiError> {
        let file = Self::read_existing(&self.data_dir).map_err(ApiError::internal)?;
        let loaded = Self::loaded_from(&file, &self.data_dir.join(SIGNING_KEY_FILE)).map_err(ApiError::internal)?;
        tracing::info!(key_id = %loaded.key_id, "reloaded the audit signing key");
        *self.loaded.write().unwrap_or_else(std::sync::PoisonError::into_inner) = loaded;
        Ok(())
    }

    /// Makes sure the register names this signer's key as current (call inside a write
    /// transaction). A key the register does not know yet becomes current from the head on (first
    /// use, a rotation, a restore with a new key file); a key the register has retired signs
    /// nothing (false).
    pub fn register(&self, tx: &mut DbConn) -> Result<bool, ApiError> {
        let current = SigningKeyRow::current(tx)?;
        if current.as_ref().is_some_and(|c| c.key_id == self.key_id()) {
            return Ok(true);
        }
        if current.is_some() {
            // Another key is current: perhaps a rotation replaced the file under this process.
            self.reload()?;
            if current.as_ref().is_some_and(|c| c.key_id == self.key_id()) {
                return Ok(true);
            }
        }
        let key_id = self.key_id();
        if SigningKeyRow::find(tx, &key_id)?.is_some() {
            tracing::warn!(%key_id, "the audit signing key file holds a retired key; no checkpoint signed");
            return Ok(false);
        }
        let (head, _) = crate::db::audit::head(tx)?;
        let from = match current {
            Some(old) => {
                SigningKeyRow::retire(tx, &old.key_id, head)?;
                head
            }
            None => 0,
        };
        SigningKeyRow {
            key_id,
            public_key: self.public_key_base64(),
            valid_from_seq: from,
            valid_until_seq: None,
            created_at: clock::Clock::system().stamp(),
        }
        .insert(tx)?;
        Ok(true)
    }

    /// Signs the chain's head if it moved since the last checkpoint and either `every` events
    /// passed or the last checkpoint is older than `max_age`. Returns the new checkpoint.
    pub fn checkpoint(
        &self,
        conn: &mut DbConn,
        every: i64,
        max_age: time::Duration,
    ) -> Result<Option<CheckpointRow>, ApiError> {
        use base64::Engine;
        write_tx(conn, |tx| {
            if !self.register(tx)? {
                return Ok(None);
            }
            let (seq, hash) = crate::db::audit::head(tx)?;
            let last = CheckpointRow::latest(tx)?;
            let (last_seq, last_at) = last.map_or((0, None), |c| (c.seq, Some(c.signed_at)));
            // Wall-clock times, like the events' (`chain::append_all`).
            let wall = clock::Clock::system();
            let old = last_at.is_none_or(|at| at < clock::format(wall.now() - max_age));
            if seq == last_seq || (seq - last_seq < every && !old) {
                return Ok(None);
            }
            let signed_at = wall.stamp();
            let loaded = self.read();
            let signature = loaded.pair.sign(checkpoint_message(seq, &hash, &signed_at).as_bytes());
            let row = CheckpointRow {
                seq,
                hash,
                signed_at,
                key_id: loaded.key_id.clone(),
                signature: base64::engine::general_purpose::STANDARD.encode(signature.as_ref()),
            };
            row.insert(tx)?;
            Ok(Some(row))
        })
    }
}

/// Every registered signing key with its validity; with none registered yet (a log no
/// checkpoint was signed on), `fallback` alone.
pub fn registered_keys(conn: &mut DbConn, fallback: &[u8]) -> Result<KeySet, ApiError> {
    let rows = SigningKeyRow::all(conn)?;
    if rows.is_empty() {
        return Ok(KeySet::single(fallback));
    }
    let keys = rows
        .into_iter()
        .map(|r| PublicKey {
            key_id: r.key_id,
            public_key: r.public_key,
            valid_from_seq: r.valid_from_seq,
            valid_until_seq: r.valid_until_seq,
        })
        .collect();
    KeySet::from_keys(keys).map_err(ApiError::internal)
}

/// `carepath audit rotate-signing-key`: a new key file in `data_dir`, registered as current
/// from the chain's head, with an audit event. Returns the new key's id.
pub fn rotate(data_dir: &std::path::Path, conn: &mut DbConn) -> Result<String, ApiError> {
    use ring::rand::SystemRandom;
    let current = Signer::open_existing(data_dir).map_err(ApiError::internal)?;
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(ApiError::internal)?;
    let pem = crate::crypto::keyfile::pem_encode("PRIVATE KEY", pkcs8.as_ref());
    // Registered first under the old key (so the register has a current key to retire), then
    // the file is replaced and the new key registered with the rotation's event.
    write_tx(conn, |tx| current.register(tx).map(drop))?;
    let path = data_dir.join(SIGNING_KEY_FILE);
    crate::crypto::keyfile::write_atomic(&path, pem.as_bytes(), true).map_err(ApiError::internal)?;
    let signer = Signer::open_existing(data_dir).map_err(ApiError::internal)?;
    let key_id = signer.key_id();
    let event = super::Event::system("audit.rotate_signing_key").resource("audit_signing_key", &key_id);
    write_tx(conn, |tx| {
        super::append(tx, &event, "allowed", 200)?;
        signer.register(tx).map(drop)
    })?;
    Ok(key_id)
}
