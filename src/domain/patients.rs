//! Patients. Identifying fields are sealed one by one under the patient's data key before they
//! reach the database; the insured number is found through its keyed blind index.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::access::{self, Action, Denial, PatientFacts, Resource};
use crate::audit::Event;
use crate::authorize::{self, Want, authorise, facts};
use crate::clock;
use crate::context::Context;
use crate::crypto::{DataKey, FieldContext, Keyring};
use crate::db::DbConn;
use crate::db::directory::OrganizationRow;
use crate::db::patients::PatientRow;
use crate::domain::fields::{self, Address, Errors};
use crate::domain::paging::{self, Page};
use crate::domain::params::{self, UnknownWord};
use crate::error::ApiError;
use crate::ids::PatientId;
use crate::state::AppState;

/// 要介護度: the long-term-care certification level.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CareLevel {
    /// 要支援1
    #[serde(rename = "support_1")]
    Support1,
    /// 要支援2
    #[serde(rename = "support_2")]
    Support2,
    /// 要介護1
    #[serde(rename = "care_1")]
    Care1,
    /// 要介護2
    #[serde(rename = "care_2")]
    Care2,
    /// 要介護3
    #[serde(rename = "care_3")]
    Care3,
    /// 要介護4
    #[serde(rename = "care_4")]
    Care4,
    /// 要介護5
    #[serde(rename = "care_5")]
    Care5,
    /// 非該当: assessed and not certified as needing support or care.
    NotCertified,
    /// 申請中: certification applied for, not yet decided.
    Pending,
}

impl CareLevel {
    /// Every level, in declaration order.
    pub const ALL: [CareLevel; 9] = [
        Self::Support1,
        Self::Support2,
        Self::Care1,
        Self::Care2,
        Self::Care3,
        Self::Care4,
        Self::Care5,
        Self::NotCertified,
        Self::Pending,
    ];

    /// The stored word; identical to the serde name (a test keeps them equal).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Support1 => "support_1",
            Self::Support2 => "support_2",
            Self::Care1 => "care_1",
            Self::Care2 => "care_2",
            Self::Care3 => "care_3",
            Self::Care4 => "care_4",
            Self::Care5 => "care_5",
            Self::NotCertified => "not_certified",
            Self::Pending => "pending",
        }
    }
}

impl FromStr for CareLevel {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        params::from_word(&Self::ALL, Self::as_str, "care level", s)
    }
}

/// The patient's sex (性別) as recorded.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Neither male nor female.
    Other,
    /// Not known or not recorded.
    Unknown,
}

/// 医療保険: insurer number (保険者番号), symbol (記号) and number (番号).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthInsurance {
    /// 6 digits (national health insurance) or 8 digits.
    #[schema(pattern = r"^([0-9]{6}|[0-9]{8})$", example = "39331234")]
    pub insurer_number: String,
    /// 記号, at most 20 characters; absent when the card has none.
    #[schema(
        min_length = 1,
        max_length = 20,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub symbol: Option<String>,
    /// 番号, at most 20 characters.
    #[schema(
        min_length = 1,
        max_length = 20,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub number: String,
}

/// The identifying part of a patient: every field here is sealed at rest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// 氏名: not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// 氏名カナ: full-width katakana (U+30A0–U+30FF), with spaces between words.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\u30A0-\u30FF \u3000]*[\u30A0-\u30FF][\u30A0-\u30FF \u3000]*$",
        example = "ヤマダ ハナコ"
    )]
    pub name_kana: Option<String>,
    /// A real date from 1890-01-01 on, not in the future (the upper bound is today, so it is
    /// not in the schema: a later date is a 422 naming `/birth_date`).
    #[schema(format = Date, example = "1939-04-01")]
    pub birth_date: String,
    /// 性別
    pub sex: Sex,
    /// Home address (住所), where care is delivered.
    pub address: Option<Address>,
    /// Digits and hyphens, an optional leading `+`; at least 7 digits, 7 to 20 characters.
    #[schema(min_length = 7, max_length = 20, pattern = r"^\+?-*[0-9](-*[0-9]){6,}-*$")]
    pub phone: Option<String>,
    /// 介護保険被保険者番号: 10 digits.
    #[schema(pattern = r"^[0-9]{10}$", example = "9876543210")]
    pub ltc_insured_number: Option<String>,
    /// 医療保険 card details.
    pub health_insurance: Option<HealthInsurance>,
}

/// A patient to register.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PatientInput {
    /// The identifying fields, at the top level of the body.
    #[serde(flatten)]
    pub identity: Identity,
    /// 要介護度, when known.
    pub care_level: Option<CareLevel>,
    /// The organisation responsible for the patient's record.
    pub managing_organization: String,
    /// Members no field takes: `deny_unknown_fields` does not work across `flatten`, so these
    /// are collected here and refused by `create` with a 422 naming each.
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: BTreeMap<String, serde::de::IgnoredAny>,
}

/// A registered patient.
#[derive(Debug, Serialize, ToSchema)]
pub struct Patient {
    /// The patient id (a UUID), assigned at registration.
    pub id: String,
    /// The identifying fields, at the top level of the object.
    #[serde(flatten)]
    pub identity: Identity,
    /// 要介護度, when known.
    pub care_level: Option<CareLevel>,
    /// The organisation responsible for the patient's record.
    pub managing_organization: String,
    /// When the patient was registered; RFC 3339 in UTC with microseconds, e.g. `2025-04-01T09:30:00.000000Z`.
    pub created_at: String,
    /// When the record last changed; same format.
    pub updated_at: String,
}

impl Identity {
    /// `today` is the region's date: a birth date may not be after it.
    fn check(&self, today: time::Date, errors: &mut Errors) {
        errors.text("/name", &self.name, 200);
        if let Some(kana) = &self.name_kana {
            errors.text("/name_kana", kana, 200);
            if !fields::is_katakana(kana) {
                errors.add("/name_kana", "must be full-width katakana");
            }
        }
        match clock::parse_day(&self.birth_date) {
            None => errors.add("/birth_date", "must be a real date, YYYY-MM-DD"),
            Some(day) if day > today => errors.add("/birth_date", "must not be in the future"),
            Some(day) if day.year() < 1890 => errors.add("/birth_date", "must be after 1890"),
            Some(_) => {}
        }
        if let Some(address) = &self.address {
            address.check("/address", errors);
        }
        if let Some(phone) = &self.phone {
            errors.phone("/phone", phone);
        }
        if let Some(number) = &self.ltc_insured_number {
            errors.digits("/ltc_insured_number", number, &[10]);
        }
        if let Some(hi) = &self.health_insurance {
            errors.digits("/health_insurance/insurer_number", &hi.insurer_number, &[6, 8]);
            errors.text("/health_insurance/number", &hi.number, 20);
            if let Some(symbol) = &hi.symbol {
                errors.text("/health_insurance/symbol", symbol, 20);
            }
        }
    }

    /// Seals every field on its own, bound to its place in this patient's record.
    fn seal(&self, data_key: &DataKey, patient_id: &str) -> Result<String, ApiError> {
        let Value::Object(plain) = serde_json::to_value(self).map_err(ApiError::internal)? else {
            return Err(ApiError::internal("identity is not an object"));
        };
        let mut sealed = Map::new();
        for (name, value) in plain {
            if value.is_null() {
                continue;
            }
            let pointer = format!("/{name}");
            let at = FieldContext { patient_id, document_id: "patient", version: 1, pointer: &pointer };
            sealed.insert(name, Value::String(data_key.seal(&at, &value).map_err(ApiError::internal)?));
        }
        Ok(Value::Object(sealed).to_string())
    }

    fn open(state: &AppState, row: &PatientRow) -> Result<Self, ApiError> {
        let data_key = state.data_key(row)?;
        let Value::Object(sealed) = serde_json::from_str(&row.sealed).map_err(ApiError::internal)? else {
            return Err(ApiError::internal("stored identity is not an object"));
        };
        let mut plain = Map::new();
        for (name, value) in sealed {
            let pointer = format!("/{name}");
            let at = FieldContext { patient_id: &row.id, document_id: "patient", version: 1, pointer: &pointer };
            let Value::String(s) = value else { return Err(ApiError::internal("stored field is not sealed")) };
            plain.insert(name, data_key.open(&at, &s).map_err(ApiError::internal)?);
        }
        serde_json::from_value(Value::Object(plain)).map_err(ApiError::internal)
    }
}

fn erased() -> ApiError {
    ApiError::Gone("this patient's record was erased".into())
}

/// 410 Gone for an erased patient, else nothing. Every route that serves something of a patient
/// calls it after authorising (patient, care team, documents; the access log should too): an
/// erased record answers only that it was erased.
pub fn erased_patient_gone(patient: &PatientRow) -> Result<(), ApiError> {
    if patient.erased_at.is_some() { Err(erased()) } else { Ok(()) }
}

/// The insured number as it is indexed: digits only, so `12345-67890` finds `1234567890`.
fn ltc_index(keys: &Keyring, number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    keys.blind_index("ltc_insured_number", &digits)
}

impl Patient {
    fn reveal(state: &AppState, row: &PatientRow) -> Result<Self, ApiError> {
        if row.erased_at.is_some() {
            return Err(erased());
        }
        Ok(Self {
            identity: Identity::open(state, row)?,
            care_level: row.care_level.as_deref().map(str::parse).transpose().map_err(ApiError::internal)?,
            id: row.id.clone(),
            managing_organization: row.managing_organization_id.clone(),
            created_at: row.created_at.clone(),
            updated_at: row.updated_at.clone(),
        })
    }
}

/// The query of the patient listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientSearch {
    /// Exact match on the LTC insured number (介護保険被保険者番号), through the blind index.
    #[param(pattern = "^[0-9]{10}$")]
    pub ltc_insured_number: Option<String>,
}

/// A request to erase a patient's record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseInput {
    /// Why the record is erased (for example, the patient's request). Required, never stored
    /// with patient data.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// Registers a patient (physician, care manager or admin of the managing organisation): the
/// identity sealed under a new data key, the insured number blind-indexed. A refusal is audited.
pub async fn create(state: &Arc<AppState>, ctx: Context, input: PatientInput) -> Result<Patient, ApiError> {
    super::write(state, Event::new(&ctx, "patient.create"), 201, move |tx, st, ev| {
        let (row, patient) = registration(st, &ctx, input)?;
        // Named only once allowed: a refused registration names no patient that never existed.
        ev.patient_id = Some(row.id.clone());
        ev.resource_type = Some("patient");
        ev.resource_id = Some(row.id.clone());
        if !OrganizationRow::exists(tx, &row.managing_organization_id)? {
            return Err(ApiError::field("/managing_organization", "no such organization"));
        }
        row.insert(tx)?;
        Ok(patient)
    })
    .await
}

/// Authorises a registration first, then validates and seals it: the row to insert and the
/// answer.
fn registration(state: &AppState, ctx: &Context, input: PatientInput) -> Result<(PatientRow, Patient), ApiError> {
    let caller = &ctx.caller;
    let facts = PatientFacts {
        managing_organization: input.managing_organization.clone(),
        team: Vec::new(),
        consents: Vec::new(),
    };
    authorize::decide(state, caller, &facts, Want::write(Resource::Patient), false).map_err(|denial| match denial {
        Denial::Role => ApiError::from(denial),
        _ => ApiError::Forbidden("you may register patients only for your own organisation".into()),
    })?;
    let mut errors = Errors::default();
    for name in input.unknown.keys() {
        errors.add(format!("/{}", name.replace('~', "~0").replace('/', "~1")), format!("unknown field `{name}`"));
    }
    input.identity.check(state.calendar.today(), &mut errors);
    errors.finish()?;

    let id = uuid::Uuid::new_v4().to_string();
    let (data_key, wrapped) = state.fresh_keys()?.new_data_key(&id).map_err(ApiError::internal)?;
    let now = clock::now();
    let row = PatientRow {
        sealed: input.identity.seal(&data_key, &id)?,
        ltc_index: input.identity.ltc_insured_number.as_deref().map(|n| ltc_index(&state.keys(), n)),
        care_level: input.care_level.map(|level| level.as_str().to_owned()),
        managing_organization_id: input.managing_organization.clone(),
        data_key: Some(wrapped.blob),
        data_key_kid: wrapped.kid,
        created_at: now.clone(),
        created_by: caller.sub.clone(),
        updated_at: now.clone(),
        updated_by: caller.sub.clone(),
        erased_at: None,
        id: id.clone(),
    };
    let patient = Patient {
        id,
        identity: input.identity,
        care_level: input.care_level,
        managing_organization: input.managing_organization,
        created_at: now.clone(),
        updated_at: now,
    };
    Ok((row, patient))
}

/// A patient's identity, for the managing organisation or the active care team.
pub async fn get(state: &Arc<AppState>, ctx: Context, id: PatientId) -> Result<Patient, ApiError> {
    let event = Event::new(&ctx, "patient.read").resource("patient", &id);
    let row = super::read(state, event, move |conn, st, ev| {
        let access = authorise(conn, st, &ctx.caller, &id, Want::read(Resource::Patient), ev)?;
        if access.patient.erased_at.is_some() {
            return Err(erased());
        }
        Ok(access.patient)
    })
    .await?;
    Patient::reveal(state, &row)
}

/// Patients found by insured number, or the caller's organisation's patients; only those the
/// caller may read appear, others are indistinguishable from absent ones.
pub async fn list(
    state: &Arc<AppState>,
    ctx: Context,
    search: PatientSearch,
    cursor: Option<String>,
    limit: i64,
) -> Result<Page<Patient>, ApiError> {
    let action = if search.ltc_insured_number.is_some() { "patient.search" } else { "patient.list" };
    let event = Event::new(&ctx, action);
    let (rows, next_cursor) = super::read(state, event, move |conn, st, ev| {
        let caller = &ctx.caller;
        // Inside the audited read, so a role that may not list patients leaves a denied event.
        access::check(caller, Resource::Patient, Action::Read)?;
        let index = match &search.ltc_insured_number {
            Some(number) => {
                let mut errors = Errors::default();
                errors.digits("/query/ltc_insured_number", number, &[10]);
                errors.finish()?;
                Some(ltc_index(&st.keys(), number))
            }
            None => None,
        };
        let keep = |conn: &mut DbConn, row: PatientRow| {
            let facts = facts(conn, &row)?;
            let allowed = authorize::decide(st, caller, &facts, Want::read(Resource::Patient), false);
            Ok((allowed.is_ok() && row.erased_at.is_none()).then_some(row))
        };
        let (visible, next) = match index {
            Some(index) => {
                let mut visible = Vec::new();
                for row in PatientRow::find_by_index(conn, &index)? {
                    visible.extend(keep(conn, row)?);
                }
                (visible, None)
            }
            None if access::is_operator(caller, &st.settings.operator_org) => (Vec::new(), None),
            None => {
                // Erased or no longer visible patients are skipped without ending the page.
                let today = clock::format_day(st.calendar.today());
                let fetch = |conn: &mut DbConn, after: Option<&String>, n: i64| {
                    Ok(PatientRow::list_for_org(conn, &caller.org, &today, after.map(String::as_str), n)?)
                };
                paging::fill(conn, limit, cursor, fetch, |row: &PatientRow| row.id.clone(), keep)?
            }
        };
        // Each patient the answer discloses gets an event of its own in the same commit, so
        // its access log shows the listing (the request's event names no patient).
        ev.disclosed = visible.iter().map(|row| row.id.clone()).collect();
        Ok((visible, next))
    })
    .await?;
    let items = rows.iter().map(|row| Patient::reveal(state, row)).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, next_cursor })
}

/// Erases a patient by crypto-shredding (admin of the managing organisation or the operator).
pub async fn erase(state: &Arc<AppState>, ctx: Context, id: PatientId, input: EraseInput) -> Result<(), ApiError> {
    let event = Event::new(&ctx, "patient.erase").resource("patient", &id);
    super::write(state, event, 204, move |tx, st, ev| {
        let access = authorise(tx, st, &ctx.caller, &id, Want::write(Resource::Erasure), ev)?;
        let mut errors = Errors::default();
        errors.text("/reason", &input.reason, 1000);
        errors.finish()?;
        if !PatientRow::erase(tx, &access.patient.id, &clock::now(), &ctx.caller.sub)? {
            return Err(erased());
        }
        // What the shredded key does not cover goes in the same transaction.
        crate::db::erasure::blank_clear_values(tx, &access.patient.id)?;
        Ok(())
    })
    .await?;
    crate::db::run(&state.pool, |conn| {
        crate::db::truncate_wal(conn);
        Ok(())
    })
    .await?;
    state.notify_change();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_care_levels_are_the_wire_words() {
        for level in CareLevel::ALL {
            assert_eq!(serde_json::to_value(level).unwrap(), Value::String(level.as_str().to_owned()));
            assert_eq!(level.as_str().parse::<CareLevel>().unwrap(), level);
        }
        assert!("care_6".parse::<CareLevel>().is_err());
    }
}
