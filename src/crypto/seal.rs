//! Sealing single values: a patient's data key, the place a value is sealed for, and the
//! `enc:v1:` string a sealed value is stored as (see "Stored formats" in the module above).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::Value;

use super::{CryptoError, FIELD_DOMAIN, KEY_LEN, TAG_LEN, check_id};

/// The prefix of every sealed value (format version 1).
pub const SEALED_PREFIX: &str = "enc:v1:";

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
    /// The patient whose data key seals the value.
    pub patient_id: &'a str,
    /// The document the value belongs to.
    pub document_id: &'a str,
    /// The document version the value was sealed for; a later version seals afresh.
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
    pub(super) fn from_raw(raw: &[u8; KEY_LEN]) -> Result<Self, CryptoError> {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::crypto::Keyring;
    use crate::crypto::test_support::{AT, key};

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
