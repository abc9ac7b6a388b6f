//! The authenticator's side of fetched keys: the background refresh, the one on-demand fetch an
//! unknown `kid` may cause, and the console's use of an OpenID Connect provider (its endpoints,
//! and checking the ID token it returns).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::claims::{RawHeader, parse_claims};
use super::remote::{ProviderMetadata, RemoteKeys};
use super::trusted::{ConsoleClient, validation};
use super::{AuthError, Authenticator, Caller};

impl Authenticator {
    /// Whether any issuer's keys are fetched (the wiring then starts the refresh task).
    pub fn fetches_keys(&self) -> bool {
        !self.remote.is_empty()
    }

    /// Fetches the keys that are due (blocking: the refresh task runs it off the workers).
    pub fn refresh_due(&self) {
        let now = self.clock.unix_secs();
        let mut changed = false;
        for remote in &self.remote {
            changed |= remote.refresh_if_due(now);
        }
        if changed {
            // A token verified by a key now withdrawn must not live on in the cache.
            self.cache.clear();
        }
    }

    /// Successful fetches of `issuer`'s keys so far (tests, metrics).
    pub fn key_fetches(&self, issuer: &str) -> u64 {
        self.remote.iter().filter(|r| r.issuer() == issuer).map(RemoteKeys::fetches).sum()
    }

    /// Whether a token refused with `error` is worth one fetch of its issuer's keys now: the
    /// issuer's keys are fetched, the token's `kid` was unknown (or no keys are held), and the
    /// issuer's last on-demand fetch is a minute old.
    pub fn may_refresh_for(&self, token: &str, error: &AuthError) -> bool {
        if !matches!(error, AuthError::UnknownKey | AuthError::KeysUnavailable(_)) || self.remote.is_empty() {
            return false;
        }
        let now = self.clock.unix_secs();
        issuer_of(token).is_some_and(|iss| self.remote.iter().any(|r| r.issuer() == iss && r.may_fetch_on_demand(now)))
    }

    /// Blocking: fetches the token's issuer's keys (at most once a minute) and verifies again.
    pub fn verify_after_refresh(&self, token: &str) -> Result<Caller, AuthError> {
        let now = self.clock.unix_secs();
        if let Some(iss) = issuer_of(token) {
            for remote in self.remote.iter().filter(|r| r.issuer() == iss) {
                if remote.fetch_on_demand(now) == Some(true) {
                    self.cache.clear();
                }
            }
        }
        self.verify(token)
    }

    /// The providers the console offers sign-in through: (issuer, label).
    pub fn console_providers(&self) -> Vec<(String, String)> {
        self.remote
            .iter()
            .filter_map(|r| {
                let console = r.rules.console.as_ref()?;
                Some((r.issuer().to_owned(), console.label.clone().unwrap_or_else(|| r.issuer().to_owned())))
            })
            .collect()
    }

    /// The console client and the provider's endpoints for `issuer`; fetches the discovery
    /// document first if it was never fetched (blocking).
    pub fn console_provider(&self, issuer: &str) -> Option<(ConsoleClient, ProviderMetadata)> {
        let remote = self.remote.iter().find(|r| r.issuer() == issuer && r.rules.console.is_some())?;
        remote.fetch_missing_metadata(self.clock.unix_secs());
        Some((remote.rules.console.clone()?, remote.metadata()?))
    }

    /// Checks an ID token from `issuer`'s token endpoint (OpenID Connect Core 3.1.3.7):
    /// signature by one of the issuer's keys, `iss`, `aud` = the console's client id, `exp`, and
    /// the `nonce` this sign-in sent; then maps its claims by the issuer's rules and checks the
    /// issuer may assert the result. Blocking (it may fetch the keys once, on an unknown `kid`).
    pub fn verify_id_token(&self, issuer: &str, token: &str, nonce: &str) -> Result<Caller, AuthError> {
        let remote = self.remote.iter().find(|r| r.issuer() == issuer).ok_or(AuthError::UntrustedIssuer)?;
        let console = remote.rules.console.as_ref().ok_or(AuthError::UntrustedIssuer)?;
        let header = token
            .split('.')
            .next()
            .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
            .and_then(|h| serde_json::from_slice::<RawHeader>(&h).ok())
            .ok_or(AuthError::Malformed("header is not base64url JSON with an alg"))?;
        let mut result = self.id_token_with_held_keys(remote, console, &header, token);
        if matches!(result, Err(AuthError::UnknownKey | AuthError::KeysUnavailable(_)))
            && remote.fetch_on_demand(self.clock.unix_secs()).is_some()
        {
            result = self.id_token_with_held_keys(remote, console, &header, token);
        }
        let claims = result?;
        if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(AuthError::MalformedClaim("nonce (not this sign-in's)".into()));
        }
        let claims_b64 = token.split('.').nth(1).unwrap_or_default();
        let caller = match &remote.rules.mapping {
            Some(mapping) => mapping.caller(&claims)?,
            None => parse_claims(claims_b64)?.into_caller()?.0,
        };
        if !remote.rules.binding.allows(&caller.org, caller.role, &self.operator_org) {
            return Err(AuthError::NotBound);
        }
        Ok(caller)
    }

    fn id_token_with_held_keys(
        &self,
        remote: &RemoteKeys,
        console: &ConsoleClient,
        header: &RawHeader,
        token: &str,
    ) -> Result<Value, AuthError> {
        let now = self.clock.unix_secs();
        let Some(keys) = remote.keys(now) else {
            return Err(AuthError::KeysUnavailable(remote.unavailable(now).unwrap_or_default()));
        };
        let mut failure = AuthError::UnknownKey;
        for key in keys.iter() {
            let kid_matches = key.kid.is_none() || header.kid.is_none() || key.kid == header.kid;
            if key.alg.as_str_name() != header.alg || !kid_matches {
                continue;
            }
            let checks = validation(remote.issuer(), &console.client_id, key.alg, remote.rules.leeway);
            match jsonwebtoken::decode::<Value>(token, &key.key, &checks) {
                Ok(data) => return Ok(data.claims),
                Err(e) => failure = super::tokens::map_jwt_error(e.kind()),
            }
        }
        Err(failure)
    }
}

/// The `iss` a token claims (unverified: only to choose whose keys to fetch).
fn issuer_of(token: &str) -> Option<String> {
    parse_claims(token.split('.').nth(1)?).ok()?.iss
}

trait AlgName {
    fn as_str_name(&self) -> &'static str;
}

impl AlgName for jsonwebtoken::Algorithm {
    fn as_str_name(&self) -> &'static str {
        match self {
            jsonwebtoken::Algorithm::ES256 => "ES256",
            jsonwebtoken::Algorithm::EdDSA => "EdDSA",
            jsonwebtoken::Algorithm::RS256 => "RS256",
            jsonwebtoken::Algorithm::PS256 => "PS256",
            _ => "",
        }
    }
}
