//! What the region's reports read: current documents with the organisation that wrote their
//! current version (from the version's audit event), care-team periods, and document writers.
//! Rows come in pages by id so that a report over many documents never holds them all.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{audit_events, care_team_members, document_versions, documents, organizations, patients};

/// Audit actions that write a document version.
const WRITES: [&str; 2] = ["document.create", "document.update"];

/// A live document's current version, as stored (sealed values stay sealed).
#[derive(Debug, Clone, Queryable)]
pub struct CurrentDoc {
    pub id: String,
    pub patient_id: String,
    pub doc_type: String,
    pub schema_version: String,
    pub version: i32,
    pub created_at: String,
    pub updated_at: String,
    /// The stored content: sealed values are ciphertext strings.
    pub content: Option<String>,
    /// The organisation that wrote this version, and its kind (absent for rows written before
    /// the audit named versions, or by an organisation since removed).
    pub writer_org: Option<String>,
    pub writer_kind: Option<String>,
}

/// Which current documents a page covers.
#[derive(Debug, Clone, Default)]
pub struct DocFilter {
    pub doc_type: String,
    pub schema_version: Option<String>,
    /// Current version written at or after (an instant, RFC 3339 UTC).
    pub from: Option<String>,
    /// Current version written before.
    pub to: Option<String>,
    /// Only versions written by this organisation.
    pub organization: Option<String>,
}

impl CurrentDoc {
    /// Up to `limit` live documents matching `filter`, in id order after `after`.
    pub fn page(conn: &mut DbConn, filter: &DocFilter, after: Option<&str>, limit: i64) -> QueryResult<Vec<Self>> {
        let mut query = documents::table
            .inner_join(document_versions::table.on(
                document_versions::document_id.eq(documents::id).and(document_versions::version.eq(documents::version)),
            ))
            .left_join(
                audit_events::table.on(audit_events::resource_id
                    .eq(documents::id.nullable())
                    .and(audit_events::resource_version.eq(documents::version.nullable()))
                    .and(audit_events::action.eq_any(WRITES))
                    .and(audit_events::outcome.eq("allowed"))),
            )
            .left_join(organizations::table.on(organizations::id.nullable().eq(audit_events::actor_org.nullable())))
            .filter(documents::deleted.eq(false))
            .filter(documents::doc_type.eq(filter.doc_type.clone()))
            .select((
                documents::id,
                documents::patient_id,
                documents::doc_type,
                documents::schema_version,
                documents::version,
                documents::created_at,
                documents::updated_at,
                document_versions::content,
                audit_events::actor_org.nullable(),
                organizations::kind.nullable(),
            ))
            .order(documents::id)
            .limit(limit)
            .into_boxed();
        if let Some(v) = &filter.schema_version {
            query = query.filter(documents::schema_version.eq(v.clone()));
        }
        if let Some(from) = &filter.from {
            query = query.filter(documents::updated_at.ge(from.clone()));
        }
        if let Some(to) = &filter.to {
            query = query.filter(documents::updated_at.lt(to.clone()));
        }
        if let Some(org) = &filter.organization {
            query = query.filter(audit_events::actor_org.nullable().eq(Some(org.clone())));
        }
        if let Some(after) = after {
            query = query.filter(documents::id.gt(after.to_owned()));
        }
        query.load(conn)
    }
}

/// One care-team membership of a patient whose record was not erased.
#[derive(Debug, Clone, Queryable)]
pub struct TeamPeriod {
    pub patient_id: String,
    pub since: String,
    pub until: Option<String>,
}

impl TeamPeriod {
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        care_team_members::table
            .inner_join(patients::table)
            .filter(patients::erased_at.is_null())
            .select((care_team_members::patient_id, care_team_members::since, care_team_members::until))
            .load(conn)
    }
}

/// A document version written in a period, by whom (from the audit log).
#[derive(Debug, Clone, Queryable)]
pub struct Writing {
    pub at: String,
    pub actor_sub: String,
    pub actor_org: String,
    pub actor_role: String,
    pub patient_id: Option<String>,
    pub org_kind: Option<String>,
}

impl Writing {
    /// Every allowed document write in `[from, to)`.
    pub fn between(conn: &mut DbConn, from: &str, to: &str) -> QueryResult<Vec<Self>> {
        audit_events::table
            .left_join(organizations::table.on(organizations::id.eq(audit_events::actor_org)))
            .filter(audit_events::action.eq_any(WRITES))
            .filter(audit_events::outcome.eq("allowed"))
            .filter(audit_events::at.ge(from.to_owned()))
            .filter(audit_events::at.lt(to.to_owned()))
            .select((
                audit_events::at,
                audit_events::actor_sub,
                audit_events::actor_org,
                audit_events::actor_role,
                audit_events::patient_id,
                organizations::kind.nullable(),
            ))
            .load(conn)
    }
}

/// Patients whose record was not erased (their sealed identity, for the municipality only).
pub fn live_patients(conn: &mut DbConn) -> QueryResult<Vec<super::patients::PatientRow>> {
    patients::table.filter(patients::erased_at.is_null()).load(conn)
}
