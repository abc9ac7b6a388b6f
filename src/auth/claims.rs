//! Reading a token's header and claims: only what key selection and the [`Caller`] need, and
//! strictly (a JWT part is a JSON object; a wrong claim is named, never quoted whole).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::binding::Binding;
use super::{AuthError, Caller, Role};
use crate::crypto::keyfile::printable;

/// The header fields selection needs; the JWT library parses the full header again.
#[derive(Deserialize)]
pub(super) struct RawHeader {
    pub(super) alg: String,
    #[serde(default)]
    pub(super) kid: Option<String>,
    #[serde(default)]
    pub(super) crit: Option<IgnoredAny>,
}

/// The claims carepath uses. `exp` and `nbf` are checked by the JWT library; `exp` is also
/// read here to bound the cache entry. Numbers may be fractional (RFC 7519 NumericDate).
#[derive(Clone, Deserialize)]
pub(super) struct RawClaims {
    #[serde(default)]
    pub(super) iss: Option<String>,
    // Any JSON here, checked in `into_caller`: an issuer with mapping rules may put other
    // shapes in these names (a `role` array), which only its rules read.
    #[serde(default)]
    sub: Option<serde_json::Value>,
    #[serde(default)]
    org: Option<serde_json::Value>,
    #[serde(default)]
    role: Option<serde_json::Value>,
    #[serde(default)]
    purpose: Option<serde_json::Value>,
    #[serde(default)]
    exp: Option<f64>,
    #[serde(default)]
    iat: Option<f64>,
}

impl RawClaims {
    /// The caller, the token's `exp` and its `iat` (when given).
    pub(super) fn into_caller(self) -> Result<(Caller, u64, Option<u64>), AuthError> {
        let non_empty = |value: Option<serde_json::Value>, name: &'static str| match value {
            None | Some(serde_json::Value::Null) => Err(AuthError::MissingClaim(name)),
            Some(serde_json::Value::String(v)) if v.trim().is_empty() => Err(AuthError::MissingClaim(name)),
            Some(serde_json::Value::String(v)) => Ok(v),
            Some(_) => Err(AuthError::MalformedClaim(name.to_owned())),
        };
        let (exp, iat) = self.times()?;
        let sub = non_empty(self.sub, "sub")?;
        let org = non_empty(self.org, "org")?;
        let role = non_empty(self.role, "role")?;
        let role = role.parse::<Role>().map_err(|e| AuthError::UnknownRole(printable(&e.0)))?;
        let purpose = match self.purpose {
            Some(serde_json::Value::String(p)) if !p.trim().is_empty() => Some(p),
            None | Some(serde_json::Value::Null | serde_json::Value::String(_)) => None,
            Some(_) => return Err(AuthError::MalformedClaim("purpose".into())),
        };
        Ok((Caller { sub, org, role, purpose }, exp, iat))
    }

    /// `exp` (required) and `iat`, in whole seconds.
    pub(super) fn times(&self) -> Result<(u64, Option<u64>), AuthError> {
        let exp = self.exp.ok_or(AuthError::MissingClaim("exp"))?;
        // Float-to-int casts saturate (and NaN gives 0), so a hostile value cannot wrap.
        Ok((exp as u64, self.iat.map(|iat| iat as u64)))
    }
}

impl RawClaims {
    /// The caller, `exp` and `iat`, if `binding` lets the token's issuer assert its
    /// organisation and role; `None` if not.
    pub(super) fn caller_if_bound(
        &self,
        binding: &Binding,
        operator_org: &str,
    ) -> Result<Option<(Caller, u64, Option<u64>)>, AuthError> {
        let verified = self.clone().into_caller()?;
        Ok(binding.allows(&verified.0.org, verified.0.role, operator_org).then_some(verified))
    }
}

pub(super) fn parse_claims(claims_b64: &str) -> Result<RawClaims, AuthError> {
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

/// The claims as JSON, for an issuer whose mapping rules read claims carepath does not name.
pub(super) fn parse_claims_value(claims_b64: &str) -> Result<serde_json::Value, AuthError> {
    let bytes = URL_SAFE_NO_PAD.decode(claims_b64).map_err(|_| AuthError::Malformed("claims are not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed("claims are not a JSON object"))
}

/// Serde would also fill a struct from a JSON array, by position; a JWT part is an object.
pub(super) fn is_json_object(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().first() == Some(&b'{')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::LOCAL_ISSUER;
    use crate::auth::test_support::{Fixture, LEEWAY, b64, local_claims, now, with};
    use crate::auth::tokens::MAX_TOKEN_LEN;

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
}
