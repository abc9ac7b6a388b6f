//! Public keys as identity providers and service clients publish them: a PEM SubjectPublicKeyInfo
//! or a JWKS. Accepted: EC P-256 (ES256), Ed25519 (EdDSA), RSA of 2048 bits or more (RS256,
//! PS256). Never a symmetric key, never a private one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::crypto::keyfile::pem_decode;

/// DER prefix of a SubjectPublicKeyInfo for an EC P-256 key, up to the 65-byte point.
pub(super) const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// DER prefix of a SubjectPublicKeyInfo for an Ed25519 key, up to the 32-byte key.
pub(super) const ED25519_SPKI_PREFIX: [u8; 12] =
    [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
/// OID bytes that identify key types, so the operator hears why a key is refused.
const RSA_OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC_PUBLIC_KEY_OID: [u8; 7] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// RSA keys shorter than this are refused (NIST SP 800-131A: 1024-bit RSA is broken in practice).
pub const MIN_RSA_BITS: usize = 2048;

/// One usable public key: its `kid` (if published), the algorithm it verifies, the key.
pub(super) type FoundKey = (Option<String>, Algorithm, DecodingKey);

/// The algorithms an RSA key may verify: a JWK's `alg` names one; without it, both.
fn rsa_algorithms(alg: Option<&str>) -> Option<Vec<Algorithm>> {
    match alg {
        None => Some(vec![Algorithm::RS256, Algorithm::PS256]),
        Some("RS256") => Some(vec![Algorithm::RS256]),
        Some("PS256") => Some(vec![Algorithm::PS256]),
        Some(_) => None,
    }
}

/// An RSA key from its big-endian modulus and exponent, refused under [`MIN_RSA_BITS`].
fn rsa_key(n: &[u8], e: &[u8]) -> Result<DecodingKey, String> {
    let n = match n.iter().position(|&b| b != 0) {
        Some(first) => &n[first..],
        None => return Err("RSA modulus is zero".into()),
    };
    let bits = n.len() * 8 - n[0].leading_zeros() as usize;
    if bits < MIN_RSA_BITS {
        return Err(format!("RSA key of {bits} bits; at least {MIN_RSA_BITS} are required"));
    }
    // The rsa crate's own checks (exponent range, at most 4096 bits), once, at load.
    rsa::RsaPublicKey::new(rsa::BigUint::from_bytes_be(n), rsa::BigUint::from_bytes_be(e))
        .map_err(|e| format!("not a valid RSA public key: {e}"))?;
    Ok(DecodingKey::from_rsa_raw_components(n, e))
}

/// A PEM SubjectPublicKeyInfo: EC P-256 and Ed25519 matched byte for byte against the only DER
/// encodings those keys have (which also rules out other curves behind the EC OID); RSA parsed.
pub(super) fn public_keys_from_pem(text: &str) -> Result<Vec<(Algorithm, DecodingKey)>, String> {
    if text.contains("-----BEGIN CERTIFICATE-----") {
        return Err("holds a certificate; extract the public key (openssl x509 -pubkey -noout)".into());
    }
    let der = pem_decode(text, "PUBLIC KEY")?;
    let (alg, key) = if der.len() == P256_SPKI_PREFIX.len() + 65 && der.starts_with(&P256_SPKI_PREFIX) {
        (Algorithm::ES256, DecodingKey::from_ec_der(&der[P256_SPKI_PREFIX.len()..]))
    } else if der.len() == ED25519_SPKI_PREFIX.len() + 32 && der.starts_with(&ED25519_SPKI_PREFIX) {
        (Algorithm::EdDSA, DecodingKey::from_ed_der(&der[ED25519_SPKI_PREFIX.len()..]))
    } else if contains(&der, &RSA_OID) {
        let public = rsa::RsaPublicKey::from_public_key_der(&der).map_err(|e| format!("not an RSA public key: {e}"))?;
        let key = rsa_key(&public.n().to_bytes_be(), &public.e().to_bytes_be())?;
        return Ok(vec![(Algorithm::RS256, key.clone()), (Algorithm::PS256, key)]);
    } else if contains(&der, &EC_PUBLIC_KEY_OID) {
        return Err("EC key on a curve other than P-256 (or compressed); only P-256 is accepted".into());
    } else {
        return Err("not an EC P-256, Ed25519 or RSA public key".into());
    };
    check_key(alg, &key)?;
    Ok(vec![(alg, key)])
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Builds the verifier once, so that a point off the curve is an error at load, not a 401 for
/// every token later.
fn check_key(alg: Algorithm, key: &DecodingKey) -> Result<(), String> {
    jsonwebtoken::crypto::verify("", b"", key, alg).map(|_| ()).map_err(|_| "not a valid public key".to_owned())
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

/// The JWK members carepath looks at; others (`x5c`, `x5t`, ...) are ignored.
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
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    d: Option<IgnoredAny>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    usage: Option<String>,
}

/// The usable keys of a JWKS. Keys carepath cannot use (encryption keys, other curves,
/// symmetric `oct` keys, RSA under 2048 bits) are skipped and counted, since IdPs publish those
/// side by side; a malformed key of a usable type, or a private key, is an error.
pub(super) fn keys_from_jwks(bytes: &[u8]) -> Result<Vec<FoundKey>, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let jwks: Jwks = serde_path_to_error::deserialize(&mut de).map_err(|e| format!("invalid: {e}"))?;
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for (i, jwk) in jwks.keys.into_iter().enumerate() {
        if jwk.d.is_some() {
            return Err(format!("keys[{i}] holds a private key (member d); publish only public keys"));
        }
        if jwk.usage.as_deref().is_some_and(|u| u != "sig") {
            skipped.push(format!("keys[{i}] is not for signatures"));
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
        let big = |value: &Option<String>, name: &str| -> Result<Vec<u8>, String> {
            let value = value.as_deref().ok_or_else(|| format!("keys[{i}] lacks {name}"))?;
            URL_SAFE_NO_PAD.decode(value).map_err(|_| format!("keys[{i}].{name} is not base64url"))
        };
        match (jwk.kty.as_str(), jwk.crv.as_deref(), jwk.alg.as_deref()) {
            ("EC", Some("P-256"), None | Some("ES256")) => {
                let (x, y) = (coordinate(&jwk.x, "x")?, coordinate(&jwk.y, "y")?);
                let key = DecodingKey::from_ec_components(&x, &y).map_err(|e| format!("keys[{i}]: {e}"))?;
                check_key(Algorithm::ES256, &key).map_err(|e| format!("keys[{i}]: {e}"))?;
                found.push((jwk.kid, Algorithm::ES256, key));
            }
            ("OKP", Some("Ed25519"), None | Some("EdDSA")) => {
                let x = coordinate(&jwk.x, "x")?;
                let key = DecodingKey::from_ed_components(&x).map_err(|e| format!("keys[{i}]: {e}"))?;
                check_key(Algorithm::EdDSA, &key).map_err(|e| format!("keys[{i}]: {e}"))?;
                found.push((jwk.kid, Algorithm::EdDSA, key));
            }
            ("RSA", _, alg) => {
                let Some(algorithms) = rsa_algorithms(alg) else {
                    skipped.push(format!("keys[{i}] is for {}", crate::crypto::keyfile::printable(alg.unwrap_or(""))));
                    continue;
                };
                let (n, e) = (big(&jwk.n, "n")?, big(&jwk.e, "e")?);
                match rsa_key(&n, &e) {
                    Ok(key) => found.extend(algorithms.into_iter().map(|alg| (jwk.kid.clone(), alg, key.clone()))),
                    Err(why) => skipped.push(format!("keys[{i}]: {why}")),
                }
            }
            (kty, _, _) => skipped.push(format!("keys[{i}] is of type {}", crate::crypto::keyfile::printable(kty))),
        }
    }
    if found.is_empty() {
        return Err(format!(
            "no usable signing key (EC P-256, Ed25519, or RSA of at least {MIN_RSA_BITS} bits); skipped: {}",
            if skipped.is_empty() { "none".to_owned() } else { skipped.join("; ") }
        ));
    }
    for why in &skipped {
        tracing::debug!(%why, "JWKS key skipped");
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_keys_under_2048_bits_are_skipped_and_named() {
        let n = URL_SAFE_NO_PAD.encode([0xffu8; 128]);
        let jwks = serde_json::json!({"keys": [{"kty": "RSA", "n": n, "e": "AQAB", "kid": "weak"}]});
        let error = keys_from_jwks(jwks.to_string().as_bytes()).err().unwrap();
        assert!(error.contains("keys[0]: RSA key of 1024 bits; at least 2048 are required"), "{error}");
        let oct = serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]});
        let error = keys_from_jwks(oct.to_string().as_bytes()).err().unwrap();
        assert!(error.contains("keys[0] is of type oct"), "{error}");
    }

    #[test]
    fn an_rsa_jwk_without_alg_verifies_rs256_and_ps256() {
        // A 2048-bit modulus (top bit set) with a small exponent: shape only, no signature.
        let mut n = vec![0x80u8];
        n.extend([0x01u8; 255]);
        let jwk = serde_json::json!({"keys": [
            {"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB", "kid": "r1"},
            {"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB", "kid": "r2", "alg": "PS256"},
            {"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB", "kid": "r3", "alg": "RS512"},
        ]});
        let found = keys_from_jwks(jwk.to_string().as_bytes()).unwrap();
        let algs: Vec<_> = found.iter().map(|(kid, alg, _)| (kid.clone().unwrap(), *alg)).collect();
        assert_eq!(
            algs,
            vec![("r1".into(), Algorithm::RS256), ("r1".into(), Algorithm::PS256), ("r2".into(), Algorithm::PS256)]
        );
    }
}
