//! Envelope encryption of patient data, with ring only (AES-256-GCM, HMAC-SHA256, `SystemRandom`).
//!
//! # Keys
//!
//! * **Master keys** (256 bits each, named by a *kid*, exactly one of them current) live only in
//!   the keyring file, never in the database. They do one thing: wrap data keys.
//! * **Data keys** (256 bits, random, one per patient) seal that patient's fields. The database
//!   keeps each one only in wrapped form, next to the kid of the master key that wraps it. Deleting
//!   a patient's wrapped data key leaves everything sealed under it unreadable (crypto-shredding).
//! * **The blind-index key** (256 bits) keys HMAC-SHA256 for exact-match lookups of values that are
//!   stored sealed. It is independent of the master keys, so rotating them never changes an index.
//!
//! Rotation: [`Keyring::add_master_key`] makes a new master key current; [`Keyring::rewrap`] moves
//! each stored data key onto it (only the 80-character wrapped keys are rewritten, sealed fields are
//! untouched); when no stored data key names an old kid any more, [`Keyring::retire_unused`] drops it.
//!
//! # Stored formats
//!
//! This section is the written-down format of everything carepath stores encrypted. Changing any
//! part of it needs a new version tag (`v2`, `enc:v2:`), and readers must keep accepting `v1`.
//! Below, `‖` is concatenation and `\0` one zero byte.
//!
//! ## Sealed value: `enc:v1:<payload>`
//!
//! * `payload` = base64url without padding (RFC 4648 §5) of `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`.
//! * AES-256-GCM under the patient's data key; the 96-bit nonce is fresh from `SystemRandom` for
//!   every seal, so sealing the same value twice gives different strings.
//! * Plaintext: the compact JSON serialisation (serde_json, UTF-8) of the value. Any JSON value can
//!   be sealed (string, number, boolean, null, object, array) and opens back with its type.
//! * Associated data: `carepath:field:v1\0` ‖ patient id ‖ `\0` ‖ document id ‖ `\0` ‖ version (decimal,
//!   ASCII) ‖ `\0` ‖ JSON pointer of the value within the document.
//!
//! Why: the text prefix tells a sealed value from a plain one inside a JSON document and names the
//! format version; base64url without padding keeps the whole thing a JSON string that needs no
//! escaping. The associated data binds the ciphertext to the one place it was sealed for: copied
//! to another pointer, document, version or patient it fails to open, so whoever can write the
//! database still cannot move sealed values around unnoticed. Patient and document ids holding a
//! zero byte are refused, which keeps that encoding unambiguous (the pointer is last and may hold
//! anything). Random 96-bit nonces are safe for far more seals than one patient's key will see
//! (the NIST SP 800-38D bound is 2^32 per key).
//!
//! ## Wrapped data key: `WrappedKey { kid, blob }`
//!
//! * `kid`: the master key that wraps it (stored in its own column).
//! * `blob` = standard base64 with padding (RFC 4648 §4) of `nonce (12) ‖ ciphertext (32) ‖ tag (16)`:
//!   60 bytes, 80 characters.
//! * AES-256-GCM under master key `kid`, fresh random nonce, associated data
//!   `carepath:data-key:v1\0` ‖ patient id ‖ `\0` ‖ kid.
//!
//! Why: binding the patient id means a wrapped key copied onto another patient's row does not
//! unwrap there; binding the kid means the kid column cannot be edited to point elsewhere. Kids
//! hold no zero byte (checked on load), so the encoding is unambiguous.
//!
//! ## Blind index
//!
//! Lowercase hex (64 characters) of HMAC-SHA256(blind-index key, `carepath:blind-index:v1\0` ‖ kind
//! ‖ `\0` ‖ value). `kind` names what is indexed (a constant chosen by the code, without zero bytes),
//! so equal values of different kinds never match. The index matches exact bytes: callers normalise
//! the value (case, spaces, ...) the same way when storing and when looking up.
//!
//! The three distinct prefixes (`carepath:field:v1`, `carepath:data-key:v1`,
//! `carepath:blind-index:v1`) keep the uses of the keys apart (domain separation).
//!
//! ## Keyring file (master keys)
//!
//! Default `<data_dir>/master.key`; `CAREPATH_MASTER_KEY_FILE` (`--master-key-file`) names another.
//! JSON, keys in standard base64 with padding (44 characters for 32 bytes):
//!
//! ```json
//! {"current": "mk-3f9a0c1e", "keys": [{"kid": "mk-3f9a0c1e", "key": "<base64 of 32 bytes>"}]}
//! ```
//!
//! Kids are 1 to 64 printable ASCII characters without spaces; new ones are `mk-` and 8 random hex
//! digits. Unknown fields are refused. The file has mode 0600 and is only ever replaced atomically:
//! a temporary file (mode 0600) in the same directory, fsync, then rename over the old one.
//!
//! ## Blind-index key file
//!
//! Default `<data_dir>/index.key`; `CAREPATH_INDEX_KEY_FILE` (`--index-key-file`) names another.
//! One line: standard base64 with padding of 32 random bytes. Mode 0600.
//!
//! ## When key files are created
//!
//! Only at the default place in the data directory (created with mode 0700 if missing), only when
//! the file is missing, and only while the database holds no patients. A configured file must
//! exist. A key file missing while the database holds data is an error, never a fresh key: a new
//! master key would leave the existing data unreadable, a new blind-index key every lookup empty.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, MAX_TAG_LEN, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Settings;

pub mod sealing;

/// The prefix of every sealed value (format version 1).
pub const SEALED_PREFIX: &str = "enc:v1:";

const KEY_LEN: usize = 32;
const TAG_LEN: usize = MAX_TAG_LEN; // AES-256-GCM: 16
const WRAPPED_LEN: usize = NONCE_LEN + KEY_LEN + TAG_LEN;

const FIELD_DOMAIN: &[u8] = b"carepath:field:v1\0";
const DATA_KEY_DOMAIN: &[u8] = b"carepath:data-key:v1\0";
const BLIND_INDEX_DOMAIN: &[u8] = b"carepath:blind-index:v1\0";

const MAX_KID_LEN: usize = 64;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A failure to seal, open, wrap or unwrap. Messages never hold key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the value is not sealed (it does not start with enc:v1:)")]
    NotSealed,
    #[error("malformed ciphertext: {0}")]
    Malformed(&'static str),
    #[error("a sealed value failed authentication (altered, moved from another place, or sealed under another key)")]
    OpenFailed,
    #[error("the data key is wrapped under master key {0}, which is not in the keyring")]
    UnknownKid(String),
    #[error("a wrapped data key failed authentication (altered, or wrapped for another patient)")]
    UnwrapFailed,
    #[error("invalid encryption context: {0}")]
    InvalidContext(&'static str),
    #[error("the value could not be serialised as JSON")]
    Serialize,
    #[error("a sealed value opened to something that is not JSON")]
    InvalidPlaintext,
    #[error("encryption failed")]
    Encrypt,
    #[error("the system random number generator failed")]
    Random,
}

/// A stored value that cannot be sealed or opened is a server fault (500); the cause is logged.
impl From<CryptoError> for crate::error::ApiError {
    fn from(e: CryptoError) -> Self {
        Self::internal(e)
    }
}

/// A failure to load, create or save a key file, worded for the operator.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the {what} file {path} does not exist, but the database already holds patient data {consequence}; \
         restore the file, or set {env} to the file that holds the key"
    )]
    MissingWithData { what: &'static str, path: String, env: &'static str, consequence: &'static str },
    #[error(
        "the {what} file {path} (set by {env}) does not exist; carepath creates a key only at its default \
         place in the data directory on a first start, so provide this file or unset {env}"
    )]
    MissingConfigured { what: &'static str, path: String, env: &'static str },
    #[error("cannot read the {what} file {path}: {source}")]
    Read { what: &'static str, path: String, source: io::Error },
    #[error("the {what} file {path} {problem}")]
    Malformed { what: &'static str, path: String, problem: String },
    #[error("cannot write the {what} file {path}: {source}")]
    Write { what: &'static str, path: String, source: io::Error },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: io::Error },
    #[error("the system random number generator failed")]
    Random,
}

// ---------------------------------------------------------------------------------------------
// Keyring
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
struct MasterKey {
    kid: String,
    raw: [u8; KEY_LEN],
    aead: LessSafeKey,
}

impl MasterKey {
    fn new(kid: String, raw: [u8; KEY_LEN]) -> Result<Self, ring::error::Unspecified> {
        let aead = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &raw)?);
        Ok(Self { kid, raw, aead })
    }

    /// A fresh random key whose kid is not among `existing`.
    fn generate(rng: &SystemRandom, existing: &[MasterKey]) -> Result<Self, KeyError> {
        let kid = loop {
            let mut id = [0u8; 4];
            rng.fill(&mut id).map_err(|_| KeyError::Random)?;
            let kid = format!("mk-{}", to_hex(&id));
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
    masters: Vec<MasterKey>,
    current: String,
    index_key: hmac::Key,
    /// Where the keyring is saved on rotation; `None` keeps it in memory only (tests).
    path: Option<PathBuf>,
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

/// One key file to load or create, with the words its errors use.
struct KeyFileSpec<'a> {
    what: &'static str,
    env: &'static str,
    consequence: &'static str,
    path: PathBuf,
    configured: bool,
    data_dir: &'a Path,
}

impl<'a> KeyFileSpec<'a> {
    fn master(settings: &'a Settings) -> Self {
        Self {
            what: "master key",
            env: "CAREPATH_MASTER_KEY_FILE",
            consequence: "sealed under a master key that is not here (a new key would leave that data unreadable)",
            path: settings.master_key_file.clone().unwrap_or_else(|| settings.data_dir.join("master.key")),
            configured: settings.master_key_file.is_some(),
            data_dir: &settings.data_dir,
        }
    }

    fn index(settings: &'a Settings) -> Self {
        Self {
            what: "blind-index key",
            env: "CAREPATH_INDEX_KEY_FILE",
            consequence: "indexed under a blind-index key that is not here (a new key would make every lookup miss)",
            path: settings.index_key_file.clone().unwrap_or_else(|| settings.data_dir.join("index.key")),
            configured: settings.index_key_file.is_some(),
            data_dir: &settings.data_dir,
        }
    }

    fn display(&self) -> String {
        self.path.display().to_string()
    }

    fn malformed(&self, problem: impl Into<String>) -> KeyError {
        KeyError::Malformed { what: self.what, path: self.display(), problem: problem.into() }
    }

    /// The file's bytes, or `None` if it does not exist. Warns if others may read it.
    fn read(&self) -> Result<Option<Vec<u8>>, KeyError> {
        match fs::read(&self.path) {
            Ok(bytes) => {
                if let Ok(meta) = fs::metadata(&self.path) {
                    let mode = meta.permissions().mode() & 0o777;
                    if mode & 0o077 != 0 {
                        tracing::warn!(
                            path = %self.path.display(),
                            mode = format!("{mode:o}"),
                            "the {} file can be read by group or others; chmod 600 it",
                            self.what
                        );
                    }
                }
                Ok(Some(bytes))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(KeyError::Read { what: self.what, path: self.display(), source }),
        }
    }

    /// Reads the file, or creates it with `generate()` where the creation rule allows.
    fn read_or_create(
        &self,
        db_has_data: bool,
        generate: impl FnOnce() -> Result<Vec<u8>, KeyError>,
    ) -> Result<Vec<u8>, KeyError> {
        if let Some(bytes) = self.read()? {
            return Ok(bytes);
        }
        if db_has_data {
            return Err(KeyError::MissingWithData {
                what: self.what,
                path: self.display(),
                env: self.env,
                consequence: self.consequence,
            });
        }
        if self.configured {
            return Err(KeyError::MissingConfigured { what: self.what, path: self.display(), env: self.env });
        }
        create_data_dir(self.data_dir)?;
        let contents = generate()?;
        let created = write_atomic(&self.path, &contents, false).map_err(|source| KeyError::Write {
            what: self.what,
            path: self.display(),
            source,
        })?;
        if created {
            tracing::info!(path = %self.path.display(), "created the {} file", self.what);
            Ok(contents)
        } else {
            // Another process created it between our look and our write: use theirs.
            self.read()?.ok_or_else(|| KeyError::Read {
                what: self.what,
                path: self.display(),
                source: io::ErrorKind::NotFound.into(),
            })
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringFile {
    current: String,
    keys: Vec<KeyringEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringEntry {
    kid: String,
    key: String,
}

fn keyring_json(masters: &[MasterKey], current: &str) -> io::Result<Vec<u8>> {
    let file = KeyringFile {
        current: current.to_owned(),
        keys: masters.iter().map(|k| KeyringEntry { kid: k.kid.clone(), key: STANDARD.encode(k.raw) }).collect(),
    };
    let mut out = serde_json::to_vec_pretty(&file)?;
    out.push(b'\n');
    Ok(out)
}

fn parse_keyring(spec: &KeyFileSpec<'_>, bytes: &[u8]) -> Result<(Vec<MasterKey>, String), KeyError> {
    // serde_json's messages may quote the input (key material): report the place only.
    let file: KeyringFile = serde_json::from_slice(bytes).map_err(|e| {
        spec.malformed(match e.classify() {
            serde_json::error::Category::Data => format!(
                "does not have the keyring shape {{\"current\": \"<kid>\", \"keys\": [{{\"kid\": \"<kid>\", \
                 \"key\": \"<base64 of 32 bytes>\"}}]}} (line {}, column {})",
                e.line(),
                e.column()
            ),
            _ => format!("is not valid JSON (line {}, column {})", e.line(), e.column()),
        })
    })?;
    if file.keys.is_empty() {
        return Err(spec.malformed("holds no keys"));
    }
    let mut masters: Vec<MasterKey> = Vec::with_capacity(file.keys.len());
    for (i, entry) in file.keys.into_iter().enumerate() {
        if !valid_kid(&entry.kid) {
            return Err(spec.malformed(format!(
                "has an invalid kid in keys[{i}]: kids are 1 to {MAX_KID_LEN} printable ASCII characters without spaces"
            )));
        }
        if masters.iter().any(|k| k.kid == entry.kid) {
            return Err(spec.malformed(format!("lists kid {} twice", entry.kid)));
        }
        let decoded = STANDARD
            .decode(entry.key.as_bytes())
            .map_err(|_| spec.malformed(format!("has a key for kid {} that is not valid base64", entry.kid)))?;
        let raw: [u8; KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
            spec.malformed(format!(
                "has a key of {} bytes for kid {}; a master key is {KEY_LEN} bytes (256 bits)",
                decoded.len(),
                entry.kid
            ))
        })?;
        let key = MasterKey::new(entry.kid, raw).map_err(|_| spec.malformed("has an unusable key"))?;
        masters.push(key);
    }
    if !masters.iter().any(|k| k.kid == file.current) {
        return Err(spec.malformed(format!("names current kid {:?}, which is not among its keys", file.current)));
    }
    Ok((masters, file.current))
}

fn parse_index_key(spec: &KeyFileSpec<'_>, bytes: &[u8]) -> Result<hmac::Key, KeyError> {
    let text = bytes.trim_ascii();
    if text.is_empty() {
        return Err(spec.malformed("is empty; it should hold the base64 of 32 random bytes"));
    }
    let decoded =
        STANDARD.decode(text).map_err(|_| spec.malformed("is not valid base64; it should hold 32 random bytes"))?;
    if decoded.len() != KEY_LEN {
        return Err(spec.malformed(format!(
            "holds a key of {} bytes; the blind-index key is {KEY_LEN} bytes (256 bits)",
            decoded.len()
        )));
    }
    Ok(hmac::Key::new(hmac::HMAC_SHA256, &decoded))
}

fn valid_kid(kid: &str) -> bool {
    !kid.is_empty() && kid.len() <= MAX_KID_LEN && kid.bytes().all(|b| b.is_ascii_graphic())
}

impl Keyring {
    /// Loads the master keyring and the blind-index key; creates them on first start.
    /// `db_has_data`: the database already holds patients. Then a missing master key file is an
    /// error (never create a new master key over existing data).
    ///
    /// A key file is created only when it is at its default place in the data directory, is
    /// missing, and `db_has_data` is false (see the module documentation).
    pub fn load_or_create(settings: &Settings, db_has_data: bool) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();

        let master = KeyFileSpec::master(settings);
        let bytes = master.read_or_create(db_has_data, || {
            let key = MasterKey::generate(&rng, &[])?;
            let kid = key.kid.clone();
            keyring_json(&[key], &kid).map_err(|source| KeyError::Write {
                what: master.what,
                path: master.display(),
                source,
            })
        })?;
        let (masters, current) = parse_keyring(&master, &bytes)?;

        let index = KeyFileSpec::index(settings);
        let bytes = index.read_or_create(db_has_data, || {
            let mut raw = [0u8; KEY_LEN];
            rng.fill(&mut raw).map_err(|_| KeyError::Random)?;
            let mut text = STANDARD.encode(raw).into_bytes();
            text.push(b'\n');
            Ok(text)
        })?;
        let index_key = parse_index_key(&index, &bytes)?;

        Ok(Self { masters, current, index_key, path: Some(master.path) })
    }

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
        let wrapped = self.wrap(&rng, patient_id, &raw)?;
        let key = DataKey::from_raw(&raw)?;
        raw.fill(0);
        Ok((key, wrapped))
    }

    /// Unwraps a stored data key; fails if the kid is unknown, the blob was altered, or it was
    /// wrapped for another patient.
    pub fn unwrap_data_key(&self, patient_id: &str, wrapped: &WrappedKey) -> Result<DataKey, CryptoError> {
        let mut raw = self.unwrap_raw(patient_id, wrapped)?;
        let key = DataKey::from_raw(&raw);
        raw.fill(0);
        key
    }

    /// Re-wraps a data key under the current master key (for rotation). The old wrapping is
    /// checked first, so a damaged key is reported rather than carried over.
    pub fn rewrap(&self, patient_id: &str, wrapped: &WrappedKey) -> Result<WrappedKey, CryptoError> {
        let mut raw = self.unwrap_raw(patient_id, wrapped)?;
        let rewrapped = self.wrap(&SystemRandom::new(), patient_id, &raw);
        raw.fill(0);
        rewrapped
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
        to_hex(ctx.sign().as_ref())
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

    fn save(&self, masters: &[MasterKey], current: &str) -> Result<(), KeyError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let write_error = |source| KeyError::Write { what: "master key", path: path.display().to_string(), source };
        let contents = keyring_json(masters, current).map_err(write_error)?;
        write_atomic(path, &contents, true).map_err(write_error)?;
        Ok(())
    }

    fn wrap(&self, rng: &SystemRandom, patient_id: &str, raw: &[u8; KEY_LEN]) -> Result<WrappedKey, CryptoError> {
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
                Aad::from(data_key_ad(patient_id, &master.kid)),
                &mut buf[NONCE_LEN..],
            )
            .map_err(|_| CryptoError::Encrypt)?;
        buf.extend_from_slice(tag.as_ref());
        Ok(WrappedKey { kid: master.kid.clone(), blob: STANDARD.encode(&buf) })
    }

    fn unwrap_raw(&self, patient_id: &str, wrapped: &WrappedKey) -> Result<[u8; KEY_LEN], CryptoError> {
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
            .open_in_place(nonce, Aad::from(data_key_ad(patient_id, &master.kid)), sealed)
            .map_err(|_| CryptoError::UnwrapFailed)?;
        let raw: Result<[u8; KEY_LEN], _> = (&*plain).try_into();
        buf.fill(0);
        raw.map_err(|_| CryptoError::Malformed("the wrapped data key has the wrong length"))
    }
}

fn data_key_ad(patient_id: &str, kid: &str) -> Vec<u8> {
    let mut ad = Vec::with_capacity(DATA_KEY_DOMAIN.len() + patient_id.len() + 1 + kid.len());
    ad.extend_from_slice(DATA_KEY_DOMAIN);
    ad.extend_from_slice(patient_id.as_bytes());
    ad.push(0);
    ad.extend_from_slice(kid.as_bytes());
    ad
}

fn check_id(id: &str, problem: &'static str) -> Result<(), CryptoError> {
    if id.as_bytes().contains(&0) { Err(CryptoError::InvalidContext(problem)) } else { Ok(()) }
}

// ---------------------------------------------------------------------------------------------
// Data keys and sealed values
// ---------------------------------------------------------------------------------------------

/// A data key as stored: the kid of the master key that wraps it and the wrapped bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub kid: String,
    /// Standard base64 of nonce (12) ‖ ciphertext (32) ‖ tag (16).
    pub blob: String,
}

/// One patient's data key (256 bits), ready to seal and open. Its `Debug` shows nothing secret.
#[derive(Clone)]
pub struct DataKey(LessSafeKey);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// Where a sealed value sits; all of it is bound into the ciphertext as associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldContext<'a> {
    pub patient_id: &'a str,
    pub document_id: &'a str,
    pub version: i64,
    /// JSON Pointer of the value within the document.
    pub pointer: &'a str,
}

impl FieldContext<'_> {
    fn associated_data(&self) -> Result<Vec<u8>, CryptoError> {
        check_id(self.patient_id, "the patient id contains a zero byte")?;
        check_id(self.document_id, "the document id contains a zero byte")?;
        let version = self.version.to_string();
        let mut ad = Vec::with_capacity(
            FIELD_DOMAIN.len()
                + self.patient_id.len()
                + self.document_id.len()
                + version.len()
                + self.pointer.len()
                + 3,
        );
        ad.extend_from_slice(FIELD_DOMAIN);
        ad.extend_from_slice(self.patient_id.as_bytes());
        ad.push(0);
        ad.extend_from_slice(self.document_id.as_bytes());
        ad.push(0);
        ad.extend_from_slice(version.as_bytes());
        ad.push(0);
        ad.extend_from_slice(self.pointer.as_bytes());
        Ok(ad)
    }
}

impl DataKey {
    fn from_raw(raw: &[u8; KEY_LEN]) -> Result<Self, CryptoError> {
        let key = UnboundKey::new(&AES_256_GCM, raw).map_err(|_| CryptoError::Malformed("unusable data key"))?;
        Ok(Self(LessSafeKey::new(key)))
    }

    /// Seals any JSON value (serialised) as the string `enc:v1:<base64url-nopad(nonce || ciphertext || tag)>`.
    pub fn seal(&self, at: &FieldContext<'_>, value: &Value) -> Result<String, CryptoError> {
        let ad = at.associated_data()?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| CryptoError::Random)?;
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&nonce);
        serde_json::to_writer(&mut buf, value).map_err(|_| CryptoError::Serialize)?;
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(ad), &mut buf[NONCE_LEN..])
            .map_err(|_| CryptoError::Encrypt)?;
        buf.extend_from_slice(tag.as_ref());
        let mut out = String::with_capacity(SEALED_PREFIX.len() + buf.len().div_ceil(3) * 4);
        out.push_str(SEALED_PREFIX);
        URL_SAFE_NO_PAD.encode_string(&buf, &mut out);
        Ok(out)
    }

    /// Opens a sealed string back into the JSON value; fails on any moved, altered or foreign ciphertext.
    pub fn open(&self, at: &FieldContext<'_>, sealed: &str) -> Result<Value, CryptoError> {
        let payload = sealed.strip_prefix(SEALED_PREFIX).ok_or(CryptoError::NotSealed)?;
        let ad = at.associated_data()?;
        let mut buf = URL_SAFE_NO_PAD
            .decode(payload.as_bytes())
            .map_err(|_| CryptoError::Malformed("the sealed value is not valid base64url"))?;
        if buf.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed("the sealed value is too short"));
        }
        let (nonce, sealed) = buf.split_at_mut(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Malformed("bad nonce"))?;
        let plain = self.0.open_in_place(nonce, Aad::from(ad), sealed).map_err(|_| CryptoError::OpenFailed)?;
        // serde_json's messages may quote the input (plaintext): report nothing of it.
        serde_json::from_slice(plain).map_err(|_| CryptoError::InvalidPlaintext)
    }
}

/// Whether a stored string is a sealed value (starts with `enc:v1:`).
pub fn is_sealed(s: &str) -> bool {
    s.starts_with(SEALED_PREFIX)
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

fn create_data_dir(dir: &Path) -> Result<(), KeyError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| KeyError::DataDir { path: dir.display().to_string(), source })
}

/// Writes `contents` to `path` atomically with mode 0600: a temporary file in the same directory,
/// fsync, then rename (`replace`) or hard link (`!replace`, which never clobbers a file that
/// appeared meanwhile). Returns false if `!replace` and `path` already exists.
fn write_atomic(path: &Path, contents: &[u8], replace: bool) -> io::Result<bool> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| io::Error::other("the path does not name a file"))?;
    let mut suffix = [0u8; 6];
    SystemRandom::new().fill(&mut suffix).map_err(|_| io::Error::other("the system random number generator failed"))?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), to_hex(&suffix)));

    let result = (|| {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        // Exactly 0600 whatever the umask.
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        if replace {
            fs::rename(&tmp, path)?;
            return Ok(true);
        }
        match fs::hard_link(&tmp, path) {
            Ok(()) => {
                fs::remove_file(&tmp)?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                fs::remove_file(&tmp)?;
                Ok(false)
            }
            // A file system without hard links: fall back to rename.
            Err(_) if path.exists() => {
                fs::remove_file(&tmp)?;
                Ok(false)
            }
            Err(_) => {
                fs::rename(&tmp, path)?;
                Ok(true)
            }
        }
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    if let Ok(true) = result {
        // Make the rename itself durable; not every file system can sync a directory.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    result
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const AT: FieldContext<'static> =
        FieldContext { patient_id: "pat-1", document_id: "doc-1", version: 3, pointer: "/name/family" };

    fn key() -> DataKey {
        Keyring::for_testing().new_data_key("pat-1").unwrap().0
    }

    fn settings(dir: &tempfile::TempDir) -> Settings {
        Settings::for_data_dir(dir.path().join("data"))
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn round_trips_every_json_type() {
        let key = key();
        for value in [
            json!("Hanako Yamada"),
            json!(""),
            json!("改行\nと \"引用\" と \u{0}"),
            json!(42),
            json!(-7.25),
            json!(1e300),
            json!(true),
            json!(null),
            json!({"family": "山田", "given": ["花子"], "age": 87, "nested": {"a": [1, 2, {"b": null}]}}),
            json!([1, "two", 3.5, false, [], {}]),
        ] {
            let sealed = key.seal(&AT, &value).unwrap();
            assert!(is_sealed(&sealed), "{sealed}");
            assert_eq!(key.open(&AT, &sealed).unwrap(), value);
        }
    }

    #[test]
    fn sealed_layout_and_fresh_nonces() {
        let key = key();
        let value = json!("abc");
        let a = key.seal(&AT, &value).unwrap();
        let b = key.seal(&AT, &value).unwrap();
        assert_ne!(a, b, "every seal uses a fresh nonce");
        let payload = a.strip_prefix("enc:v1:").unwrap();
        assert!(payload.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "base64url, no padding");
        let bytes = URL_SAFE_NO_PAD.decode(payload).unwrap();
        assert_eq!(bytes.len(), 12 + br#""abc""#.len() + 16);
    }

    #[test]
    fn moved_ciphertext_does_not_open() {
        let key = key();
        let sealed = key.seal(&AT, &json!({"secret": 1})).unwrap();
        let elsewhere = [
            FieldContext { pointer: "/name/given", ..AT },
            FieldContext { pointer: "/name/family/0", ..AT },
            FieldContext { document_id: "doc-2", ..AT },
            FieldContext { version: 4, ..AT },
            FieldContext { version: -3, ..AT },
            FieldContext { patient_id: "pat-2", ..AT },
            // The separators keep neighbouring fields apart.
            FieldContext { patient_id: "pat-1doc-1", document_id: "", ..AT },
        ];
        for at in elsewhere {
            assert!(matches!(key.open(&at, &sealed), Err(CryptoError::OpenFailed)), "{at:?}");
        }
        assert!(key.open(&AT, &sealed).is_ok());
    }

    #[test]
    fn another_data_key_does_not_open() {
        let ring = Keyring::for_testing();
        let (a, _) = ring.new_data_key("pat-1").unwrap();
        let (b, _) = ring.new_data_key("pat-1").unwrap();
        let sealed = a.seal(&AT, &json!("x")).unwrap();
        assert!(matches!(b.open(&AT, &sealed), Err(CryptoError::OpenFailed)));
    }

    #[test]
    fn any_flipped_byte_fails() {
        let key = key();
        let sealed = key.seal(&AT, &json!("a value of some length")).unwrap();
        // Every bit of the decoded payload (nonce, ciphertext, tag).
        let payload = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(SEALED_PREFIX).unwrap()).unwrap();
        for i in 0..payload.len() {
            for bit in 0..8 {
                let mut altered = payload.clone();
                altered[i] ^= 1 << bit;
                let s = format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(&altered));
                assert!(matches!(key.open(&AT, &s), Err(CryptoError::OpenFailed)), "byte {i} bit {bit}");
            }
        }
        // Every character of the string, prefix included.
        for i in 0..sealed.len() {
            for replacement in [b'A', b'z', b'0', b'-', b'_', b'='] {
                let mut bytes = sealed.clone().into_bytes();
                if bytes[i] == replacement {
                    continue;
                }
                bytes[i] = replacement;
                let s = String::from_utf8(bytes).unwrap();
                assert!(key.open(&AT, &s).is_err(), "char {i} -> {}", char::from(replacement));
            }
        }
        // Truncated or extended.
        assert!(key.open(&AT, &sealed[..sealed.len() - 1]).is_err());
        assert!(key.open(&AT, &format!("{sealed}A")).is_err());
    }

    #[test]
    fn unsealed_strings_fail() {
        let key = key();
        for s in ["", "Hanako", "enc:v2:AAAA", "ENC:V1:AAAA", " enc:v1:AAAA", "enc:v1"] {
            assert!(!is_sealed(s));
            assert!(matches!(key.open(&AT, s), Err(CryptoError::NotSealed)), "{s:?}");
        }
        for s in ["enc:v1:", "enc:v1:AAAA", "enc:v1:not base64!", "enc:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="] {
            assert!(is_sealed(s));
            assert!(matches!(key.open(&AT, s), Err(CryptoError::Malformed(_))), "{s:?}");
        }
    }

    #[test]
    fn zero_bytes_in_ids_are_refused() {
        let ring = Keyring::for_testing();
        assert!(matches!(ring.new_data_key("a\0b"), Err(CryptoError::InvalidContext(_))));
        let key = key();
        let at = FieldContext { document_id: "d\0", ..AT };
        assert!(matches!(key.seal(&at, &json!(1)), Err(CryptoError::InvalidContext(_))));
        // ... but a pointer, last in the associated data, may hold anything.
        let at = FieldContext { pointer: "/a\0b", ..AT };
        let sealed = key.seal(&at, &json!(1)).unwrap();
        assert_eq!(key.open(&at, &sealed).unwrap(), json!(1));
    }

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
    fn first_start_creates_key_files_and_second_start_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(&dir);
        assert!(!settings.data_dir.exists());
        let first = Keyring::load_or_create(&settings, false).unwrap();

        assert_eq!(mode(&settings.data_dir), 0o700);
        let master = settings.data_dir.join("master.key");
        let index = settings.data_dir.join("index.key");
        assert_eq!(mode(&master), 0o600);
        assert_eq!(mode(&index), 0o600);
        let mut names: Vec<_> =
            fs::read_dir(&settings.data_dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["index.key", "master.key"]);

        let file: serde_json::Value = serde_json::from_slice(&fs::read(&master).unwrap()).unwrap();
        let kid = file["current"].as_str().unwrap();
        assert_eq!(kid, first.current_kid());
        assert!(kid.starts_with("mk-") && kid.len() == 11, "{kid}");
        assert_eq!(file["keys"][0]["kid"], kid);
        assert_eq!(STANDARD.decode(file["keys"][0]["key"].as_str().unwrap()).unwrap().len(), 32);
        let index_text = fs::read_to_string(&index).unwrap();
        assert_eq!(STANDARD.decode(index_text.trim()).unwrap().len(), 32);

        let second = Keyring::load_or_create(&settings, true).unwrap();
        assert_eq!(second.current_kid(), first.current_kid());
        assert_eq!(second.blind_index("phone", "0312345678"), first.blind_index("phone", "0312345678"));
        let (_, wrapped) = first.new_data_key("pat-1").unwrap();
        assert!(second.unwrap_data_key("pat-1", &wrapped).is_ok());
    }

    #[test]
    fn missing_key_over_existing_data_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(&dir);
        let err = Keyring::load_or_create(&settings, true).unwrap_err();
        assert!(matches!(err, KeyError::MissingWithData { what: "master key", .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("master.key"), "{message}");
        assert!(message.contains("CAREPATH_MASTER_KEY_FILE"), "{message}");
        assert!(message.contains("database already holds patient data"), "{message}");
        assert!(!settings.data_dir.join("master.key").exists());

        // The master key is there but the blind-index key is not.
        Keyring::load_or_create(&settings, false).unwrap();
        fs::remove_file(settings.data_dir.join("index.key")).unwrap();
        let err = Keyring::load_or_create(&settings, true).unwrap_err();
        assert!(matches!(err, KeyError::MissingWithData { what: "blind-index key", .. }), "{err:?}");
        assert!(err.to_string().contains("CAREPATH_INDEX_KEY_FILE"));
    }

    #[test]
    fn configured_key_files_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings(&dir);
        settings.master_key_file = Some(dir.path().join("secrets/master.json"));
        let err = Keyring::load_or_create(&settings, false).unwrap_err();
        assert!(matches!(err, KeyError::MissingConfigured { what: "master key", .. }), "{err:?}");
        assert!(err.to_string().contains("secrets/master.json"));
        assert!(!dir.path().join("secrets/master.json").exists());

        // Made once at the default place, then moved where the setting points: used from there.
        let defaults = Settings::for_data_dir(dir.path().join("data"));
        let made = Keyring::load_or_create(&defaults, false).unwrap();
        fs::create_dir(dir.path().join("secrets")).unwrap();
        fs::rename(defaults.data_dir.join("master.key"), dir.path().join("secrets/master.json")).unwrap();
        settings.index_key_file = Some(dir.path().join("secrets/index.key"));
        fs::rename(defaults.data_dir.join("index.key"), dir.path().join("secrets/index.key")).unwrap();
        let mut loaded = Keyring::load_or_create(&settings, true).unwrap();
        assert_eq!(loaded.current_kid(), made.current_kid());
        assert_eq!(loaded.blind_index("k", "v"), made.blind_index("k", "v"));
        // Rotation saves to the configured file.
        let kid = loaded.add_master_key().unwrap();
        assert!(fs::read_to_string(dir.path().join("secrets/master.json")).unwrap().contains(&kid));
        assert!(!defaults.data_dir.join("master.key").exists());
    }

    #[test]
    fn malformed_key_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(&dir);
        Keyring::load_or_create(&settings, false).unwrap();
        let master = settings.data_dir.join("master.key");
        let index = settings.data_dir.join("index.key");
        let good = fs::read(&master).unwrap();
        let secret = STANDARD.encode([7u8; 32]);
        let short = STANDARD.encode([7u8; 16]);

        let cases = [
            ("{not json".to_owned(), "is not valid JSON"),
            (format!(r#"{{"current": "mk-1", "keys": "{secret}"}}"#), "keyring shape"),
            (format!(r#"{{"current": "mk-1", "keys": [{{"kid": "mk-1", "key": "{secret}", "x": 1}}]}}"#), "shape"),
            (r#"{"current": "mk-1", "keys": []}"#.to_owned(), "holds no keys"),
            (format!(r#"{{"current": "mk-1", "keys": [{{"kid": "mk-1", "key": "{short}"}}]}}"#), "16 bytes"),
            (r#"{"current": "mk-1", "keys": [{"kid": "mk-1", "key": "%%%"}]}"#.to_owned(), "not valid base64"),
            (format!(r#"{{"current": "mk-2", "keys": [{{"kid": "mk-1", "key": "{secret}"}}]}}"#), "not among"),
            (format!(r#"{{"current": "mk 1", "keys": [{{"kid": "mk 1", "key": "{secret}"}}]}}"#), "invalid kid"),
            (
                format!(
                    r#"{{"current": "mk-1", "keys": [{{"kid": "mk-1", "key": "{secret}"}}, {{"kid": "mk-1", "key": "{secret}"}}]}}"#
                ),
                "twice",
            ),
        ];
        for (contents, expected) in cases {
            fs::write(&master, &contents).unwrap();
            let err = Keyring::load_or_create(&settings, true).unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, KeyError::Malformed { what: "master key", .. }), "{contents}: {err:?}");
            assert!(message.contains(&master.display().to_string()), "{message}");
            assert!(message.contains(expected), "{contents}: {message}");
            assert!(!message.contains(&secret), "key material in {message}");
        }
        fs::write(&master, &good).unwrap();

        for (contents, expected) in [("", "is empty"), ("%%%\n", "not valid base64"), (short.as_str(), "16 bytes")] {
            fs::write(&index, contents).unwrap();
            let err = Keyring::load_or_create(&settings, true).unwrap_err();
            assert!(matches!(err, KeyError::Malformed { what: "blind-index key", .. }), "{err:?}");
            assert!(err.to_string().contains("index.key") && err.to_string().contains(expected), "{err}");
        }
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

    /// Builds each stored format by hand from the module documentation, so the code and the
    /// written-down format cannot drift apart.
    #[test]
    fn stored_formats_match_the_documentation() {
        let raw = [0x11u8; 32];
        let data_key = DataKey::from_raw(&raw).unwrap();
        let aes = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &raw).unwrap());
        let nonce = [0x22u8; 12];

        // Sealed value.
        let mut buf = br#"{"a":[1,"x"]}"#.to_vec();
        let ad = b"carepath:field:v1\0pat-1\0doc-1\x003\0/name/family".to_vec();
        aes.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(ad), &mut buf).unwrap();
        let by_hand = format!("enc:v1:{}", URL_SAFE_NO_PAD.encode([nonce.as_slice(), &buf].concat()));
        assert_eq!(data_key.open(&AT, &by_hand).unwrap(), json!({"a": [1, "x"]}));
        let sealed = data_key.seal(&AT, &json!({"a": [1, "x"]})).unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(sealed.strip_prefix("enc:v1:").unwrap()).unwrap();
        let (n, rest) = bytes.split_at_mut(12);
        let ad = b"carepath:field:v1\0pat-1\0doc-1\x003\0/name/family".to_vec();
        let plain = aes.open_in_place(Nonce::try_assume_unique_for_key(n).unwrap(), Aad::from(ad), rest).unwrap();
        assert_eq!(plain, br#"{"a":[1,"x"]}"#);

        // Wrapped data key.
        let ring = Keyring::for_testing();
        let master = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[0x4d; 32]).unwrap());
        let mut buf = raw.to_vec();
        let ad = b"carepath:data-key:v1\0pat-1\0mk-testing".to_vec();
        master.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(ad), &mut buf).unwrap();
        let wrapped = WrappedKey { kid: "mk-testing".into(), blob: STANDARD.encode([nonce.as_slice(), &buf].concat()) };
        let unwrapped = ring.unwrap_data_key("pat-1", &wrapped).unwrap();
        assert_eq!(unwrapped.open(&AT, &sealed).unwrap(), json!({"a": [1, "x"]}));

        // Blind index.
        let index_key = hmac::Key::new(hmac::HMAC_SHA256, &[0x69; 32]);
        let tag = hmac::sign(&index_key, b"carepath:blind-index:v1\0phone\x000312345678");
        assert_eq!(ring.blind_index("phone", "0312345678"), to_hex(tag.as_ref()));
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

    #[test]
    #[ignore = "timing, run with --release -- --ignored --nocapture"]
    fn timing_seal_and_open() {
        use std::hint::black_box;
        use std::time::Instant;
        const N: u32 = 100_000;
        let key = key();
        let value = json!("x".repeat(100));
        let sealed = key.seal(&AT, &value).unwrap();

        let start = Instant::now();
        for _ in 0..N {
            black_box(key.seal(black_box(&AT), black_box(&value)).unwrap());
        }
        let seal = start.elapsed() / N;

        let start = Instant::now();
        for _ in 0..N {
            black_box(key.open(black_box(&AT), black_box(&sealed)).unwrap());
        }
        let open = start.elapsed() / N;

        let ring = Keyring::for_testing();
        let (_, wrapped) = ring.new_data_key("pat-1").unwrap();
        let start = Instant::now();
        for _ in 0..N {
            black_box(ring.unwrap_data_key(black_box("pat-1"), black_box(&wrapped)).unwrap());
        }
        let unwrap = start.elapsed() / N;

        let start = Instant::now();
        for _ in 0..N {
            black_box(ring.blind_index(black_box("phone"), black_box("0312345678")));
        }
        let index = start.elapsed() / N;

        println!(
            "{N} iterations, 100-character string ({} chars sealed): seal {seal:?}/op, open {open:?}/op, \
             unwrap_data_key {unwrap:?}/op, blind_index {index:?}/op",
            sealed.len()
        );
    }
}
