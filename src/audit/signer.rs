//! The checkpoint signer: an Ed25519 key that signs the chain's head now and then.

use super::verify::checkpoint_message;
use crate::clock;
use crate::db::audit::CheckpointRow;
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;

/// The Ed25519 key that signs checkpoints: `audit-signing.pem` in the data directory (0600),
/// made on first start. Its public key is what an offline verifier needs.
pub struct Signer {
    pair: ring::signature::Ed25519KeyPair,
    /// The key's id (`crypto::keyfile::key_id` of its public key), stored with each checkpoint.
    pub key_id: String,
}

const SIGNING_KEY_FILE: &str = "audit-signing.pem";

impl Signer {
    pub fn load_or_create(data_dir: &std::path::Path) -> Result<Self, String> {
        let path = data_dir.join(SIGNING_KEY_FILE);
        let file = crate::crypto::keyfile::KeyFile::open(data_dir, SIGNING_KEY_FILE, "audit signing key")
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_file(&path, &file)
    }

    /// The signing key a server made in this data directory; never creates one (a new key would
    /// verify nothing the server signed). Errors name the path.
    pub fn open_existing(data_dir: &std::path::Path) -> Result<Self, String> {
        let path = data_dir.join(SIGNING_KEY_FILE);
        match crate::crypto::keyfile::KeyFile::open_existing(data_dir, SIGNING_KEY_FILE) {
            Ok(Some(file)) => Self::from_file(&path, &file),
            Ok(None) => Err(format!(
                "{}: no audit signing key here; start `carepath serve` on this data directory first, or pass \
                 --data-dir (or set CAREPATH_DATA_DIR) to the server's data directory",
                path.display()
            )),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    fn from_file(path: &std::path::Path, file: &crate::crypto::keyfile::KeyFile) -> Result<Self, String> {
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&file.pkcs8)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self { pair, key_id: file.kid.clone() })
    }

    /// The public key as `GET /v1/audit-events/public-key` and `carepath audit public-key` show it.
    pub fn public_key_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.public_key())
    }

    pub fn public_key(&self) -> Vec<u8> {
        use ring::signature::KeyPair;
        self.pair.public_key().as_ref().to_vec()
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
            let (seq, hash) = crate::db::audit::head(tx)?;
            let last = CheckpointRow::latest(tx)?;
            let (last_seq, last_at) = last.map_or((0, None), |c| (c.seq, Some(c.signed_at)));
            let old = last_at.is_none_or(|at| at < clock::format(time::OffsetDateTime::now_utc() - max_age));
            if seq == last_seq || (seq - last_seq < every && !old) {
                return Ok(None);
            }
            let signed_at = clock::now();
            let signature = self.pair.sign(checkpoint_message(seq, &hash, &signed_at).as_bytes());
            let row = CheckpointRow {
                seq,
                hash,
                signed_at,
                key_id: self.key_id.clone(),
                signature: base64::engine::general_purpose::STANDARD.encode(signature.as_ref()),
            };
            row.insert(tx)?;
            Ok(Some(row))
        })
    }
}
