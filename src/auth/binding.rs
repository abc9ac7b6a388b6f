//! What a trusted issuer may assert: the organisations and roles each trust-file entry lists.

use super::Role;

/// What one issuer may assert. A signature proves who minted a token, not that the issuer may
/// speak for the organisation it names: an EHR vendor's issuer must not mint the operator's
/// admin. The local issuer (the operator's own) may assert anything; every trust-file entry
/// lists its organisations and roles.
#[derive(Debug)]
pub(super) struct Binding {
    /// `None`: any organisation (the local issuer only).
    organizations: Option<Vec<OrgPattern>>,
    /// `None`: any role (the local issuer only).
    roles: Option<Vec<Role>>,
}

/// An entry of `organizations`: an exact org id, or a prefix ending in `*` (`"*"` alone: any).
#[derive(Debug)]
enum OrgPattern {
    Exact(String),
    Prefix(String),
}

impl Binding {
    /// The local issuer's: everything, the operator's organisation included.
    pub(super) fn any() -> Self {
        Self { organizations: None, roles: None }
    }

    /// Whether the issuer may assert this organisation and role. A pattern never matches the
    /// operator's organisation: only an entry naming it exactly (and the local issuer) may.
    pub(super) fn allows(&self, org: &str, role: Role, operator_org: &str) -> bool {
        let org_ok = match &self.organizations {
            None => true,
            Some(patterns) => patterns.iter().any(|p| match p {
                OrgPattern::Exact(id) => id == org,
                OrgPattern::Prefix(prefix) => org != operator_org && org.starts_with(prefix.as_str()),
            }),
        };
        org_ok && self.roles.as_ref().is_none_or(|roles| roles.contains(&role))
    }

    pub(super) fn from_entry(organizations: Option<Vec<String>>, roles: Option<Vec<String>>) -> Result<Self, String> {
        let (Some(organizations), Some(roles)) = (organizations, roles) else {
            return Err("needs \"organizations\" and \"roles\": the organisation ids (or `prefix*`, `*`) and the \
                        roles this issuer may assert; an entry without them would let it assert any \
                        organisation and role (README, Authentication)"
                .into());
        };
        if organizations.is_empty() || roles.is_empty() {
            return Err("organizations and roles must not be empty".into());
        }
        let mut patterns = Vec::new();
        for (i, org) in organizations.into_iter().enumerate() {
            let org = org.trim().to_owned();
            match org.strip_suffix('*') {
                Some(prefix) if prefix.contains('*') => {
                    return Err(format!("organizations[{i}]: `*` may only end a pattern"));
                }
                Some(prefix) => patterns.push(OrgPattern::Prefix(prefix.to_owned())),
                None if org.is_empty() || org.contains('*') => {
                    return Err(format!("organizations[{i}]: an organisation id, `prefix*` or `*`"));
                }
                None => patterns.push(OrgPattern::Exact(org)),
            }
        }
        let roles = roles
            .iter()
            .enumerate()
            .map(|(i, r)| r.parse::<Role>().map_err(|e| format!("roles[{i}]: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { organizations: Some(patterns), roles: Some(roles) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_never_reach_the_operator() {
        let b = |orgs: &[&str], roles: &[&str]| {
            Binding::from_entry(
                Some(orgs.iter().map(|s| (*s).to_owned()).collect()),
                Some(roles.iter().map(|s| (*s).to_owned()).collect()),
            )
            .unwrap()
        };
        let any_org = b(&["*"], &["nurse", "admin"]);
        assert!(any_org.allows("clinic-1", Role::Nurse, "op"));
        assert!(any_org.allows("clinic-1", Role::Admin, "op"));
        assert!(!any_org.allows("clinic-1", Role::Physician, "op"));
        assert!(!any_org.allows("op", Role::Admin, "op"), "a pattern never matches the operator");
        let prefixed = b(&["ehr-"], &["nurse"]);
        assert!(prefixed.allows("ehr-", Role::Nurse, "op") && !prefixed.allows("ehr-1", Role::Nurse, "op"));
        let prefixed = b(&["ehr-*"], &["nurse"]);
        assert!(prefixed.allows("ehr-1", Role::Nurse, "op") && !prefixed.allows("clinic", Role::Nurse, "op"));
        let operator = b(&["op"], &["admin"]);
        assert!(operator.allows("op", Role::Admin, "op"), "named exactly, the operator may be asserted");
        assert!(Binding::any().allows("op", Role::Admin, "op"));
    }
}
