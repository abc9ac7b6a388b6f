//! From an identity provider's claims to carepath's `sub`, `org` and `role`: the trust file's
//! `claims` rules of one issuer. Providers put these where they like (Entra ID: a `roles` array
//! of app roles; Keycloak: `realm_access.roles`; a group; a fixed organisation per client), so
//! the operator says where, and what the provider's names mean. A token the rules map to nothing,
//! or to more than one role or organisation, is refused naming the rule: never a guess.

use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;
use serde_json::Value;

use super::{AuthError, Caller, Role};
use crate::crypto::keyfile::printable;

/// The `claims` member of a trust-file entry, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClaimRules {
    /// The claim that is the practitioner's id (default `sub`; Entra ID: `oid`).
    #[serde(default)]
    sub: Option<String>,
    /// Where the role is: a claim name or a dotted path (`roles`, `realm_access.roles`); its
    /// value a string or an array of strings (default `role`).
    #[serde(default)]
    role: Option<String>,
    /// The provider's role names → carepath roles; names not listed are ignored. Without it the
    /// values must be carepath role names.
    #[serde(default)]
    role_values: Option<HashMap<String, String>>,
    /// Where the organisation is: a claim name or dotted path (default `org`), e.g. `groups`.
    #[serde(default)]
    org: Option<String>,
    /// The provider's values (group names, client ids) → carepath organisation ids; values not
    /// listed are ignored. Without it the values must be carepath organisation ids.
    #[serde(default)]
    org_values: Option<HashMap<String, String>>,
    /// One organisation for every token of this entry (a client of one organisation).
    #[serde(default)]
    org_fixed: Option<String>,
}

/// The rules, checked and ready.
#[derive(Debug)]
pub(super) struct Mapping {
    issuer: String,
    sub: String,
    role: String,
    role_values: Option<HashMap<String, Role>>,
    org: OrgRule,
}

#[derive(Debug)]
enum OrgRule {
    Claim { path: String, values: Option<HashMap<String, String>> },
    Fixed(String),
}

impl Mapping {
    pub(super) fn from_rules(issuer: &str, rules: ClaimRules) -> Result<Self, String> {
        let path = |p: Option<String>, default: &str, name: &str| -> Result<String, String> {
            let p = p.unwrap_or_else(|| default.to_owned());
            if p.trim().is_empty() { Err(format!("claims.{name} is empty")) } else { Ok(p) }
        };
        let role_values = match rules.role_values {
            None => None,
            Some(values) if values.is_empty() => return Err("claims.role_values is empty".into()),
            Some(values) => Some(
                values
                    .into_iter()
                    .map(|(theirs, ours)| {
                        ours.parse::<Role>()
                            .map(|r| (theirs.clone(), r))
                            .map_err(|e| format!("claims.role_values.{theirs}: {e}"))
                    })
                    .collect::<Result<HashMap<_, _>, _>>()?,
            ),
        };
        let org = match (rules.org, rules.org_values, rules.org_fixed) {
            (None, None, Some(fixed)) if !fixed.trim().is_empty() => OrgRule::Fixed(fixed),
            (_, _, Some(_)) => {
                return Err(
                    "claims.org_fixed is a non-empty organisation id, and goes without org and org_values".into()
                );
            }
            (path_given, values, None) => {
                if values.as_ref().is_some_and(|v| v.is_empty() || v.values().any(|o| o.trim().is_empty())) {
                    return Err("claims.org_values is empty or maps to an empty id".into());
                }
                OrgRule::Claim { path: path(path_given, "org", "org")?, values }
            }
        };
        Ok(Self {
            issuer: issuer.to_owned(),
            sub: path(rules.sub, "sub", "sub")?,
            role: path(rules.role, "role", "role")?,
            role_values,
            org,
        })
    }

    /// The caller these claims map to (`purpose` as the `purpose` claim says).
    pub(super) fn caller(&self, claims: &Value) -> Result<Caller, AuthError> {
        let unmapped = |what: String| AuthError::Unmapped(format!("{what} for issuer {}", printable(&self.issuer)));
        let sub = match lookup(claims, &self.sub) {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => return Err(unmapped(format!("no sub claim at {}", printable(&self.sub)))),
        };
        let role_names =
            strings(lookup(claims, &self.role)).ok_or_else(|| unmapped(format!("no role claim at {}", self.role)))?;
        let roles: BTreeSet<&'static str> = role_names
            .iter()
            .filter_map(|name| match &self.role_values {
                Some(values) => values.get(name.as_str()).copied(),
                None => name.parse::<Role>().ok(),
            })
            .map(|r| r.as_str())
            .collect();
        let role = match roles.iter().collect::<Vec<_>>().as_slice() {
            [one] => one.parse::<Role>().map_err(|e| AuthError::UnknownRole(printable(&e.0)))?,
            [] => {
                return Err(unmapped(format!(
                    "the role claim at {} ({}) maps to no carepath role",
                    self.role,
                    listed(&role_names)
                )));
            }
            several => {
                return Err(unmapped(format!(
                    "the role claim at {} maps to several carepath roles ({}); map one",
                    self.role,
                    several.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
                )));
            }
        };
        let org = match &self.org {
            OrgRule::Fixed(org) => org.clone(),
            OrgRule::Claim { path, values } => {
                let names = strings(lookup(claims, path))
                    .ok_or_else(|| unmapped(format!("no organisation claim at {path}")))?;
                let orgs: BTreeSet<String> = names
                    .iter()
                    .filter_map(|name| match values {
                        Some(values) => values.get(name.as_str()).cloned(),
                        None => Some(name.clone()),
                    })
                    .collect();
                let mut orgs = orgs.into_iter();
                match (orgs.next(), orgs.next()) {
                    (Some(org), None) => org,
                    (None, _) => {
                        return Err(unmapped(format!(
                            "the organisation claim at {path} ({}) maps to no carepath organisation",
                            listed(&names)
                        )));
                    }
                    (Some(_), Some(_)) => {
                        return Err(unmapped(format!(
                            "the organisation claim at {path} maps to several carepath organisations; map one"
                        )));
                    }
                }
            }
        };
        let purpose = match claims.get("purpose") {
            Some(Value::String(p)) if !p.trim().is_empty() => Some(p.clone()),
            _ => None,
        };
        Ok(Caller { sub, org, role, purpose })
    }
}

/// A claim by name, else by dotted path (`realm_access.roles`): a name may itself hold dots
/// (a URL-shaped claim name), so the whole name is tried first.
fn lookup<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(path) {
        return Some(v);
    }
    path.split('.').try_fold(claims, |v, part| v.get(part))
}

/// A string, or the strings of an array (other members ignored); `None` if neither or empty.
fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    let out: Vec<String> = match value? {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => return None,
    };
    let out: Vec<String> = out.into_iter().filter(|s| !s.trim().is_empty()).collect();
    (!out.is_empty()).then_some(out)
}

/// At most a few values, each made printable: they go back to the client in the 401.
fn listed(values: &[String]) -> String {
    let mut shown: Vec<String> = values.iter().take(5).map(|v| printable(v)).collect();
    if values.len() > 5 {
        shown.push(format!("and {} more", values.len() - 5));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mapping(rules: Value) -> Mapping {
        Mapping::from_rules("https://idp.example", serde_json::from_value(rules).unwrap()).unwrap()
    }

    #[test]
    fn entra_and_keycloak_shapes_map() {
        let entra = mapping(json!({"sub": "oid", "role": "roles", "role_values": {"Carepath.Nurse": "nurse"},
            "org": "tid", "org_values": {"tenant-1": "clinic-1"}}));
        let caller =
            entra.caller(&json!({"oid": "u-1", "roles": ["Other.Role", "Carepath.Nurse"], "tid": "tenant-1"})).unwrap();
        assert_eq!((caller.sub.as_str(), caller.org.as_str(), caller.role), ("u-1", "clinic-1", Role::Nurse));

        let keycloak = mapping(json!({"role": "realm_access.roles", "org": "groups",
            "org_values": {"/clinic-1": "clinic-1"}}));
        let claims = json!({"sub": "k-1", "realm_access": {"roles": ["offline_access", "physician"]},
            "groups": ["/clinic-1", "/staff"]});
        let caller = keycloak.caller(&claims).unwrap();
        assert_eq!((caller.org.as_str(), caller.role), ("clinic-1", Role::Physician));
    }

    #[test]
    fn what_maps_to_nothing_is_named() {
        let keycloak = mapping(json!({"role": "realm_access.roles", "org_fixed": "clinic-1"}));
        let error = keycloak.caller(&json!({"sub": "k"})).unwrap_err().to_string();
        assert_eq!(error, "no role claim at realm_access.roles for issuer https://idp.example");
        let error = keycloak
            .caller(&json!({"sub": "k", "realm_access": {"roles": ["offline_access"]}}))
            .unwrap_err()
            .to_string();
        assert!(error.contains("(offline_access) maps to no carepath role"), "{error}");
        let two = json!({"sub": "k", "realm_access": {"roles": ["nurse", "physician"]}});
        assert!(keycloak.caller(&two).unwrap_err().to_string().contains("several carepath roles (nurse, physician)"));
        let error = mapping(json!({})).caller(&json!({"sub": "s", "role": "nurse"})).unwrap_err().to_string();
        assert_eq!(error, "no organisation claim at org for issuer https://idp.example");
        assert!(
            Mapping::from_rules("i", serde_json::from_value(json!({"role_values": {"x": "wizard"}})).unwrap()).is_err()
        );
        assert!(
            Mapping::from_rules("i", serde_json::from_value(json!({"org": "g", "org_fixed": "o"})).unwrap()).is_err()
        );
    }
}
