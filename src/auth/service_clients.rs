//! Service clients' signed assertions (RFC 7523 `private_key_jwt`, as SMART Backend Services
//! uses them): a vendor's system registered with a public key proves itself at the token
//! endpoint with a short JWT it signed. This module checks such an assertion against the keys
//! registered; the registration, the replay record and the token are the domain's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

use super::claims::{RawHeader, is_json_object};
use super::keys::{FoundKey, keys_from_jwks, public_keys_from_pem};
use crate::crypto::keyfile::printable;

/// `client_assertion_type` of RFC 7523 section 2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// An assertion may be valid for at most this long (SMART Backend Services: five minutes).
pub const MAX_ASSERTION_SECS: u64 = 300;
/// The algorithms a client may sign its assertion with.
pub const ASSERTION_ALGS: [&str; 4] = ["ES256", "EdDSA", "RS256", "PS256"];

/// A client's public keys as registered: a JWKS, or one PEM public key. Checked (every key
/// usable, none private, RSA of 2048 bits or more) and returned as the text to store.
pub fn registered_keys(jwks: Option<&Value>, pem: Option<&str>) -> Result<String, String> {
    let stored = match (jwks, pem) {
        (Some(jwks), None) => json!({"jwks": jwks}),
        (None, Some(pem)) => json!({"pem": pem}),
        _ => return Err("give jwks or public_key_pem, one of them".into()),
    };
    let text = stored.to_string();
    load_keys(&text)?;
    Ok(text)
}

/// The keys of a stored registration.
fn load_keys(stored: &str) -> Result<Vec<FoundKey>, String> {
    let value: Value = serde_json::from_str(stored).map_err(|e| format!("stored keys unreadable: {e}"))?;
    if let Some(jwks) = value.get("jwks") {
        return keys_from_jwks(jwks.to_string().as_bytes());
    }
    let pem = value.get("pem").and_then(Value::as_str).ok_or("stored keys hold neither jwks nor pem")?;
    Ok(public_keys_from_pem(pem)?.into_iter().map(|(alg, key)| (None, alg, key)).collect())
}

/// The client an assertion says it is from (`iss`, unverified: only to find its keys).
pub fn claimed_client(assertion: &str) -> Option<String> {
    let claims = assertion.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(claims).ok().filter(|b| is_json_object(b))?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.get("iss").and_then(Value::as_str).map(str::to_owned)
}

/// What a verified assertion leaves to record: its `jti` (refused if seen again) and `exp`.
#[derive(Debug)]
pub struct Assertion {
    /// The assertion's unique id.
    pub jti: String,
    /// Its `exp`, in Unix seconds.
    pub exp: u64,
}

#[derive(Deserialize)]
struct AssertionClaims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    exp: Option<f64>,
}

/// Checks an assertion of `client_id` for the token endpoint `audience` at `now`: signed by one
/// of the registered keys with an accepted algorithm, `iss` = `sub` = the client, `aud` naming
/// the token endpoint, `exp` in the future and at most five minutes away, a `jti`. The error
/// says which check failed (the client's developers need it), never quoting the assertion.
pub fn verify_assertion(
    stored_keys: &str,
    client_id: &str,
    assertion: &str,
    audience: &str,
    now: u64,
    leeway: u64,
) -> Result<Assertion, String> {
    let header: RawHeader = assertion
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .filter(|b| is_json_object(b))
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the assertion is not a JWT")?;
    let alg = match header.alg.as_str() {
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        "RS256" => Algorithm::RS256,
        "PS256" => Algorithm::PS256,
        other => return Err(format!("the assertion's algorithm {} is not accepted", printable(other))),
    };
    if header.crit.is_some() {
        return Err("the assertion has critical header parameters".into());
    }
    let keys = load_keys(stored_keys)?;
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[client_id]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    // `exp` is checked below on carepath's clock, with the five-minute bound.
    validation.validate_exp = false;
    validation.validate_nbf = true;
    validation.leeway = leeway;
    let mut failure = "the assertion is not signed by a key registered for this client".to_owned();
    for (kid, key_alg, key) in &keys {
        if *key_alg != alg || (kid.is_some() && header.kid.is_some() && kid != &header.kid) {
            continue;
        }
        match jsonwebtoken::decode::<AssertionClaims>(assertion, key, &validation) {
            Ok(data) => return check_claims(data.claims, client_id, now, leeway),
            Err(e) => {
                use jsonwebtoken::errors::ErrorKind;
                failure = match e.kind() {
                    ErrorKind::InvalidSignature => failure,
                    ErrorKind::InvalidAudience => format!("the assertion's aud must be the token endpoint, {audience}"),
                    ErrorKind::InvalidIssuer => "the assertion's iss must be the client id".into(),
                    ErrorKind::MissingRequiredClaim(c) => format!("the assertion lacks the claim {c}"),
                    ErrorKind::ImmatureSignature => "the assertion is not yet valid (nbf)".into(),
                    _ => "the assertion is malformed".into(),
                };
            }
        }
    }
    Err(failure)
}

fn check_claims(claims: AssertionClaims, client_id: &str, now: u64, leeway: u64) -> Result<Assertion, String> {
    if claims.sub.as_deref() != Some(client_id) {
        return Err("the assertion's sub must be the client id".into());
    }
    let exp = claims.exp.ok_or("the assertion lacks the claim exp")? as u64;
    if exp.saturating_add(leeway) <= now {
        return Err("the assertion has expired".into());
    }
    if exp > now + MAX_ASSERTION_SECS + leeway {
        return Err(format!("the assertion's exp is more than {MAX_ASSERTION_SECS} seconds away"));
    }
    let jti = claims.jti.filter(|j| !j.trim().is_empty() && j.len() <= 256).ok_or("the assertion needs a jti")?;
    Ok(Assertion { jti, exp })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_are_checked() {
        assert!(registered_keys(None, None).unwrap_err().contains("one of them"));
        assert!(registered_keys(None, Some("hello")).unwrap_err().contains("not PEM"));
        let private = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "d": "AAAA"}]});
        assert!(registered_keys(Some(&private), None).unwrap_err().contains("private key"));
        assert_eq!(claimed_client("a.b.c"), None);
    }
}
