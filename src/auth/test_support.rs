//! The fixture and token helpers shared by the unit tests of the auth modules.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

use super::issuer::local_key;
use super::keys::P256_SPKI_PREFIX;
use super::{AuthError, Authenticator, LOCAL_AUDIENCE, LOCAL_ISSUER, now_secs};
use crate::config::Settings;
use crate::crypto::keyfile::{KeyFile, pem_encode};

pub(super) const LEEWAY: u64 = 30;

pub(super) struct Fixture {
    pub(super) dir: tempfile::TempDir,
    pub(super) auth: Authenticator,
}

impl Fixture {
    pub(super) fn local() -> Self {
        Self::with(|_| {})
    }

    pub(super) fn with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_data_dir(dir.path().join("data"));
        settings.jwt_leeway_secs = LEEWAY;
        adjust(&mut settings);
        let auth = Authenticator::load(&settings, crate::clock::Clock::system()).unwrap();
        Self { dir, auth }
    }

    pub(super) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub(super) fn local_key(&self) -> KeyFile {
        local_key(&self.data_dir()).unwrap()
    }

    /// Signs `claims` with the real local key, as an attacker with it could not.
    pub(super) fn sign_local(&self, claims: &Value) -> String {
        let key = self.local_key();
        sign_ed(&key.pkcs8, Some(&key.kid), claims)
    }

    pub(super) fn reject(&self, token: &str) -> AuthError {
        let error = self.auth.verify(token).expect_err("token must be rejected");
        let message = error.to_string();
        assert!(token.len() < 8 || !message.contains(token), "message quotes the token: {message}");
        for part in token.split('.').filter(|p| p.len() > 8) {
            assert!(!message.contains(part), "message quotes part of the token: {message}");
        }
        error
    }
}

pub(super) fn now() -> u64 {
    now_secs()
}

pub(super) fn local_claims() -> Value {
    let now = now();
    json!({
        "iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "iat": now, "nbf": now, "exp": now + 600,
        "sub": "dr-tanaka", "org": "niimi-clinic", "role": "physician",
    })
}

pub(super) fn with(mut claims: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

pub(super) fn sign_ed(pkcs8: &[u8], kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(pkcs8)).unwrap()
}

pub(super) fn sign_es(pkcs8: &[u8], kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(pkcs8)).unwrap()
}

pub(super) fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

pub(super) fn new_ed_key() -> Vec<u8> {
    Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap().as_ref().to_vec()
}

/// A P-256 key pair: (PKCS#8 for signing, 65-byte uncompressed public point).
pub(super) fn new_p256_key() -> (Vec<u8>, Vec<u8>) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    (pkcs8.as_ref().to_vec(), pair.public_key().as_ref().to_vec())
}

pub(super) fn p256_spki_pem(point: &[u8]) -> String {
    let mut der = P256_SPKI_PREFIX.to_vec();
    der.extend_from_slice(point);
    pem_encode("PUBLIC KEY", &der)
}

pub(super) fn p256_jwk(point: &[u8], kid: &str) -> Value {
    json!({
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    })
}

pub(super) fn idp_claims() -> Value {
    with(local_claims(), json!({"iss": "https://idp.example", "aud": "carepath-prod", "role": "nurse"}))
}

/// A trust file in a subdirectory of the fixture's temp dir, with `files` beside it.
pub(super) fn with_trust_file(trust: Value, files: &[(&str, String)]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).unwrap();
    for (name, content) in files {
        std::fs::write(conf.join(name), content).unwrap();
    }
    std::fs::write(conf.join("trust.json"), serde_json::to_vec(&trust).unwrap()).unwrap();
    let mut settings = Settings::for_data_dir(dir.path().join("data"));
    settings.jwt_leeway_secs = LEEWAY;
    settings.trust_file = Some(conf.join("trust.json"));
    let auth = Authenticator::load(&settings, crate::clock::Clock::system()).unwrap();
    Fixture { dir, auth }
}

/// Files beside a trust file: (name, content).
pub(super) type Files<'a> = Vec<(&'a str, String)>;

pub(super) fn trust_file_error(trust: &str, files: &[(&str, String)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    std::fs::write(dir.path().join("trust.json"), trust).unwrap();
    let mut settings = Settings::for_data_dir(dir.path().join("data"));
    settings.local_issuer = false;
    settings.trust_file = Some(dir.path().join("trust.json"));
    let error = Authenticator::load(&settings, crate::clock::Clock::system())
        .expect_err("trust file must be refused")
        .to_string();
    assert!(error.contains("trust.json"), "error does not name the trust file: {error}");
    error
}
