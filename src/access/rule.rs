//! Rule of access to one patient's data: pure, no I/O. The gate (`gate.rs`) gathers the facts
//! (who calls, the patient's managing organisation, care team and consents) and asks.
//!
//! Denials come in two kinds. A role that may never do an action on a kind of resource gets 403:
//! that says nothing about any patient. A caller without a relationship to the patient gets 404,
//! exactly as for a patient that does not exist, so probing ids reveals nothing.

use time::Date;

use super::consent::{self, Basis};
use super::matrix::{clears_restricted, role_allows};

use crate::auth::{Caller, Role};
use crate::error::ApiError;

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
    /// Erasing a patient (crypto-shredding).
    Erasure,
    /// Contact sheets (連絡票) about a patient: sending, reading, answering.
    ContactSheet,
    /// De-identified reports over the whole region, and the annual plan.
    Reports,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Write,
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
    /// A relationship, but no consent names the caller's organisation (404 too: the document's
    /// existence is itself information). The variants below are the other consent conditions
    /// that can fail; all answer the same 404 and differ only in the audit event.
    NoConsent,
    /// The consents that named the organisation were revoked.
    ConsentRevoked,
    /// The consents that named the organisation are outside their period (over or not begun).
    ConsentPeriod,
    /// A consent in force denies this document type.
    TypeDenied,
    /// No consent in force covers the request's purpose.
    PurposeNotCovered,
    /// Consents cover the purpose, but none permits this document type.
    TypeNotPermitted,
    /// A directory write outside the caller's own organisation, or creating one, by an admin who
    /// is not the operator's (403: the directory is public, so refusing reveals nothing).
    OtherOrganization,
    /// Publishing another facility's vacancies (403: the board is public, so refusing reveals nothing).
    NotOwnFacility,
}

impl From<Denial> for ApiError {
    fn from(denial: Denial) -> Self {
        match denial {
            Denial::Role => Self::Forbidden("your role may not do this".into()),
            Denial::NotManaging => Self::Forbidden("only the patient's managing organisation may do this".into()),
            Denial::NoRelationship => Self::NotFound("no such patient".into()),
            Denial::NoConsent
            | Denial::ConsentRevoked
            | Denial::ConsentPeriod
            | Denial::TypeDenied
            | Denial::PurposeNotCovered
            | Denial::TypeNotPermitted => Self::NotFound("no such document".into()),
            Denial::OtherOrganization => {
                Self::Forbidden("an organisation's admin manages only its own organisation and practitioners".into())
            }
            Denial::NotOwnFacility => {
                Self::Forbidden("only the facility's own staff, or the operator's admin, publish its vacancies".into())
            }
        }
    }
}

impl Denial {
    /// The failed condition as the audit event names it.
    pub fn condition(self) -> &'static str {
        match self {
            Denial::Role => "role",
            Denial::NotManaging => "not_managing",
            Denial::NoRelationship => "no_relationship",
            Denial::NoConsent => "no_consent",
            Denial::ConsentRevoked => "consent_revoked",
            Denial::ConsentPeriod => "period_over",
            Denial::TypeDenied => "type_denied",
            Denial::PurposeNotCovered => "purpose_not_covered",
            Denial::TypeNotPermitted => "type_not_permitted",
            Denial::OtherOrganization => "other_organization",
            Denial::NotOwnFacility => "not_own_facility",
        }
    }
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

/// Which organisations a consent names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentScope {
    /// Whoever is on the patient's care team at the time of the request.
    CareTeam,
    Organizations(Vec<String>),
}

/// A consent as the rule needs it.
#[derive(Debug, Clone)]
pub struct ConsentTerms {
    /// The consent and the version of it these terms are (named by the basis of an access).
    pub id: String,
    pub version: i32,
    pub active: bool,
    pub scope: ConsentScope,
    /// Document types shared; empty means every type.
    pub permitted_types: Vec<String>,
    /// Document types never shared (a deny provision: it wins over any permit).
    pub denied_types: Vec<String>,
    pub purposes: Vec<String>,
    pub start: Date,
    pub end: Option<Date>,
    /// Restricted fields are released to the named organisations too.
    pub release_restricted: bool,
}

impl ConsentTerms {
    pub(super) fn in_force(&self, today: Date) -> bool {
        self.active && self.start <= today && self.end.is_none_or(|end| today <= end)
    }

    pub(super) fn names(&self, org: &str, on_team: bool) -> bool {
        match &self.scope {
            ConsentScope::CareTeam => on_team,
            ConsentScope::Organizations(orgs) => orgs.iter().any(|o| o == org),
        }
    }
}

/// What the rule needs to know about one patient.
#[derive(Debug, Clone)]
pub struct PatientFacts {
    pub managing_organization: String,
    pub team: Vec<Membership>,
    pub consents: Vec<ConsentTerms>,
    /// Consultation desks that a consent of the patient names: for contact sheets they count as
    /// related to the patient without being on the care team (the consent's terms still apply).
    pub desks: Vec<String>,
}

/// The question: may this caller do this, to this patient's data, now?
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub caller: &'a Caller,
    pub operator_org: &'a str,
    pub resource: Resource,
    pub action: Action,
    /// The document type, for document requests.
    pub doc_type: Option<&'a str>,
    /// The caller holds an open break-glass grant for this patient.
    pub break_glass: bool,
    pub today: Date,
}

/// What an allowed request may see, and why it was allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// Restricted fields are shown (role cleared, or released by consent).
    pub restricted: bool,
    /// Allowed only because of break-glass (the audit event is flagged for review).
    pub by_break_glass: bool,
    /// What the access rests on (the audit event records it).
    pub basis: Basis,
}

/// Is the caller the operator's administrator (who acts across organisations)?
pub fn is_operator(caller: &Caller, operator_org: &str) -> bool {
    caller.role == Role::Admin && caller.org == operator_org
}

/// The request's purpose: the `X-Purpose` header or `purpose` claim, `treatment` by default.
pub fn purpose_of(caller: &Caller) -> &str {
    caller.purpose.as_deref().unwrap_or("treatment")
}

/// Roles that may open a record by break-glass.
pub fn may_break_glass(role: Role) -> bool {
    matches!(role, Role::Physician | Role::Nurse)
}

/// Releasing restricted fields (abuse concerns, psychiatric history, infections) by consent is a
/// clinical decision for the patient's own doctors: a role that may record consent and is
/// cleared for restricted fields, of the managing organisation. A care manager, or any
/// organisation on the team, could otherwise release them to itself.
pub fn may_release_restricted(caller: &Caller, managing_organization: &str) -> bool {
    role_allows(caller.role, Resource::Consent, Action::Write)
        && clears_restricted(caller.role)
        && caller.org == managing_organization
}

/// Rule 1 alone, for resources that are not a patient's (the directory, the audit log).
pub fn check(caller: &Caller, resource: Resource, action: Action) -> Result<(), Denial> {
    if role_allows(caller.role, resource, action) { Ok(()) } else { Err(Denial::Role) }
}

/// The access rule for a request on one patient's data:
/// 1. the role matrix lets the role do the action on the resource;
/// 2. the caller's organisation manages the patient or is on its care team, active today;
/// 3. for documents, unless the caller's organisation manages the patient, an active consent
///    names the organisation (or the care team) for this document type and purpose, and no deny
///    provision matches.
///
/// Break-glass (physician or nurse, reading) stands in for 2 and 3. Registering a patient and
/// managing its team need the managing organisation; recording consent too, except for a care
/// manager whose organisation is on the active care team.
pub fn decide(ask: &Ask<'_>, patient: &PatientFacts) -> Result<Allowed, Denial> {
    let caller = ask.caller;
    check(caller, ask.resource, ask.action)?;
    let cleared = clears_restricted(caller.role);
    let allow = |basis| Allowed { restricted: cleared, by_break_glass: false, basis };
    let emergency_allowed = Allowed { restricted: cleared, by_break_glass: true, basis: Basis::BreakGlass };
    if is_operator(caller, ask.operator_org) {
        return Ok(allow(Basis::Operator));
    }
    let organization = caller.org.clone();
    let managing = caller.org == patient.managing_organization;
    let on_team = patient.team.iter().any(|m| m.organization == caller.org && m.active_on(ask.today))
        || (ask.resource == Resource::ContactSheet && patient.desks.contains(&caller.org));
    // In Japan the care manager's office often collects the consent form, so a care manager on
    // the team records (and revokes) consent too; everything else here is the managing side's.
    let consent_by_care_manager = ask.resource == Resource::Consent && caller.role == Role::CareManager;
    let needs_managing = ask.action == Action::Write
        && matches!(ask.resource, Resource::Patient | Resource::CareTeam | Resource::Consent | Resource::Erasure)
        && !consent_by_care_manager;
    let emergency = ask.break_glass && ask.action == Action::Read && may_break_glass(caller.role);
    let relationship = match (managing, on_team, needs_managing) {
        (true, _, _) | (false, true, false) => Ok(()),
        (false, true, true) => Err(Denial::NotManaging),
        (false, false, _) => Err(Denial::NoRelationship),
    };
    if let Err(denial) = relationship {
        return if emergency && !needs_managing { Ok(emergency_allowed) } else { Err(denial) };
    }
    if managing {
        return Ok(allow(Basis::ManagingOrganization { organization }));
    }
    if !matches!(ask.resource, Resource::Document | Resource::ContactSheet) {
        return Ok(allow(Basis::CareTeam { organization }));
    }
    match consent::consent_for(ask, patient, on_team) {
        Ok(c) => Ok(Allowed {
            restricted: cleared || c.release_restricted,
            by_break_glass: false,
            basis: Basis::Consent { organization, consent_id: c.id.clone(), consent_version: c.version },
        }),
        Err(_) if emergency => Ok(emergency_allowed),
        Err(denial) => Err(denial),
    }
}
