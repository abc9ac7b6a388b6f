//! Verifying a bearer token: choosing the trusted key by algorithm, `kid` and `iss`, checking the
//! signature and the registered claims, and saying which check failed.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::de::IgnoredAny;

use super::binding::Binding;
use super::cache::{TokenCache, token_digest};
use super::claims::{RawHeader, is_json_object, parse_claims, parse_claims_value};
use super::issuer::{existing_key, issued_key, local_key};
use super::remote::RemoteKeys;
use super::sessions::Sessions;
use super::trust::load_trust_file;
use super::trusted::TrustedKey;
use super::{AuthError, AuthSetupError, Caller, ISSUED_ISSUER, LOCAL_AUDIENCE, LOCAL_ISSUER};
use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::keyfile::printable;

/// Far above any real JWT; keeps hashing and parsing of junk bounded.
pub(super) const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Verifies bearer tokens against the trusted issuers. Built once at start (keys are read from
/// disk only then) and shared by all workers.
pub struct Authenticator {
    keys: Vec<TrustedKey>,
    /// Issuers whose keys are fetched (`jwks_uri`, discovery).
    pub(super) remote: Vec<RemoteKeys>,
    /// The key of the tokens carepath issues itself (`carepath-issued`: the token endpoint's,
    /// the console's after an OpenID Connect sign-in): the local key, once it exists.
    pub(super) issued: RwLock<Option<Arc<TrustedKey>>>,
    pub(super) data_dir: PathBuf,
    pub(super) leeway: u64,
    /// Only an issuer bound to it exactly (or the local issuer) asserts this organisation.
    pub(super) operator_org: String,
    /// Tokens ended before their `exp`.
    sessions: Sessions,
    pub(super) cache: TokenCache,
    /// Full (uncached) verifications attempted: shows in tests that the cache is used.
    pub(super) verifications: AtomicU64,
    /// Sessions' idle time, endings and fetched keys' lifetimes are read from it (token `exp` is
    /// checked on the wall clock).
    pub(super) clock: Clock,
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
        let mut remote = Vec::new();
        let mut issued = None;
        if settings.local_issuer {
            let local = local_key(&settings.data_dir)?;
            issued = Some(Arc::new(issued_key(&local, leeway)));
            keys.push(TrustedKey::new(
                LOCAL_ISSUER,
                LOCAL_AUDIENCE,
                Some(local.kid),
                Algorithm::EdDSA,
                DecodingKey::from_ed_der(&local.public),
                leeway,
                // The operator's own issuer: it mints the operator's admin.
                Arc::new(Binding::any()),
            ));
        } else if let Some(local) = existing_key(&settings.data_dir)? {
            // Made earlier by the token endpoint or a console sign-in: their tokens still verify.
            issued = Some(Arc::new(issued_key(&local, leeway)));
        }
        if let Some(path) = &settings.trust_file {
            let trusted = load_trust_file(path, leeway)?;
            keys.extend(trusted.keys);
            remote = trusted.remote;
        }
        if keys.is_empty() && remote.is_empty() {
            tracing::warn!("no token issuer is trusted: every authenticated request will get 401");
        }
        Ok(Self {
            keys,
            remote,
            issued: RwLock::new(issued),
            data_dir: settings.data_dir.clone(),
            leeway,
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
            "RS256" => Algorithm::RS256,
            "PS256" => Algorithm::PS256,
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
        let now = self.clock.unix_secs();
        let fetched: Vec<Arc<Vec<TrustedKey>>> =
            self.remote.iter().filter(|r| r.issuer() == iss).filter_map(|r| r.keys(now)).collect();
        let issued = if iss == ISSUED_ISSUER {
            self.issued.read().unwrap_or_else(PoisonError::into_inner).clone()
        } else {
            None
        };

        let mut signer_known = false;
        let mut failure: Option<AuthError> = None;
        let candidates = self.keys.iter().chain(fetched.iter().flat_map(|keys| keys.iter())).chain(issued.as_deref());
        for key in candidates {
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
                Ok(_) => match self.caller_of(&claims, claims_b64, key)? {
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
        // An issuer whose fetched keys are missing or expired: say so, with the fetch's failure.
        if failure.is_none()
            && let Some(why) = self.remote.iter().filter(|r| r.issuer() == iss).find_map(|r| r.unavailable(now))
        {
            return Err(AuthError::KeysUnavailable(why));
        }
        Err(match failure {
            Some(AuthError::UnknownKey) if local_trusted => AuthError::OtherDataDir,
            None if local_trusted && !signer_known => AuthError::OtherDataDir,
            Some(error) => error,
            None if signer_known => AuthError::UntrustedIssuer,
            None => AuthError::UnknownKey,
        })
    }
}

impl Authenticator {
    /// The caller a verified token names under `key`'s issuer rules, if the issuer may assert it.
    fn caller_of(
        &self,
        claims: &super::claims::RawClaims,
        claims_b64: &str,
        key: &TrustedKey,
    ) -> Result<Option<(Caller, u64, Option<u64>)>, AuthError> {
        let Some(mapping) = &key.mapping else {
            return claims.caller_if_bound(&key.binding, &self.operator_org);
        };
        let caller = mapping.caller(&parse_claims_value(claims_b64)?)?;
        let (exp, iat) = claims.times()?;
        Ok(key.binding.allows(&caller.org, caller.role, &self.operator_org).then_some((caller, exp, iat)))
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

pub(super) fn map_jwt_error(kind: &JwtErrorKind) -> AuthError {
    match kind {
        JwtErrorKind::InvalidSignature
        | JwtErrorKind::InvalidEcdsaKey
        | JwtErrorKind::InvalidEddsaKey
        | JwtErrorKind::InvalidRsaKey(_) => AuthError::UnknownKey,
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
#[path = "tokens_tests.rs"]
mod tests;
