//! Every version of every consent as written: a revocation or an amendment adds a version and
//! never rewrites one. The columns are those of `consents`; the current version is also there,
//! where the access rule reads it.

use diesel::prelude::*;

use super::DbConn;
use super::consents::ConsentRow;
use super::schema::consent_versions;

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = consent_versions)]
pub struct ConsentVersionRow {
    pub id: String,
    pub patient_id: String,
    pub status: String,
    pub organizations: String,
    pub permitted_types: String,
    pub denied_types: String,
    pub purposes: String,
    pub period_start: String,
    pub period_end: Option<String>,
    pub obtained_by: String,
    pub proxy: Option<String>,
    pub release_restricted: bool,
    pub recorded_by: String,
    pub recorded_org: String,
    pub recorded_at: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    pub version: i32,
}

impl From<ConsentRow> for ConsentVersionRow {
    fn from(r: ConsentRow) -> Self {
        Self {
            id: r.id,
            patient_id: r.patient_id,
            status: r.status,
            organizations: r.organizations,
            permitted_types: r.permitted_types,
            denied_types: r.denied_types,
            purposes: r.purposes,
            period_start: r.period_start,
            period_end: r.period_end,
            obtained_by: r.obtained_by,
            proxy: r.proxy,
            release_restricted: r.release_restricted,
            recorded_by: r.recorded_by,
            recorded_org: r.recorded_org,
            recorded_at: r.recorded_at,
            revoked_at: r.revoked_at,
            revoked_by: r.revoked_by,
            revoke_reason: r.revoke_reason,
            version: r.version,
        }
    }
}

impl From<ConsentVersionRow> for ConsentRow {
    fn from(v: ConsentVersionRow) -> Self {
        Self {
            id: v.id,
            patient_id: v.patient_id,
            status: v.status,
            organizations: v.organizations,
            permitted_types: v.permitted_types,
            denied_types: v.denied_types,
            purposes: v.purposes,
            period_start: v.period_start,
            period_end: v.period_end,
            obtained_by: v.obtained_by,
            proxy: v.proxy,
            release_restricted: v.release_restricted,
            recorded_by: v.recorded_by,
            recorded_org: v.recorded_org,
            recorded_at: v.recorded_at,
            revoked_at: v.revoked_at,
            revoked_by: v.revoked_by,
            revoke_reason: v.revoke_reason,
            version: v.version,
        }
    }
}

/// Filters of the consent log that the database applies.
#[derive(Debug, Default, Clone)]
pub struct VersionFilter {
    pub patient_id: Option<String>,
    pub status: Option<String>,
    pub obtained_by: Option<String>,
    /// Only versions whose period ends on or before this day (YYYY-MM-DD).
    pub expiring_before: Option<String>,
}

/// Where a page of the log starts: after this (recorded_at, id, version).
pub type VersionCursor = (String, String, i32);

impl ConsentVersionRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(consent_versions::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str, version: i32) -> QueryResult<Option<Self>> {
        consent_versions::table.find((id, version)).first(conn).optional()
    }

    /// The newest version of a consent.
    pub fn latest(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        consent_versions::table
            .filter(consent_versions::id.eq(id))
            .order(consent_versions::version.desc())
            .first(conn)
            .optional()
    }

    /// Versions in (recorded_at, id, version) order, after `after`.
    pub fn list(
        conn: &mut DbConn,
        filter: &VersionFilter,
        after: Option<&VersionCursor>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        use consent_versions::dsl as v;
        let mut query = v::consent_versions.order((v::recorded_at, v::id, v::version)).limit(limit).into_boxed();
        if let Some(p) = &filter.patient_id {
            query = query.filter(v::patient_id.eq(p.clone()));
        }
        if let Some(s) = &filter.status {
            query = query.filter(v::status.eq(s.clone()));
        }
        if let Some(o) = &filter.obtained_by {
            query = query.filter(v::obtained_by.eq(o.clone()));
        }
        if let Some(day) = &filter.expiring_before {
            query = query.filter(v::period_end.le(day.clone()));
        }
        if let Some((at, id, version)) = after {
            query = query.filter(
                v::recorded_at
                    .gt(at.clone())
                    .or(v::recorded_at.eq(at.clone()).and(v::id.gt(id.clone())))
                    .or(v::recorded_at.eq(at.clone()).and(v::id.eq(id.clone())).and(v::version.gt(*version))),
            );
        }
        query.load(conn)
    }

    /// Erasure: the patient's consent versions go with its consents.
    pub fn delete_for_patient(conn: &mut DbConn, patient_id: &str) -> QueryResult<usize> {
        diesel::delete(consent_versions::table.filter(consent_versions::patient_id.eq(patient_id))).execute(conn)
    }
}
