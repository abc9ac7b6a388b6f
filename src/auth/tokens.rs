//! Verifying a bearer token: choosing the trusted key by algorithm, `kid` and `iss`, checking the
//! signature and the registered claims, and saying which check failed.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::de::IgnoredAny;

use super::binding::Binding;
use super::cache::{TokenCache, token_digest};
use super::claims::{RawHeader, is_json_object, parse_claims};
use super::issuer::local_key;
use super::sessions::Sessions;
use super::trust::{TrustedKey, load_trust_file};
use super::{AuthError, AuthSetupError, Caller, LOCAL_AUDIENCE, LOCAL_ISSUER};
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::keyfile::printable;

/// Far above any real JWT; keeps hashing and parsing of junk bounded.
pub(super) const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Verifies bearer tokens against the trusted issuers. Built once at start (keys are read from
/// disk only then) and shared by all workers.
pub struct Authenticator {
    keys: Vec<TrustedKey>,
    /// Only an issuer bound to it exactly (or the local issuer) asserts this organisation.
    operator_org: String,
    /// Tokens ended before their `exp`.
    sessions: Sessions,
    pub(super) cache: TokenCache,
    /// Full (uncached) verifications attempted: shows in tests that the cache is used.
    pub(super) verifications: AtomicU64,
    /// Sessions' idle time and endings are read from it (token `exp` is checked on the wall clock).
    clock: Clock,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|k| format!("{} {:?} kid={}", k.issuer, k.alg, k.kid.as_deref().unwrap_or("-")))
            .collect();
        f.debug_struct("Authenticator").field("keys", &keys).field("cached", &self.cache_len()).finish()
    }
}

impl Authenticator {
    /// Reads (or, for the local issuer, creates) every trusted key. Fails on any problem in the
    /// trust file rather than skipping the entry: a silently missing issuer would surface only
    /// as 401s in production.
    pub fn load(settings: &Settings, clock: Clock) -> Result<Self, AuthSetupError> {
        let leeway = settings.jwt_leeway_secs;
        let mut keys = Vec::new();
        if settings.local_issuer {
            let local = local_key(&settings.data_dir)?;
            keys.push(TrustedKey::new(
                LOCAL_ISSUER,
                LOCAL_AUDIENCE,
                Some(local.kid),
                Algorithm::EdDSA,
                DecodingKey::from_ed_der(&local.public),
                leeway,
                // The operator's own issuer: it mints the operator's admin.
                std::sync::Arc::new(Binding::any()),
            ));
        }
        if let Some(path) = &settings.trust_file {
            keys.extend(load_trust_file(path, leeway)?);
        }
        if keys.is_empty() {
            tracing::warn!("no token issuer is trusted: every authenticated request will get 401");
        }
        Ok(Self {
            keys,
            operator_org: settings.operator_org.clone(),
            sessions: Sessions::new(leeway),
            cache: TokenCache::new(),
            verifications: AtomicU64::new(0),
            clock,
        })
    }

    /// Checks a bearer token and returns its caller. Synchronous on purpose: it is pure CPU work
    /// (a hash lookup when cached, one signature check otherwise), cheaper than a thread hop.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TooLarge);
        }
        let digest = token_digest(token);
        let now = self.clock.unix_secs();
        let (caller, _) = self.verify_at(token, &digest, now)?;
        Ok(caller)
    }

    /// [`Authenticator::verify`], with the token's `exp`: a console session started from a
    /// token (demo and development sign-in) ends no later than the token.
    pub fn verify_with_exp(&self, token: &str) -> Result<(Caller, u64), AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TooLarge);
        }
        let digest = token_digest(token);
        self.verify_at(token, &digest, self.clock.unix_secs())
    }

    /// The caller and `exp` of a token that is valid and not ended.
    fn verify_at(&self, token: &str, digest: &[u8; 32], now: u64) -> Result<(Caller, u64), AuthError> {
        let (caller, exp, iat) = match self.cache.get(digest, now) {
            Some(hit) => hit,
            None => {
                let (caller, exp, iat) = self.verify_uncached(token)?;
                self.cache.insert(*digest, &caller, exp, iat, now);
                (caller, exp, iat)
            }
        };
        self.sessions.check(digest, &caller, iat, now)?;
        Ok((caller, exp))
    }

    /// The time sessions are judged by, in Unix seconds.
    pub fn now_secs(&self) -> u64 {
        self.clock.unix_secs()
    }

    /// Ends every session of the user `sub` of `org`: its tokens issued up to `at` (Unix
    /// seconds) are refused.
    pub fn end_user_sessions(&self, org: &str, sub: &str, at: u64) {
        self.sessions.end_user(org, sub, at);
    }

    /// Endings kept in the database, read back at start: tokens (hex digest, `exp`; a malformed
    /// digest is skipped) and users (org, sub, cutoff).
    pub fn restore_endings(&self, tokens: Vec<(String, u64)>, users: Vec<(String, String, u64)>) {
        let tokens = tokens.into_iter().filter_map(|(digest, exp)| Some((unhex(&digest)?, exp))).collect();
        self.sessions.restore(tokens, users);
    }

    /// Number of tokens currently remembered (for metrics and tests).
    pub fn cache_len(&self) -> usize {
        self.cache.len()
    }

    /// The full check; returns the caller, the token's `exp` and its `iat`.
    fn verify_uncached(&self, token: &str) -> Result<(Caller, u64, Option<u64>), AuthError> {
        let mut parts = token.split('.');
        let (Some(header_b64), Some(claims_b64), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed("expected three dot-separated parts"));
        };
        let header: RawHeader = URL_SAFE_NO_PAD
            .decode(header_b64)
            .ok()
            .filter(|bytes| is_json_object(bytes))
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(AuthError::Malformed("header is not base64url JSON with an alg"))?;
        let alg = match header.alg.as_str() {
            "ES256" => Algorithm::ES256,
            "EdDSA" => Algorithm::EdDSA,
            other => return Err(AuthError::UnsupportedAlgorithm(printable(other))),
        };
        // RFC 7515: a recipient that does not understand a critical extension must reject.
        if header.crit.is_some() {
            return Err(AuthError::CriticalHeader);
        }
        // Read before the signature check only to choose the key; nothing is trusted until the
        // signature over these very bytes has been verified below.
        let claims = parse_claims(claims_b64)?;
        let iss = claims.iss.as_deref().ok_or(AuthError::MissingClaim("iss"))?;

        let mut signer_known = false;
        let mut failure: Option<AuthError> = None;
        for key in &self.keys {
            let kid_matches = match (&key.kid, &header.kid) {
                (Some(ours), Some(theirs)) => ours == theirs,
                _ => true,
            };
            if key.alg != alg || !kid_matches {
                continue;
            }
            signer_known = true;
            if key.issuer != iss {
                continue;
            }
            self.verifications.fetch_add(1, Ordering::Relaxed);
            match jsonwebtoken::decode::<IgnoredAny>(token, &key.key, &key.validation) {
                // The same issuer may be listed again (another audience, another binding).
                Ok(_) => match claims.caller_if_bound(&key.binding, &self.operator_org)? {
                    Some(verified) => return Ok(verified),
                    None => failure = Some(AuthError::NotBound),
                },
                Err(e) => {
                    let error = map_jwt_error(e.kind());
                    // A failure after the signature matched says more than "unknown key"; keep
                    // looking though: the same key may be trusted for another audience.
                    if failure.is_none() || error != AuthError::UnknownKey {
                        failure = Some(error);
                    }
                }
            }
        }
        // Local keys are Ed25519: an ES256 token naming the local issuer is no mix-up of data
        // directories.
        let local_trusted =
            iss == super::LOCAL_ISSUER && alg == Algorithm::EdDSA && self.keys.iter().any(|k| k.issuer == iss);
        Err(match failure {
            Some(AuthError::UnknownKey) if local_trusted => AuthError::OtherDataDir,
            None if local_trusted && !signer_known => AuthError::OtherDataDir,
            Some(error) => error,
            None if signer_known => AuthError::UntrustedIssuer,
            None => AuthError::UnknownKey,
        })
    }
}

/// The digest back from the lowercase hex `crypto::keyfile::hex` wrote.
fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn map_jwt_error(kind: &JwtErrorKind) -> AuthError {
    match kind {
        JwtErrorKind::InvalidSignature | JwtErrorKind::InvalidEcdsaKey | JwtErrorKind::InvalidEddsaKey => {
            AuthError::UnknownKey
        }
        JwtErrorKind::ExpiredSignature => AuthError::Expired,
        JwtErrorKind::ImmatureSignature => AuthError::NotYetValid,
        JwtErrorKind::InvalidIssuer => AuthError::UntrustedIssuer,
        JwtErrorKind::InvalidAudience => AuthError::WrongAudience,
        JwtErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(static_claim_name(claim)),
        JwtErrorKind::InvalidClaimFormat(claim) => AuthError::MalformedClaim(static_claim_name(claim).to_owned()),
        JwtErrorKind::Base64(_) => AuthError::Malformed("not base64url"),
        JwtErrorKind::Json(_) | JwtErrorKind::Utf8(_) => AuthError::Malformed("not JSON"),
        JwtErrorKind::InvalidAlgorithm | JwtErrorKind::UnsupportedAlgorithm => {
            AuthError::Malformed("algorithm does not fit the key")
        }
        _ => AuthError::Malformed("rejected by the JWT library"),
    }
}

fn static_claim_name(claim: &str) -> &'static str {
    match claim {
        "exp" => "exp",
        "nbf" => "nbf",
        "sub" => "sub",
        "iss" => "iss",
        "aud" => "aud",
        _ => "(registered claim)",
    }
}

#[cfg(test)]
mod tests {
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
    fn rejects_rsa_and_other_algorithms() {
        let f = Fixture::local();
        for alg in ["RS256", "PS256", "ES384", "ES512", "Ed25519", ""] {
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
}
