//! Consent records and break-glass grants.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{break_glass_grants, consents};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = consents)]
pub struct ConsentRow {
    pub id: String,
    pub patient_id: String,
    /// `active` or `revoked`.
    pub status: String,
    /// JSON: `"care_team"` or a list of organisation ids.
    pub organizations: String,
    pub permitted_types: String,
    pub denied_types: String,
    pub purposes: String,
    pub period_start: String,
    pub period_end: Option<String>,
    pub obtained_by: String,
    /// Sealed JSON of `{name, relation}`.
    pub proxy: Option<String>,
    pub release_restricted: bool,
    pub recorded_by: String,
    pub recorded_org: String,
    pub recorded_at: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
    /// Sealed.
    pub revoke_reason: Option<String>,
    /// The current version (1 when recorded; each revocation or amendment adds one). Every
    /// version is kept as written in `consent_versions`.
    pub version: i32,
}

impl ConsentRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(consents::table).values(self).execute(conn).map(drop)
    }

    pub fn for_patient(conn: &mut DbConn, patient_id: &str) -> QueryResult<Vec<Self>> {
        consents::table
            .filter(consents::patient_id.eq(patient_id))
            .order((consents::recorded_at, consents::id))
            .load(conn)
    }

    pub fn find(conn: &mut DbConn, patient_id: &str, id: &str) -> QueryResult<Option<Self>> {
        consents::table.find(id).filter(consents::patient_id.eq(patient_id)).first(conn).optional()
    }

    /// The patient a consent is of (the FHIR read `Consent/{id}` starts from the id alone).
    pub fn patient_of(conn: &mut DbConn, id: &str) -> QueryResult<Option<String>> {
        consents::table.find(id).select(consents::patient_id).first(conn).optional()
    }

    /// Revokes an active consent, making the next version; false if it was not active.
    pub fn revoke(conn: &mut DbConn, id: &str, by: &str, at: &str, reason: &str) -> QueryResult<bool> {
        let n = diesel::update(consents::table.find(id).filter(consents::status.eq("active")))
            .set((
                consents::status.eq("revoked"),
                consents::revoked_by.eq(by),
                consents::revoked_at.eq(at),
                consents::revoke_reason.eq(reason),
                consents::version.eq(consents::version + 1),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = break_glass_grants)]
pub struct BreakGlassRow {
    pub id: String,
    pub patient_id: String,
    pub actor_sub: String,
    pub actor_org: String,
    /// Sealed under the patient's data key (bound to the grant id); blank after erasure.
    pub reason: String,
    pub started_at: String,
    pub expires_at: String,
    pub actor_role: String,
}

impl BreakGlassRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(break_glass_grants::table).values(self).execute(conn).map(drop)
    }

    /// The caller's grant for this patient still open at `now`, if any: the same subject,
    /// organisation and role (a role the same person also holds does not inherit it).
    pub fn open(
        conn: &mut DbConn,
        patient_id: &str,
        caller: (&str, &str, &str),
        now: &str,
    ) -> QueryResult<Option<Self>> {
        let (sub, org, role) = caller;
        break_glass_grants::table
            .filter(break_glass_grants::patient_id.eq(patient_id))
            .filter(break_glass_grants::actor_sub.eq(sub))
            .filter(break_glass_grants::actor_org.eq(org))
            .filter(break_glass_grants::actor_role.eq(role))
            .filter(break_glass_grants::expires_at.gt(now))
            .order(break_glass_grants::expires_at.desc())
            .first(conn)
            .optional()
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        break_glass_grants::table.find(id).first(conn).optional()
    }

    /// Erasure: every reason of the patient's grants blanked (sealed ones could no longer be
    /// opened anyway; grants made before reasons were sealed held them in clear).
    pub fn blank_reasons(conn: &mut DbConn, patient_id: &str) -> QueryResult<usize> {
        diesel::update(break_glass_grants::table.filter(break_glass_grants::patient_id.eq(patient_id)))
            .set(break_glass_grants::reason.eq(""))
            .execute(conn)
    }
}
