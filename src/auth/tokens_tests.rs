//! Verification's tests: algorithms, keys, issuers and audiences, as a client meets them.
use jsonwebtoken::{EncodingKey, Header};
use ring::signature::Ed25519KeyPair;
use serde_json::json;

use super::*;
use crate::auth::test_support::*;
use crate::auth::{Role, issue_local_token};

#[test]
fn accepts_a_local_eddsa_token() {
    let f = Fixture::local();
    let token = issue_local_token(&f.data_dir(), "dr-tanaka", Role::Physician, "niimi-clinic", 600).unwrap();
    let caller = f.auth.verify(&token).unwrap();
    assert_eq!(caller.sub, "dr-tanaka");
    assert_eq!(caller.org, "niimi-clinic");
    assert_eq!(caller.role, Role::Physician);
    assert_eq!(caller.purpose, None);
}

#[test]
fn carries_the_purpose_claim() {
    let f = Fixture::local();
    let token = f.sign_local(&with(local_claims(), json!({"purpose": "退院前カンファレンス"})));
    assert_eq!(f.auth.verify(&token).unwrap().purpose.as_deref(), Some("退院前カンファレンス"));
}

#[test]
fn accepts_a_token_without_kid_and_fractional_times() {
    let f = Fixture::local();
    let exp = now() as f64 + 600.5;
    let token = sign_ed(&f.local_key().pkcs8, None, &with(local_claims(), json!({"exp": exp})));
    assert_eq!(f.auth.verify(&token).unwrap().role, Role::Physician);
}

#[test]
fn rejects_alg_none() {
    let f = Fixture::local();
    let token = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&local_claims()));
    let error = f.reject(&token);
    assert_eq!(error, AuthError::UnsupportedAlgorithm("none".into()));
    assert_eq!(error.to_string(), "unsupported algorithm none");
    // Spelling variants fare no better.
    let token = format!("{}.{}.", b64(&json!({"alg": "None"})), b64(&local_claims()));
    assert_eq!(f.reject(&token), AuthError::UnsupportedAlgorithm("None".into()));
}

#[test]
fn rejects_hmac_even_keyed_with_the_public_key() {
    let f = Fixture::local();
    let secret = f.local_key().public;
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let mut header = Header::new(alg);
        header.kid = Some(f.local_key().kid);
        let token = jsonwebtoken::encode(&header, &local_claims(), &EncodingKey::from_secret(&secret)).unwrap();
        assert_eq!(f.reject(&token).to_string(), format!("unsupported algorithm {alg:?}"));
    }
}

#[test]
fn rejects_other_algorithms() {
    let f = Fixture::local();
    for alg in ["RS384", "RS512", "PS384", "ES384", "ES512", "Ed25519", ""] {
        let token = format!("{}.{}.c2ln", b64(&json!({"alg": alg})), b64(&local_claims()));
        assert_eq!(f.reject(&token), AuthError::UnsupportedAlgorithm(alg.into()));
    }
    let long = "X".repeat(500);
    let token = format!("{}.{}.c2ln", b64(&json!({"alg": long})), b64(&local_claims()));
    assert!(f.reject(&token).to_string().len() < 80, "echoed alg must be truncated");
}

#[test]
fn rejects_a_signature_by_an_unknown_key() {
    let f = Fixture::local();
    let stranger = new_ed_key();
    let kid = f.local_key().kid;
    // Posing as the local key, without a kid, and with an unknown kid.
    for kid in [Some(kid.as_str()), None, Some("nobody")] {
        let token = sign_ed(&stranger, kid, &local_claims());
        // Another data directory's `carepath token`, as far as anyone can tell: said so.
        let error = f.reject(&token);
        assert_eq!(error, AuthError::OtherDataDir);
        assert!(error.to_string().starts_with("unknown signing key"), "{error}");
    }
    // An ES256 token where only EdDSA keys are trusted.
    let (pkcs8, _) = new_p256_key();
    assert_eq!(f.reject(&sign_es(&pkcs8, None, &local_claims())), AuthError::UnknownKey);
}

#[test]
fn rejects_a_tampered_token() {
    let f = Fixture::local();
    let token = f.sign_local(&local_claims());
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = b64(&with(local_claims(), json!({"role": "admin"})));
    assert_eq!(f.reject(&parts.join(".")), AuthError::OtherDataDir);
}

#[test]
fn rejects_wrong_issuer_and_audience() {
    let f = Fixture::local();
    let token = f.sign_local(&with(local_claims(), json!({"iss": "https://evil.example"})));
    assert_eq!(f.reject(&token).to_string(), "untrusted issuer");
    let token = f.sign_local(&with(local_claims(), json!({"aud": "billing"})));
    assert_eq!(f.reject(&token).to_string(), "wrong audience");
    let token = f.sign_local(&with(local_claims(), json!({"aud": ["billing", "reports"]})));
    assert_eq!(f.reject(&token), AuthError::WrongAudience);
    // An audience list that includes ours is fine.
    let token = f.sign_local(&with(local_claims(), json!({"aud": ["billing", LOCAL_AUDIENCE]})));
    assert!(f.auth.verify(&token).is_ok());
}

#[test]
fn rejects_critical_headers() {
    let f = Fixture::local();
    let key = f.local_key();
    let header = b64(&json!({"alg": "EdDSA", "kid": key.kid, "crit": ["exp"], "exp": 1}));
    let message = format!("{header}.{}", b64(&local_claims()));
    let pair = Ed25519KeyPair::from_pkcs8(&key.pkcs8).unwrap();
    let token = format!("{message}.{}", URL_SAFE_NO_PAD.encode(pair.sign(message.as_bytes())));
    assert_eq!(f.reject(&token), AuthError::CriticalHeader);
}

// --- timing (run: cargo test --release --lib auth -- --ignored --nocapture) -----------

#[test]
#[ignore = "timing, not a check"]
fn timing_of_verification() {
    const N: u32 = 1000;
    let (pkcs8, point) = new_p256_key();
    let trust = json!({"issuers": [
        {"issuer": "https://idp.example", "audience": "carepath-prod", "public_key_pem_file": "idp.pem",
         "organizations": ["*"], "roles": ["nurse"]},
    ]});
    let f = with_trust_file(trust, &[("idp.pem", p256_spki_pem(&point))]);
    let ed = issue_local_token(&f.data_dir(), "dr-tanaka", Role::Physician, "niimi-clinic", 600).unwrap();
    let es = sign_es(&pkcs8, Some("k"), &idp_claims());

    let time = |label: &str, run: &dyn Fn()| {
        run();
        let start = std::time::Instant::now();
        for _ in 0..N {
            run();
        }
        println!("{label}: {:?} per verification", start.elapsed() / N);
    };
    time("EdDSA uncached", &|| {
        f.auth.verify_uncached(&ed).unwrap();
    });
    time("ES256 uncached", &|| {
        f.auth.verify_uncached(&es).unwrap();
    });
    time("cache hit", &|| {
        f.auth.verify(&ed).unwrap();
    });
}
