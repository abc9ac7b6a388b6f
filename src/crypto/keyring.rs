//! The keyring in memory: the master keys that wrap each patient's data key, the blind-index
//! key, and rotation (add a master key, rewrap data keys onto it, retire the unused ones). Its
//! files are read and written in `keyring_file`.

use std::fmt;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use super::keyfile::hex;
use super::{
    BLIND_INDEX_DOMAIN, CryptoError, DATA_KEY_DOMAIN, DataKey, FILE_KEY_DOMAIN, FileKey, KEY_LEN, KeyError,
    SECRET_DOMAIN, TAG_LEN, check_id,
};

const WRAPPED_LEN: usize = NONCE_LEN + KEY_LEN + TAG_LEN;

#[derive(Clone)]
pub(super) struct MasterKey {
    pub(super) kid: String,
    pub(super) raw: [u8; KEY_LEN],
    aead: LessSafeKey,
}

impl MasterKey {
    pub(super) fn new(kid: String, raw: [u8; KEY_LEN]) -> Result<Self, ring::error::Unspecified> {
        let aead = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &raw)?);
        Ok(Self { kid, raw, aead })
    }

    /// A fresh random key whose kid is not among `existing`.
    pub(super) fn generate(rng: &SystemRandom, existing: &[MasterKey]) -> Result<Self, KeyError> {
        let kid = loop {
            let mut id = [0u8; 4];
            rng.fill(&mut id).map_err(|_| KeyError::Random)?;
            let kid = format!("mk-{}", hex(&id));
            if !existing.iter().any(|k| k.kid == kid) {
                break kid;
            }
        };
        let mut raw = [0u8; KEY_LEN];
        rng.fill(&mut raw).map_err(|_| KeyError::Random)?;
        Self::new(kid, raw).map_err(|_| KeyError::Random)
    }
}

/// The master keys (by kid, one current) and the blind-index key.
#[derive(Clone)]
pub struct Keyring {
    /// In file order: oldest first, new keys appended.
    pub(super) masters: Vec<MasterKey>,
    pub(super) current: String,
    pub(super) index_key: hmac::Key,
    /// Where the keyring is saved on rotation; `None` keeps it in memory only (tests).
    pub(super) path: Option<PathBuf>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("kids", &self.masters.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>())
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A data key as stored: the kid of the master key that wraps it and the wrapped bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The master key that wraps it (stored in its own column).
    pub kid: String,
    /// Standard base64 of nonce (12) ‖ ciphertext (32) ‖ tag (16).
    pub blob: String,
}

impl Keyring {
    /// Fixed keys for tests and benchmarks. Never for real data: the keys are in the source.
    /// Rotation on this keyring changes it in memory only.
    pub fn for_testing() -> Self {
        let masters = MasterKey::new("mk-testing".to_owned(), [0x4d; KEY_LEN]).into_iter().collect();
        Self {
            masters,
            current: "mk-testing".to_owned(),
            index_key: hmac::Key::new(hmac::HMAC_SHA256, &[0x69; KEY_LEN]),
            path: None,
        }
    }

    /// The kid of the master key that wraps new data keys.
    pub fn current_kid(&self) -> &str {
        &self.current
    }

    fn master(&self, kid: &str) -> Option<&MasterKey> {
        self.masters.iter().find(|k| k.kid == kid)
    }

    /// A fresh data key for a new patient, and its wrapped form for storage.
    pub fn new_data_key(&self, patient_id: &str) -> Result<(DataKey, WrappedKey), CryptoError> {
        check_id(patient_id, "the patient id contains a zero byte")?;
        let rng = SystemRandom::new();
        let mut raw = [0u8; KEY_LEN];
        rng.fill(&mut raw).map_err(|_| CryptoError::Random)?;
        let wrapped = self.wrap(&rng, DATA_KEY_DOMAIN, patient_id, &raw)?;
        let key = DataKey::from_raw(&raw)?;
        raw.fill(0);
        Ok((key, wrapped))
    }

    /// Unwraps a stored data key; fails if the kid is unknown, the blob was altered, or it was
    /// wrapped for another patient.
    pub fn unwrap_data_key(&self, patient_id: &str, wrapped: &WrappedKey) -> Result<DataKey, CryptoError> {
        let mut raw = self.unwrap_raw(DATA_KEY_DOMAIN, patient_id, wrapped)?;
        let key = DataKey::from_raw(&raw);
        raw.fill(0);
        key
    }

    /// Re-wraps a data key under the current master key (for rotation). The old wrapping is
    /// checked first, so a damaged key is reported rather than carried over.
    pub fn rewrap(&self, patient_id: &str, wrapped: &WrappedKey) -> Result<WrappedKey, CryptoError> {
        let mut raw = self.unwrap_raw(DATA_KEY_DOMAIN, patient_id, wrapped)?;
        let rewrapped = self.wrap(&SystemRandom::new(), DATA_KEY_DOMAIN, patient_id, &raw);
        raw.fill(0);
        rewrapped
    }

    /// A fresh random 256-bit secret for `owner` (a webhook subscription's signing key), and its
    /// wrapped form for storage. Wrapped like a data key but under its own domain, so a wrapped
    /// secret and a wrapped data key can never stand in for each other.
    pub fn new_secret(&self, owner: &str) -> Result<([u8; KEY_LEN], WrappedKey), CryptoError> {
        check_id(owner, "the owner id contains a zero byte")?;
        let rng = SystemRandom::new();
        let mut raw = [0u8; KEY_LEN];
        rng.fill(&mut raw).map_err(|_| CryptoError::Random)?;
        let wrapped = self.wrap(&rng, SECRET_DOMAIN, owner, &raw)?;
        Ok((raw, wrapped))
    }

    /// Unwraps a secret made by [`Keyring::new_secret`] for the same owner.
    pub fn unwrap_secret(&self, owner: &str, wrapped: &WrappedKey) -> Result<[u8; KEY_LEN], CryptoError> {
        self.unwrap_raw(SECRET_DOMAIN, owner, wrapped)
    }

    /// A fresh key for the sealed files of `subject` (an export job's id), and its wrapped form.
    /// Wrapped under a domain of its own, so it never stands in for a data key or a secret.
    pub fn new_file_key(&self, subject: &str) -> Result<(FileKey, WrappedKey), CryptoError> {
        check_id(subject, "the file key's subject contains a zero byte")?;
        let rng = SystemRandom::new();
        let mut raw = [0u8; KEY_LEN];
        rng.fill(&mut raw).map_err(|_| CryptoError::Random)?;
        let wrapped = self.wrap(&rng, FILE_KEY_DOMAIN, subject, &raw)?;
        let key = FileKey::from_raw(&raw);
        raw.fill(0);
        Ok((key?, wrapped))
    }

    /// Unwraps a key made by [`Keyring::new_file_key`] for the same subject.
    pub fn unwrap_file_key(&self, subject: &str, wrapped: &WrappedKey) -> Result<FileKey, CryptoError> {
        let mut raw = self.unwrap_raw(FILE_KEY_DOMAIN, subject, wrapped)?;
        let key = FileKey::from_raw(&raw);
        raw.fill(0);
        key
    }

    /// Keyed blind index for exact-match lookups (hex HMAC-SHA256 over `kind` and the value),
    /// with a key independent of the master key so rotation never breaks lookups.
    ///
    /// `kind` is a constant naming what is indexed and must not contain a zero byte; normalise
    /// `value` before indexing it, the index matches exact bytes only.
    pub fn blind_index(&self, kind: &str, value: &str) -> String {
        debug_assert!(!kind.contains('\0'), "a blind-index kind must not contain a zero byte");
        let mut ctx = hmac::Context::with_key(&self.index_key);
        ctx.update(BLIND_INDEX_DOMAIN);
        ctx.update(kind.as_bytes());
        ctx.update(b"\0");
        ctx.update(value.as_bytes());
        hex(ctx.sign().as_ref())
    }

    /// Makes a new master key current and saves the keyring file (rotation); returns its kid.
    /// Older keys stay, so stored data keys still unwrap until they are rewrapped.
    pub fn add_master_key(&mut self) -> Result<String, KeyError> {
        let key = MasterKey::generate(&SystemRandom::new(), &self.masters)?;
        let kid = key.kid.clone();
        let mut masters = self.masters.clone();
        masters.push(key);
        self.save(&masters, &kid)?;
        self.masters = masters;
        self.current.clone_from(&kid);
        Ok(kid)
    }

    /// Drops master keys no longer in `kids_in_use` (never the current one) and saves.
    /// Returns the kids dropped. `kids_in_use` must list every kid any stored data key names:
    /// a data key whose master key is dropped can never be unwrapped again.
    pub fn retire_unused(&mut self, kids_in_use: &[String]) -> Result<Vec<String>, KeyError> {
        let (keep, retire): (Vec<MasterKey>, Vec<MasterKey>) =
            self.masters.iter().cloned().partition(|k| k.kid == self.current || kids_in_use.contains(&k.kid));
        if retire.is_empty() {
            return Ok(Vec::new());
        }
        self.save(&keep, &self.current)?;
        self.masters = keep;
        Ok(retire.into_iter().map(|k| k.kid).collect())
    }

    fn wrap(
        &self,
        rng: &SystemRandom,
        domain: &[u8],
        patient_id: &str,
        raw: &[u8; KEY_LEN],
    ) -> Result<WrappedKey, CryptoError> {
        let master = self.master(&self.current).ok_or_else(|| CryptoError::UnknownKid(self.current.clone()))?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce).map_err(|_| CryptoError::Random)?;
        let mut buf = Vec::with_capacity(WRAPPED_LEN);
        buf.extend_from_slice(&nonce);
        buf.extend_from_slice(raw);
        let tag = master
            .aead
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(data_key_ad(domain, patient_id, &master.kid)),
                &mut buf[NONCE_LEN..],
            )
            .map_err(|_| CryptoError::Encrypt)?;
        buf.extend_from_slice(tag.as_ref());
        Ok(WrappedKey { kid: master.kid.clone(), blob: STANDARD.encode(&buf) })
    }

    fn unwrap_raw(&self, domain: &[u8], patient_id: &str, wrapped: &WrappedKey) -> Result<[u8; KEY_LEN], CryptoError> {
        check_id(patient_id, "the patient id contains a zero byte")?;
        let master = self.master(&wrapped.kid).ok_or_else(|| CryptoError::UnknownKid(wrapped.kid.clone()))?;
        let mut buf = STANDARD
            .decode(wrapped.blob.as_bytes())
            .map_err(|_| CryptoError::Malformed("the wrapped data key is not valid base64"))?;
        if buf.len() != WRAPPED_LEN {
            return Err(CryptoError::Malformed("the wrapped data key has the wrong length"));
        }
        let (nonce, sealed) = buf.split_at_mut(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Malformed("bad nonce"))?;
        let plain = master
            .aead
            .open_in_place(nonce, Aad::from(data_key_ad(domain, patient_id, &master.kid)), sealed)
            .map_err(|_| CryptoError::UnwrapFailed)?;
        let raw: Result<[u8; KEY_LEN], _> = (&*plain).try_into();
        buf.fill(0);
        raw.map_err(|_| CryptoError::Malformed("the wrapped data key has the wrong length"))
    }
}

fn data_key_ad(domain: &[u8], patient_id: &str, kid: &str) -> Vec<u8> {
    let mut ad = Vec::with_capacity(domain.len() + patient_id.len() + 1 + kid.len());
    ad.extend_from_slice(domain);
    ad.extend_from_slice(patient_id.as_bytes());
    ad.push(0);
    ad.extend_from_slice(kid.as_bytes());
    ad
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::json;

    use super::*;
    use crate::crypto::FieldContext;
    use crate::crypto::test_support::{AT, mode, settings};

    #[test]
    fn wrapped_key_is_bound_to_its_patient() {
        let ring = Keyring::for_testing();
        let (key, wrapped) = ring.new_data_key("pat-A").unwrap();
        assert_eq!(wrapped.kid, ring.current_kid());
        assert_eq!(STANDARD.decode(&wrapped.blob).unwrap().len(), 60);
        assert_eq!(wrapped.blob.len(), 80);
        assert!(matches!(ring.unwrap_data_key("pat-B", &wrapped), Err(CryptoError::UnwrapFailed)));
        let at = FieldContext { patient_id: "pat-A", ..AT };
        let sealed = key.seal(&at, &json!("x")).unwrap();
        let again = ring.unwrap_data_key("pat-A", &wrapped).unwrap();
        assert_eq!(again.open(&at, &sealed).unwrap(), json!("x"));
    }

    #[test]
    fn tampered_wrapped_key_fails() {
        let mut ring = Keyring::for_testing();
        let (_, wrapped) = ring.new_data_key("pat-1").unwrap();
        let blob = STANDARD.decode(&wrapped.blob).unwrap();
        for i in 0..blob.len() {
            let mut altered = blob.clone();
            altered[i] ^= 0x80;
            let w = WrappedKey { kid: wrapped.kid.clone(), blob: STANDARD.encode(&altered) };
            assert!(matches!(ring.unwrap_data_key("pat-1", &w), Err(CryptoError::UnwrapFailed)), "byte {i}");
        }
        let short = WrappedKey { kid: wrapped.kid.clone(), blob: STANDARD.encode(&blob[..59]) };
        assert!(matches!(ring.unwrap_data_key("pat-1", &short), Err(CryptoError::Malformed(_))));
        let garbage = WrappedKey { kid: wrapped.kid.clone(), blob: "***".into() };
        assert!(matches!(ring.unwrap_data_key("pat-1", &garbage), Err(CryptoError::Malformed(_))));
        let unknown = WrappedKey { kid: "mk-nothere".into(), blob: wrapped.blob.clone() };
        assert!(
            matches!(ring.unwrap_data_key("pat-1", &unknown), Err(CryptoError::UnknownKid(k)) if k == "mk-nothere")
        );
        // Pointing the kid at another key that is in the keyring fails too.
        let other = ring.add_master_key().unwrap();
        let relabelled = WrappedKey { kid: other, blob: wrapped.blob.clone() };
        assert!(matches!(ring.unwrap_data_key("pat-1", &relabelled), Err(CryptoError::UnwrapFailed)));
    }

    #[test]
    fn rotation_rewrap_and_retire() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(&dir);
        let mut ring = Keyring::load_or_create(&settings, false).unwrap();
        let old_kid = ring.current_kid().to_owned();
        let (key, wrapped) = ring.new_data_key("pat-1").unwrap();
        let sealed = key.seal(&AT, &json!({"care_level": 3})).unwrap();
        let index_before = ring.blind_index("ltc-number", "H123");

        let new_kid = ring.add_master_key().unwrap();
        assert_ne!(new_kid, old_kid);
        assert_eq!(ring.current_kid(), new_kid);
        // Old wrappings still open until retired.
        assert!(ring.unwrap_data_key("pat-1", &wrapped).is_ok());

        let rewrapped = ring.rewrap("pat-1", &wrapped).unwrap();
        assert_eq!(rewrapped.kid, new_kid);
        assert_ne!(rewrapped.blob, wrapped.blob);
        assert!(matches!(ring.rewrap("pat-2", &wrapped), Err(CryptoError::UnwrapFailed)));
        let key2 = ring.unwrap_data_key("pat-1", &rewrapped).unwrap();
        assert_eq!(key2.open(&AT, &sealed).unwrap(), json!({"care_level": 3}));

        // Nothing to retire while the old kid is still in use.
        assert!(ring.retire_unused(&[old_kid.clone(), new_kid.clone()]).unwrap().is_empty());
        // The current key is never retired, even if nothing uses it yet.
        assert_eq!(ring.retire_unused(&[]).unwrap(), vec![old_kid.clone()]);
        assert!(matches!(ring.unwrap_data_key("pat-1", &wrapped), Err(CryptoError::UnknownKid(k)) if k == old_kid));
        assert_eq!(ring.unwrap_data_key("pat-1", &rewrapped).unwrap().open(&AT, &sealed).unwrap()["care_level"], 3);
        assert_eq!(ring.blind_index("ltc-number", "H123"), index_before);

        // All of it was saved.
        let reloaded = Keyring::load_or_create(&settings, true).unwrap();
        assert_eq!(reloaded.current_kid(), new_kid);
        assert!(matches!(reloaded.unwrap_data_key("pat-1", &wrapped), Err(CryptoError::UnknownKid(_))));
        assert_eq!(reloaded.unwrap_data_key("pat-1", &rewrapped).unwrap().open(&AT, &sealed).unwrap()["care_level"], 3);
        assert_eq!(reloaded.blind_index("ltc-number", "H123"), index_before);
        let file: serde_json::Value =
            serde_json::from_slice(&fs::read(settings.data_dir.join("master.key")).unwrap()).unwrap();
        assert_eq!(file["current"], new_kid.as_str());
        assert_eq!(file["keys"].as_array().unwrap().len(), 1);
        assert_eq!(mode(&settings.data_dir.join("master.key")), 0o600);
        // No temporary files left behind.
        assert_eq!(fs::read_dir(&settings.data_dir).unwrap().count(), 2);
    }

    #[test]
    fn blind_index_is_deterministic_and_separated() {
        let mut ring = Keyring::for_testing();
        let a = ring.blind_index("ltc-number", "H123456789");
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_eq!(a, ring.blind_index("ltc-number", "H123456789"));
        assert_eq!(a, Keyring::for_testing().blind_index("ltc-number", "H123456789"));
        assert_ne!(a, ring.blind_index("ltc-number", "H123456780"));
        assert_ne!(a, ring.blind_index("phone", "H123456789"));
        assert_ne!(ring.blind_index("ab", "c"), ring.blind_index("a", "bc"));
        ring.add_master_key().unwrap();
        assert_eq!(a, ring.blind_index("ltc-number", "H123456789"));
        ring.retire_unused(&[]).unwrap();
        assert_eq!(a, ring.blind_index("ltc-number", "H123456789"));

        // A keyring with another blind-index key gives other indexes.
        let dir = tempfile::tempdir().unwrap();
        let other = Keyring::load_or_create(&settings(&dir), false).unwrap();
        assert_ne!(a, other.blind_index("ltc-number", "H123456789"));
    }

    #[test]
    fn debug_output_holds_no_secrets() {
        let ring = Keyring::for_testing();
        let (key, _) = ring.new_data_key("p").unwrap();
        assert_eq!(format!("{key:?}"), "DataKey(<redacted>)");
        let shown = format!("{ring:?}");
        assert!(shown.contains("mk-testing"));
        assert!(!shown.contains("77") && !shown.contains("4d") && !shown.contains("TU1N"), "{shown}");
        let err = CryptoError::OpenFailed.to_string();
        assert!(!err.contains("enc:v1"));
    }
}
