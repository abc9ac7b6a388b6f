//! Who is calling. Every request names its caller with a bearer JWT; this module decides whether
//! to believe it and turns it into a [`Caller`], which the API layer's request extractor hands to
//! the handlers. Nothing here knows about HTTP.
//!
//! Only asymmetric signatures are accepted (ES256, EdDSA, RS256, PS256; RSA keys of 2048 bits or
//! more): carepath holds public keys only, so a leaked configuration cannot mint tokens, and the
//! classic confusions (`alg: none`, an HMAC "signed" with a public key) are impossible by
//! construction; a key verifies only the algorithm it was loaded for.
//!
//! Several issuers are trusted at once: the built-in `carepath-local` issuer (for a single
//! installation and for tests) and any identity providers listed in the trust file. A token picks
//! its key by algorithm, `kid` and `iss`, and is then checked against that issuer's audience.

mod binding;
mod cache;
mod claims;
mod fetch;
mod issuer;
mod keys;
mod mapping;
pub mod password;
mod providers;
mod remote;
pub mod service_clients;
mod session_cache;
mod sessions;
#[cfg(test)]
mod test_support;
mod tokens;
pub mod totp;
mod trust;
mod trusted;

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::crypto::keyfile::printable;

pub use fetch::post_form;
pub use issuer::{Issue, issue_local_token};
pub use keys::MIN_RSA_BITS;
pub use remote::{MIN_INTERVAL_SECS, ProviderMetadata};
pub use session_cache::{CachedSession, SessionCache};
pub use tokens::Authenticator;
pub use trusted::ConsoleClient;

/// `iss` of the tokens that `carepath token` signs.
pub const LOCAL_ISSUER: &str = "carepath-local";
/// `iss` of the tokens carepath issues itself after checking another proof: the token endpoint's
/// (a service client's signed assertion) and the console's (an OpenID Connect sign-in). Signed
/// by the local key, and trusted whether or not `--local-issuer` is.
pub const ISSUED_ISSUER: &str = "carepath-issued";
/// `aud` that carepath's own tokens carry; external issuers name theirs in the trust file.
pub const LOCAL_AUDIENCE: &str = "carepath";
/// Name of the built-in issuer's private key inside the data directory.
pub const LOCAL_KEY_FILE: &str = "local-issuer.pem";

crate::words::words!(
    /// The caller's profession, as the JWT claim `role` spells it; what each may do is in
    /// docs/roles.md. The set is closed: a token with any other role is refused (401) rather than
    /// silently getting no rights.
    Role,
    own from_str,
    [
        /// Physician.
        Physician = "physician",
        /// Dentist.
        Dentist = "dentist",
        /// Pharmacist.
        Pharmacist = "pharmacist",
        /// Nurse, including visiting nurses.
        Nurse = "nurse",
        /// Physical, occupational or speech therapist.
        Therapist = "therapist",
        /// Care manager (ケアマネジャー), who draws up the care plan.
        CareManager = "care_manager",
        /// Care worker, home helper; reads only.
        CareWorker = "care_worker",
        /// Social worker.
        SocialWorker = "social_worker",
        /// Administrator: keeps the directory, registers patients and care teams, erases; sees no documents.
        Admin = "admin",
        /// Auditor: reads the audit log and marks break-glass accesses reviewed; sees no patient data.
        Auditor = "auditor",
        /// Analyst (the municipality or the council secretariat): reads de-identified reports and
        /// keeps the annual plan; sees no patient data.
        Analyst = "analyst",
    ]
);

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `role` value outside [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role '{}'; the roles are {}", printable(.0), Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "))]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.iter().copied().find(|r| r.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// The authenticated caller, as handlers and the access rule see it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The practitioner (the token's `sub`).
    pub sub: String,
    /// The organisation the practitioner acts for (claim `org`).
    pub org: String,
    /// The profession (claim `role`), which the access rule decides by.
    pub role: Role,
    /// Why the record is opened (header `X-Purpose`, else claim `purpose`); kept for the audit log.
    pub purpose: Option<String>,
}

/// The caller of a console request, from its server-side session: set by the console's guard
/// (which also drops any `Authorization` header), so it exists only on `/console` routes. The
/// API's `Caller` extractor takes it instead of a bearer token there; the API itself stays bearer.
#[derive(Debug, Clone)]
pub struct SessionCaller(pub Caller);

/// Why a token was refused. The message goes back to the client in the 401, so it says which
/// check failed (integrators need that to fix their side) but never echoes the token, and
/// echoes claim values only truncated and stripped of control characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The token exceeds the size limit.
    #[error("token too large")]
    TooLarge,
    /// The token is not a well-formed JWT.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm carepath does not accept.
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// The header has a `crit` parameter, which carepath does not understand.
    #[error("unsupported critical header parameters")]
    CriticalHeader,
    /// No trusted key matches the header's `kid`.
    #[error("unknown signing key")]
    UnknownKey,
    /// A `carepath-local` token this service's local key did not sign: one `carepath token`
    /// minted for another data directory (each has its own key).
    #[error(
        "unknown signing key: this `carepath-local` token was not signed by this service's local key (was it \
         minted for another data directory?); mint one for the data directory this service runs on: \
         `carepath token --data-dir DIR ...` with DIR as given to `carepath serve --data-dir` (default \
         ./carepath-data)"
    )]
    OtherDataDir,
    /// The `iss` claim is not a trusted issuer, or not the issuer of the signing key.
    #[error("untrusted issuer")]
    UntrustedIssuer,
    /// The `aud` claim does not name carepath.
    #[error("wrong audience")]
    WrongAudience,
    /// The `exp` claim is in the past.
    #[error("token expired")]
    Expired,
    /// The `nbf` claim is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// A required claim is absent.
    #[error("missing claim {0}")]
    MissingClaim(&'static str),
    /// A claim has the wrong type or shape.
    #[error("malformed claim {0}")]
    MalformedClaim(String),
    /// The `role` claim names no [`Role`].
    #[error("unknown role '{0}'")]
    UnknownRole(String),
    /// The issuer signed it, but the trust file does not let that issuer assert the token's
    /// organisation or role.
    #[error("the token's issuer may not assert its organisation or role")]
    NotBound,
    /// The issuer's mapping rules find no (or no single) `sub`, `org` or `role` in the token;
    /// the message names the rule.
    #[error("{0}")]
    Unmapped(String),
    /// The issuer's keys are fetched and none is held now (never fetched, or expired after
    /// failed fetches); the message names the failure.
    #[error("{0}")]
    KeysUnavailable(String),
    /// The token was ended before its `exp`: signed out, ended by an admin, or idle too long.
    #[error("the session has ended; sign in again")]
    Revoked,
}

/// Why the authenticator (or a local token) could not be set up; worded for the operator, with
/// the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    /// The local issuer's signing key could not be loaded or created.
    #[error("local issuer key {path}: {problem}")]
    LocalKey {
        /// The key file's path.
        path: String,
        /// What went wrong.
        problem: String,
    },
    /// The trust file (issuers and their public keys) could not be read.
    #[error("trust file {path}: {problem}")]
    TrustFile {
        /// The trust file's path.
        path: String,
        /// What went wrong.
        problem: String,
    },
    /// A local token could not be signed.
    #[error("cannot issue a token: {0}")]
    Issue(String),
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn role_names_match_serde_and_parse_back() {
        for &role in Role::ALL {
            assert_eq!(serde_json::to_value(role).unwrap(), json!(role.as_str()));
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(serde_json::from_value::<Role>(json!(role.as_str())).unwrap(), role);
        }
        let unknown = "wizard".parse::<Role>().unwrap_err().to_string();
        assert!(unknown.starts_with("unknown role 'wizard'; the roles are physician, dentist,"), "{unknown}");
        assert!("Physician".parse::<Role>().is_err());
    }
}
