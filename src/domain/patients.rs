//! Patients. Identifying fields are sealed one by one under the patient's data key before they
//! reach the database; the insured number is found through its keyed blind index.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{self, Action, Denial, PatientFacts, Resource};
use crate::audit::Event;
use crate::clock;
use crate::context::Context;
use crate::crypto::Keyring;
use crate::db::DbConn;
use crate::db::directory::OrganizationRow;
use crate::db::patients::{CareTeamRow, PatientRow};
use crate::domain::fields::Errors;
use crate::domain::identity::{CareLevel, Identity};
use crate::domain::paging::{self, Page};
use crate::error::ApiError;
use crate::gate::{Want, authorize, facts};
use crate::ids::PatientId;
use crate::state::AppState;

/// A patient to register.
#[derive(Debug, Clone, Deserialize, ToSchema)]
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
    pub(crate) fn reveal(state: &AppState, row: &PatientRow) -> Result<Self, ApiError> {
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
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientSearch {
    /// Exact match on the LTC insured number (介護保険被保険者番号), through the blind index.
    #[param(pattern = "^[0-9]{10}$")]
    pub ltc_insured_number: Option<String>,
    /// Part of the name or of its kana (氏名・フリガナ), at most 100 characters: hiragana and
    /// katakana match each other, spaces and letter case are ignored. Names are sealed, so the
    /// match runs over the patients the caller may read, after opening them.
    #[param(
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: Option<String>,
    /// Only patients whose active care team names the caller (token `sub`) as its practitioner.
    #[serde(default)]
    pub mine: bool,
}

/// A name as the search compares it: katakana as hiragana, full-width letters and digits as
/// ASCII, lower case, without spaces, so `ヤマダ　ハナコ` and `やまだはなこ` are the same.
fn folded(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{30A1}'..='\u{30F6}' => char::from_u32(u32::from(c) - 0x60).unwrap_or(c),
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether the name or its kana holds `part` (already [`folded`]).
fn holds_name(identity: &Identity, part: &str) -> bool {
    folded(&identity.name).contains(part) || identity.name_kana.as_deref().is_some_and(|k| folded(k).contains(part))
}

/// Whether the patient's care team names `sub` as a member active on `today`.
fn names_caller(conn: &mut DbConn, patient_id: &str, sub: &str, today: &str) -> Result<bool, ApiError> {
    Ok(CareTeamRow::for_patient(conn, patient_id)?.iter().any(|m| {
        m.practitioner_id.as_deref() == Some(sub)
            && m.since.as_str() <= today
            && m.until.as_deref().is_none_or(|until| today <= until)
    }))
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
        let (row, patient) = registration(st, &ctx, input.clone())?;
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
        desks: Vec::new(),
    };
    crate::gate::allows(state, caller, &facts, Want::write(Resource::Patient), false).map_err(
        |denial| match denial {
            Denial::Role => ApiError::from(denial),
            _ => ApiError::Forbidden("you may register patients only for your own organisation".into()),
        },
    )?;
    let mut errors = Errors::default();
    for name in input.unknown.keys() {
        errors.add(format!("/{}", name.replace('~', "~0").replace('/', "~1")), format!("unknown field `{name}`"));
    }
    input.identity.check(state.calendar.today(), &mut errors);
    errors.finish()?;

    let id = uuid::Uuid::new_v4().to_string();
    let (data_key, wrapped) = state.fresh_keys()?.new_data_key(&id).map_err(ApiError::internal)?;
    let now = state.clock.stamp();
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
        access_rev: 0,
        hi_index: Some(super::health_index::of_card(&state.keys(), input.identity.health_insurance.as_ref())),
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
        let access = authorize(conn, st, &ctx.caller, &id, Want::read(Resource::Patient), ev)?;
        if access.patient.erased_at.is_some() {
            return Err(erased());
        }
        Ok(access.patient)
    })
    .await?;
    Patient::reveal(state, &row)
}

/// Patients found by insured number, or the caller's organisation's patients, narrowed to a
/// part of the name and to the caller's own (`mine`) when asked; only those the caller may read
/// appear, others are indistinguishable from absent ones.
pub async fn list(
    state: &Arc<AppState>,
    ctx: Context,
    search: PatientSearch,
    cursor: Option<String>,
    limit: i64,
) -> Result<Page<Patient>, ApiError> {
    let searching = search.ltc_insured_number.is_some() || search.name.is_some();
    let action = if searching { "patient.search" } else { "patient.list" };
    let event = Event::new(&ctx, action);
    super::read(state, event, move |conn, st, ev| {
        let caller = &ctx.caller;
        // Inside the audited read, so a role that may not list patients leaves a denied event.
        access::check(caller, Resource::Patient, Action::Read)?;
        let mut errors = Errors::default();
        if let Some(number) = &search.ltc_insured_number {
            errors.digits("/query/ltc_insured_number", number, &[10]);
        }
        if let Some(name) = &search.name {
            errors.text("/query/name", name, 100);
        }
        errors.finish()?;
        let index = search.ltc_insured_number.as_deref().map(|number| ltc_index(&st.keys(), number));
        let part = search.name.as_deref().map(folded);
        let today = clock::format_day(st.calendar.today());
        // Names are sealed: the part of the name is matched once the row is opened, so a page is
        // filled past the patients it does not match as past those the caller may not read.
        let keep = |conn: &mut DbConn, row: PatientRow| {
            let facts = facts(conn, st, &row)?;
            let allowed = crate::gate::allows(st, caller, &facts, Want::read(Resource::Patient), false);
            if allowed.is_err() || row.erased_at.is_some() {
                return Ok(None);
            }
            if search.mine && !names_caller(conn, &row.id, &caller.sub, &today)? {
                return Ok(None);
            }
            let patient = Patient::reveal(st, &row)?;
            Ok(part.as_deref().is_none_or(|p| holds_name(&patient.identity, p)).then_some(patient))
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
                let fetch = |conn: &mut DbConn, after: Option<&String>, n: i64| {
                    Ok(PatientRow::list_for_org(conn, &caller.org, &today, after.map(String::as_str), n)?)
                };
                paging::fill(conn, limit, cursor, fetch, |row: &PatientRow| row.id.clone(), keep)?
            }
        };
        // Each patient the answer discloses gets an event of its own in the same commit, so
        // its access log shows the listing (the request's event names no patient).
        ev.disclosed = visible.iter().map(|p| p.id.clone()).collect();
        Ok(Page { items: visible, next_cursor: next })
    })
    .await
}

/// Erases a patient by crypto-shredding (admin of the managing organisation or the operator).
pub async fn erase(state: &Arc<AppState>, ctx: Context, id: PatientId, input: EraseInput) -> Result<(), ApiError> {
    let event = Event::new(&ctx, "patient.erase").resource("patient", &id);
    let erased_id = id.to_string();
    super::write(state, event, 204, move |tx, st, ev| {
        let access = authorize(tx, st, &ctx.caller, &id, Want::write(Resource::Erasure), ev)?;
        let mut errors = Errors::default();
        errors.text("/reason", &input.reason, 1000);
        errors.finish()?;
        if !PatientRow::erase(tx, &access.patient.id, &st.clock.stamp(), &ctx.caller.sub)? {
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
    // The erased patient leaves the export files too: every job that holds them is deleted.
    let st = state.clone();
    let purged = tokio::task::spawn_blocking(move || super::exports::purge_patient(&st, &erased_id))
        .await
        .map_err(ApiError::internal)??;
    if purged > 0 {
        tracing::info!(jobs = purged, "deleted the export jobs that held an erased patient");
    }
    state.notify_change();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::folded;

    #[test]
    fn a_name_is_compared_without_kana_script_width_case_or_spaces() {
        assert_eq!(folded("ヤマダ　ハナコ"), "やまだはなこ");
        assert_eq!(folded("やまだ はなこ"), "やまだはなこ");
        assert_eq!(folded("Ｙａｍａｄａ Hanako"), "yamadahanako");
        assert_eq!(folded("山田 花子"), "山田花子");
        // The long-vowel mark and kanji are no kana to fold.
        assert_eq!(folded("ターミナル"), "たーみなる");
    }
}
