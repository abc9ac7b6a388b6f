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
//! ## Sealed file (bulk-export output)
//!
//! * A file key (256 bits, random, one per export job) wrapped like a data key (the same
//!   `WrappedKey` layout) under the domain `carepath:file-key:v1\0` ‖ job id ‖ `\0` ‖ kid, and
//!   kept in the job's `job.json`: the files are unreadable without the master key, and
//!   deleting the job's `job.json` shreds them.
//! * The file: `CPSEAL1\n` (8 bytes), then records, each `kind (1 byte: 0, or 1 for the last)
//!   ‖ length (4 bytes, big-endian, of ciphertext ‖ tag) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`.
//!   The last record is empty; nothing follows it.
//! * AES-256-GCM under the file key, fresh random nonce per record, associated data
//!   `carepath:file:v1\0` ‖ file name (`<job id>/<type>`) ‖ `\0` ‖ record index (8 bytes,
//!   big-endian, from 0) ‖ kind (1 byte).
//!
//! Why: records keep memory bounded on both sides (one record at a time, at most 64 MiB); the
//! index and the name in the associated data mean a record cannot be dropped, reordered, or moved
//! to another file or job unnoticed, and the sealed last record means a truncated file is told
//! from a whole one.
//!
//! The distinct prefixes (`carepath:field:v1`, `carepath:data-key:v1`,
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

pub mod keyfile;
mod keyring;
mod keyring_file;
mod seal;
pub mod sealing;
mod stream;

use std::io;

use ring::aead::MAX_TAG_LEN;

pub use keyring::{Keyring, WrappedKey};
pub use seal::{DataKey, FieldContext, SEALED_PREFIX, is_sealed};
pub use stream::{FileKey, SealedReader, SealedWriter};

const KEY_LEN: usize = 32;
const TAG_LEN: usize = MAX_TAG_LEN; // AES-256-GCM: 16

// The domain prefixes sit together so that it stays visible that they differ.
const FIELD_DOMAIN: &[u8] = b"carepath:field:v1\0";
const DATA_KEY_DOMAIN: &[u8] = b"carepath:data-key:v1\0";
const BLIND_INDEX_DOMAIN: &[u8] = b"carepath:blind-index:v1\0";
/// Webhook signing secrets, wrapped by the master keyring (`Keyring::new_secret`).
const SECRET_DOMAIN: &[u8] = b"carepath:secret:v1\0";
/// File keys (one per export job), wrapped by the master keyring (`Keyring::new_file_key`).
const FILE_KEY_DOMAIN: &[u8] = b"carepath:file-key:v1\0";
/// Records of a sealed file (`SealedWriter`).
const FILE_DOMAIN: &[u8] = b"carepath:file:v1\0";

/// A failure to seal, open, wrap or unwrap. Messages never hold key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The string lacks the `enc:v1:` prefix.
    #[error("the value is not sealed (it does not start with enc:v1:)")]
    NotSealed,
    /// The sealed string or wrapped key does not decode to the stored format.
    #[error("malformed ciphertext: {0}")]
    Malformed(&'static str),
    /// The AES-GCM tag did not verify: the value was altered, moved, or sealed under another key.
    #[error("a sealed value failed authentication (altered, moved from another place, or sealed under another key)")]
    OpenFailed,
    /// The wrapped data key names a master key (kid) that the keyring does not hold.
    #[error("the data key is wrapped under master key {0}, which is not in the keyring")]
    UnknownKid(String),
    /// A wrapped data key did not unwrap: altered, or copied from another patient or kid.
    #[error("a wrapped data key failed authentication (altered, or wrapped for another patient)")]
    UnwrapFailed,
    /// An id bound into the associated data holds a zero byte.
    #[error("invalid encryption context: {0}")]
    InvalidContext(&'static str),
    /// The value to seal could not be serialised as JSON.
    #[error("the value could not be serialised as JSON")]
    Serialize,
    /// The opened plaintext is not valid JSON.
    #[error("a sealed value opened to something that is not JSON")]
    InvalidPlaintext,
    /// ring refused to encrypt.
    #[error("encryption failed")]
    Encrypt,
    /// The system random number generator failed.
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
    /// The key file is missing while the database already holds patient data; a fresh key would
    /// leave that data unreadable, so carepath refuses to start.
    #[error(
        "the {what} file {path} does not exist, but the database already holds patient data {consequence}; \
         restore the file, or set {env} to the file that holds the key"
    )]
    MissingWithData {
        /// Which key the file holds, for the message ("master key", "blind-index key", ...).
        what: &'static str,
        /// Where the file was expected.
        path: String,
        /// The environment variable that names another file.
        env: &'static str,
        /// What a fresh key would break, for the message.
        consequence: &'static str,
    },
    /// A key file named in the configuration does not exist (only default files are ever created).
    #[error(
        "the {what} file {path} (set by {env}) does not exist; carepath creates a key only at its default \
         place in the data directory on a first start, so provide this file or unset {env}"
    )]
    MissingConfigured {
        /// Which key the file holds.
        what: &'static str,
        /// The configured path.
        path: String,
        /// The environment variable that configured it.
        env: &'static str,
    },
    /// The key file exists but could not be read.
    #[error("cannot read the {what} file {path}: {source}")]
    Read {
        /// Which key the file holds.
        what: &'static str,
        /// The file's path.
        path: String,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// The key file was read but its contents are not a valid key file.
    #[error("the {what} file {path} {problem}")]
    Malformed {
        /// Which key the file holds.
        what: &'static str,
        /// The file's path.
        path: String,
        /// What is wrong with it, worded to follow the path; never holds key material.
        problem: String,
    },
    /// A new or rewritten key file could not be written.
    #[error("cannot write the {what} file {path}: {source}")]
    Write {
        /// Which key the file holds.
        what: &'static str,
        /// The file's path.
        path: String,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// The data directory, where default key files live, could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The data directory's path.
        path: String,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

fn check_id(id: &str, problem: &'static str) -> Result<(), CryptoError> {
    if id.as_bytes().contains(&0) { Err(CryptoError::InvalidContext(problem)) } else { Ok(()) }
}

/// Helpers shared by the unit tests of the crypto modules.
#[cfg(test)]
mod test_support {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use super::{DataKey, FieldContext, Keyring};
    use crate::config::Settings;

    pub(super) const AT: FieldContext<'static> =
        FieldContext { patient_id: "pat-1", document_id: "doc-1", version: 3, pointer: "/name/family" };

    pub(super) fn key() -> DataKey {
        Keyring::for_testing().new_data_key("pat-1").unwrap().0
    }

    pub(super) fn settings(dir: &tempfile::TempDir) -> Settings {
        Settings::for_data_dir(dir.path().join("data"))
    }

    pub(super) fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    use ring::hmac;
    use serde_json::json;

    use super::keyfile::hex;
    use super::test_support::AT;
    use super::*;

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
        assert_eq!(ring.blind_index("phone", "0312345678"), hex(tag.as_ref()));
    }
}
