//! Consent records: grant, list, revoke. Opt-in: without an active consent only the managing
//! organisation sees the patient's documents. The proxy's name and the revocation reason are
//! sealed under the patient's data key.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::access::{Action, Resource};
use crate::api::json::ApiJson;
use crate::audit::Event;
use crate::authorize::authorise;
use crate::clock;
use crate::context::Context;
use crate::crypto::{DataKey, FieldContext};
use crate::db::DbConn;
use crate::db::consents::ConsentRow;
use crate::db::directory::OrganizationRow;
use crate::domain;
use crate::domain::documents::data_key;
use crate::domain::fields::Errors;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Which organisations the consent names: a list of ids, or `"care_team"`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ConsentOrganizations {
    /// `"care_team"`: whoever is on the care team at the time of a request.
    CareTeam(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Period {
    #[schema(format = Date)]
    pub start: String,
    /// Inclusive; open-ended when absent.
    #[schema(format = Date)]
    pub end: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ObtainedBy {
    SignedForm,
    Verbal,
    Proxy,
}

/// A family member consenting for the patient.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Proxy {
    pub name: String,
    pub relation: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// Must be `active`.
    pub status: String,
    pub organizations: ConsentOrganizations,
    /// Document types shared; empty or absent: every type.
    #[serde(default)]
    pub permitted_types: Vec<String>,
    /// Document types never shared with the named organisations.
    #[serde(default)]
    pub denied_types: Vec<String>,
    /// `treatment`, `care_coordination`, `emergency`, ...
    pub purposes: Vec<String>,
    pub period: Period,
    pub obtained_by: ObtainedBy,
    pub proxy: Option<Proxy>,
    /// Release restricted fields to the named organisations as well.
    #[serde(default)]
    pub release_restricted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Consent {
    pub id: String,
    pub patient_id: String,
    pub status: String,
    pub organizations: ConsentOrganizations,
    pub permitted_types: Vec<String>,
    pub denied_types: Vec<String>,
    pub purposes: Vec<String>,
    pub period: Period,
    pub obtained_by: ObtainedBy,
    pub proxy: Option<Proxy>,
    pub release_restricted: bool,
    pub recorded_by: String,
    pub recorded_at: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeInput {
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentList {
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
        let start = clock::parse_day(&self.period.start);
        if start.is_none() {
            errors.add("/period/start", "must be a real date, YYYY-MM-DD");
        }
        if let Some(end) = &self.period.end {
            match clock::parse_day(end) {
                None => errors.add("/period/end", "must be a real date, YYYY-MM-DD"),
                Some(e) if start.is_some_and(|s| e < s) => errors.add("/period/end", "must not be before start"),
                Some(_) => {}
            }
        }
        match (&self.proxy, self.obtained_by) {
            (None, ObtainedBy::Proxy) => errors.add("/proxy", "name the family member who consented"),
            (Some(p), _) => {
                errors.text("/proxy/name", &p.name, 200);
                errors.text("/proxy/relation", &p.relation, 100);
            }
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

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, ApiError> {
    serde_json::from_str(json).map_err(ApiError::internal)
}

fn reveal(key: &DataKey, row: &ConsentRow) -> Result<Consent, ApiError> {
    let proxy = open_str(key, row, "/proxy", row.proxy.as_deref())?
        .map(serde_json::from_value)
        .transpose()
        .map_err(ApiError::internal)?;
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
        obtained_by: serde_json::from_value(Value::String(row.obtained_by.clone())).map_err(ApiError::internal)?,
        proxy,
        release_restricted: row.release_restricted,
        recorded_by: row.recorded_by.clone(),
        recorded_at: row.recorded_at.clone(),
        revoked_at: row.revoked_at.clone(),
        revoked_by: row.revoked_by.clone(),
        revoke_reason,
    })
}

fn text<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

/// Record a consent (physician, care manager of the managing organisation).
#[utoipa::path(post, path = "/v1/patients/{id}/consents", tag = "consents", request_body = ConsentInput,
    security(("bearer" = [])),
    responses((status = 201, body = Consent, headers(("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_consent(
    state: web::Data<AppState>,
    ctx: Context,
    patient: web::Path<String>,
    ApiJson(input): ApiJson<ConsentInput>,
) -> Result<HttpResponse, ApiError> {
    let caller = ctx.caller.clone();
    input.check(&state)?;
    let patient = patient.into_inner();
    let consent = domain::write(&state, Event::new(&ctx, "consent.create"), 201, move |tx, st, ev| {
        let access = authorise(tx, st, &ctx.caller, &patient, Resource::Consent, Action::Write, None, ev)?;
        input.check_organizations(tx)?;
        let key = data_key(st, &access.patient)?;
        let obtained_by = match serde_json::to_value(input.obtained_by).map_err(ApiError::internal)? {
            Value::String(s) => s,
            _ => return Err(ApiError::internal("obtained_by")),
        };
        let mut row = ConsentRow {
            id: uuid::Uuid::new_v4().to_string(),
            patient_id: access.patient.id.clone(),
            status: "active".into(),
            organizations: text(&input.organizations)?,
            permitted_types: text(&input.permitted_types)?,
            denied_types: text(&input.denied_types)?,
            purposes: text(&input.purposes)?,
            period_start: input.period.start.clone(),
            period_end: input.period.end.clone(),
            obtained_by,
            proxy: None,
            release_restricted: input.release_restricted,
            recorded_by: caller.sub.clone(),
            recorded_org: caller.org.clone(),
            recorded_at: clock::now(),
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
        };
        if let Some(proxy) = &input.proxy {
            row.proxy = Some(seal(&key, &row, "/proxy", &json!(proxy))?);
        }
        ev.resource_type = Some("consent");
        ev.resource_id = Some(row.id.clone());
        row.insert(tx)?;
        reveal(&key, &row)
    })
    .await?;
    let location = format!("/v1/patients/{}/consents/{}", consent.patient_id, consent.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(consent))
}

/// List a patient's consents, active and revoked, oldest first.
#[utoipa::path(get, path = "/v1/patients/{id}/consents", tag = "consents", security(("bearer" = [])),
    responses((status = 200, body = ConsentList), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_consents(
    state: web::Data<AppState>,
    ctx: Context,
    patient: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let patient = patient.into_inner();
    let items = domain::read(&state, Event::new(&ctx, "consent.list"), move |conn, st, ev| {
        let access = authorise(conn, st, &ctx.caller, &patient, Resource::Consent, Action::Read, None, ev)?;
        let key = data_key(st, &access.patient)?;
        ConsentRow::for_patient(conn, &access.patient.id)?.iter().map(|row| reveal(&key, row)).collect()
    })
    .await?;
    Ok(HttpResponse::Ok().json(ConsentList { items }))
}

/// Revoke a consent; it stops counting from the next request on.
#[utoipa::path(post, path = "/v1/patients/{id}/consents/{cid}/revoke", tag = "consents", request_body = RevokeInput,
    security(("bearer" = [])),
    responses((status = 200, body = Consent), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already revoked", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_consent(
    state: web::Data<AppState>,
    ctx: Context,
    path: web::Path<(String, String)>,
    ApiJson(input): ApiJson<RevokeInput>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Errors::default();
    errors.text("/reason", &input.reason, 1000);
    errors.finish()?;
    let (patient, consent_id) = path.into_inner();
    let consent = domain::write(
        &state,
        Event::new(&ctx, "consent.revoke").resource("consent", &consent_id),
        200,
        move |tx, st, ev| {
            let access = authorise(tx, st, &ctx.caller, &patient, Resource::Consent, Action::Write, None, ev)?;
            let key = data_key(st, &access.patient)?;
            let row = ConsentRow::find(tx, &access.patient.id, &consent_id)?
                .ok_or_else(|| ApiError::NotFound("no such consent".into()))?;
            let reason = seal(&key, &row, "/revoke_reason", &json!(input.reason))?;
            if !ConsentRow::revoke(tx, &row.id, &ctx.caller.sub, &clock::now(), &reason)? {
                return Err(ApiError::Conflict("this consent is not active".into()));
            }
            let row = ConsentRow::find(tx, &access.patient.id, &consent_id)?
                .ok_or_else(|| ApiError::internal("revoked consent vanished"))?;
            reveal(&key, &row)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(consent))
}
