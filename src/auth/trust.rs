//! Which keys may sign tokens: the trust file. Each entry names an issuer, the audience its
//! tokens carry, where its keys are (a PEM file, a JWKS file, a `jwks_uri`, or OpenID Connect
//! discovery), what it may assert (`organizations`, `roles`), how its claims map to carepath's
//! (`claims`), and, optionally, the console's sign-in through it (`console`). Every problem is
//! an error at start, naming the entry, never a skipped entry. Trust files written before the
//! fetched keys and the mapping rules stay valid: the new members are all optional.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::AuthSetupError;
use super::binding::Binding;
use super::keys::{keys_from_jwks, public_keys_from_pem};
use super::mapping::{ClaimRules, Mapping};
use super::remote::{RemoteKeys, Source};
pub(super) use super::trusted::{ConsoleClient, IssuerRules, TrustedKey};
use crate::crypto::keyfile::printable;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustFile {
    issuers: Vec<TrustEntry>,
}

/// One trusted issuer. Unknown fields are errors: a misspelt `audience` must not pass unnoticed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustEntry {
    issuer: String,
    audience: String,
    #[serde(default)]
    public_key_pem_file: Option<PathBuf>,
    #[serde(default)]
    jwks_file: Option<PathBuf>,
    /// Keys fetched over HTTP(S) and kept as `Cache-Control` says.
    #[serde(default)]
    jwks_uri: Option<String>,
    /// `true`: the issuer's `/.well-known/openid-configuration` names the `jwks_uri` (and the
    /// console's endpoints).
    #[serde(default)]
    discovery: bool,
    #[serde(default)]
    kid: Option<String>,
    /// Organisation ids (exact, `prefix*` or `*`) this issuer may assert; required.
    #[serde(default)]
    organizations: Option<Vec<String>>,
    /// Roles this issuer may assert; required.
    #[serde(default)]
    roles: Option<Vec<String>>,
    /// Where `sub`, `org` and `role` are in this issuer's tokens.
    #[serde(default)]
    claims: Option<ClaimRules>,
    /// The console's sign-in through this provider (needs `discovery`).
    #[serde(default)]
    console: Option<ConsoleClient>,
}

/// What a trust file yields: keys read from files now, and issuers whose keys are fetched.
#[derive(Default)]
pub(super) struct Trusted {
    pub(super) keys: Vec<TrustedKey>,
    pub(super) remote: Vec<RemoteKeys>,
}

pub(super) fn load_trust_file(path: &Path, leeway: u64) -> Result<Trusted, AuthSetupError> {
    let problem = |problem: String| AuthSetupError::TrustFile { path: path.display().to_string(), problem };
    let bytes = std::fs::read(path).map_err(|e| problem(format!("cannot read: {e}")))?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let file: TrustFile = serde_path_to_error::deserialize(&mut de).map_err(|e| problem(format!("invalid: {e}")))?;
    if file.issuers.is_empty() {
        return Err(problem("lists no issuers".into()));
    }
    let base = path.parent().unwrap_or(Path::new(""));
    let mut trusted = Trusted::default();
    for (i, entry) in file.issuers.into_iter().enumerate() {
        let name = printable(&entry.issuer);
        load_entry(entry, base, leeway, &mut trusted).map_err(|p| problem(format!("issuers[{i}] ({name}): {p}")))?;
    }
    Ok(trusted)
}

fn load_entry(entry: TrustEntry, base: &Path, leeway: u64, trusted: &mut Trusted) -> Result<(), String> {
    if entry.issuer.trim().is_empty() {
        return Err("issuer is empty".into());
    }
    if entry.audience.trim().is_empty() {
        return Err("audience is empty".into());
    }
    let binding = Arc::new(Binding::from_entry(entry.organizations.clone(), entry.roles.clone())?);
    let mapping = match entry.claims {
        Some(rules) => Some(Arc::new(Mapping::from_rules(&entry.issuer, rules)?)),
        None => None,
    };
    let console = match entry.console {
        Some(_) if !entry.discovery => {
            return Err("console needs \"discovery\": true (the sign-in uses the provider's endpoints)".into());
        }
        Some(mut console) => {
            if console.client_id.trim().is_empty() || !console.redirect_uri.starts_with("http") {
                return Err("console needs a client_id and an http(s) redirect_uri".into());
            }
            if let Some(file) = &console.client_secret_file {
                let file = base.join(file);
                let secret = std::fs::read_to_string(&file)
                    .map_err(|e| format!("cannot read console client secret file {}: {e}", file.display()))?;
                console.client_secret = Some(secret.trim().to_owned());
            }
            Some(console)
        }
        None => None,
    };
    let rules = Arc::new(IssuerRules {
        issuer: entry.issuer.clone(),
        audience: entry.audience.clone(),
        leeway,
        binding,
        mapping,
        console,
    });
    let sources = usize::from(entry.public_key_pem_file.is_some())
        + usize::from(entry.jwks_file.is_some())
        + usize::from(entry.jwks_uri.is_some())
        + usize::from(entry.discovery);
    if sources > 1 {
        return Err("give one of public_key_pem_file, jwks_file, jwks_uri or discovery, not both".into());
    }
    if entry.kid.is_some() && entry.public_key_pem_file.is_none() {
        return Err("kid goes with public_key_pem_file; a JWKS names its own kids".into());
    }
    if let Some(pem_file) = entry.public_key_pem_file {
        let file = base.join(pem_file);
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read public key file {}: {e}", file.display()))?;
        let found = public_keys_from_pem(&text).map_err(|e| format!("public key file {}: {e}", file.display()))?;
        for (alg, key) in found {
            trusted.keys.push(TrustedKey::from_rules(&rules, entry.kid.clone(), alg, key));
        }
    } else if let Some(jwks_file) = entry.jwks_file {
        let file = base.join(jwks_file);
        let bytes = std::fs::read(&file).map_err(|e| format!("cannot read JWKS file {}: {e}", file.display()))?;
        let found = keys_from_jwks(&bytes).map_err(|e| format!("JWKS file {}: {e}", file.display()))?;
        for (kid, alg, key) in found {
            trusted.keys.push(TrustedKey::from_rules(&rules, kid, alg, key));
        }
    } else if let Some(uri) = entry.jwks_uri {
        if !uri.starts_with("https://") && !uri.starts_with("http://") {
            return Err("jwks_uri must be an http(s) URL".into());
        }
        trusted.remote.push(RemoteKeys::new(rules, Source::Jwks(uri)));
    } else if entry.discovery {
        let url = format!("{}/.well-known/openid-configuration", entry.issuer.trim_end_matches('/'));
        if !url.starts_with("https://") && !url.starts_with("http://") {
            return Err("discovery needs an issuer that is an http(s) URL".into());
        }
        trusted.remote.push(RemoteKeys::new(rules, Source::Discovery(url)));
    } else {
        return Err("needs public_key_pem_file, jwks_file, jwks_uri or discovery".into());
    }
    Ok(())
}

#[cfg(test)]
#[path = "trust_tests.rs"]
mod tests;
