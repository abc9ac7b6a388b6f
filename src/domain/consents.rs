//! Consent records: grant, list, revoke. Opt-in: without an active consent only the managing
//! organisation sees the patient's documents. The proxy's name and the revocation reason are
//! sealed under the patient's data key.

use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::access::{self, PatientFacts, Resource};
use crate::audit::Event;
use crate::authorize::{Want, authorise};
use crate::clock;
use crate::context::Context;
use crate::crypto::{DataKey, FieldContext};
use crate::db::DbConn;
use crate::db::consents::ConsentRow;
use crate::db::directory::OrganizationRow;
use crate::db::patients::PatientRow;
use crate::domain::fields::Errors;
use crate::domain::params::{self, UnknownWord};
pub use crate::domain::proxy::{Proxy, Relation};
use crate::error::ApiError;
use crate::ids::PatientId;
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

/// How the consent was given.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ObtainedBy {
    /// The patient signed a consent form (同意書).
    SignedForm,
    /// The patient agreed orally.
    Verbal,
    /// A family member consented for the patient; `proxy` names them.
    Proxy,
}

impl ObtainedBy {
    /// Every way, in declaration order.
    pub const ALL: [ObtainedBy; 3] = [ObtainedBy::SignedForm, ObtainedBy::Verbal, ObtainedBy::Proxy];

    /// The stored word; identical to the serde name (a test keeps them equal).
    pub fn as_str(self) -> &'static str {
        match self {
            ObtainedBy::SignedForm => "signed_form",
            ObtainedBy::Verbal => "verbal",
            ObtainedBy::Proxy => "proxy",
        }
    }
}

impl FromStr for ObtainedBy {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        params::from_word(&Self::ALL, Self::as_str, "way of consent", s)
    }
}

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
    fn check(&self, state: &AppState) -> Result<(), ApiError> {
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

    fn check_organizations(&self, conn: &mut DbConn) -> Result<(), ApiError> {
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

    /// The row to insert, its proxy sealed under `key`.
    fn into_row(self, key: &DataKey, patient_id: &str, ctx: &Context) -> Result<ConsentRow, ApiError> {
        let mut row = ConsentRow {
            id: uuid::Uuid::new_v4().to_string(),
            patient_id: patient_id.to_owned(),
            status: "active".into(),
            organizations: text(&self.organizations)?,
            permitted_types: text(&self.permitted_types)?,
            denied_types: text(&self.denied_types)?,
            purposes: text(&self.purposes)?,
            period_start: self.period.start,
            period_end: self.period.end,
            obtained_by: self.obtained_by.as_str().to_owned(),
            proxy: None,
            release_restricted: self.release_restricted,
            recorded_by: ctx.caller.sub.clone(),
            recorded_org: ctx.caller.org.clone(),
            recorded_at: clock::now(),
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            version: 1,
        };
        // Sealed once the row exists: the seal is bound to the consent's own id.
        if let Some(proxy) = &self.proxy {
            row.proxy = Some(seal(key, &row, "/proxy", &json!(proxy))?);
        }
        Ok(row)
    }
}

fn at<'a>(row: &'a ConsentRow, pointer: &'a str) -> FieldContext<'a> {
    FieldContext { patient_id: &row.patient_id, document_id: &row.id, version: 1, pointer }
}

fn seal(key: &DataKey, row: &ConsentRow, pointer: &str, value: &Value) -> Result<String, ApiError> {
    key.seal(&at(row, pointer), value).map_err(ApiError::internal)
}

fn open_str(key: &DataKey, row: &ConsentRow, pointer: &str, sealed: Option<&str>) -> Result<Option<Value>, ApiError> {
    sealed.map(|s| key.open(&at(row, pointer), s).map_err(ApiError::internal)).transpose()
}

/// The proxy, opened from its seal (old free-text relations read as codes, see `Proxy`).
fn open_proxy(key: &DataKey, row: &ConsentRow) -> Result<Option<Proxy>, ApiError> {
    match open_str(key, row, "/proxy", row.proxy.as_deref())? {
        None => Ok(None),
        Some(v) => Proxy::from_stored(v).map(Some).ok_or_else(|| ApiError::internal("stored proxy")),
    }
}

/// The coded relation of the family member who consented; name and note stay sealed (the
/// consent log shows the relation only).
pub(super) fn proxy_relation(key: &DataKey, row: &ConsentRow) -> Result<Option<Relation>, ApiError> {
    Ok(open_proxy(key, row)?.map(|p| p.relation))
}

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, ApiError> {
    serde_json::from_str(json).map_err(ApiError::internal)
}

fn text<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

pub(crate) fn reveal(key: &DataKey, row: &ConsentRow) -> Result<Consent, ApiError> {
    let proxy = open_proxy(key, row)?;
    let revoke_reason =
        open_str(key, row, "/revoke_reason", row.revoke_reason.as_deref())?.and_then(|v| v.as_str().map(str::to_owned));
    Ok(Consent {
        id: row.id.clone(),
        patient_id: row.patient_id.clone(),
        status: row.status.clone(),
        organizations: parse(&row.organizations)?,
        permitted_types: parse(&row.permitted_types)?,
        denied_types: parse(&row.denied_types)?,
        purposes: parse(&row.purposes)?,
        period: Period { start: row.period_start.clone(), end: row.period_end.clone() },
        obtained_by: row.obtained_by.parse().map_err(ApiError::internal)?,
        proxy,
        release_restricted: row.release_restricted,
        recorded_by: row.recorded_by.clone(),
        recorded_at: row.recorded_at.clone(),
        revoked_at: row.revoked_at.clone(),
        revoked_by: row.revoked_by.clone(),
        revoke_reason,
        warnings: Vec::new(),
    })
}

/// Records a consent (physician, care manager of the managing organisation).
pub async fn create(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    input: ConsentInput,
) -> Result<Consent, ApiError> {
    super::write(state, Event::new(&ctx, "consent.create"), 201, move |tx, st, ev| {
        // Authorised first: a caller without access learns nothing, not even from a 422.
        let access = authorise(tx, st, &ctx.caller, &patient, Want::write(Resource::Consent), ev)?;
        if input.release_restricted {
            may_release_restricted(&ctx, &access.patient)?;
        }
        input.check(st)?;
        input.check_organizations(tx)?;
        let key = st.data_key(&access.patient)?;
        let row = input.into_row(&key, &access.patient.id, &ctx)?;
        ev.resource_type = Some("consent");
        ev.resource_id = Some(row.id.clone());
        row.insert(tx)?;
        super::consent_log::record_version(tx, &row, ev)?;
        if row.release_restricted {
            flag_release(tx, ev)?;
        }
        let mut consent = reveal(&key, &row)?;
        consent.warnings = off_the_team(&consent.organizations, &access.facts, st.calendar.today());
        Ok(consent)
    })
    .await
}

/// The audit action of a consent that releases restricted fields: auditors review each one
/// (`POST /v1/audit-events/{seq}/review`), as they review break-glass accesses.
pub const RELEASE_ACTION: &str = "consent.release_restricted";

/// 403 unless the caller may release restricted fields (`access::may_release_restricted`).
fn may_release_restricted(ctx: &Context, patient: &PatientRow) -> Result<(), ApiError> {
    if access::may_release_restricted(&ctx.caller, &patient.managing_organization_id) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "release_restricted: only a physician of the managing organisation may release restricted fields".into(),
        ))
    }
}

/// The release's own event, beside `consent.create`, for auditors to find and review.
fn flag_release(tx: &mut DbConn, ev: &Event) -> Result<(), ApiError> {
    let mut flag = ev.clone();
    flag.action = RELEASE_ACTION;
    flag.digest = None;
    crate::audit::append(tx, &flag, "allowed", 201).map(drop)
}

/// The named organisations that could not use the consent today: neither managing the patient
/// nor on its active care team.
fn off_the_team(named: &ConsentOrganizations, facts: &PatientFacts, today: time::Date) -> Vec<String> {
    let ConsentOrganizations::List(orgs) = named else { return Vec::new() };
    orgs.iter()
        .filter(|org| {
            **org != facts.managing_organization
                && !facts.team.iter().any(|m| &m.organization == *org && m.active_on(today))
        })
        .map(|org| format!("organisation {org} is not on the patient's care team: it sees nothing until it is added"))
        .collect()
}

/// A patient's consents, active and revoked, oldest first.
pub async fn list(state: &Arc<AppState>, ctx: Context, patient: PatientId) -> Result<ConsentList, ApiError> {
    let items = super::read(state, Event::new(&ctx, "consent.list"), move |conn, st, ev| {
        let access = authorise(conn, st, &ctx.caller, &patient, Want::read(Resource::Consent), ev)?;
        let key = st.data_key(&access.patient)?;
        ConsentRow::for_patient(conn, &access.patient.id)?.iter().map(|row| reveal(&key, row)).collect()
    })
    .await?;
    Ok(ConsentList { items })
}

/// Revokes an active consent, the reason sealed: a new version of it, whose digest the event
/// carries. It stops counting from the next request on.
pub async fn revoke(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    consent_id: String,
    input: RevokeInput,
) -> Result<Consent, ApiError> {
    let event = Event::new(&ctx, "consent.revoke").resource("consent", &consent_id);
    super::write(state, event, 200, move |tx, st, ev| {
        let access = authorise(tx, st, &ctx.caller, &patient, Want::write(Resource::Consent), ev)?;
        let mut errors = Errors::default();
        errors.text("/reason", &input.reason, 1000);
        errors.finish()?;
        let key = st.data_key(&access.patient)?;
        let row = ConsentRow::find(tx, &access.patient.id, &consent_id)?
            .ok_or_else(|| ApiError::NotFound("no such consent".into()))?;
        let reason = seal(&key, &row, "/revoke_reason", &json!(input.reason))?;
        if !ConsentRow::revoke(tx, &row.id, &ctx.caller.sub, &clock::now(), &reason)? {
            return Err(ApiError::Conflict("this consent is not active".into()));
        }
        let row = ConsentRow::find(tx, &access.patient.id, &consent_id)?
            .ok_or_else(|| ApiError::internal("revoked consent vanished"))?;
        super::consent_log::record_version(tx, &row, ev)?;
        reveal(&key, &row)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_words_are_the_wire_words() {
        for way in ObtainedBy::ALL {
            assert_eq!(serde_json::to_value(way).unwrap(), json!(way.as_str()));
            assert_eq!(way.as_str().parse::<ObtainedBy>().unwrap(), way);
        }
        assert!("signed form".parse::<ObtainedBy>().is_err());
    }
}
