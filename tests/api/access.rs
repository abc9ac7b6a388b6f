//! The role matrix, table-driven: an independent statement of who may do what, checked against
//! the code's matrix, and the rendered `docs/roles.md` kept in step with it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use carepath::access::{self, Action, Ask, ConsentScope, ConsentTerms, Denial, Membership, PatientFacts, Resource};
use carepath::auth::{Caller, Role};

// role, then per resource (directory, patient, care team, document, consent, audit, erasure, reports): "", "r", "rw".
#[rustfmt::skip]
const EXPECTED: &[(&str, [&str; 8])] = &[
    ("physician",     ["r",  "rw", "rw", "rw", "rw", "", "", ""]),
    ("dentist",       ["r",  "r",  "r",  "rw", "r",  "", "", ""]),
    ("pharmacist",    ["r",  "r",  "r",  "rw", "r",  "", "", ""]),
    ("nurse",         ["r",  "r",  "r",  "rw", "r",  "", "", ""]),
    ("therapist",     ["r",  "r",  "r",  "rw", "r",  "", "", ""]),
    ("care_manager",  ["r",  "rw", "rw", "rw", "rw", "", "", ""]),
    ("care_worker",   ["r",  "r",  "r",  "r",  "",   "", "", ""]),
    ("social_worker", ["r",  "r",  "r",  "rw", "r",  "", "", ""]),
    ("admin",         ["rw", "rw", "rw", "",   "",   "", "rw", "rw"]),
    ("auditor",       ["r",  "",   "",   "",   "",   "rw", "", ""]),
    ("analyst",       ["r",  "",   "",   "",   "",   "",   "", "rw"]),
];

const RESOURCES: [Resource; 8] = [
    Resource::Directory,
    Resource::Patient,
    Resource::CareTeam,
    Resource::Document,
    Resource::Consent,
    Resource::Audit,
    Resource::Erasure,
    Resource::Reports,
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

/// Who may record a consent that releases restricted fields (issue 26 item 3): consent write and
/// restricted clearance, of the managing organisation. Every role, at the managing organisation
/// and at another one on the team.
#[test]
fn only_a_cleared_consent_writer_of_the_managing_organisation_releases_restricted_fields() {
    for &role in Role::ALL {
        let expected = role == Role::Physician;
        assert_eq!(access::may_release_restricted(&caller(role, "clinic"), "clinic"), expected, "{role:?} managing");
        assert!(!access::may_release_restricted(&caller(role, "station"), "clinic"), "{role:?} on the team");
    }
}

#[test]
fn every_role_has_exactly_one_row() {
    for &role in Role::ALL {
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

fn ask<'a>(caller: &'a Caller, resource: Resource, action: Action, doc_type: Option<&'a str>, today: &str) -> Ask<'a> {
    Ask { caller, operator_org: "op", resource, action, doc_type, break_glass: false, today: day(today) }
}

fn team_facts() -> PatientFacts {
    PatientFacts {
        managing_organization: "clinic".into(),
        team: vec![
            Membership { organization: "station".into(), since: day("2026-01-01"), until: None },
            Membership { organization: "old".into(), since: day("2025-01-01"), until: Some(day("2025-12-31")) },
            Membership { organization: "future".into(), since: day("2027-01-01"), until: None },
            Membership { organization: "pharmacy".into(), since: day("2026-01-01"), until: None },
        ],
        consents: Vec::new(),
        desks: Vec::new(),
    }
}

fn consent(scope: ConsentScope) -> ConsentTerms {
    ConsentTerms {
        id: "consent-1".into(),
        version: 1,
        active: true,
        scope,
        permitted_types: vec![],
        denied_types: vec![],
        purposes: vec!["treatment".into(), "care_coordination".into()],
        start: day("2026-01-01"),
        end: Some(day("2026-12-31")),
        release_restricted: false,
    }
}

#[test]
fn relationship_decides_between_allow_403_and_404() {
    let facts = team_facts();
    let check = |role, org: &str, resource, action| {
        let c = caller(role, org);
        access::decide(&ask(&c, resource, action, None, "2026-06-01"), &facts).map(|_| ())
    };
    assert_eq!(check(Role::Physician, "clinic", Resource::Patient, Action::Write), Ok(()));
    assert_eq!(check(Role::Nurse, "station", Resource::Patient, Action::Read), Ok(()));
    assert_eq!(check(Role::CareManager, "station", Resource::CareTeam, Action::Write), Err(Denial::NotManaging));
    assert_eq!(check(Role::Nurse, "old", Resource::Patient, Action::Read), Err(Denial::NoRelationship));
    assert_eq!(check(Role::Nurse, "future", Resource::Patient, Action::Read), Err(Denial::NoRelationship));
    assert_eq!(check(Role::Physician, "elsewhere", Resource::Patient, Action::Read), Err(Denial::NoRelationship));
    assert_eq!(check(Role::Nurse, "clinic", Resource::Patient, Action::Write), Err(Denial::Role));
    assert_eq!(check(Role::Auditor, "clinic", Resource::Document, Action::Read), Err(Denial::Role));
    assert_eq!(check(Role::Admin, "op", Resource::CareTeam, Action::Write), Ok(()));
    assert_eq!(check(Role::Admin, "op", Resource::Document, Action::Read), Err(Denial::Role));
    // The last day of a membership still counts; the day after does not.
    let nurse = caller(Role::Nurse, "old");
    let on = |d| access::decide(&ask(&nurse, Resource::Patient, Action::Read, None, d), &facts).map(|_| ());
    assert_eq!(on("2025-12-31"), Ok(()));
    assert_eq!(on("2026-01-01"), Err(Denial::NoRelationship));
}

#[test]
fn documents_need_consent_except_for_the_managing_organisation() {
    let mut facts = team_facts();
    let nurse = caller(Role::Nurse, "station");
    let doc = |facts: &PatientFacts, c: &Caller, t: &str, today: &str| {
        access::decide(&ask(c, Resource::Document, Action::Read, Some(t), today), facts)
    };
    let physician = caller(Role::Physician, "clinic");
    assert!(doc(&facts, &physician, "care-path", "2026-06-01").is_ok(), "opt-in: the managing organisation sees");
    assert_eq!(doc(&facts, &nurse, "care-path", "2026-06-01"), Err(Denial::NoConsent), "no consent, no documents");

    facts.consents.push(consent(ConsentScope::CareTeam));
    assert!(doc(&facts, &nurse, "care-path", "2026-06-01").is_ok());
    assert_eq!(doc(&facts, &nurse, "care-path", "2027-01-01"), Err(Denial::ConsentPeriod), "after the period");
    let mut emergency = nurse.clone();
    emergency.purpose = Some("research".into());
    assert_eq!(doc(&facts, &emergency, "care-path", "2026-06-01"), Err(Denial::PurposeNotCovered), "purpose not named");

    // A deny provision wins over the permit.
    facts
        .consents
        .push(ConsentTerms { denied_types: vec!["visiting-nursing-report".into()], ..consent(ConsentScope::CareTeam) });
    assert_eq!(doc(&facts, &nurse, "visiting-nursing-report", "2026-06-01"), Err(Denial::TypeDenied));
    assert!(doc(&facts, &nurse, "care-path", "2026-06-01").is_ok());

    // Named organisations only; revoked consents count for nothing.
    let mut named = team_facts();
    named.consents.push(ConsentTerms {
        permitted_types: vec!["contact-sheet".into()],
        ..consent(ConsentScope::Organizations(vec!["pharmacy".into()]))
    });
    let pharmacist = caller(Role::Pharmacist, "pharmacy");
    assert!(doc(&named, &pharmacist, "contact-sheet", "2026-06-01").is_ok());
    assert_eq!(doc(&named, &pharmacist, "care-path", "2026-06-01"), Err(Denial::TypeNotPermitted));
    assert_eq!(doc(&named, &nurse, "contact-sheet", "2026-06-01"), Err(Denial::NoConsent));
    named.consents[0].active = false;
    assert_eq!(doc(&named, &pharmacist, "contact-sheet", "2026-06-01"), Err(Denial::ConsentRevoked));
}

#[test]
fn restricted_fields_follow_the_role_or_an_explicit_release() {
    let mut facts = team_facts();
    facts.consents.push(consent(ConsentScope::CareTeam));
    let read = |facts: &PatientFacts, c: &Caller| {
        access::decide(&ask(c, Resource::Document, Action::Read, Some("care-path"), "2026-06-01"), facts).unwrap()
    };
    assert!(read(&facts, &caller(Role::Nurse, "station")).restricted);
    assert!(!read(&facts, &caller(Role::Pharmacist, "pharmacy")).restricted);
    assert!(!read(&facts, &caller(Role::CareManager, "clinic")).restricted);
    facts.consents[0].release_restricted = true;
    assert!(read(&facts, &caller(Role::Pharmacist, "pharmacy")).restricted);
}

#[test]
fn break_glass_opens_reads_for_physicians_and_nurses_only() {
    let facts = team_facts();
    let glass = |role, action| {
        let c = caller(role, "elsewhere");
        access::decide(
            &Ask { break_glass: true, ..ask(&c, Resource::Document, action, Some("care-path"), "2026-06-01") },
            &facts,
        )
    };
    let allowed = glass(Role::Physician, Action::Read).unwrap();
    assert!(allowed.by_break_glass && allowed.restricted);
    assert!(glass(Role::Nurse, Action::Read).unwrap().by_break_glass);
    assert_eq!(glass(Role::Physician, Action::Write), Err(Denial::NoRelationship));
    assert_eq!(glass(Role::CareManager, Action::Read), Err(Denial::NoRelationship));
}
