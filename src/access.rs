//! The access rule: pure functions, no I/O. Handlers gather the facts (who calls, the patient's
//! managing organisation and care team) and ask; they never decide on roles themselves.
//!
//! Denials come in two kinds. A role that may never do an action on a kind of resource gets 403:
//! that says nothing about any patient. A caller without a relationship to the patient gets 404,
//! exactly as for a patient that does not exist, so probing ids reveals nothing.

use time::Date;

use crate::auth::{Caller, Role};

/// What a request touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// Organisations and practitioners.
    Directory,
    /// A patient's registration and identifying fields.
    Patient,
    CareTeam,
    /// Clinical and care documents.
    Document,
    Consent,
    Audit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Write,
}

const NO: u8 = 0;
const R: u8 = 1;
const RW: u8 = 3;

/// One row of the role matrix.
pub struct Grant {
    pub role: Role,
    directory: u8,
    patient: u8,
    care_team: u8,
    document: u8,
    consent: u8,
    audit: u8,
    /// Sees fields marked `"x-carepath-sensitivity": "restricted"` without an explicit release.
    pub restricted: bool,
}

/// The role matrix, written once. `docs/roles.md` is rendered from it (a test keeps them equal).
#[rustfmt::skip]
pub const MATRIX: [Grant; 10] = [
    Grant { role: Role::Physician,    directory: R,  patient: RW, care_team: RW, document: RW, consent: RW, audit: NO, restricted: true },
    Grant { role: Role::Dentist,      directory: R,  patient: R,  care_team: R,  document: RW, consent: R,  audit: NO, restricted: false },
    Grant { role: Role::Pharmacist,   directory: R,  patient: R,  care_team: R,  document: RW, consent: R,  audit: NO, restricted: false },
    Grant { role: Role::Nurse,        directory: R,  patient: R,  care_team: R,  document: RW, consent: R,  audit: NO, restricted: true },
    Grant { role: Role::Therapist,    directory: R,  patient: R,  care_team: R,  document: RW, consent: R,  audit: NO, restricted: false },
    Grant { role: Role::CareManager,  directory: R,  patient: RW, care_team: RW, document: RW, consent: RW, audit: NO, restricted: false },
    Grant { role: Role::CareWorker,   directory: R,  patient: R,  care_team: R,  document: R,  consent: NO, audit: NO, restricted: false },
    Grant { role: Role::SocialWorker, directory: R,  patient: R,  care_team: R,  document: RW, consent: R,  audit: NO, restricted: false },
    Grant { role: Role::Admin,        directory: RW, patient: RW, care_team: RW, document: NO, consent: NO, audit: NO, restricted: false },
    Grant { role: Role::Auditor,      directory: R,  patient: NO, care_team: NO, document: NO, consent: NO, audit: R,  restricted: false },
];

fn grant(role: Role) -> &'static Grant {
    // Every role has exactly one row (a test checks), so the fallback is never taken.
    MATRIX.iter().find(|g| g.role == role).unwrap_or(&MATRIX[MATRIX.len() - 1])
}

fn bits(grant: &Grant, resource: Resource) -> u8 {
    match resource {
        Resource::Directory => grant.directory,
        Resource::Patient => grant.patient,
        Resource::CareTeam => grant.care_team,
        Resource::Document => grant.document,
        Resource::Consent => grant.consent,
        Resource::Audit => grant.audit,
    }
}

/// Rule 1: may this role ever do `action` on `resource`?
pub fn role_allows(role: Role, resource: Resource, action: Action) -> bool {
    let need = match action {
        Action::Read => R,
        Action::Write => RW,
    };
    bits(grant(role), resource) & need == need
}

/// Why a request was refused; the HTTP status follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// The role may never do this (403).
    Role,
    /// The caller knows the patient but needs to be the managing organisation (403).
    NotManaging,
    /// No relationship to the patient: indistinguishable from a missing patient (404).
    NoRelationship,
}

/// A care-team membership as the rule needs it.
#[derive(Debug, Clone)]
pub struct Membership {
    pub organization: String,
    pub since: Date,
    pub until: Option<Date>,
}

impl Membership {
    /// A membership counts only between `since` and `until`, both days included.
    pub fn active_on(&self, day: Date) -> bool {
        self.since <= day && self.until.is_none_or(|until| day <= until)
    }
}

/// What the rule needs to know about one patient.
#[derive(Debug, Clone)]
pub struct PatientFacts {
    pub managing_organization: String,
    pub team: Vec<Membership>,
}

/// Is the caller the operator's administrator (who acts across organisations)?
pub fn is_operator(caller: &Caller, operator_org: &str) -> bool {
    caller.role == Role::Admin && caller.org == operator_org
}

/// Rule 1 alone, for resources that are not a patient's (the directory, the audit log).
pub fn check(caller: &Caller, resource: Resource, action: Action) -> Result<(), Denial> {
    if role_allows(caller.role, resource, action) { Ok(()) } else { Err(Denial::Role) }
}

/// Whether the role sees `restricted` fields without the consent releasing them.
pub fn clears_restricted(role: Role) -> bool {
    grant(role).restricted
}

/// Rules 1 and 2 for a request on one patient's data: the role matrix, then the relationship.
/// Registering a patient and managing its team need the managing organisation.
pub fn check_patient(
    caller: &Caller,
    operator_org: &str,
    resource: Resource,
    action: Action,
    patient: &PatientFacts,
    today: Date,
) -> Result<(), Denial> {
    check(caller, resource, action)?;
    if is_operator(caller, operator_org) {
        return Ok(());
    }
    let managing = caller.org == patient.managing_organization;
    let on_team = patient.team.iter().any(|m| m.organization == caller.org && m.active_on(today));
    let needs_managing = action == Action::Write && matches!(resource, Resource::Patient | Resource::CareTeam);
    match (managing, on_team, needs_managing) {
        (true, _, _) => Ok(()),
        (false, true, false) => Ok(()),
        (false, true, true) => Err(Denial::NotManaging),
        (false, false, _) => Err(Denial::NoRelationship),
    }
}

/// The matrix as the Markdown table in `docs/roles.md`.
pub fn matrix_markdown() -> String {
    fn cell(bits: u8) -> &'static str {
        match bits {
            RW => "read, write",
            R => "read",
            _ => "—",
        }
    }
    let mut out = String::from(
        "| role | directory | patient | care team | documents | consents | audit log | restricted fields |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for g in &MATRIX {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |\n",
            g.role.as_str(),
            cell(g.directory),
            cell(g.patient),
            cell(g.care_team),
            cell(g.document),
            cell(g.consent),
            cell(g.audit),
            if g.restricted { "yes" } else { "—" },
        ));
    }
    out
}
