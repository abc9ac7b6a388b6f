//! The public keys that verify checkpoints, each valid for a range of sequence numbers: a
//! rotated-out signing key keeps verifying what it signed, and nothing it might sign later.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::audit::CheckpointRow;

/// A checkpoint public key and the checkpoints it may sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicKey {
    /// The key's id, as named by the checkpoints it signs.
    pub key_id: String,
    /// Base64 of the raw 32-byte Ed25519 public key.
    pub public_key: String,
    /// The first checkpoint sequence number the key may sign.
    pub valid_from_seq: i64,
    /// The last checkpoint sequence number the key may sign; absent while it is current.
    pub valid_until_seq: Option<i64>,
}

/// The keys an auditor holds.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<(PublicKey, Vec<u8>)>,
}

impl KeySet {
    /// One key, valid for every checkpoint it signed (what a single key file gives).
    pub fn single(raw: &[u8]) -> Self {
        let key = PublicKey {
            key_id: crate::crypto::keyfile::key_id(raw),
            public_key: STANDARD.encode(raw),
            valid_from_seq: 0,
            valid_until_seq: None,
        };
        Self { keys: vec![(key, raw.to_vec())] }
    }

    /// Keys with their validity, as `GET /v1/audit-events/public-key` lists them.
    pub fn from_keys(keys: Vec<PublicKey>) -> Result<Self, String> {
        let keys = keys
            .into_iter()
            .map(|k| {
                let raw = STANDARD.decode(&k.public_key).map_err(|e| format!("key {}: not base64: {e}", k.key_id))?;
                if crate::crypto::keyfile::key_id(&raw) != k.key_id {
                    return Err(format!("key {}: the public key does not have that id", k.key_id));
                }
                Ok((k, raw))
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { keys })
    }

    /// A key file as an auditor keeps it: base64 of one raw key, the JSON of
    /// `GET /v1/audit-events/public-key` (every key with its validity when it lists `keys`), or
    /// a JSON list of keys.
    pub fn parse(text: &str) -> Result<Self, String> {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Array(list)) => {
                Self::from_keys(serde_json::from_value(serde_json::Value::Array(list)).map_err(|e| e.to_string())?)
            }
            Ok(v) if v.get("keys").is_some_and(serde_json::Value::is_array) => {
                Self::from_keys(serde_json::from_value(v["keys"].clone()).map_err(|e| e.to_string())?)
            }
            Ok(v) => Self::decode_single(v["public_key"].as_str().unwrap_or_default()),
            Err(_) => Self::decode_single(text.trim()),
        }
    }

    fn decode_single(b64: &str) -> Result<Self, String> {
        STANDARD.decode(b64).map(|raw| Self::single(&raw)).map_err(|e| format!("not a base64 public key: {e}"))
    }

    /// The keys, for a manifest or an answer.
    pub fn keys(&self) -> Vec<PublicKey> {
        self.keys.iter().map(|(k, _)| k.clone()).collect()
    }

    /// Whether `signature` (base64) is key `key_id`'s Ed25519 signature of `message`, that key
    /// being one of these; the error says which part failed.
    pub fn verify_signature(&self, key_id: &str, message: &[u8], signature: &str) -> Result<(), String> {
        let Some((_, raw)) = self.keys.iter().find(|(k, _)| k.key_id == key_id) else {
            let ids: Vec<&str> = self.keys.iter().map(|(k, _)| k.key_id.as_str()).collect();
            return Err(format!(
                "it was signed by key {key_id}, which is not among the keys given ({})",
                ids.join(", ")
            ));
        };
        let signature = STANDARD.decode(signature).map_err(|_| "the signature is not base64".to_owned())?;
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, raw)
            .verify(message, &signature)
            .map_err(|_| format!("the signature does not verify with key {key_id}"))
    }

    /// Why checkpoint `c` does not verify (None if it does); `source` names what is checked.
    pub(super) fn fault(&self, c: &CheckpointRow, source: &str) -> Option<String> {
        let n = c.seq;
        let Some((key, raw)) = self.keys.iter().find(|(k, _)| k.key_id == c.key_id) else {
            let ids: Vec<&str> = self.keys.iter().map(|(k, _)| k.key_id.as_str()).collect();
            return Some(format!(
                "signature does not verify with key {} (the {source} was signed by key {})",
                ids.join(", "),
                c.key_id
            ));
        };
        if !super::checkpoint::verify_checkpoint(c, raw) {
            return Some(format!(
                "the checkpoint at {n} does not verify with key {}, which signed it: the checkpoint was altered",
                key.key_id
            ));
        }
        let before = n < key.valid_from_seq;
        let after = key.valid_until_seq.is_some_and(|until| n > until);
        if before || after {
            let until = key.valid_until_seq.map_or_else(|| "on".to_owned(), |u| u.to_string());
            return Some(format!(
                "the checkpoint at {n} was signed by key {} outside its validity (checkpoints {} to {until})",
                key.key_id, key.valid_from_seq
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair};

    fn signed(pair: &Ed25519KeyPair, seq: i64) -> CheckpointRow {
        let (hash, signed_at) = ("ab".repeat(32), "2026-11-27T00:00:00Z".to_owned());
        let message = super::super::checkpoint::checkpoint_message(seq, &hash, &signed_at);
        CheckpointRow {
            seq,
            hash,
            signed_at,
            key_id: crate::crypto::keyfile::key_id(pair.public_key().as_ref()),
            signature: STANDARD.encode(pair.sign(message.as_bytes()).as_ref()),
        }
    }

    #[test]
    fn a_key_verifies_only_the_checkpoints_of_its_validity() {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let mut key = KeySet::single(pair.public_key().as_ref()).keys().remove(0);
        key.valid_from_seq = 5;
        key.valid_until_seq = Some(10);
        let keys = KeySet::from_keys(vec![key]).unwrap();
        for seq in [5, 7, 10] {
            assert_eq!(keys.fault(&signed(&pair, seq), "export"), None, "{seq}");
        }
        for seq in [4, 11] {
            let fault = keys.fault(&signed(&pair, seq), "export").unwrap();
            assert!(fault.contains("outside its validity (checkpoints 5 to 10)"), "{fault}");
        }
        let mut altered = signed(&pair, 7);
        altered.hash = "cd".repeat(32);
        assert!(keys.fault(&altered, "export").unwrap().contains("was altered"));
    }

    #[test]
    fn a_key_file_is_one_key_or_the_public_key_answer() {
        let raw = [7u8; 32];
        let b64 = STANDARD.encode(raw);
        assert_eq!(KeySet::parse(&format!("{b64}\n")).unwrap().keys().len(), 1);
        assert_eq!(KeySet::parse(&format!(r#"{{"public_key": "{b64}"}}"#)).unwrap().keys().len(), 1);
        let listed = KeySet::single(&raw).keys();
        let answer = serde_json::json!({"public_key": b64, "keys": listed}).to_string();
        assert_eq!(KeySet::parse(&answer).unwrap().keys(), listed);
        let mut wrong = listed[0].clone();
        wrong.key_id = "0000".into();
        assert!(KeySet::from_keys(vec![wrong]).is_err(), "an id must match its key");
    }
}
