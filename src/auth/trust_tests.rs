//! The trust file's tests: loading, every refusal named, keys by PEM and JWKS.
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;

use crate::auth::keys::ED25519_SPKI_PREFIX;
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
            "not an RSA public key",
        ),
        (
            r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "public_key_pem_file": "k.pem"}]}"#,
            vec![("k.pem", p256_spki_pem(&[4u8; 65]))],
            "not a valid public key",
        ),
        (
            r#"{"issuers": [{"issuer": "i", "audience": "a", "organizations": ["*"], "roles": ["nurse"], "jwks_file": "j.json"}]}"#,
            vec![("j.json", r#"{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}"#.into())],
            "no usable signing key (EC P-256, Ed25519, or RSA of at least 2048 bits); skipped: keys[0]: RSA key of 17 bits",
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
