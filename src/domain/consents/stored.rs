//! Consents as stored: the row of a new consent (its proxy sealed, bound to the consent's id),
//! the opening of sealed members, and the version record whose digest the audit event carries.

use serde::Serialize;
use serde_json::{Value, json};

use super::proxy::{Proxy, Relation};
use super::terms::{Consent, ConsentInput, Period};
use crate::audit::{ConsentRecord, Event};
use crate::context::Context;
use crate::crypto::{DataKey, FieldContext};
use crate::db::DbConn;
use crate::db::consent_versions::ConsentVersionRow;
use crate::db::consents::ConsentRow;
use crate::error::ApiError;

impl ConsentInput {
    /// The row to insert, its proxy sealed under `key`.
    pub(super) fn into_row(
        self,
        key: &DataKey,
        patient_id: &str,
        ctx: &Context,
        now: String,
    ) -> Result<ConsentRow, ApiError> {
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
            recorded_at: now,
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

pub(super) fn seal(key: &DataKey, row: &ConsentRow, pointer: &str, value: &Value) -> Result<String, ApiError> {
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

/// Stores a consent version as written and puts its digest on the event that creates it.
pub(super) fn record_version(conn: &mut DbConn, row: &ConsentRow, event: &mut Event) -> Result<(), ApiError> {
    let version = ConsentVersionRow::from(row.clone());
    version.insert(conn)?;
    event.resource_type = Some("consent");
    event.resource_id = Some(row.id.clone());
    event.resource_version = Some(row.version);
    event.digest = Some(ConsentRecord::of(&version).digest());
    Ok(())
}
