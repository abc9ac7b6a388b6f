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
use crate::authorize::{self, authorise, facts};
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
    #[serde(rename = "support_1")]
    Support1,
    #[serde(rename = "support_2")]
    Support2,
    #[serde(rename = "care_1")]
    Care1,
    #[serde(rename = "care_2")]
    Care2,
    #[serde(rename = "care_3")]
    Care3,
    #[serde(rename = "care_4")]
    Care4,
    #[serde(rename = "care_5")]
    Care5,
    NotCertified,
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

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    Other,
    Unknown,
}

/// 医療保険: insurer number (保険者番号), symbol (記号) and number (番号).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthInsurance {
    /// 6 digits (national health insurance) or 8 digits.
    #[schema(pattern = r"^([0-9]{6}|[0-9]{8})$", example = "39331234")]
    pub insurer_number: String,
    #[schema(
        min_length = 1,
        max_length = 20,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub symbol: Option<String>,
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
    pub sex: Sex,
    pub address: Option<Address>,
    /// Digits and hyphens, an optional leading `+`; at least 7 digits, 7 to 20 characters.
    #[schema(min_length = 7, max_length = 20, pattern = r"^\+?-*[0-9](-*[0-9]){6,}-*$")]
    pub phone: Option<String>,
    /// 介護保険被保険者番号: 10 digits.
    #[schema(pattern = r"^[0-9]{10}$", example = "9876543210")]
    pub ltc_insured_number: Option<String>,
    pub health_insurance: Option<HealthInsurance>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatientInput {
    #[serde(flatten)]
    pub identity: Identity,
    pub care_level: Option<CareLevel>,
    /// The organisation responsible for the patient's record.
    pub managing_organization: String,
    /// Members no field takes: `deny_unknown_fields` does not work across `flatten`, so these
    /// are collected here and refused by `create` with a 422 naming each.
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: BTreeMap<String, serde::de::IgnoredAny>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Patient {
    pub id: String,
    #[serde(flatten)]
    pub identity: Identity,
    pub care_level: Option<CareLevel>,
    pub managing_organization: String,
    pub created_at: String,
    pub updated_at: String,
}

impl Identity {
    fn check(&self, errors: &mut Errors) {
        errors.text("/name", &self.name, 200);
        if let Some(kana) = &self.name_kana {
            errors.text("/name_kana", kana, 200);
            if !fields::is_katakana(kana) {
                errors.add("/name_kana", "must be full-width katakana");
            }
        }
        match clock::parse_day(&self.birth_date) {
            None => errors.add("/birth_date", "must be a real date, YYYY-MM-DD"),
            Some(day) if day > clock::today() => errors.add("/birth_date", "must not be in the future"),
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientSearch {
    /// Exact match on the LTC insured number (介護保険被保険者番号), through the blind index.
    #[param(pattern = "^[0-9]{10}$")]
    pub ltc_insured_number: Option<String>,
}

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
/// identity sealed under a new data key, the insured number blind-indexed.
pub async fn create(state: &Arc<AppState>, ctx: Context, input: PatientInput) -> Result<Patient, ApiError> {
    let mut unknown = Errors::default();
    for name in input.unknown.keys() {
        unknown.add(format!("/{}", name.replace('~', "~0").replace('/', "~1")), format!("unknown field `{name}`"));
    }
    unknown.finish()?;
    let caller = &ctx.caller;
    let facts = PatientFacts {
        managing_organization: input.managing_organization.clone(),
        team: Vec::new(),
        consents: Vec::new(),
    };
    authorize::decide(state, caller, &facts, Resource::Patient, Action::Write, None, false).map_err(|denial| {
        match denial {
            Denial::Role => ApiError::from(denial),
            _ => ApiError::Forbidden("you may register patients only for your own organisation".into()),
        }
    })?;
    let mut errors = Errors::default();
    input.identity.check(&mut errors);
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
    let event = Event::new(&ctx, "patient.create").patient(&id).resource("patient", &id);
    super::write(state, event, 201, move |tx, _, _| {
        if !OrganizationRow::exists(tx, &row.managing_organization_id)? {
            return Err(ApiError::field("/managing_organization", "no such organization"));
        }
        Ok(row.insert(tx)?)
    })
    .await?;
    Ok(Patient {
        id,
        identity: input.identity,
        care_level: input.care_level,
        managing_organization: input.managing_organization,
        created_at: now.clone(),
        updated_at: now,
    })
}

/// A patient's identity, for the managing organisation or the active care team.
pub async fn get(state: &Arc<AppState>, ctx: Context, id: PatientId) -> Result<Patient, ApiError> {
    let event = Event::new(&ctx, "patient.read").resource("patient", &id);
    let row = super::read(state, event, move |conn, st, ev| {
        let access = authorise(conn, st, &ctx.caller, &id, Resource::Patient, Action::Read, None, ev)?;
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
    access::check(&ctx.caller, Resource::Patient, Action::Read)?;
    let index = match &search.ltc_insured_number {
        Some(number) => {
            let mut errors = Errors::default();
            errors.digits("/query/ltc_insured_number", number, &[10]);
            errors.finish()?;
            Some(ltc_index(&state.keys(), number))
        }
        None => None,
    };
    let action = if index.is_some() { "patient.search" } else { "patient.list" };
    let event = Event::new(&ctx, action);
    let (rows, next_cursor) = super::read(state, event, move |conn, st, ev| {
        let caller = &ctx.caller;
        let keep = |conn: &mut DbConn, row: PatientRow| {
            let facts = facts(conn, &row)?;
            let allowed = authorize::decide(st, caller, &facts, Resource::Patient, Action::Read, None, false);
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
                let today = clock::format_day(clock::today());
                let fetch = |conn: &mut DbConn, after: Option<&String>, n: i64| {
                    Ok(PatientRow::list_for_org(conn, &caller.org, &today, after.map(String::as_str), n)?)
                };
                paging::fill(conn, limit, cursor, fetch, |row: &PatientRow| row.id.clone(), keep)?
            }
        };
        // A search that finds one patient is an access to that patient.
        if let [only] = visible.as_slice() {
            ev.patient_id = Some(only.id.clone());
        }
        Ok((visible, next))
    })
    .await?;
    let items = rows.iter().map(|row| Patient::reveal(state, row)).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, next_cursor })
}

/// Erases a patient by crypto-shredding (admin of the managing organisation or the operator).
pub async fn erase(state: &Arc<AppState>, ctx: Context, id: PatientId, input: EraseInput) -> Result<(), ApiError> {
    let mut errors = Errors::default();
    errors.text("/reason", &input.reason, 1000);
    errors.finish()?;
    let event = Event::new(&ctx, "patient.erase").resource("patient", &id);
    super::write(state, event, 204, move |tx, st, ev| {
        let access = authorise(tx, st, &ctx.caller, &id, Resource::Erasure, Action::Write, None, ev)?;
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
