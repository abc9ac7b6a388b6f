//! Which keys may sign tokens: the trust file, and the public keys it names (PEM files or a
//! JWKS). Every problem is an error at start, naming the file, never a skipped entry.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::AuthSetupError;
use super::binding::Binding;
use crate::crypto::keyfile::{pem_decode, printable};

/// DER prefix of a SubjectPublicKeyInfo for an EC P-256 key, up to the 65-byte point.
pub(super) const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// DER prefix of a SubjectPublicKeyInfo for an Ed25519 key, up to the 32-byte key.
const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
/// OID bytes that identify keys we refuse, so the operator hears why.
const RSA_OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC_PUBLIC_KEY_OID: [u8; 7] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// One public key that may sign tokens, with the checks its issuer's tokens must pass. The
/// `Validation` is built once here so that verification allocates nothing for it.
pub(super) struct TrustedKey {
    pub(super) issuer: String,
    /// `None` when the operator configured the key without one: it then serves any `kid`
    /// (the signature still decides).
    pub(super) kid: Option<String>,
    pub(super) alg: Algorithm,
    pub(super) key: DecodingKey,
    pub(super) validation: Validation,
    /// The organisations and roles this issuer may assert.
    pub(super) binding: Arc<Binding>,
}

impl TrustedKey {
    pub(super) fn new(
        issuer: &str,
        audience: &str,
        kid: Option<String>,
        alg: Algorithm,
        key: DecodingKey,
        leeway: u64,
        binding: Arc<Binding>,
    ) -> Self {
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        // `iss` and `aud` are only compared when present: requiring them is what stops a token
        // without `aud` (minted for another service by the same IdP) from being accepted here.
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.leeway = leeway;
        Self { issuer: issuer.to_owned(), kid, alg, key, validation, binding }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustFile {
    issuers: Vec<TrustEntry>,
}

/// One trusted issuer. Unknown fields are errors: a misspelt `audience` must not pass unnoticed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustEntry {
    issuer: String,
    audience: String,
    #[serde(default)]
    public_key_pem_file: Option<PathBuf>,
    #[serde(default)]
    jwks_file: Option<PathBuf>,
    #[serde(default)]
    kid: Option<String>,
    /// Organisation ids (exact, `prefix*` or `*`) this issuer may assert; required.
    #[serde(default)]
    organizations: Option<Vec<String>>,
    /// Roles this issuer may assert; required.
    #[serde(default)]
    roles: Option<Vec<String>>,
}

pub(super) fn load_trust_file(path: &Path, leeway: u64) -> Result<Vec<TrustedKey>, AuthSetupError> {
    let problem = |problem: String| AuthSetupError::TrustFile { path: path.display().to_string(), problem };
    let bytes = std::fs::read(path).map_err(|e| problem(format!("cannot read: {e}")))?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let file: TrustFile = serde_path_to_error::deserialize(&mut de).map_err(|e| problem(format!("invalid: {e}")))?;
    if file.issuers.is_empty() {
        return Err(problem("lists no issuers".into()));
    }
    let base = path.parent().unwrap_or(Path::new(""));
    let mut keys = Vec::new();
    for (i, entry) in file.issuers.into_iter().enumerate() {
        let at = |p: String| problem(format!("issuers[{i}] ({}): {p}", printable(&entry.issuer)));
        if entry.issuer.trim().is_empty() {
            return Err(at("issuer is empty".into()));
        }
        if entry.audience.trim().is_empty() {
            return Err(at("audience is empty".into()));
        }
        let binding = Arc::new(Binding::from_entry(entry.organizations.clone(), entry.roles.clone()).map_err(&at)?);
        match (entry.public_key_pem_file, entry.jwks_file) {
            (Some(pem_file), None) => {
                let file = base.join(pem_file);
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| at(format!("cannot read public key file {}: {e}", file.display())))?;
                let (alg, key) =
                    public_key_from_pem(&text).map_err(|e| at(format!("public key file {}: {e}", file.display())))?;
                keys.push(TrustedKey::new(&entry.issuer, &entry.audience, entry.kid, alg, key, leeway, binding));
            }
            (None, Some(jwks_file)) => {
                if entry.kid.is_some() {
                    return Err(at("kid goes with public_key_pem_file; a JWKS names its own kids".into()));
                }
                let file = base.join(jwks_file);
                let bytes =
                    std::fs::read(&file).map_err(|e| at(format!("cannot read JWKS file {}: {e}", file.display())))?;
                let found = keys_from_jwks(&bytes).map_err(|e| at(format!("JWKS file {}: {e}", file.display())))?;
                for (kid, alg, key) in found {
                    keys.push(TrustedKey::new(&entry.issuer, &entry.audience, kid, alg, key, leeway, binding.clone()));
                }
            }
            (Some(_), Some(_)) => return Err(at("give public_key_pem_file or jwks_file, not both".into())),
            (None, None) => return Err(at("needs public_key_pem_file or jwks_file".into())),
        }
    }
    Ok(keys)
}

/// An EC P-256 or Ed25519 SubjectPublicKeyInfo. Matched byte for byte against the only DER
/// encodings those keys have, which also rules out other curves hiding behind the EC OID.
fn public_key_from_pem(text: &str) -> Result<(Algorithm, DecodingKey), String> {
    if text.contains("-----BEGIN CERTIFICATE-----") {
        return Err("holds a certificate; extract the public key (openssl x509 -pubkey -noout)".into());
    }
    let der = pem_decode(text, "PUBLIC KEY")?;
    let (alg, key) = if der.len() == P256_SPKI_PREFIX.len() + 65 && der.starts_with(&P256_SPKI_PREFIX) {
        (Algorithm::ES256, DecodingKey::from_ec_der(&der[P256_SPKI_PREFIX.len()..]))
    } else if der.len() == ED25519_SPKI_PREFIX.len() + 32 && der.starts_with(&ED25519_SPKI_PREFIX) {
        (Algorithm::EdDSA, DecodingKey::from_ed_der(&der[ED25519_SPKI_PREFIX.len()..]))
    } else if contains(&der, &RSA_OID) {
        return Err("RSA keys are not accepted; use EC P-256 (ES256) or Ed25519 (EdDSA)".into());
    } else if contains(&der, &EC_PUBLIC_KEY_OID) {
        return Err("EC key on a curve other than P-256 (or compressed); only P-256 is accepted".into());
    } else {
        return Err("not an EC P-256 or Ed25519 public key".into());
    };
    check_key(alg, &key)?;
    Ok((alg, key))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Builds the verifier once, so that a point off the curve is an error at start, not a 401 for
/// every token later.
fn check_key(alg: Algorithm, key: &DecodingKey) -> Result<(), String> {
    jsonwebtoken::crypto::verify("", b"", key, alg).map(|_| ()).map_err(|_| "not a valid public key".to_owned())
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

/// The JWK members carepath looks at; others (`n`, `e`, `x5c`, ...) are ignored.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    d: Option<IgnoredAny>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    usage: Option<String>,
}

/// The usable keys of a JWKS. Keys of other types (an IdP's RSA keys, encryption keys) are
/// skipped, since IdPs publish those side by side; a malformed key of a usable type is an error.
fn keys_from_jwks(bytes: &[u8]) -> Result<Vec<(Option<String>, Algorithm, DecodingKey)>, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let jwks: Jwks = serde_path_to_error::deserialize(&mut de).map_err(|e| format!("invalid: {e}"))?;
    let mut found = Vec::new();
    let mut skipped = 0usize;
    for (i, jwk) in jwks.keys.into_iter().enumerate() {
        if jwk.d.is_some() {
            return Err(format!("keys[{i}] holds a private key (member d); publish only public keys"));
        }
        if jwk.usage.as_deref().is_some_and(|u| u != "sig") {
            skipped += 1;
            continue;
        }
        let coordinate = |value: &Option<String>, name: &str| -> Result<String, String> {
            let value = value.as_deref().ok_or_else(|| format!("keys[{i}] lacks {name}"))?;
            let raw = URL_SAFE_NO_PAD.decode(value).map_err(|_| format!("keys[{i}].{name} is not base64url"))?;
            if raw.len() != 32 {
                return Err(format!("keys[{i}].{name} is {} bytes, expected 32", raw.len()));
            }
            Ok(value.to_owned())
        };
        let (alg, key) = match (jwk.kty.as_str(), jwk.crv.as_deref(), jwk.alg.as_deref()) {
            ("EC", Some("P-256"), None | Some("ES256")) => {
                let (x, y) = (coordinate(&jwk.x, "x")?, coordinate(&jwk.y, "y")?);
                let key = DecodingKey::from_ec_components(&x, &y).map_err(|e| format!("keys[{i}]: {e}"))?;
                (Algorithm::ES256, key)
            }
            ("OKP", Some("Ed25519"), None | Some("EdDSA")) => {
                let x = coordinate(&jwk.x, "x")?;
                let key = DecodingKey::from_ed_components(&x).map_err(|e| format!("keys[{i}]: {e}"))?;
                (Algorithm::EdDSA, key)
            }
            _ => {
                skipped += 1;
                continue;
            }
        };
        check_key(alg, &key).map_err(|e| format!("keys[{i}]: {e}"))?;
        found.push((jwk.kid, alg, key));
    }
    if found.is_empty() {
        return Err(format!("no EC P-256 or Ed25519 signing key ({skipped} other keys skipped)"));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use ring::signature::{Ed25519KeyPair, KeyPair};
    use serde_json::json;

    use super::*;
    use crate::auth::test_support::*;
    use crate::auth::{AuthError, Authenticator, Role, issue_local_token};
    use crate::config::Settings;
    use crate::crypto::keyfile::pem_encode;

    #[test]
    fn accepts_es256_from_an_issuer_given_by_jwks() {
        let (pkcs8, point) = new_p256_key();
        let (_, other_point) = new_p256_key();
        let jwks = json!({"keys": [
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa-1"},
            p256_jwk(&other_point, "ec-old"),
            p256_jwk(&point, "ec-new"),
        ]});
        let trust = json!({"issuers": [
            {"issuer": "https://idp.example", "audience": "carepath-prod", "organizations": ["*"], "roles": ["nurse", "physician"], "jwks_file": "jwks.json"},
        ]});
        let f = with_trust_file(trust, &[("jwks.json", jwks.to_string())]);

        let caller = f.auth.verify(&sign_es(&pkcs8, Some("ec-new"), &idp_claims())).unwrap();
        assert_eq!(caller.role, Role::Nurse);
        // Without a kid every key of the issuer is tried.
        assert!(f.auth.verify(&sign_es(&pkcs8, None, &idp_claims())).is_ok());
        // The kid of another key: that key does not verify the signature.
        assert_eq!(f.reject(&sign_es(&pkcs8, Some("ec-old"), &idp_claims())), AuthError::UnknownKey);
        // A kid nobody published.
        assert_eq!(f.reject(&sign_es(&pkcs8, Some("ec-gone"), &idp_claims())), AuthError::UnknownKey);
        // The local issuer is still trusted beside it.
        let local = issue_local_token(&f.data_dir(), "admin-1", Role::Admin, "carepath-operator", 60).unwrap();
        assert_eq!(f.auth.verify(&local).unwrap().role, Role::Admin);
    }

    #[test]
    fn accepts_es256_and_eddsa_from_issuers_given_by_pem() {
        let (pkcs8, point) = new_p256_key();
        let ed_pkcs8 = new_ed_key();
        let ed_public = Ed25519KeyPair::from_pkcs8(&ed_pkcs8).unwrap().public_key().as_ref().to_vec();
        let mut ed_spki = ED25519_SPKI_PREFIX.to_vec();
        ed_spki.extend_from_slice(&ed_public);
        let trust = json!({"issuers": [
            {"issuer": "https://idp.example", "audience": "carepath-prod", "organizations": ["*"], "roles": ["nurse", "physician"], "public_key_pem_file": "idp.pem", "kid": "k1"},
            {"issuer": "https://other.example", "audience": "carepath", "organizations": ["*"], "roles": ["nurse", "physician"], "public_key_pem_file": "keys/other.pem"},
        ]});
        let f = {
            let dir = tempfile::tempdir().unwrap();
            let conf = dir.path().join("conf");
            std::fs::create_dir_all(conf.join("keys")).unwrap();
            std::fs::write(conf.join("idp.pem"), p256_spki_pem(&point)).unwrap();
            std::fs::write(conf.join("keys/other.pem"), pem_encode("PUBLIC KEY", &ed_spki)).unwrap();
            std::fs::write(conf.join("trust.json"), trust.to_string()).unwrap();
            let mut settings = Settings::for_data_dir(dir.path().join("data"));
            settings.trust_file = Some(conf.join("trust.json"));
            settings.local_issuer = false;
            Fixture { auth: Authenticator::load(&settings, crate::clock::Clock::system()).unwrap(), dir }
        };
        assert!(f.auth.verify(&sign_es(&pkcs8, Some("k1"), &idp_claims())).is_ok());
        assert!(f.auth.verify(&sign_es(&pkcs8, None, &idp_claims())).is_ok());
        assert_eq!(f.reject(&sign_es(&pkcs8, Some("k2"), &idp_claims())), AuthError::UnknownKey);

        let other = with(local_claims(), json!({"iss": "https://other.example", "aud": "carepath"}));
        assert!(f.auth.verify(&sign_ed(&ed_pkcs8, Some("any"), &other)).is_ok());
        // Issuer A's key cannot speak for issuer B.
        let forged = with(idp_claims(), json!({"iss": "https://other.example", "aud": "carepath"}));
        assert_eq!(f.reject(&sign_es(&pkcs8, Some("k1"), &forged)), AuthError::UntrustedIssuer);
        // The local issuer is off here (the kid-less EdDSA key is a candidate, for another issuer).
        crate::auth::issuer::local_key(&f.data_dir()).unwrap();
        let local = issue_local_token(&f.data_dir(), "x", Role::Admin, "o", 60).unwrap();
        assert_eq!(f.reject(&local), AuthError::UntrustedIssuer);
    }

    #[test]
    fn the_same_key_may_serve_two_audiences() {
        let (pkcs8, point) = new_p256_key();
        let trust = json!({"issuers": [
            {"issuer": "https://idp.example", "audience": "carepath-staging", "organizations": ["*"], "roles": ["nurse", "physician"], "public_key_pem_file": "idp.pem"},
            {"issuer": "https://idp.example", "audience": "carepath-prod", "organizations": ["*"], "roles": ["nurse", "physician"], "public_key_pem_file": "idp.pem"},
        ]});
        let f = with_trust_file(trust, &[("idp.pem", p256_spki_pem(&point))]);
        assert!(f.auth.verify(&sign_es(&pkcs8, None, &idp_claims())).is_ok());
        let elsewhere = with(idp_claims(), json!({"aud": "billing"}));
        assert_eq!(f.reject(&sign_es(&pkcs8, None, &elsewhere)), AuthError::WrongAudience);
    }

    #[test]
    fn trust_file_problems_are_named() {
        let (_, point) = new_p256_key();
        let pem = ("k.pem", p256_spki_pem(&point));
        let cases: Vec<(&str, Files, &str)> = vec![
            ("{", vec![], "invalid"),
            (r#"{"issuers": []}"#, vec![], "lists no issuers"),
            (r#"{"issuer": []}"#, vec![], "unknown field"),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"]}]}"#,
                vec![],
                "issuers[0] (i): needs public_key_pem_file",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "public_key_pem_file": "k.pem", "jwks_file": "j"}]}"#,
                vec![pem.clone()],
                "not both",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "public_key_pem_file": "k.pem", "audiance": "x"}]}"#,
                vec![pem.clone()],
                "audiance",
            ),
            (
                r#"{"issuers": [{"issuer": "", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "public_key_pem_file": "k.pem"}]}"#,
                vec![pem.clone()],
                "issuer is empty",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "public_key_pem_file": "missing.pem"}]}"#,
                vec![],
                "missing.pem",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "public_key_pem_file": "k.pem"}]}"#,
                vec![("k.pem", "hello".into())],
                "not PEM",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "public_key_pem_file": "k.pem"}]}"#,
                vec![(
                    "k.pem",
                    pem_encode(
                        "PUBLIC KEY",
                        &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
                    ),
                )],
                "RSA keys are not accepted",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "public_key_pem_file": "k.pem"}]}"#,
                vec![("k.pem", p256_spki_pem(&[4u8; 65]))],
                "not a valid public key",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "jwks_file": "j.json"}]}"#,
                vec![("j.json", r#"{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}"#.into())],
                "no EC P-256 or Ed25519 signing key (1 other keys skipped)",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "jwks_file": "j.json"}]}"#,
                vec![("j.json", r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "d": "AAAA"}]}"#.into())],
                "private key",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "jwks_file": "j.json"}]}"#,
                vec![("j.json", r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]}"#.into())],
                "keys[0].x is 3 bytes, expected 32",
            ),
            (
                r#"{"issuers": [{"issuer": "https://ehr.example", "audience": "a", "public_key_pem_file": "k.pem"}]}"#,
                vec![pem.clone()],
                "issuers[0] (https://ehr.example): needs \"organizations\" and \"roles\"",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "public_key_pem_file": "k.pem"}]}"#,
                vec![pem.clone()],
                "needs \"organizations\" and \"roles\"",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": [], "roles": ["nurse"], "public_key_pem_file": "k.pem"}]}"#,
                vec![pem.clone()],
                "must not be empty",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["a*b"], "roles": ["nurse"], "public_key_pem_file": "k.pem"}]}"#,
                vec![pem.clone()],
                "organizations[0]",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["wizard"], "public_key_pem_file": "k.pem"}]}"#,
                vec![pem.clone()],
                "roles[0]: unknown role 'wizard'",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "jwks_file": "j.json", "kid": "k"}]}"#,
                vec![("j.json", "{}".into())],
                "kid goes with public_key_pem_file",
            ),
        ];
        for (trust, files, expected) in cases {
            let error = trust_file_error(trust, &files);
            assert!(error.contains(expected), "for {trust}: expected {expected:?} in {error:?}");
        }
    }

    #[test]
    fn a_missing_trust_file_is_named() {
        let f = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_data_dir(f.path().join("data"));
        settings.trust_file = Some(f.path().join("nope.json"));
        let error = Authenticator::load(&settings, crate::clock::Clock::system()).unwrap_err().to_string();
        assert!(error.starts_with("trust file ") && error.contains("nope.json"), "{error}");
    }
}
