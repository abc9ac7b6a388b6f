//! A trusted key and what its issuer's tokens must pass: the form every source of keys (the
//! local key, a trust file's PEM or JWKS, a fetched JWKS) is brought to before verification.

use std::path::PathBuf;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::binding::Binding;
use super::mapping::Mapping;

/// What every key of one trust-file entry shares: issuer, audience, what it may assert, how its
/// claims map, and the console client registered with it.
#[derive(Debug)]
pub(super) struct IssuerRules {
    pub(super) issuer: String,
    pub(super) audience: String,
    pub(super) leeway: u64,
    pub(super) binding: Arc<Binding>,
    /// `None`: the claims are carepath's own (`sub`, `org`, `role`).
    pub(super) mapping: Option<Arc<Mapping>>,
    pub(super) console: Option<ConsoleClient>,
}

/// The console's client at this provider (authorization code flow with PKCE).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleClient {
    /// The client id carepath's console is registered under; ID tokens carry it as `aud`.
    pub client_id: String,
    /// A file holding the client secret (sent as `client_secret_post`); without it the client is
    /// public and PKCE alone protects the code.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// Where the provider sends the browser back: `<public origin>/console/oidc/callback`.
    pub redirect_uri: String,
    /// Scopes asked for (default `openid`).
    #[serde(default)]
    pub scope: Option<String>,
    /// The button's label on the sign-in page (default: the issuer).
    #[serde(default)]
    pub label: Option<String>,
    /// The secret read from `client_secret_file`.
    #[serde(skip)]
    pub client_secret: Option<String>,
}

/// One public key that may sign tokens, with the checks its issuer's tokens must pass. The
/// `Validation` is built once here so that verification allocates nothing for it.
pub(super) struct TrustedKey {
    pub(super) issuer: String,
    /// `None` when the key came without one: it then serves any `kid` (the signature decides).
    pub(super) kid: Option<String>,
    pub(super) alg: Algorithm,
    pub(super) key: DecodingKey,
    pub(super) validation: Validation,
    /// The organisations and roles this issuer may assert.
    pub(super) binding: Arc<Binding>,
    pub(super) mapping: Option<Arc<Mapping>>,
}

impl TrustedKey {
    pub(super) fn new(
        issuer: &str,
        audience: &str,
        kid: Option<String>,
        alg: Algorithm,
        key: DecodingKey,
        leeway: u64,
        binding: Arc<Binding>,
    ) -> Self {
        Self {
            issuer: issuer.to_owned(),
            kid,
            alg,
            key,
            validation: validation(issuer, audience, alg, leeway),
            binding,
            mapping: None,
        }
    }

    pub(super) fn from_rules(rules: &IssuerRules, kid: Option<String>, alg: Algorithm, key: DecodingKey) -> Self {
        let mut trusted = Self::new(&rules.issuer, &rules.audience, kid, alg, key, rules.leeway, rules.binding.clone());
        if rules.mapping.is_some() {
            // The mapping finds the subject (Entra ID: `oid`) and names it if missing.
            trusted.validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        }
        trusted.mapping = rules.mapping.clone();
        trusted
    }
}

/// The registered-claim checks of one issuer, audience and algorithm.
pub(super) fn validation(issuer: &str, audience: &str, alg: Algorithm, leeway: u64) -> Validation {
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    // `iss` and `aud` are only compared when present: requiring them is what stops a token
    // without `aud` (minted for another service by the same IdP) from being accepted here.
    validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.leeway = leeway;
    validation
}
