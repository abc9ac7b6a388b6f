//! The built-in token issuer, `carepath-local`: its Ed25519 key in the data directory, and
//! [`issue_local_token`], with which `carepath token` and the tests sign tokens.

use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::Serialize;

use super::binding::Binding;
use super::trusted::TrustedKey;
use super::{
    AuthSetupError, Authenticator, Caller, ISSUED_ISSUER, LOCAL_AUDIENCE, LOCAL_ISSUER, LOCAL_KEY_FILE, Role, now_secs,
};
use crate::crypto::keyfile::KeyFile;

/// The local issuer's key, made on first use; errors name its file.
pub(super) fn local_key(data_dir: &Path) -> Result<KeyFile, AuthSetupError> {
    KeyFile::open(data_dir, LOCAL_KEY_FILE, "local token issuer key").map_err(|problem| AuthSetupError::LocalKey {
        path: data_dir.join(LOCAL_KEY_FILE).display().to_string(),
        problem,
    })
}

/// The local key if it exists (never made here); an unreadable one is an error naming its file.
pub(super) fn existing_key(data_dir: &Path) -> Result<Option<KeyFile>, AuthSetupError> {
    if !data_dir.is_dir() {
        return Ok(None);
    }
    KeyFile::open_existing(data_dir, LOCAL_KEY_FILE).map_err(|problem| AuthSetupError::LocalKey {
        path: data_dir.join(LOCAL_KEY_FILE).display().to_string(),
        problem,
    })
}

/// The local issuer's key as `carepath serve` made it; never creates one, since tokens signed by
/// a key the server does not know only ever get 401. Errors name the path and the way out.
fn existing_local_key(data_dir: &Path) -> Result<KeyFile, AuthSetupError> {
    let path = data_dir.join(LOCAL_KEY_FILE).display().to_string();
    let missing = |what: String| AuthSetupError::LocalKey {
        path: path.clone(),
        problem: format!(
            "{what}; start `carepath serve` first (it creates the key), or pass --data-dir (or set \
             CAREPATH_DATA_DIR) to the data directory of the server the token is for"
        ),
    };
    if !data_dir.is_dir() {
        return Err(missing(format!("there is no data directory {}", data_dir.display())));
    }
    match KeyFile::open_existing(data_dir, LOCAL_KEY_FILE) {
        Ok(Some(key)) => Ok(key),
        Ok(None) => Err(missing("no such file".into())),
        Err(problem) => Err(AuthSetupError::LocalKey { path, problem }),
    }
}

/// Signs a token as the built-in issuer (for `carepath token` and tests) with the key that
/// `carepath serve` made in this data directory; never creates a key.
pub fn issue_local_token(
    data_dir: &Path,
    sub: &str,
    role: Role,
    org: &str,
    ttl_secs: u64,
) -> Result<String, AuthSetupError> {
    if sub.trim().is_empty() {
        return Err(AuthSetupError::Issue("sub must not be empty".into()));
    }
    if org.trim().is_empty() {
        return Err(AuthSetupError::Issue("org must not be empty".into()));
    }
    let key = existing_local_key(data_dir)?;
    let now = now_secs();
    let claims = LocalClaims {
        iss: LOCAL_ISSUER,
        aud: LOCAL_AUDIENCE,
        iat: now,
        nbf: now,
        exp: now.saturating_add(ttl_secs),
        sub,
        org,
        role,
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(&key.pkcs8))
        .map_err(|e| AuthSetupError::Issue(format!("signing failed: {e}")))
}

/// The verifier of `carepath-issued` tokens: the local key, trusted for that issuer alone, for
/// whatever the issuing code checked (a registered client, a mapped sign-in).
pub(super) fn issued_key(local: &KeyFile, leeway: u64) -> TrustedKey {
    TrustedKey::new(
        ISSUED_ISSUER,
        LOCAL_AUDIENCE,
        Some(local.kid.clone()),
        Algorithm::EdDSA,
        DecodingKey::from_ed_der(&local.public),
        leeway,
        std::sync::Arc::new(Binding::any()),
    )
}

/// What a `carepath-issued` token says beyond the caller: its lifetime, and the scopes granted
/// (a service client's).
pub struct Issue<'a> {
    /// Who the token names.
    pub caller: &'a Caller,
    /// Seconds until its `exp`.
    pub ttl_secs: u64,
    /// The `scope` claim (space-separated), if any.
    pub scope: Option<&'a str>,
}

impl Authenticator {
    /// Signs a `carepath-issued` token for a caller some other proof established (a service
    /// client's assertion, an OpenID Connect sign-in) with the local key, making the key on first
    /// use; from then on this authenticator trusts it for that issuer.
    pub fn issue(&self, issue: &Issue<'_>) -> Result<String, AuthSetupError> {
        let key = local_key(&self.data_dir)?;
        {
            let mut slot = self.issued.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            if slot.is_none() {
                *slot = Some(std::sync::Arc::new(issued_key(&key, self.leeway)));
            }
        }
        let now = self.clock.unix_secs();
        let claims = IssuedClaims {
            iss: ISSUED_ISSUER,
            aud: LOCAL_AUDIENCE,
            iat: now,
            nbf: now,
            exp: now.saturating_add(issue.ttl_secs),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            sub: &issue.caller.sub,
            org: &issue.caller.org,
            role: issue.caller.role,
            scope: issue.scope,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(&key.pkcs8))
            .map_err(|e| AuthSetupError::Issue(format!("signing failed: {e}")))
    }
}

#[derive(Serialize)]
struct IssuedClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    jti: String,
    sub: &'a str,
    org: &'a str,
    role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

#[derive(Serialize)]
struct LocalClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    sub: &'a str,
    org: &'a str,
    role: Role,
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::Value;

    use super::*;
    use crate::auth::test_support::Fixture;
    use crate::auth::{AuthError, Authenticator};
    use crate::config::Settings;

    #[test]
    fn the_local_key_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested").join("data");
        let settings = Settings::for_data_dir(&data);
        let first = Authenticator::load(&settings, crate::clock::Clock::system()).unwrap();
        let key_file = data.join(LOCAL_KEY_FILE);
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
        let pem = std::fs::read_to_string(&key_file).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(&data).unwrap().count(), 1);

        let token = issue_local_token(&data, "u", Role::Auditor, "o", 60).unwrap();
        let second = Authenticator::load(&settings, crate::clock::Clock::system()).unwrap();
        assert_eq!(std::fs::read_to_string(&key_file).unwrap(), pem, "key was replaced");
        assert_eq!(first.verify(&token).unwrap().role, Role::Auditor);
        assert_eq!(second.verify(&token).unwrap().role, Role::Auditor);

        let header = jsonwebtoken::decode_header(&token).unwrap();
        let key = local_key(&data).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
        assert_eq!(key.kid.len(), 16);
    }

    #[test]
    fn issued_tokens_carry_the_contract_claims() {
        let dir = tempfile::tempdir().unwrap();
        local_key(dir.path()).unwrap();
        let token = issue_local_token(dir.path(), "cm-1", Role::CareManager, "kyotaku-1", 300).unwrap();
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert_eq!(claims["iss"], LOCAL_ISSUER);
        assert_eq!(claims["aud"], LOCAL_AUDIENCE);
        assert_eq!(claims["role"], "care_manager");
        assert_eq!(claims["org"], "kyotaku-1");
        assert_eq!(claims["sub"], "cm-1");
        let (iat, nbf, exp) =
            (claims["iat"].as_u64().unwrap(), claims["nbf"].as_u64().unwrap(), claims["exp"].as_u64().unwrap());
        assert_eq!(iat, nbf);
        assert_eq!(exp, iat + 300);
        assert!(issue_local_token(dir.path(), "", Role::Admin, "o", 60).is_err());
        assert!(issue_local_token(dir.path(), "s", Role::Admin, " ", 60).is_err());
    }

    #[test]
    fn a_readable_local_key_is_refused() {
        let f = Fixture::local();
        let key_file = f.data_dir().join(LOCAL_KEY_FILE);
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = Authenticator::load(&Settings::for_data_dir(f.data_dir()), crate::clock::Clock::system())
            .unwrap_err()
            .to_string();
        assert!(error.contains("chmod 600") && error.contains(LOCAL_KEY_FILE), "{error}");
    }

    #[test]
    fn a_damaged_local_key_is_refused() {
        let f = Fixture::local();
        let key_file = f.data_dir().join(LOCAL_KEY_FILE);
        std::fs::write(&key_file, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").unwrap();
        let error = Authenticator::load(&Settings::for_data_dir(f.data_dir()), crate::clock::Clock::system())
            .unwrap_err()
            .to_string();
        assert!(error.contains("not an Ed25519 PKCS#8 private key"), "{error}");
    }

    #[test]
    fn without_the_local_issuer_no_key_file_is_made() {
        let f = Fixture::with(|s| s.local_issuer = false);
        assert!(!f.data_dir().join(LOCAL_KEY_FILE).exists());
        local_key(&f.data_dir()).unwrap();
        let token = issue_local_token(&f.data_dir(), "u", Role::Admin, "o", 60).unwrap();
        assert_eq!(f.reject(&token), AuthError::UnknownKey);
    }
}
