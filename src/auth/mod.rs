//! Who is calling. Every request names its caller with a bearer JWT; this module decides whether
//! to believe it and turns it into a [`Caller`] for the handlers.
//!
//! Only asymmetric signatures are accepted (ES256, EdDSA): carepath holds public keys only, so a
//! leaked configuration cannot mint tokens, and the classic confusions (`alg: none`, an HMAC
//! "signed" with a public key, RSA padding oracles) are impossible by construction.
//!
//! Several issuers are trusted at once: the built-in `carepath-local` issuer (for a single
//! installation and for tests) and any identity providers listed in the trust file. A token picks
//! its key by algorithm, `kid` and `iss`, and is then checked against that issuer's audience.

use std::collections::HashMap;
use std::fmt;
use std::io::{ErrorKind as IoErrorKind, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::error::ApiError;
use crate::state::AppState;

/// `iss` of the tokens that `carepath token` signs.
pub const LOCAL_ISSUER: &str = "carepath-local";
/// `aud` that carepath's own tokens carry; external issuers name theirs in the trust file.
pub const LOCAL_AUDIENCE: &str = "carepath";
/// Name of the built-in issuer's private key inside the data directory.
pub const LOCAL_KEY_FILE: &str = "local-issuer.pem";

/// Far above any real JWT; keeps hashing and parsing of junk bounded.
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Bounds the memory of the verified-token cache (a few MB at most).
const CACHE_CAPACITY: usize = 10_000;
/// Bounds `X-Purpose`, which ends up in the audit log.
const MAX_PURPOSE_LEN: usize = 256;

/// DER prefix of a SubjectPublicKeyInfo for an EC P-256 key, up to the 65-byte point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// DER prefix of a SubjectPublicKeyInfo for an Ed25519 key, up to the 32-byte key.
const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
/// OID bytes that identify keys we refuse, so the operator hears why.
const RSA_OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC_PUBLIC_KEY_OID: [u8; 7] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// The professions of DESIGN.md, as the JWT claim `role` spells them. Authorisation
/// (`crate::access`) is written against this closed set, so an unknown role is refused at the
/// door rather than silently getting no rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Physician,
    Dentist,
    Pharmacist,
    Nurse,
    Therapist,
    CareManager,
    CareWorker,
    SocialWorker,
    Admin,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Physician,
        Role::Dentist,
        Role::Pharmacist,
        Role::Nurse,
        Role::Therapist,
        Role::CareManager,
        Role::CareWorker,
        Role::SocialWorker,
        Role::Admin,
        Role::Auditor,
    ];

    /// The claim value; identical to the serde name (a test keeps them equal).
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Physician => "physician",
            Role::Dentist => "dentist",
            Role::Pharmacist => "pharmacist",
            Role::Nurse => "nurse",
            Role::Therapist => "therapist",
            Role::CareManager => "care_manager",
            Role::CareWorker => "care_worker",
            Role::SocialWorker => "social_worker",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `role` value outside [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role '{}'", printable(.0))]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// The authenticated caller, as handlers and the access rule see it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The practitioner (the token's `sub`).
    pub sub: String,
    /// The organisation the practitioner acts for (claim `org`).
    pub org: String,
    pub role: Role,
    /// Why the record is opened (header `X-Purpose`, else claim `purpose`); kept for the audit log.
    pub purpose: Option<String>,
}

/// Why a token was refused. The message goes back to the client in the 401, so it says which
/// check failed (integrators need that to fix their side) but never echoes the token, and
/// echoes claim values only truncated and stripped of control characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("token too large")]
    TooLarge,
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("unsupported critical header parameters")]
    CriticalHeader,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("untrusted issuer")]
    UntrustedIssuer,
    #[error("wrong audience")]
    WrongAudience,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("missing claim {0}")]
    MissingClaim(&'static str),
    #[error("malformed claim {0}")]
    MalformedClaim(String),
    #[error("unknown role '{0}'")]
    UnknownRole(String),
}

/// Why the authenticator (or a local token) could not be set up; worded for the operator, with
/// the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error("local issuer key {path}: {problem}")]
    LocalKey { path: String, problem: String },
    #[error("trust file {path}: {problem}")]
    TrustFile { path: String, problem: String },
    #[error("cannot issue a token: {0}")]
    Issue(String),
}

/// One public key that may sign tokens, with the checks its issuer's tokens must pass. The
/// `Validation` is built once here so that verification allocates nothing for it.
struct TrustedKey {
    issuer: String,
    /// `None` when the operator configured the key without one: it then serves any `kid`
    /// (the signature still decides).
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
    validation: Validation,
}

impl TrustedKey {
    fn new(issuer: &str, audience: &str, kid: Option<String>, alg: Algorithm, key: DecodingKey, leeway: u64) -> Self {
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
        Self { issuer: issuer.to_owned(), kid, alg, key, validation }
    }
}

/// A verified token remembered until its `exp`.
struct Cached {
    caller: Caller,
    exp: u64,
}

/// Verifies bearer tokens against the trusted issuers. Built once at start (keys are read from
/// disk only then) and shared by all workers.
pub struct Authenticator {
    keys: Vec<TrustedKey>,
    /// Signature checks cost tens of microseconds and clients resend the same token for its whole
    /// lifetime, so verified tokens are remembered by the SHA-256 of the token text.
    cache: RwLock<HashMap<[u8; 32], Cached>>,
    /// Full (uncached) verifications attempted: shows in tests that the cache is used.
    verifications: AtomicU64,
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
    pub fn load(settings: &Settings) -> Result<Self, AuthSetupError> {
        let leeway = settings.jwt_leeway_secs;
        let mut keys = Vec::new();
        if settings.local_issuer {
            let local = KeyFile::load_or_create(&settings.data_dir)?;
            keys.push(TrustedKey::new(
                LOCAL_ISSUER,
                LOCAL_AUDIENCE,
                Some(local.kid),
                Algorithm::EdDSA,
                DecodingKey::from_ed_der(&local.public),
                leeway,
            ));
        }
        if let Some(path) = &settings.trust_file {
            keys.extend(load_trust_file(path, leeway)?);
        }
        if keys.is_empty() {
            tracing::warn!("no token issuer is trusted: every authenticated request will get 401");
        }
        Ok(Self { keys, cache: RwLock::new(HashMap::new()), verifications: AtomicU64::new(0) })
    }

    /// Checks a bearer token and returns its caller. Synchronous on purpose: it is pure CPU work
    /// (a hash lookup when cached, one signature check otherwise), cheaper than a thread hop.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TooLarge);
        }
        let digest = token_digest(token);
        let now = now_secs();
        if let Some(caller) = self.cached(&digest, now) {
            return Ok(caller);
        }
        let (caller, exp) = self.verify_uncached(token)?;
        self.remember(digest, &caller, exp, now);
        Ok(caller)
    }

    /// Number of tokens currently remembered (for metrics and tests).
    pub fn cache_len(&self) -> usize {
        self.cache.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    fn cached(&self, digest: &[u8; 32], now: u64) -> Option<Caller> {
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        // No leeway here: leeway forgives clock skew between machines, and a cache entry was
        // checked on this machine's clock.
        cache.get(digest).filter(|c| c.exp > now).map(|c| c.caller.clone())
    }

    fn remember(&self, digest: [u8; 32], caller: &Caller, exp: u64, now: u64) {
        if exp <= now {
            return;
        }
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, c| c.exp > now);
            if cache.len() >= CACHE_CAPACITY {
                // Many live tokens at once: dropping them all only costs one re-verification each.
                cache.clear();
            }
        }
        cache.insert(digest, Cached { caller: caller.clone(), exp });
    }

    /// The full check; returns the caller and the token's `exp`.
    fn verify_uncached(&self, token: &str) -> Result<(Caller, u64), AuthError> {
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
                Ok(_) => return claims.into_caller(),
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
        Err(match failure {
            Some(error) => error,
            None if signer_known => AuthError::UntrustedIssuer,
            None => AuthError::UnknownKey,
        })
    }
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

/// The header fields selection needs; the JWT library parses the full header again.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

/// The claims carepath uses. `exp` and `nbf` are checked by the JWT library; `exp` is also
/// read here to bound the cache entry. Numbers may be fractional (RFC 7519 NumericDate).
#[derive(Deserialize)]
struct RawClaims {
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    purpose: Option<String>,
    #[serde(default)]
    exp: Option<f64>,
}

impl RawClaims {
    fn into_caller(self) -> Result<(Caller, u64), AuthError> {
        let non_empty = |value: Option<String>, name: &'static str| {
            value.filter(|v| !v.trim().is_empty()).ok_or(AuthError::MissingClaim(name))
        };
        let sub = non_empty(self.sub, "sub")?;
        let org = non_empty(self.org, "org")?;
        let role = non_empty(self.role, "role")?;
        let role = role.parse::<Role>().map_err(|e| AuthError::UnknownRole(printable(&e.0)))?;
        let exp = self.exp.ok_or(AuthError::MissingClaim("exp"))?;
        // Float-to-int casts saturate (and NaN gives 0), so a hostile value cannot wrap.
        let exp = exp as u64;
        let purpose = self.purpose.filter(|p| !p.trim().is_empty());
        Ok((Caller { sub, org, role, purpose }, exp))
    }
}

fn parse_claims(claims_b64: &str) -> Result<RawClaims, AuthError> {
    let bytes = URL_SAFE_NO_PAD.decode(claims_b64).map_err(|_| AuthError::Malformed("claims are not base64url"))?;
    if !is_json_object(&bytes) {
        return Err(AuthError::Malformed("claims are not a JSON object"));
    }
    match serde_json::from_slice(&bytes) {
        Ok(claims) => Ok(claims),
        // Parse again, slowly, only to say which claim is wrong.
        Err(_) => {
            let mut de = serde_json::Deserializer::from_slice(&bytes);
            match serde_path_to_error::deserialize::<_, RawClaims>(&mut de) {
                Err(e) if e.path().to_string() != "." => {
                    Err(AuthError::MalformedClaim(printable(&e.path().to_string())))
                }
                _ => Err(AuthError::Malformed("claims are not a JSON object")),
            }
        }
    }
}

/// Serde would also fill a struct from a JSON array, by position; a JWT part is an object.
fn is_json_object(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().first() == Some(&b'{')
}

/// Untrusted text made safe to quote in a message: short, one line, no control characters.
fn printable(s: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = s.chars().take(MAX).map(|c| if c.is_control() { '?' } else { c }).collect();
    if s.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

fn token_digest(token: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// The local issuer

/// An Ed25519 key pair kept as a PEM file (0600) in the data directory, made on first use: the
/// built-in token issuer's key, and the audit checkpoint signer's.
pub(crate) struct KeyFile {
    pub(crate) pkcs8: Vec<u8>,
    pub(crate) public: Vec<u8>,
    pub(crate) kid: String,
}

impl KeyFile {
    /// The local issuer's key.
    fn load_or_create(data_dir: &Path) -> Result<Self, AuthSetupError> {
        Self::open(data_dir, LOCAL_KEY_FILE, "local token issuer key").map_err(|problem| AuthSetupError::LocalKey {
            path: data_dir.join(LOCAL_KEY_FILE).display().to_string(),
            problem,
        })
    }

    /// Reads `data_dir/file_name`, creating it on first use. Creation goes through a private
    /// temporary file and a hard link, so a concurrent start (or `carepath token` run) sees
    /// either no key or a complete one, never half a file, and two creators cannot overwrite
    /// each other. Errors say what went wrong, not where (the caller knows the path).
    pub(crate) fn open(data_dir: &Path, file_name: &str, what: &str) -> Result<Self, String> {
        let path = data_dir.join(file_name);
        match std::fs::read_to_string(&path) {
            Ok(text) => return Self::from_file(&path, &text),
            Err(e) if e.kind() == IoErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read: {e}")),
        }
        create_private_dir(data_dir).map_err(|e| format!("cannot create the data directory: {e}"))?;
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| "cannot generate a key".to_owned())?;
        let pem = pem_encode("PRIVATE KEY", pkcs8.as_ref());
        let mut suffix = [0u8; 8];
        rng.fill(&mut suffix).map_err(|_| "no randomness for a temporary name".to_owned())?;
        let tmp = data_dir.join(format!(".{file_name}.{}.tmp", hex(&suffix)));
        write_private_file(&tmp, pem.as_bytes()).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _removed = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                // Make the new name durable before anything is signed with the key.
                if let Ok(dir) = std::fs::File::open(data_dir) {
                    let _synced = dir.sync_all();
                }
                tracing::info!(path = %path.display(), "created the {what}");
                Self::from_pkcs8(pkcs8.as_ref())
            }
            // Someone else created it meanwhile: theirs wins.
            Err(e) if e.kind() == IoErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read: {e}"))?;
                Self::from_file(&path, &text)
            }
            Err(e) => Err(format!("cannot create: {e}")),
        }
    }

    fn from_file(path: &Path, text: &str) -> Result<Self, String> {
        use std::os::unix::fs::PermissionsExt;
        // Anyone who can read this file can sign tokens for any role: refuse, like ssh does.
        let mode = std::fs::metadata(path).map_err(|e| format!("cannot stat: {e}"))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(format!("is readable by others (mode {:o}); run chmod 600 on it", mode & 0o777));
        }
        let der = pem_decode(text, "PRIVATE KEY")?;
        Self::from_pkcs8(&der)
    }

    fn from_pkcs8(der: &[u8]) -> Result<Self, String> {
        // "maybe unchecked" also accepts PKCS#8 v1 files (openssl genpkey), which lack the
        // public key; ring derives it.
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| format!("not an Ed25519 PKCS#8 private key ({e})"))?;
        let public = pair.public_key().as_ref().to_vec();
        let kid = key_id(&public);
        Ok(Self { pkcs8: der.to_vec(), public, kid })
    }
}

/// Derived, not stored: the same key always has the same `kid`, so issuing and verifying agree
/// without sharing anything but the key file.
fn key_id(public: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, public);
    hex(&digest.as_ref()[..8])
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

fn write_private_file(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(content)?;
    file.sync_all()
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// The DER inside the first `label` block of a PEM text.
fn pem_decode(text: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let Some(start) = text.find(&begin) else {
        let found = text.lines().find(|l| l.starts_with("-----BEGIN ")).map(str::trim);
        return Err(match found {
            Some(other) => format!("expected a {begin} block, found {}", printable(other)),
            None => format!("not PEM (no {begin} line)"),
        });
    };
    let rest = &text[start + begin.len()..];
    let stop = rest.find(&end).ok_or_else(|| format!("no {end} line"))?;
    let body: String = rest[..stop].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(body).map_err(|e| format!("bad base64 in the PEM block: {e}"))
}

/// Signs a token as the built-in issuer (for `carepath token` and tests), creating the key if
/// this data directory has none yet.
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
    let key = KeyFile::load_or_create(data_dir)?;
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

// ---------------------------------------------------------------------------------------------
// The trust file

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
    #[serde(default)]
    kid: Option<String>,
}

fn load_trust_file(path: &Path, leeway: u64) -> Result<Vec<TrustedKey>, AuthSetupError> {
    let problem = |problem: String| AuthSetupError::TrustFile { path: path.display().to_string(), problem };
    let bytes = std::fs::read(path).map_err(|e| problem(format!("cannot read: {e}")))?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let file: TrustFile = serde_path_to_error::deserialize(&mut de).map_err(|e| problem(format!("invalid: {e}")))?;
    if file.issuers.is_empty() {
        return Err(problem("lists no issuers".into()));
    }
    let base = path.parent().unwrap_or(Path::new(""));
    let mut keys = Vec::new();
    for (i, entry) in file.issuers.into_iter().enumerate() {
        let at = |p: String| problem(format!("issuers[{i}]: {p}"));
        if entry.issuer.trim().is_empty() {
            return Err(at("issuer is empty".into()));
        }
        if entry.audience.trim().is_empty() {
            return Err(at("audience is empty".into()));
        }
        match (entry.public_key_pem_file, entry.jwks_file) {
            (Some(pem_file), None) => {
                let file = base.join(pem_file);
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| at(format!("cannot read public key file {}: {e}", file.display())))?;
                let (alg, key) =
                    public_key_from_pem(&text).map_err(|e| at(format!("public key file {}: {e}", file.display())))?;
                keys.push(TrustedKey::new(&entry.issuer, &entry.audience, entry.kid, alg, key, leeway));
            }
            (None, Some(jwks_file)) => {
                if entry.kid.is_some() {
                    return Err(at("kid goes with public_key_pem_file; a JWKS names its own kids".into()));
                }
                let file = base.join(jwks_file);
                let bytes =
                    std::fs::read(&file).map_err(|e| at(format!("cannot read JWKS file {}: {e}", file.display())))?;
                let found = keys_from_jwks(&bytes).map_err(|e| at(format!("JWKS file {}: {e}", file.display())))?;
                for (kid, alg, key) in found {
                    keys.push(TrustedKey::new(&entry.issuer, &entry.audience, kid, alg, key, leeway));
                }
            }
            (Some(_), Some(_)) => return Err(at("give public_key_pem_file or jwks_file, not both".into())),
            (None, None) => return Err(at("needs public_key_pem_file or jwks_file".into())),
        }
    }
    Ok(keys)
}

/// An EC P-256 or Ed25519 SubjectPublicKeyInfo. Matched byte for byte against the only DER
/// encodings those keys have, which also rules out other curves hiding behind the EC OID.
fn public_key_from_pem(text: &str) -> Result<(Algorithm, DecodingKey), String> {
    if text.contains("-----BEGIN CERTIFICATE-----") {
        return Err("holds a certificate; extract the public key (openssl x509 -pubkey -noout)".into());
    }
    let der = pem_decode(text, "PUBLIC KEY")?;
    let (alg, key) = if der.len() == P256_SPKI_PREFIX.len() + 65 && der.starts_with(&P256_SPKI_PREFIX) {
        (Algorithm::ES256, DecodingKey::from_ec_der(&der[P256_SPKI_PREFIX.len()..]))
    } else if der.len() == ED25519_SPKI_PREFIX.len() + 32 && der.starts_with(&ED25519_SPKI_PREFIX) {
        (Algorithm::EdDSA, DecodingKey::from_ed_der(&der[ED25519_SPKI_PREFIX.len()..]))
    } else if contains(&der, &RSA_OID) {
        return Err("RSA keys are not accepted; use EC P-256 (ES256) or Ed25519 (EdDSA)".into());
    } else if contains(&der, &EC_PUBLIC_KEY_OID) {
        return Err("EC key on a curve other than P-256 (or compressed); only P-256 is accepted".into());
    } else {
        return Err("not an EC P-256 or Ed25519 public key".into());
    };
    check_key(alg, &key)?;
    Ok((alg, key))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Builds the verifier once, so that a point off the curve is an error at start, not a 401 for
/// every token later.
fn check_key(alg: Algorithm, key: &DecodingKey) -> Result<(), String> {
    jsonwebtoken::crypto::verify("", b"", key, alg).map(|_| ()).map_err(|_| "not a valid public key".to_owned())
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

/// The JWK members carepath looks at; others (`n`, `e`, `x5c`, ...) are ignored.
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
    d: Option<IgnoredAny>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    usage: Option<String>,
}

/// The usable keys of a JWKS. Keys of other types (an IdP's RSA keys, encryption keys) are
/// skipped, since IdPs publish those side by side; a malformed key of a usable type is an error.
fn keys_from_jwks(bytes: &[u8]) -> Result<Vec<(Option<String>, Algorithm, DecodingKey)>, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let jwks: Jwks = serde_path_to_error::deserialize(&mut de).map_err(|e| format!("invalid: {e}"))?;
    let mut found = Vec::new();
    let mut skipped = 0usize;
    for (i, jwk) in jwks.keys.into_iter().enumerate() {
        if jwk.d.is_some() {
            return Err(format!("keys[{i}] holds a private key (member d); publish only public keys"));
        }
        if jwk.usage.as_deref().is_some_and(|u| u != "sig") {
            skipped += 1;
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
        let (alg, key) = match (jwk.kty.as_str(), jwk.crv.as_deref(), jwk.alg.as_deref()) {
            ("EC", Some("P-256"), None | Some("ES256")) => {
                let (x, y) = (coordinate(&jwk.x, "x")?, coordinate(&jwk.y, "y")?);
                let key = DecodingKey::from_ec_components(&x, &y).map_err(|e| format!("keys[{i}]: {e}"))?;
                (Algorithm::ES256, key)
            }
            ("OKP", Some("Ed25519"), None | Some("EdDSA")) => {
                let x = coordinate(&jwk.x, "x")?;
                let key = DecodingKey::from_ed_components(&x).map_err(|e| format!("keys[{i}]: {e}"))?;
                (Algorithm::EdDSA, key)
            }
            _ => {
                skipped += 1;
                continue;
            }
        };
        check_key(alg, &key).map_err(|e| format!("keys[{i}]: {e}"))?;
        found.push((jwk.kid, alg, key));
    }
    if found.is_empty() {
        return Err(format!("no EC P-256 or Ed25519 signing key ({skipped} other keys skipped)"));
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// The extractor

const X_PURPOSE: &str = "x-purpose";

/// A handler that takes a `Caller` is authenticated: without a valid bearer token the request
/// ends in 401 before the handler runs.
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let verified = caller_from_request(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let caller = verified?;
            let state = state.ok_or_else(|| ApiError::internal("the application state is not registered"))?;
            // The operator's admin acts before any organisation exists; everyone else must
            // belong to one in the directory (a positive cache keeps this off the database).
            let operator = caller.role == Role::Admin && caller.org == state.settings.operator_org;
            if !operator && !state.organization_known(&caller.org).await? {
                return Err(ApiError::Forbidden("your organisation is not in the directory".into()));
            }
            Ok(caller)
        })
    }
}

fn caller_from_request(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("the application state is not registered"))?;
    let token = bearer_token(req).map_err(|m| ApiError::Unauthorized(m.to_owned()))?;
    let mut caller = state.auth.verify(token).map_err(|e| {
        tracing::debug!(reason = %e, "bearer token rejected");
        ApiError::Unauthorized(e.to_string())
    })?;
    if let Some(purpose) = purpose_header(req)? {
        caller.purpose = Some(purpose);
    }
    Ok(caller)
}

fn bearer_token(req: &HttpRequest) -> Result<&str, &'static str> {
    let mut values = req.headers().get_all(AUTHORIZATION);
    let value = values.next().ok_or("missing Authorization header")?;
    if values.next().is_some() {
        return Err("more than one Authorization header");
    }
    let value = value.to_str().map_err(|_| "malformed Authorization header")?;
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err("Authorization scheme must be Bearer");
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err("empty bearer token");
    }
    if token.contains(char::is_whitespace) {
        return Err("malformed bearer token");
    }
    Ok(token)
}

fn purpose_header(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(X_PURPOSE) else {
        return Ok(None);
    };
    let invalid = |m: &str| ApiError::field("/header/x-purpose", m);
    // UTF-8 rather than visible ASCII only: purposes are often written in Japanese.
    let text = std::str::from_utf8(value.as_bytes()).map_err(|_| invalid("must be UTF-8 text"))?.trim();
    if text.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if text.chars().count() > MAX_PURPOSE_LEN || text.chars().any(char::is_control) {
        return Err(invalid("must be one line of at most 256 characters"));
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    use serde_json::{Value, json};

    use super::*;

    const LEEWAY: u64 = 30;

    struct Fixture {
        dir: tempfile::TempDir,
        auth: Authenticator,
    }

    impl Fixture {
        fn local() -> Self {
            Self::with(|_| {})
        }

        fn with(adjust: impl FnOnce(&mut Settings)) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let mut settings = Settings::for_data_dir(dir.path().join("data"));
            settings.jwt_leeway_secs = LEEWAY;
            adjust(&mut settings);
            let auth = Authenticator::load(&settings).unwrap();
            Self { dir, auth }
        }

        fn data_dir(&self) -> PathBuf {
            self.dir.path().join("data")
        }

        fn local_key(&self) -> KeyFile {
            KeyFile::load_or_create(&self.data_dir()).unwrap()
        }

        /// Signs `claims` with the real local key, as an attacker with it could not.
        fn sign_local(&self, claims: &Value) -> String {
            let key = self.local_key();
            sign_ed(&key.pkcs8, Some(&key.kid), claims)
        }

        fn reject(&self, token: &str) -> AuthError {
            let error = self.auth.verify(token).expect_err("token must be rejected");
            let message = error.to_string();
            assert!(token.len() < 8 || !message.contains(token), "message quotes the token: {message}");
            for part in token.split('.').filter(|p| p.len() > 8) {
                assert!(!message.contains(part), "message quotes part of the token: {message}");
            }
            error
        }
    }

    fn now() -> u64 {
        now_secs()
    }

    fn local_claims() -> Value {
        let now = now();
        json!({
            "iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "iat": now, "nbf": now, "exp": now + 600,
            "sub": "dr-tanaka", "org": "niimi-clinic", "role": "physician",
        })
    }

    fn with(mut claims: Value, changes: Value) -> Value {
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    }

    fn sign_ed(pkcs8: &[u8], kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(pkcs8)).unwrap()
    }

    fn sign_es(pkcs8: &[u8], kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(pkcs8)).unwrap()
    }

    fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }

    fn new_ed_key() -> Vec<u8> {
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap().as_ref().to_vec()
    }

    /// A P-256 key pair: (PKCS#8 for signing, 65-byte uncompressed public point).
    fn new_p256_key() -> (Vec<u8>, Vec<u8>) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        (pkcs8.as_ref().to_vec(), pair.public_key().as_ref().to_vec())
    }

    fn p256_spki_pem(point: &[u8]) -> String {
        let mut der = P256_SPKI_PREFIX.to_vec();
        der.extend_from_slice(point);
        pem_encode("PUBLIC KEY", &der)
    }

    fn p256_jwk(point: &[u8], kid: &str) -> Value {
        json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        })
    }

    fn idp_claims() -> Value {
        with(local_claims(), json!({"iss": "https://idp.example", "aud": "carepath-prod", "role": "nurse"}))
    }

    /// A trust file in a subdirectory of the fixture's temp dir, with `files` beside it.
    fn with_trust_file(trust: Value, files: &[(&str, String)]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("conf");
        std::fs::create_dir(&conf).unwrap();
        for (name, content) in files {
            std::fs::write(conf.join(name), content).unwrap();
        }
        std::fs::write(conf.join("trust.json"), serde_json::to_vec(&trust).unwrap()).unwrap();
        let mut settings = Settings::for_data_dir(dir.path().join("data"));
        settings.jwt_leeway_secs = LEEWAY;
        settings.trust_file = Some(conf.join("trust.json"));
        let auth = Authenticator::load(&settings).unwrap();
        Fixture { dir, auth }
    }

    /// Files beside a trust file: (name, content).
    type Files<'a> = Vec<(&'a str, String)>;

    fn trust_file_error(trust: &str, files: &[(&str, String)]) -> String {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        std::fs::write(dir.path().join("trust.json"), trust).unwrap();
        let mut settings = Settings::for_data_dir(dir.path().join("data"));
        settings.local_issuer = false;
        settings.trust_file = Some(dir.path().join("trust.json"));
        let error = Authenticator::load(&settings).expect_err("trust file must be refused").to_string();
        assert!(error.contains("trust.json"), "error does not name the trust file: {error}");
        error
    }

    // --- roles ---------------------------------------------------------------------------

    #[test]
    fn role_names_match_serde_and_parse_back() {
        for role in Role::ALL {
            assert_eq!(serde_json::to_value(role).unwrap(), json!(role.as_str()));
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(serde_json::from_value::<Role>(json!(role.as_str())).unwrap(), role);
        }
        assert_eq!("wizard".parse::<Role>().unwrap_err().to_string(), "unknown role 'wizard'");
        assert!("Physician".parse::<Role>().is_err());
    }

    // --- acceptance ----------------------------------------------------------------------

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
    fn accepts_es256_from_an_issuer_given_by_jwks() {
        let (pkcs8, point) = new_p256_key();
        let (_, other_point) = new_p256_key();
        let jwks = json!({"keys": [
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa-1"},
            p256_jwk(&other_point, "ec-old"),
            p256_jwk(&point, "ec-new"),
        ]});
        let trust = json!({"issuers": [
            {"issuer": "https://idp.example", "audience": "carepath-prod", "jwks_file": "jwks.json"},
        ]});
        let f = with_trust_file(trust, &[("jwks.json", jwks.to_string())]);

        let caller = f.auth.verify(&sign_es(&pkcs8, Some("ec-new"), &idp_claims())).unwrap();
        assert_eq!(caller.role, Role::Nurse);
        // Without a kid every key of the issuer is tried.
        assert!(f.auth.verify(&sign_es(&pkcs8, None, &idp_claims())).is_ok());
        // The kid of another key: that key does not verify the signature.
        assert_eq!(f.reject(&sign_es(&pkcs8, Some("ec-old"), &idp_claims())), AuthError::UnknownKey);
        // A kid nobody published.
        assert_eq!(f.reject(&sign_es(&pkcs8, Some("ec-gone"), &idp_claims())), AuthError::UnknownKey);
        // The local issuer is still trusted beside it.
        let local = issue_local_token(&f.data_dir(), "admin-1", Role::Admin, "carepath-operator", 60).unwrap();
        assert_eq!(f.auth.verify(&local).unwrap().role, Role::Admin);
    }

    #[test]
    fn accepts_es256_and_eddsa_from_issuers_given_by_pem() {
        let (pkcs8, point) = new_p256_key();
        let ed_pkcs8 = new_ed_key();
        let ed_public = Ed25519KeyPair::from_pkcs8(&ed_pkcs8).unwrap().public_key().as_ref().to_vec();
        let mut ed_spki = ED25519_SPKI_PREFIX.to_vec();
        ed_spki.extend_from_slice(&ed_public);
        let trust = json!({"issuers": [
            {"issuer": "https://idp.example", "audience": "carepath-prod", "public_key_pem_file": "idp.pem", "kid": "k1"},
            {"issuer": "https://other.example", "audience": "carepath", "public_key_pem_file": "keys/other.pem"},
        ]});
        let f = {
            let dir = tempfile::tempdir().unwrap();
            let conf = dir.path().join("conf");
            std::fs::create_dir_all(conf.join("keys")).unwrap();
            std::fs::write(conf.join("idp.pem"), p256_spki_pem(&point)).unwrap();
            std::fs::write(conf.join("keys/other.pem"), pem_encode("PUBLIC KEY", &ed_spki)).unwrap();
            std::fs::write(conf.join("trust.json"), trust.to_string()).unwrap();
            let mut settings = Settings::for_data_dir(dir.path().join("data"));
            settings.trust_file = Some(conf.join("trust.json"));
            settings.local_issuer = false;
            Fixture { auth: Authenticator::load(&settings).unwrap(), dir }
        };
        assert!(f.auth.verify(&sign_es(&pkcs8, Some("k1"), &idp_claims())).is_ok());
        assert!(f.auth.verify(&sign_es(&pkcs8, None, &idp_claims())).is_ok());
        assert_eq!(f.reject(&sign_es(&pkcs8, Some("k2"), &idp_claims())), AuthError::UnknownKey);

        let other = with(local_claims(), json!({"iss": "https://other.example", "aud": "carepath"}));
        assert!(f.auth.verify(&sign_ed(&ed_pkcs8, Some("any"), &other)).is_ok());
        // Issuer A's key cannot speak for issuer B.
        let forged = with(idp_claims(), json!({"iss": "https://other.example", "aud": "carepath"}));
        assert_eq!(f.reject(&sign_es(&pkcs8, Some("k1"), &forged)), AuthError::UntrustedIssuer);
        // The local issuer is off here (the kid-less EdDSA key is a candidate, for another issuer).
        let local = issue_local_token(&f.data_dir(), "x", Role::Admin, "o", 60).unwrap();
        assert_eq!(f.reject(&local), AuthError::UntrustedIssuer);
    }

    #[test]
    fn the_same_key_may_serve_two_audiences() {
        let (pkcs8, point) = new_p256_key();
        let trust = json!({"issuers": [
            {"issuer": "https://idp.example", "audience": "carepath-staging", "public_key_pem_file": "idp.pem"},
            {"issuer": "https://idp.example", "audience": "carepath-prod", "public_key_pem_file": "idp.pem"},
        ]});
        let f = with_trust_file(trust, &[("idp.pem", p256_spki_pem(&point))]);
        assert!(f.auth.verify(&sign_es(&pkcs8, None, &idp_claims())).is_ok());
        let elsewhere = with(idp_claims(), json!({"aud": "billing"}));
        assert_eq!(f.reject(&sign_es(&pkcs8, None, &elsewhere)), AuthError::WrongAudience);
    }

    // --- rejection -----------------------------------------------------------------------

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
            let error = f.reject(&token);
            assert_eq!(error, AuthError::UnknownKey);
            assert_eq!(error.to_string(), "unknown signing key");
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
        assert_eq!(f.reject(&parts.join(".")), AuthError::UnknownKey);
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
    fn rejects_missing_iss_or_aud() {
        let f = Fixture::local();
        let token = f.sign_local(&with(local_claims(), json!({"iss": null})));
        assert_eq!(f.reject(&token).to_string(), "missing claim iss");
        let token = f.sign_local(&with(local_claims(), json!({"aud": null})));
        assert_eq!(f.reject(&token).to_string(), "missing claim aud");
    }

    #[test]
    fn rejects_expired_beyond_leeway_and_accepts_within() {
        let f = Fixture::local();
        let expired = f.sign_local(&with(local_claims(), json!({"exp": now() - LEEWAY - 60})));
        assert_eq!(f.reject(&expired).to_string(), "token expired");

        let just_expired = f.sign_local(&with(local_claims(), json!({"exp": now() - 5})));
        assert_eq!(f.auth.verify(&just_expired).unwrap().sub, "dr-tanaka");
        // Accepted thanks to leeway, but never cached: the cache honours exp exactly.
        assert_eq!(f.auth.cache_len(), 0);
    }

    #[test]
    fn rejects_nbf_in_the_future_beyond_leeway() {
        let f = Fixture::local();
        let early = f.sign_local(&with(local_claims(), json!({"nbf": now() + LEEWAY + 60})));
        assert_eq!(f.reject(&early).to_string(), "token not yet valid");
        let skewed = f.sign_local(&with(local_claims(), json!({"nbf": now() + 5})));
        assert!(f.auth.verify(&skewed).is_ok());
    }

    #[test]
    fn rejects_missing_claims() {
        let f = Fixture::local();
        for claim in ["exp", "sub", "role", "org"] {
            let token = f.sign_local(&with(local_claims(), json!({ claim: null })));
            assert_eq!(f.reject(&token).to_string(), format!("missing claim {claim}"));
        }
        for claim in ["sub", "role", "org"] {
            let token = f.sign_local(&with(local_claims(), json!({ claim: " " })));
            assert_eq!(f.reject(&token), AuthError::MissingClaim(claim), "empty {claim}");
        }
    }

    #[test]
    fn rejects_malformed_claims() {
        let f = Fixture::local();
        let token = f.sign_local(&with(local_claims(), json!({"role": 7})));
        assert_eq!(f.reject(&token).to_string(), "malformed claim role");
        let token = f.sign_local(&with(local_claims(), json!({"exp": "tomorrow"})));
        assert_eq!(f.reject(&token).to_string(), "malformed claim exp");
    }

    #[test]
    fn rejects_an_unknown_role() {
        let f = Fixture::local();
        let token = f.sign_local(&with(local_claims(), json!({"role": "wizard"})));
        assert_eq!(f.reject(&token).to_string(), "unknown role 'wizard'");
        let token = f.sign_local(&with(local_claims(), json!({"role": "Admin"})));
        assert_eq!(f.reject(&token), AuthError::UnknownRole("Admin".into()));
        let token = f.sign_local(&with(local_claims(), json!({"role": "evil\nline"})));
        assert_eq!(f.reject(&token).to_string(), "unknown role 'evil?line'");
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

    #[test]
    fn rejects_malformed_tokens() {
        let f = Fixture::local();
        for token in ["", "abc", "a.b", "a.b.c.d", "!!!.e30.c2ln", "e30.e30.c2ln"] {
            assert!(matches!(f.reject(token), AuthError::Malformed(_)), "{token:?}");
        }
        let header = b64(&json!({"alg": "EdDSA"}));
        assert!(matches!(f.reject(&format!("{header}.!!!.c2ln")), AuthError::Malformed(_)));
        let positional = json!([LOCAL_ISSUER, "sub", "org", "admin", null, now() + 600]);
        assert!(matches!(f.reject(&format!("{header}.{}.c2ln", b64(&positional))), AuthError::Malformed(_)));
        let positional_header = b64(&json!(["EdDSA"]));
        let token = format!("{positional_header}.{}.c2ln", b64(&local_claims()));
        assert!(matches!(f.reject(&token), AuthError::Malformed(_)));
        assert_eq!(f.reject(&"a".repeat(MAX_TOKEN_LEN + 1)), AuthError::TooLarge);
    }

    // --- the cache -----------------------------------------------------------------------

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
        for entry in f.auth.cache.write().unwrap().values_mut() {
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
            f.auth.cache.write().unwrap().insert(digest, Cached { caller: caller.clone(), exp });
        }
        f.auth.verify(&f.sign_local(&local_claims())).unwrap();
        assert_eq!(f.auth.cache_len(), CACHE_CAPACITY / 2 + 1);
    }

    // --- the local issuer key ------------------------------------------------------------

    #[test]
    fn the_local_key_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested").join("data");
        let settings = Settings::for_data_dir(&data);
        let first = Authenticator::load(&settings).unwrap();
        let key_file = data.join(LOCAL_KEY_FILE);
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
        let pem = std::fs::read_to_string(&key_file).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(&data).unwrap().count(), 1);

        let token = issue_local_token(&data, "u", Role::Auditor, "o", 60).unwrap();
        let second = Authenticator::load(&settings).unwrap();
        assert_eq!(std::fs::read_to_string(&key_file).unwrap(), pem, "key was replaced");
        assert_eq!(first.verify(&token).unwrap().role, Role::Auditor);
        assert_eq!(second.verify(&token).unwrap().role, Role::Auditor);

        let header = jsonwebtoken::decode_header(&token).unwrap();
        let key = KeyFile::load_or_create(&data).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
        assert_eq!(key.kid.len(), 16);
    }

    #[test]
    fn issued_tokens_carry_the_contract_claims() {
        let dir = tempfile::tempdir().unwrap();
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
        let error = Authenticator::load(&Settings::for_data_dir(f.data_dir())).unwrap_err().to_string();
        assert!(error.contains("chmod 600") && error.contains(LOCAL_KEY_FILE), "{error}");
    }

    #[test]
    fn a_damaged_local_key_is_refused() {
        let f = Fixture::local();
        let key_file = f.data_dir().join(LOCAL_KEY_FILE);
        std::fs::write(&key_file, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").unwrap();
        let error = Authenticator::load(&Settings::for_data_dir(f.data_dir())).unwrap_err().to_string();
        assert!(error.contains("not an Ed25519 PKCS#8 private key"), "{error}");
    }

    #[test]
    fn without_the_local_issuer_no_key_file_is_made() {
        let f = Fixture::with(|s| s.local_issuer = false);
        assert!(!f.data_dir().join(LOCAL_KEY_FILE).exists());
        let token = issue_local_token(&f.data_dir(), "u", Role::Admin, "o", 60).unwrap();
        assert_eq!(f.reject(&token), AuthError::UnknownKey);
    }

    // --- trust file errors ---------------------------------------------------------------

    #[test]
    fn trust_file_problems_are_named() {
        let (_, point) = new_p256_key();
        let pem = ("k.pem", p256_spki_pem(&point));
        let cases: Vec<(&str, Files, &str)> = vec![
            ("{", vec![], "invalid"),
            (r#"{"issuers": []}"#, vec![], "lists no issuers"),
            (r#"{"issuer": []}"#, vec![], "unknown field"),
            (r#"{"issuers": [{"issuer": "i", "audience": "a"}]}"#, vec![], "issuers[0]: needs public_key_pem_file"),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "public_key_pem_file": "k.pem", "jwks_file": "j"}]}"#,
                vec![pem.clone()],
                "not both",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "public_key_pem_file": "k.pem", "audiance": "x"}]}"#,
                vec![pem.clone()],
                "audiance",
            ),
            (
                r#"{"issuers": [{"issuer": "", "audience": "a", "public_key_pem_file": "k.pem"}]}"#,
                vec![pem.clone()],
                "issuer is empty",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "public_key_pem_file": "missing.pem"}]}"#,
                vec![],
                "missing.pem",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "public_key_pem_file": "k.pem"}]}"#,
                vec![("k.pem", "hello".into())],
                "not PEM",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "public_key_pem_file": "k.pem"}]}"#,
                vec![(
                    "k.pem",
                    pem_encode(
                        "PUBLIC KEY",
                        &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
                    ),
                )],
                "RSA keys are not accepted",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "public_key_pem_file": "k.pem"}]}"#,
                vec![("k.pem", p256_spki_pem(&[4u8; 65]))],
                "not a valid public key",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "jwks_file": "j.json"}]}"#,
                vec![("j.json", r#"{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}"#.into())],
                "no EC P-256 or Ed25519 signing key (1 other keys skipped)",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "jwks_file": "j.json"}]}"#,
                vec![("j.json", r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "d": "AAAA"}]}"#.into())],
                "private key",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "jwks_file": "j.json"}]}"#,
                vec![("j.json", r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]}"#.into())],
                "keys[0].x is 3 bytes, expected 32",
            ),
            (
                r#"{"issuers": [{"issuer": "i", "audience": "a", "jwks_file": "j.json", "kid": "k"}]}"#,
                vec![("j.json", "{}".into())],
                "kid goes with public_key_pem_file",
            ),
        ];
        for (trust, files, expected) in cases {
            let error = trust_file_error(trust, &files);
            assert!(error.contains(expected), "for {trust}: expected {expected:?} in {error:?}");
        }
    }

    #[test]
    fn a_missing_trust_file_is_named() {
        let f = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_data_dir(f.path().join("data"));
        settings.trust_file = Some(f.path().join("nope.json"));
        let error = Authenticator::load(&settings).unwrap_err().to_string();
        assert!(error.starts_with("trust file ") && error.contains("nope.json"), "{error}");
    }

    // --- timing (run: cargo test --release --lib auth -- --ignored --nocapture) -----------

    #[test]
    #[ignore = "timing, not a check"]
    fn timing_of_verification() {
        const N: u32 = 1000;
        let (pkcs8, point) = new_p256_key();
        let trust = json!({"issuers": [
            {"issuer": "https://idp.example", "audience": "carepath-prod", "public_key_pem_file": "idp.pem"},
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
