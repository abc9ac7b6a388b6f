//! The role matrix, table-driven: an independent statement of who may do what, checked against
//! the code's matrix, and the rendered `docs/roles.md` kept in step with it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use carepath::access::{self, Action, Denial, Membership, PatientFacts, Resource};
use carepath::auth::{Caller, Role};

// role, then per resource (directory, patient, care team, document, consent, audit): "", "r", "rw".
#[rustfmt::skip]
const EXPECTED: &[(&str, [&str; 6])] = &[
    ("physician",     ["r",  "rw", "rw", "rw", "rw", ""]),
    ("dentist",       ["r",  "r",  "r",  "rw", "r",  ""]),
    ("pharmacist",    ["r",  "r",  "r",  "rw", "r",  ""]),
    ("nurse",         ["r",  "r",  "r",  "rw", "r",  ""]),
    ("therapist",     ["r",  "r",  "r",  "rw", "r",  ""]),
    ("care_manager",  ["r",  "rw", "rw", "rw", "rw", ""]),
    ("care_worker",   ["r",  "r",  "r",  "r",  "",   ""]),
    ("social_worker", ["r",  "r",  "r",  "rw", "r",  ""]),
    ("admin",         ["rw", "rw", "rw", "",   "",   ""]),
    ("auditor",       ["r",  "",   "",   "",   "",   "r"]),
];

const RESOURCES: [Resource; 6] = [
    Resource::Directory,
    Resource::Patient,
    Resource::CareTeam,
    Resource::Document,
    Resource::Consent,
    Resource::Audit,
];

#[test]
fn role_matrix_matches_the_table() {
    assert_eq!(EXPECTED.len(), Role::ALL.len());
    for (role, cells) in EXPECTED {
        let role: Role = role.parse().unwrap();
        for (resource, cell) in RESOURCES.iter().zip(cells) {
            assert_eq!(
                access::role_allows(role, *resource, Action::Read),
                cell.contains('r'),
                "{role:?} read {resource:?}"
            );
            assert_eq!(
                access::role_allows(role, *resource, Action::Write),
                cell.contains('w'),
                "{role:?} write {resource:?}"
            );
        }
    }
}

#[test]
fn every_role_has_exactly_one_row() {
    for role in Role::ALL {
        assert_eq!(access::MATRIX.iter().filter(|g| g.role == role).count(), 1, "{role:?}");
    }
}

#[test]
fn docs_roles_md_shows_the_matrix() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/roles.md")).unwrap();
    assert!(doc.contains(&access::matrix_markdown()), "docs/roles.md is stale; paste access::matrix_markdown() in");
}

fn caller(role: Role, org: &str) -> Caller {
    Caller { sub: "s".into(), org: org.into(), role, purpose: None }
}

fn day(s: &str) -> time::Date {
    carepath::clock::parse_day(s).unwrap()
}

#[test]
fn relationship_decides_between_allow_403_and_404() {
    let facts = PatientFacts {
        managing_organization: "clinic".into(),
        team: vec![
            Membership { organization: "station".into(), since: day("2026-01-01"), until: None },
            Membership { organization: "old".into(), since: day("2025-01-01"), until: Some(day("2025-12-31")) },
            Membership { organization: "future".into(), since: day("2027-01-01"), until: None },
        ],
    };
    let today = day("2026-06-01");
    let check =
        |role, org, resource, action| access::check_patient(&caller(role, org), "op", resource, action, &facts, today);
    assert_eq!(check(Role::Physician, "clinic", Resource::Patient, Action::Write), Ok(()));
    assert_eq!(check(Role::Nurse, "station", Resource::Patient, Action::Read), Ok(()));
    assert_eq!(check(Role::Nurse, "station", Resource::Document, Action::Write), Ok(()));
    assert_eq!(check(Role::CareManager, "station", Resource::CareTeam, Action::Write), Err(Denial::NotManaging));
    assert_eq!(check(Role::Nurse, "old", Resource::Patient, Action::Read), Err(Denial::NoRelationship));
    assert_eq!(check(Role::Nurse, "future", Resource::Patient, Action::Read), Err(Denial::NoRelationship));
    assert_eq!(check(Role::Physician, "elsewhere", Resource::Patient, Action::Read), Err(Denial::NoRelationship));
    assert_eq!(check(Role::Nurse, "clinic", Resource::Patient, Action::Write), Err(Denial::Role));
    assert_eq!(check(Role::Auditor, "clinic", Resource::Document, Action::Read), Err(Denial::Role));
    assert_eq!(check(Role::Admin, "op", Resource::CareTeam, Action::Write), Ok(()));
    assert_eq!(check(Role::Admin, "op", Resource::Document, Action::Read), Err(Denial::Role));
    // The last day of a membership still counts; the day after does not.
    let on =
        |d| access::check_patient(&caller(Role::Nurse, "old"), "op", Resource::Patient, Action::Read, &facts, day(d));
    assert_eq!(on("2025-12-31"), Ok(()));
    assert_eq!(on("2026-01-01"), Err(Denial::NoRelationship));
}
