//! An issuer's keys fetched from its `jwks_uri` (given in the trust file, or found by OpenID
//! Connect discovery) and kept as `Cache-Control` allows. The rules:
//!
//! - keys live for the answer's `max-age` (bounded to 1 minute .. 1 day; 10 minutes without
//!   one); a background task fetches again when three quarters of that have passed;
//! - a token naming a `kid` nobody published makes one fetch at once, at most one a minute per
//!   issuer (so a stream of forged `kid`s cannot make carepath hammer the provider);
//! - on a failed fetch (down, an error status, garbage) the keys held stay until they expire,
//!   then the issuer's tokens are refused naming the failure; a key the provider removed stops
//!   verifying as soon as a fetch succeeds without it.
//!
//! Fetching blocks: it runs on the background task's blocking thread or in `web::block`.

use std::sync::{Arc, PoisonError, RwLock};

use serde::Deserialize;

use super::fetch;
use super::keys::keys_from_jwks;
use super::trusted::{IssuerRules, TrustedKey};
use crate::crypto::keyfile::printable;

/// Keys are kept at least this long, and fetched on an unknown `kid` at most this often.
pub const MIN_INTERVAL_SECS: u64 = 60;
const DEFAULT_MAX_AGE: u64 = 600;
const MAX_MAX_AGE: u64 = 24 * 3600;

/// Where the keys come from.
#[derive(Debug, Clone)]
pub(super) enum Source {
    /// A `jwks_uri` the trust file gives.
    Jwks(String),
    /// The issuer's `/.well-known/openid-configuration`, which names the `jwks_uri`.
    Discovery(String),
}

/// The endpoints a discovery document names (the console's sign-in uses them).
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderMetadata {
    /// The issuer it describes (must be the trust file's).
    pub issuer: String,
    /// Where its keys are.
    pub jwks_uri: String,
    /// Where the console sends the browser to sign in.
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// Where the console exchanges the code.
    #[serde(default)]
    pub token_endpoint: Option<String>,
}

#[derive(Default)]
struct Held {
    keys: Arc<Vec<TrustedKey>>,
    /// Unix seconds after which the keys no longer verify.
    expires_at: u64,
    /// When the background task fetches again.
    refresh_at: u64,
    /// When the last fetch (of any kind) was tried, and when the last on-demand one was.
    last_attempt: Option<u64>,
    last_on_demand: Option<u64>,
    last_error: Option<String>,
    metadata: Option<ProviderMetadata>,
    fetches: u64,
}

/// One issuer whose keys are fetched.
pub(super) struct RemoteKeys {
    pub(super) rules: Arc<IssuerRules>,
    source: Source,
    held: RwLock<Held>,
}

/// What one fetch brings: the keys, how long they may be kept (`Cache-Control: max-age`), and
/// the provider's metadata when it was discovered.
type Fetched = (Vec<TrustedKey>, Option<u64>, Option<ProviderMetadata>);

impl RemoteKeys {
    pub(super) fn new(rules: Arc<IssuerRules>, source: Source) -> Self {
        Self { rules, source, held: RwLock::new(Held::default()) }
    }

    pub(super) fn issuer(&self) -> &str {
        &self.rules.issuer
    }

    /// The keys that verify at `now` (none once expired).
    pub(super) fn keys(&self, now: u64) -> Option<Arc<Vec<TrustedKey>>> {
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        (held.expires_at > now).then(|| held.keys.clone())
    }

    /// Why the issuer has no keys at `now`, for the 401.
    pub(super) fn unavailable(&self, now: u64) -> Option<String> {
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        if held.expires_at > now {
            return None;
        }
        let what = if held.fetches == 0 { "have not been fetched yet" } else { "expired" };
        Some(match &held.last_error {
            Some(e) => format!("the keys of issuer {} {what}; the last fetch failed: {e}", printable(self.issuer())),
            None => format!("the keys of issuer {} {what}", printable(self.issuer())),
        })
    }

    /// The discovery document as last fetched.
    pub(super) fn metadata(&self) -> Option<ProviderMetadata> {
        self.held.read().unwrap_or_else(PoisonError::into_inner).metadata.clone()
    }

    /// Fetches successful so far (tests and metrics).
    pub(super) fn fetches(&self) -> u64 {
        self.held.read().unwrap_or_else(PoisonError::into_inner).fetches
    }

    /// Whether an on-demand fetch (an unknown `kid`) is allowed at `now`.
    pub(super) fn may_fetch_on_demand(&self, now: u64) -> bool {
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        held.last_on_demand.is_none_or(|at| now >= at.saturating_add(MIN_INTERVAL_SECS))
    }

    /// The on-demand fetch, if allowed: `None` if not tried or failed, else whether the key set
    /// changed.
    pub(super) fn fetch_on_demand(&self, now: u64) -> Option<bool> {
        {
            let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
            if held.last_on_demand.is_some_and(|at| now < at.saturating_add(MIN_INTERVAL_SECS)) {
                return None;
            }
            held.last_on_demand = Some(now);
        }
        self.fetch(now).ok()
    }

    /// A fetch outside the rules above, for a discovery document never fetched yet (a console
    /// sign-in before the refresh task's first fetch finished); whether it succeeded.
    pub(super) fn fetch_missing_metadata(&self, now: u64) -> bool {
        self.metadata().is_some() || self.fetch(now).is_ok()
    }

    /// The background task's fetch, when due; after a failure, again a minute later at most.
    /// Whether the key set changed.
    pub(super) fn refresh_if_due(&self, now: u64) -> bool {
        let due = {
            let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
            let retry = held.last_error.is_none() || held.last_attempt.is_none_or(|at| now >= at + MIN_INTERVAL_SECS);
            now >= held.refresh_at && retry
        };
        due && self.fetch(now).unwrap_or(false)
    }

    /// Fetches the keys (and, with discovery, the document first). On success the keys are
    /// replaced whole: a key no longer published is gone. On failure they are kept. Whether the
    /// set of keys (by `kid` and algorithm) changed.
    fn fetch(&self, now: u64) -> Result<bool, String> {
        let result = self.fetch_keys();
        let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
        held.last_attempt = Some(now);
        match result {
            Ok((keys, max_age, metadata)) => {
                let lifetime = max_age.unwrap_or(DEFAULT_MAX_AGE).clamp(MIN_INTERVAL_SECS, MAX_MAX_AGE);
                let names = |keys: &[TrustedKey]| keys.iter().map(|k| (k.kid.clone(), k.alg)).collect::<Vec<_>>();
                let changed = names(&held.keys) != names(&keys);
                held.keys = Arc::new(keys);
                held.expires_at = now + lifetime;
                held.refresh_at = now + lifetime * 3 / 4;
                held.last_error = None;
                held.fetches += 1;
                if metadata.is_some() {
                    held.metadata = metadata;
                }
                Ok(changed)
            }
            Err(e) => {
                tracing::warn!(issuer = %self.issuer(), error = %e, "JWKS fetch failed; the keys held are kept until they expire");
                held.last_error = Some(e.clone());
                Err(e)
            }
        }
    }

    fn fetch_keys(&self) -> Result<Fetched, String> {
        let (jwks_uri, metadata) = match &self.source {
            Source::Jwks(uri) => (uri.clone(), None),
            Source::Discovery(url) => {
                let doc = fetch::get_json(url).map_err(|e| format!("discovery {url}: {e}"))?;
                let meta: ProviderMetadata = serde_json::from_slice(&doc.body)
                    .map_err(|e| format!("discovery {url}: not an OpenID provider configuration: {e}"))?;
                // OpenID Connect Discovery 1.0, section 4.3: the document must name this issuer.
                if meta.issuer != self.rules.issuer {
                    return Err(format!("discovery {url}: names issuer {}, not this one", printable(&meta.issuer)));
                }
                (meta.jwks_uri.clone(), Some(meta))
            }
        };
        let fetched = fetch::get_json(&jwks_uri).map_err(|e| format!("JWKS {jwks_uri}: {e}"))?;
        let found = keys_from_jwks(&fetched.body).map_err(|e| format!("JWKS {jwks_uri}: {e}"))?;
        let keys =
            found.into_iter().map(|(kid, alg, key)| TrustedKey::from_rules(&self.rules, kid, alg, key)).collect();
        Ok((keys, fetched.max_age, metadata))
    }
}
