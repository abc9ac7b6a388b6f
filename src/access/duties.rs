//! What a role may do beyond one patient's record: review the consent log, use the region's
//! reports, write the directory, publish a facility's vacancies. Pure, like the rule.

use super::{Action, Denial, Resource, check, is_operator};
use crate::auth::{Caller, Role};

/// The consent log (every patient's consent versions and the accesses they allowed) is for
/// auditors and the operator's administrator: it shows terms, never clinical content.
pub fn may_review_consents(caller: &Caller, operator_org: &str) -> Result<(), Denial> {
    if caller.role == Role::Auditor || is_operator(caller, operator_org) { Ok(()) } else { Err(Denial::Role) }
}

/// Who opened a patient's record is told to the organisation that manages the patient (its
/// doctors, nurses and care managers answer to the patient for it) and to the operator's admin;
/// the caller must also be let in to the patient (the gate decides that part).
pub fn may_read_access_log(caller: &Caller, managing_org: &str, operator_org: &str) -> bool {
    caller.org == managing_org || is_operator(caller, operator_org)
}

/// Reports and the annual plan are region-wide: the role matrix must allow them, and an admin
/// must be the operator's (a clinic's admin has no business with the region's figures).
pub fn may_use_reports(caller: &Caller, operator_org: &str, action: Action) -> Result<(), Denial> {
    check(caller, Resource::Reports, action)?;
    if caller.role == Role::Admin && !is_operator(caller, operator_org) { Err(Denial::Role) } else { Ok(()) }
}

/// A write to the directory, with the organisations it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryWrite<'a> {
    /// Registering a new organisation.
    CreateOrganization,
    /// Replacing the details of organisation `id`.
    ReplaceOrganization { id: &'a str },
    /// Registering a practitioner into organisation `into`.
    CreatePractitioner { into: &'a str },
    /// Replacing a practitioner who works for `from` with details that name `into`.
    ReplacePractitioner { from: &'a str, into: &'a str },
}

/// The directory rule: the role matrix lets the role write the directory, and then either the
/// caller is the operator's admin (who creates organisations and edits any entry), or every
/// organisation the write touches is the caller's own. A local admin thus cannot create an
/// organisation, edit another, register a practitioner into another, or move one out of (or
/// into) its own: the directory names who may be trusted with patients, so one clinic must not
/// rewrite another's entries.
pub fn may_write_directory(caller: &Caller, operator_org: &str, write: DirectoryWrite<'_>) -> Result<(), Denial> {
    check(caller, Resource::Directory, Action::Write)?;
    if is_operator(caller, operator_org) {
        return Ok(());
    }
    let own = |org: &str| org == caller.org;
    let allowed = match write {
        DirectoryWrite::CreateOrganization => false,
        DirectoryWrite::ReplaceOrganization { id } => own(id),
        DirectoryWrite::CreatePractitioner { into } => own(into),
        DirectoryWrite::ReplacePractitioner { from, into } => own(from) && own(into),
    };
    if allowed { Ok(()) } else { Err(Denial::OtherOrganization) }
}

/// The vacancy-board rule: a facility's board is published by its own staff (any role but the
/// auditor, whose work is reading the log) or by the operator's admin. No patient data is
/// involved, so there is no care-team or consent step.
pub fn may_publish_vacancies(caller: &Caller, operator_org: &str, facility: &str) -> Result<(), Denial> {
    let own_staff = caller.org == facility && caller.role != Role::Auditor;
    if own_staff || is_operator(caller, operator_org) { Ok(()) } else { Err(Denial::NotOwnFacility) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATOR: &str = "carepath-operator";

    fn caller(role: Role, org: &str) -> Caller {
        Caller { sub: "tester".into(), org: org.into(), role, purpose: None }
    }

    #[test]
    fn the_operators_admin_writes_the_whole_directory() {
        let op = caller(Role::Admin, OPERATOR);
        for write in [
            DirectoryWrite::CreateOrganization,
            DirectoryWrite::ReplaceOrganization { id: "a" },
            DirectoryWrite::CreatePractitioner { into: "a" },
            DirectoryWrite::ReplacePractitioner { from: "a", into: "b" },
        ] {
            assert_eq!(may_write_directory(&op, OPERATOR, write), Ok(()), "{write:?}");
        }
    }

    #[test]
    fn a_facilitys_own_staff_and_the_operator_publish_its_vacancies() {
        assert_eq!(may_publish_vacancies(&caller(Role::CareWorker, "a"), OPERATOR, "a"), Ok(()));
        assert_eq!(may_publish_vacancies(&caller(Role::Admin, OPERATOR), OPERATOR, "a"), Ok(()));
        for other in [caller(Role::Admin, "b"), caller(Role::Nurse, "b"), caller(Role::Auditor, "a")] {
            assert_eq!(may_publish_vacancies(&other, OPERATOR, "a"), Err(Denial::NotOwnFacility), "{other:?}");
        }
    }

    #[test]
    fn a_local_admin_writes_its_own_organisation_and_practitioners_only() {
        let admin = caller(Role::Admin, "a");
        let ok = |write| may_write_directory(&admin, OPERATOR, write);
        assert_eq!(ok(DirectoryWrite::ReplaceOrganization { id: "a" }), Ok(()));
        assert_eq!(ok(DirectoryWrite::CreatePractitioner { into: "a" }), Ok(()));
        assert_eq!(ok(DirectoryWrite::ReplacePractitioner { from: "a", into: "a" }), Ok(()));
        for write in [
            DirectoryWrite::CreateOrganization,
            DirectoryWrite::ReplaceOrganization { id: "c" },
            DirectoryWrite::CreatePractitioner { into: "c" },
            // Moving a practitioner away, or taking over another organisation's.
            DirectoryWrite::ReplacePractitioner { from: "a", into: "c" },
            DirectoryWrite::ReplacePractitioner { from: "c", into: "a" },
            DirectoryWrite::ReplacePractitioner { from: "c", into: "c" },
        ] {
            assert_eq!(ok(write), Err(Denial::OtherOrganization), "{write:?}");
        }
    }

    #[test]
    fn other_roles_never_write_the_directory_even_at_the_operator() {
        for role in Role::ALL.iter().copied().filter(|r| *r != Role::Admin) {
            for org in ["a", OPERATOR] {
                let write = DirectoryWrite::ReplaceOrganization { id: org };
                assert_eq!(may_write_directory(&caller(role, org), OPERATOR, write), Err(Denial::Role), "{role:?}");
            }
        }
    }
}
