//! The role matrix (rule 1 of the access rule): what each role may ever read or write, whoever
//! the patient. Written once; `docs/roles.md` is rendered from it.

use super::{Action, Resource};
use crate::auth::Role;

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
    erasure: u8,
    contact_sheet: u8,
    /// De-identified reports (item fill, indicators) and the annual plan.
    reports: u8,
    /// Sees fields marked `"x-carepath-sensitivity": "restricted"` without an explicit release.
    pub restricted: bool,
}

/// The role matrix, written once. `docs/roles.md` is rendered from it (a test keeps them equal).
#[rustfmt::skip]
pub const MATRIX: [Grant; 11] = [
    Grant { role: Role::Physician,    directory: R,  patient: RW, care_team: RW, document: RW, consent: RW, audit: NO, erasure: NO, contact_sheet: RW, reports: NO, restricted: true },
    Grant { role: Role::Dentist,      directory: R,  patient: R,  care_team: R,  document: RW, consent: R,  audit: NO, erasure: NO, contact_sheet: RW, reports: NO, restricted: false },
    Grant { role: Role::Pharmacist,   directory: R,  patient: R,  care_team: R,  document: RW, consent: R,  audit: NO, erasure: NO, contact_sheet: RW, reports: NO, restricted: false },
    Grant { role: Role::Nurse,        directory: R,  patient: R,  care_team: R,  document: RW, consent: R,  audit: NO, erasure: NO, contact_sheet: RW, reports: NO, restricted: true },
    Grant { role: Role::Therapist,    directory: R,  patient: R,  care_team: R,  document: RW, consent: R,  audit: NO, erasure: NO, contact_sheet: RW, reports: NO, restricted: false },
    Grant { role: Role::CareManager,  directory: R,  patient: RW, care_team: RW, document: RW, consent: RW, audit: NO, erasure: NO, contact_sheet: RW, reports: NO, restricted: false },
    Grant { role: Role::CareWorker,   directory: R,  patient: R,  care_team: R,  document: R,  consent: NO, audit: NO, erasure: NO, contact_sheet: R,  reports: NO, restricted: false },
    Grant { role: Role::SocialWorker, directory: R,  patient: R,  care_team: R,  document: RW, consent: R,  audit: NO, erasure: NO, contact_sheet: RW, reports: NO, restricted: false },
    Grant { role: Role::Admin,        directory: RW, patient: RW, care_team: RW, document: NO, consent: NO, audit: NO, erasure: RW, contact_sheet: NO, reports: RW, restricted: false },
    Grant { role: Role::Auditor,      directory: R,  patient: NO, care_team: NO, document: NO, consent: NO, audit: RW, erasure: NO, contact_sheet: NO, reports: NO, restricted: false },
    Grant { role: Role::Analyst,      directory: R,  patient: NO, care_team: NO, document: NO, consent: NO, audit: NO, erasure: NO, contact_sheet: NO, reports: RW, restricted: false },
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
        Resource::Erasure => grant.erasure,
        Resource::ContactSheet => grant.contact_sheet,
        Resource::Reports => grant.reports,
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

/// Whether the role sees `restricted` fields without the consent releasing them.
pub fn clears_restricted(role: Role) -> bool {
    grant(role).restricted
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
        "| role | directory | patient | care team | documents | consents | audit log | erasure | contact sheets | reports | restricted fields |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for g in &MATRIX {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            g.role.as_str(),
            cell(g.directory),
            cell(g.patient),
            cell(g.care_team),
            cell(g.document),
            cell(g.consent),
            cell(g.audit),
            cell(g.erasure),
            cell(g.contact_sheet),
            cell(g.reports),
            if g.restricted { "yes" } else { "—" },
        ));
    }
    out
}
