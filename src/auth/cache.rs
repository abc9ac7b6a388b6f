//! The verified-token cache. Signature checks cost tens of microseconds and clients resend the
//! same token for its whole lifetime, so verified tokens are remembered, by the SHA-256 of the
//! token text, until their `exp`.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use super::Caller;

/// Bounds the memory of the verified-token cache (a few MB at most).
pub(super) const CACHE_CAPACITY: usize = 10_000;

/// A verified token remembered until its `exp`.
pub(super) struct Cached {
    pub(super) caller: Caller,
    pub(super) exp: u64,
    pub(super) iat: Option<u64>,
}

/// Verified tokens by digest, bounded by `CACHE_CAPACITY`.
pub(super) struct TokenCache {
    pub(super) entries: RwLock<HashMap<[u8; 32], Cached>>,
}

impl TokenCache {
    pub(super) fn new() -> Self {
        Self { entries: RwLock::new(HashMap::new()) }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// The caller, `exp` and `iat` of a remembered token.
    pub(super) fn get(&self, digest: &[u8; 32], now: u64) -> Option<(Caller, u64, Option<u64>)> {
        let cache = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        // No leeway here: leeway forgives clock skew between machines, and a cache entry was
        // checked on this machine's clock.
        cache.get(digest).filter(|c| c.exp > now).map(|c| (c.caller.clone(), c.exp, c.iat))
    }

    /// Forgets every token (after an issuer's key set changed).
    pub(super) fn clear(&self) {
        self.entries.write().unwrap_or_else(PoisonError::into_inner).clear();
    }

    pub(super) fn insert(&self, digest: [u8; 32], caller: &Caller, exp: u64, iat: Option<u64>, now: u64) {
        if exp <= now {
            return;
        }
        let mut cache = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, c| c.exp > now);
            if cache.len() >= CACHE_CAPACITY {
                // Many live tokens at once: dropping them all only costs one re-verification each.
                cache.clear();
            }
        }
        cache.insert(digest, Cached { caller: caller.clone(), exp, iat });
    }
}

pub(super) fn token_digest(token: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use serde_json::json;

    use super::*;
    use crate::auth::test_support::{Fixture, local_claims, now, with};
    use crate::auth::{AuthError, Role};

    #[test]
    fn a_verified_token_is_served_from_the_cache() {
        let f = Fixture::local();
        let token = f.sign_local(&local_claims());
        let first = f.auth.verify(&token).unwrap();
        let second = f.auth.verify(&token).unwrap();
        assert_eq!((first.sub, first.role), (second.sub, second.role));
        assert_eq!(f.auth.verifications.load(Ordering::Relaxed), 1);
        assert_eq!(f.auth.cache_len(), 1);
        // Rejections are not cached.
        let bad = f.sign_local(&with(local_claims(), json!({"role": "wizard"})));
        assert!(f.auth.verify(&bad).is_err());
        assert!(f.auth.verify(&bad).is_err());
        assert_eq!(f.auth.verifications.load(Ordering::Relaxed), 3);
        assert_eq!(f.auth.cache_len(), 1);
    }

    #[test]
    fn an_expired_cache_entry_is_not_served() {
        let f = Fixture::local();
        let token = f.sign_local(&local_claims());
        f.auth.verify(&token).unwrap();
        // Age the entry past its exp, and make it recognisable should it still be served.
        for entry in f.auth.cache.entries.write().unwrap().values_mut() {
            entry.exp = now() - 1;
            entry.caller.sub = "stale".into();
        }
        let caller = f.auth.verify(&token).unwrap();
        assert_eq!(caller.sub, "dr-tanaka");
        assert_eq!(f.auth.verifications.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn an_expired_token_is_refused_although_once_cached() {
        let f = Fixture::with(|s| s.jwt_leeway_secs = 0);
        let token = f.sign_local(&with(local_claims(), json!({"exp": now() + 2})));
        f.auth.verify(&token).unwrap();
        assert_eq!(f.auth.cache_len(), 1);
        std::thread::sleep(std::time::Duration::from_millis(3100));
        assert_eq!(f.reject(&token), AuthError::Expired);
    }

    #[test]
    fn a_full_cache_makes_room() {
        let f = Fixture::local();
        let caller = Caller { sub: "s".into(), org: "o".into(), role: Role::Nurse, purpose: None };
        for i in 0..CACHE_CAPACITY {
            let mut digest = [0u8; 32];
            digest[..8].copy_from_slice(&(i as u64).to_le_bytes());
            // Half of them already expired: those go first.
            let exp = if i % 2 == 0 { now() - 1 } else { now() + 600 };
            f.auth.cache.entries.write().unwrap().insert(digest, Cached { caller: caller.clone(), exp, iat: None });
        }
        f.auth.verify(&f.sign_local(&local_claims())).unwrap();
        assert_eq!(f.auth.cache_len(), CACHE_CAPACITY / 2 + 1);
    }
}
