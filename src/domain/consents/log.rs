//! The consent log for auditors: every version of every consent with its terms, how it was
//! obtained, who recorded and who revoked it, and the audit event whose digest vouches for it.
//! The proxy's name and the free-text revocation reason stay sealed: the log says that there
//! was a proxy and their relation, and that a reason was given.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::stored::proxy_relation;
use super::terms::{ConsentOrganizations, ObtainedBy, Period};
use crate::access;
use crate::audit::{ConsentRecord, Event};
use crate::context::Context;
use crate::crypto::DataKey;
use crate::db::DbConn;
use crate::db::audit::AuditRow;
use crate::db::consent_versions::{ConsentVersionRow, VersionCursor, VersionFilter};
use crate::db::consents::ConsentRow;
use crate::db::patients::PatientRow;
use crate::domain::paging::{self, Page};
use crate::domain::params;
use crate::error::ApiError;
use crate::state::AppState;

/// Which consent versions the log shows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsentLogQuery {
    /// Only this patient's consents.
    pub patient_id: Option<String>,
    /// Only consents that name this organisation, or that it recorded.
    pub organization: Option<String>,
    /// Only versions with this status.
    #[param(inline)]
    pub status: Option<ConsentStatus>,
    /// Only consents obtained this way.
    pub obtained_by: Option<ObtainedBy>,
    /// Versions written at or after this time (RFC 3339).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Versions written before this time (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Only versions whose period ends on or before this day (YYYY-MM-DD).
    #[param(format = Date)]
    pub expiring_before: Option<String>,
    /// Items per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A consent version's status.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// In force (within its period).
    Active,
    /// Revoked.
    Revoked,
}

/// How a consent was revoked. The reason is free text and stays sealed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revocation {
    /// When; RFC 3339 in UTC.
    pub at: String,
    /// Who (token `sub`).
    pub by: String,
    /// Whether a reason was given (its text is withheld from the log).
    pub reason_given: bool,
}

/// One version of a consent, as an auditor reviews it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentLogEntry {
    /// The consent.
    pub consent_id: String,
    /// This version (1 when recorded; a revocation or amendment adds one).
    pub version: i32,
    /// The patient.
    pub patient_id: String,
    /// `active` or `revoked`.
    pub status: String,
    /// The organisations the consent names, or `care_team`.
    pub organizations: ConsentOrganizations,
    /// Document types shared; empty: every type.
    pub permitted_types: Vec<String>,
    /// Document types never shared.
    pub denied_types: Vec<String>,
    /// What the sharing is for.
    pub purposes: Vec<String>,
    /// The days the consent counts.
    pub period: Period,
    /// How the consent was given.
    pub obtained_by: ObtainedBy,
    /// Whether a family member consented for the patient.
    pub by_proxy: bool,
    /// Their relation to the patient (the name stays sealed).
    pub proxy_relation: Option<super::Relation>,
    /// Whether restricted fields are released as well.
    pub release_restricted: bool,
    /// Who recorded the consent (token `sub`).
    pub recorded_by: String,
    /// Their organisation.
    pub recorded_org: String,
    /// When it was recorded; RFC 3339 in UTC.
    pub recorded_at: String,
    /// Present on the version a revocation made.
    pub revocation: Option<Revocation>,
    /// The audit event that created this version; absent for versions older than the log.
    pub event_seq: Option<i64>,
    /// The digest that event carries.
    pub digest: Option<String>,
    /// The version as stored (sealed fields as SHA-256): re-hashing it gives `digest`.
    pub record: ConsentRecord,
}

impl ConsentLogQuery {
    fn parts(&self) -> Result<(VersionFilter, Option<VersionCursor>, i64), ApiError> {
        let limit = paging::page_size(self.limit)?;
        let cursor = self.cursor.as_deref().map(parse_cursor).transpose()?;
        if let Some(day) = &self.expiring_before
            && crate::clock::parse_day(day).is_none()
        {
            return Err(ApiError::field("/query/expiring_before", "must be a day, YYYY-MM-DD"));
        }
        params::optional_instant("/query/from", self.from.as_deref())?;
        params::optional_instant("/query/to", self.to.as_deref())?;
        let filter = VersionFilter {
            patient_id: self.patient_id.clone(),
            status: self.status.map(|s| if s == ConsentStatus::Active { "active" } else { "revoked" }.to_owned()),
            obtained_by: self.obtained_by.map(|o| o.as_str().to_owned()),
            expiring_before: self.expiring_before.clone(),
        };
        Ok((filter, cursor, limit))
    }

    /// The checks the database does not make: the organisation and the version's time.
    fn keeps(&self, row: &ConsentVersionRow) -> Result<bool, ApiError> {
        if let Some(org) = &self.organization {
            let named = serde_json::from_str::<Vec<String>>(&row.organizations).is_ok_and(|l| l.contains(org));
            if !named && &row.recorded_org != org {
                return Ok(false);
            }
        }
        let at = written_at(row);
        let from = params::optional_instant("/query/from", self.from.as_deref())?;
        let to = params::optional_instant("/query/to", self.to.as_deref())?;
        Ok(from.is_none_or(|f| at >= f.as_str()) && to.is_none_or(|t| at < t.as_str()))
    }
}

/// When a version was written: its revocation, or the recording.
fn written_at(row: &ConsentVersionRow) -> &str {
    row.revoked_at.as_deref().unwrap_or(&row.recorded_at)
}

fn cursor_text(c: &VersionCursor) -> String {
    format!("{}|{}|{}", c.0, c.1, c.2)
}

fn parse_cursor(text: &str) -> Result<VersionCursor, ApiError> {
    let bad = || ApiError::field("/query/cursor", "not a cursor of this listing");
    let mut parts = text.splitn(3, '|');
    let (Some(at), Some(id), Some(v)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
    Ok((at.to_owned(), id.to_owned(), v.parse().map_err(|_| bad())?))
}

/// Data keys of the patients on a page, each opened once.
struct Keys(HashMap<String, Option<DataKey>>);

impl Keys {
    fn get(&mut self, conn: &mut DbConn, st: &AppState, patient_id: &str) -> Result<Option<&DataKey>, ApiError> {
        if !self.0.contains_key(patient_id) {
            let key = match PatientRow::find(conn, patient_id)? {
                Some(p) if p.erased_at.is_none() => Some(st.data_key(&p)?),
                _ => None,
            };
            self.0.insert(patient_id.to_owned(), key);
        }
        Ok(self.0.get(patient_id).and_then(Option::as_ref))
    }
}

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, ApiError> {
    serde_json::from_str(json).map_err(ApiError::internal)
}

fn entry(
    conn: &mut DbConn,
    st: &AppState,
    keys: &mut Keys,
    row: ConsentVersionRow,
) -> Result<ConsentLogEntry, ApiError> {
    let record = ConsentRecord::of(&row);
    let event = AuditRow::creating(conn, &row.id, row.version)?;
    let current = ConsentRow::from(row.clone());
    let proxy_relation = match keys.get(conn, st, &row.patient_id)? {
        Some(key) => proxy_relation(key, &current)?,
        None => None,
    };
    Ok(ConsentLogEntry {
        consent_id: row.id,
        version: row.version,
        patient_id: row.patient_id,
        status: row.status,
        organizations: parse(&row.organizations)?,
        permitted_types: parse(&row.permitted_types)?,
        denied_types: parse(&row.denied_types)?,
        purposes: parse(&row.purposes)?,
        period: Period { start: row.period_start, end: row.period_end },
        obtained_by: row.obtained_by.parse().map_err(ApiError::internal)?,
        by_proxy: row.proxy.is_some(),
        proxy_relation,
        release_restricted: row.release_restricted,
        recorded_by: row.recorded_by,
        recorded_org: row.recorded_org,
        recorded_at: row.recorded_at,
        revocation: row.revoked_at.map(|at| Revocation {
            at,
            by: row.revoked_by.unwrap_or_default(),
            reason_given: row.revoke_reason.is_some(),
        }),
        event_seq: event.as_ref().map(|e| e.seq),
        digest: event.and_then(|e| e.digest),
        record,
    })
}

/// One page of the consent log (auditor, operator's admin).
pub async fn list(
    state: &Arc<AppState>,
    ctx: Context,
    query: ConsentLogQuery,
) -> Result<Page<ConsentLogEntry>, ApiError> {
    let event = Event::new(&ctx, "consent_log.read");
    let (items, next) = crate::domain::read(state, event, move |conn, st, _| {
        access::may_review_consents(&ctx.caller, &st.settings.operator_org)?;
        let (filter, after, limit) = query.parts()?;
        let mut keys = Keys(HashMap::new());
        let fetch = |conn: &mut DbConn, after: Option<&VersionCursor>, n: i64| {
            Ok(ConsentVersionRow::list(conn, &filter, after, n)?)
        };
        let key = |row: &ConsentVersionRow| (row.recorded_at.clone(), row.id.clone(), row.version);
        let keep = |conn: &mut DbConn, row: ConsentVersionRow| {
            if query.keeps(&row)? { entry(conn, st, &mut keys, row).map(Some) } else { Ok(None) }
        };
        paging::fill(conn, limit, after, fetch, key, keep)
    })
    .await?;
    Ok(Page { items, next_cursor: next.as_ref().map(cursor_text) })
}

/// The whole log for these filters as NDJSON, one entry a line (auditor, operator's admin).
/// Each line's `record` re-hashes to its `digest`, which the audit export holds in event
/// `event_seq` under the chain's signature.
pub async fn export(state: &Arc<AppState>, ctx: Context, query: ConsentLogQuery) -> Result<String, ApiError> {
    let event = Event::new(&ctx, "consent_log.export");
    crate::domain::read(state, event, move |conn, st, _| {
        access::may_review_consents(&ctx.caller, &st.settings.operator_org)?;
        let (filter, mut after, _) = query.parts()?;
        let mut keys = Keys(HashMap::new());
        let mut out = String::new();
        loop {
            let rows = ConsentVersionRow::list(conn, &filter, after.as_ref(), 500)?;
            let Some(last) = rows.last() else { break };
            after = Some((last.recorded_at.clone(), last.id.clone(), last.version));
            for row in rows {
                if query.keeps(&row)? {
                    let line = entry(conn, st, &mut keys, row)?;
                    out.push_str(&serde_json::to_string(&line).map_err(ApiError::internal)?);
                    out.push('\n');
                }
            }
        }
        Ok(out)
    })
    .await
}
