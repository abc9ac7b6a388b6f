//! A consent's terms as written and as answered: the request and response types and the checks
//! of a new consent's input.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::proxy::Proxy;
use crate::db::DbConn;
use crate::db::directory::OrganizationRow;
use crate::domain::fields::Errors;
use crate::domain::params::{self, words};
use crate::error::ApiError;
use crate::state::AppState;

/// Which organisations the consent names: a list of ids, or `"care_team"`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ConsentOrganizations {
    /// `"care_team"`: whoever is on the care team at the time of a request.
    #[schema(value_type = CareTeamWord)]
    CareTeam(String),
    /// Ids of organisations of the directory (another id is a 422 naming it); at least one.
    #[schema(value_type = Vec<String>)]
    List(Vec<String>),
}

/// The one word `organizations` takes instead of a list (schema only).
#[derive(Serialize, ToSchema)]
#[allow(
    missing_docs,
    reason = "schema only: its words are the documentation; variant comments would turn the enum into a oneOf"
)]
#[serde(rename_all = "snake_case")]
pub enum CareTeamWord {
    CareTeam,
}

/// The status a consent is recorded with (schema only: a new consent is always active).
#[derive(Serialize, ToSchema)]
#[allow(
    missing_docs,
    reason = "schema only: its words are the documentation; variant comments would turn the enum into a oneOf"
)]
#[serde(rename_all = "snake_case")]
pub enum NewConsentStatus {
    Active,
}

/// A purpose of use (schema only): a lowercase word such as `treatment`.
#[derive(Serialize, ToSchema)]
#[schema(pattern = r"^[a-z0-9_]{1,50}$", example = "treatment")]
pub struct Purpose(String);

/// The days a consent counts: from `start` to `end` inclusive, open-ended without `end`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// First day, YYYY-MM-DD.
    #[schema(format = Date)]
    pub start: String,
    /// Last day (inclusive), YYYY-MM-DD, not before `start`; open-ended when absent.
    #[schema(format = Date)]
    pub end: Option<String>,
}

words!(
    /// How the consent was given.
    ObtainedBy, "way of consent", [
        /// The patient signed a consent form (同意書).
        SignedForm = "signed_form",
        /// The patient agreed orally.
        Verbal = "verbal",
        /// A family member consented for the patient; `proxy` names them.
        Proxy = "proxy",
    ]
);

/// A consent as recorded.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// Must be `active`.
    #[schema(value_type = NewConsentStatus)]
    pub status: String,
    /// The organisations the patient consents to share with.
    pub organizations: ConsentOrganizations,
    /// Document types shared; empty or absent: every type.
    #[serde(default)]
    pub permitted_types: Vec<String>,
    /// Document types never shared with the named organisations.
    #[serde(default)]
    pub denied_types: Vec<String>,
    /// `treatment`, `care_coordination`, `emergency`, ...: at least one.
    #[schema(value_type = Vec<Purpose>, min_items = 1)]
    pub purposes: Vec<String>,
    /// `end`, when given, must not be before `start` (a 422 naming `/period/end`).
    pub period: Period,
    /// How the consent was given.
    pub obtained_by: ObtainedBy,
    /// Required when `obtained_by` is `proxy` (else a 422 naming `/proxy`).
    pub proxy: Option<Proxy>,
    /// Release restricted fields to the named organisations as well.
    #[serde(default)]
    pub release_restricted: bool,
}

/// A consent as answered, with its revocation once revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct Consent {
    /// The consent id (a UUID).
    pub id: String,
    /// The patient who consented.
    pub patient_id: String,
    /// `active`, or `revoked` once revoked.
    pub status: String,
    /// The organisations the patient consents to share with.
    pub organizations: ConsentOrganizations,
    /// Document types shared; empty: every type.
    pub permitted_types: Vec<String>,
    /// Document types never shared with the named organisations.
    pub denied_types: Vec<String>,
    /// What the sharing is for.
    pub purposes: Vec<String>,
    /// The days the consent counts.
    pub period: Period,
    /// How the consent was given.
    pub obtained_by: ObtainedBy,
    /// Who consented for the patient, when a family member did.
    pub proxy: Option<Proxy>,
    /// Whether restricted fields are released to the named organisations as well.
    pub release_restricted: bool,
    /// The practitioner (token `sub`) who recorded the consent.
    pub recorded_by: String,
    /// When it was recorded; RFC 3339 in UTC, e.g. `2025-04-01T09:30:00.000000Z`.
    pub recorded_at: String,
    /// When it was revoked; same format. Absent while active.
    pub revoked_at: Option<String>,
    /// The practitioner who revoked it.
    pub revoked_by: Option<String>,
    /// Why it was revoked.
    pub revoke_reason: Option<String>,
    /// Said when a consent is recorded: named organisations that are not on the patient's
    /// active care team, and so will see nothing until they are added to it (sharing needs both
    /// the patient's consent and a place on the team).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Why a consent is revoked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeInput {
    /// Free text, at most 1000 characters.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// A patient's consents, active and revoked, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentList {
    /// The consents.
    pub items: Vec<Consent>,
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 50 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl ConsentInput {
    pub(super) fn check(&self, state: &AppState) -> Result<(), ApiError> {
        let mut errors = Errors::default();
        if self.status != "active" {
            errors.add("/status", "a new consent must be active");
        }
        match &self.organizations {
            ConsentOrganizations::CareTeam(s) if s != "care_team" => {
                errors.add("/organizations", "must be a list of organisation ids or \"care_team\"")
            }
            ConsentOrganizations::List(list) if list.is_empty() => errors.add("/organizations", "must name someone"),
            _ => {}
        }
        for (field, types) in [("permitted_types", &self.permitted_types), ("denied_types", &self.denied_types)] {
            for (i, t) in types.iter().enumerate() {
                if !state.schemas.has_type(t) {
                    errors.add(format!("/{field}/{i}"), format!("unknown document type {t}"));
                }
            }
        }
        if self.purposes.is_empty() {
            errors.add("/purposes", "must name at least one purpose");
        }
        for (i, p) in self.purposes.iter().enumerate() {
            if !is_token(p) {
                errors.add(format!("/purposes/{i}"), "must be a lowercase word like treatment or care_coordination");
            }
        }
        params::day_range(&mut errors, "/period/start", &self.period.start, "/period/end", self.period.end.as_deref());
        match (&self.proxy, self.obtained_by) {
            (None, ObtainedBy::Proxy) => errors.add("/proxy", "name the family member who consented"),
            (Some(p), _) => p.check(&mut errors),
            _ => {}
        }
        errors.finish()
    }

    pub(super) fn check_organizations(&self, conn: &mut DbConn) -> Result<(), ApiError> {
        let mut errors = Errors::default();
        if let ConsentOrganizations::List(list) = &self.organizations {
            for (i, org) in list.iter().enumerate() {
                if !OrganizationRow::exists(conn, org)? {
                    errors.add(format!("/organizations/{i}"), "no such organization");
                }
            }
        }
        errors.finish()
    }
}
