//! Patients (identifying fields sealed, insured number behind a blind index) and care teams.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{care_team_members, patients};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = patients)]
pub struct PatientRow {
    pub id: String,
    pub managing_organization_id: String,
    pub care_level: Option<String>,
    /// JSON object of the identifying fields, each value sealed on its own.
    pub sealed: String,
    pub ltc_index: Option<String>,
    /// The patient's data key wrapped by the master key; `None` once crypto-shredded.
    pub data_key: Option<String>,
    pub data_key_kid: String,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
    pub erased_at: Option<String>,
}

impl PatientRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(patients::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        patients::table.find(id).first(conn).optional()
    }

    pub fn find_by_index(conn: &mut DbConn, ltc_index: &str) -> QueryResult<Vec<Self>> {
        patients::table.filter(patients::ltc_index.eq(ltc_index)).order(patients::id).load(conn)
    }

    /// Patients that `org` manages or serves on an active care-team membership on `today`.
    pub fn list_for_org(
        conn: &mut DbConn,
        org: &str,
        today: &str,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let on_team = care_team_members::table
            .filter(care_team_members::organization_id.eq(org.to_owned()))
            .filter(care_team_members::since.le(today.to_owned()))
            .filter(care_team_members::until.is_null().or(care_team_members::until.ge(today.to_owned())))
            .select(care_team_members::patient_id);
        let mut query = patients::table
            .filter(patients::managing_organization_id.eq(org.to_owned()).or(patients::id.eq_any(on_team)))
            .order(patients::id)
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(patients::id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// Whether any patient exists: the keyring refuses to invent a master key over sealed data.
    pub fn any(conn: &mut DbConn) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(patients::table.select(patients::id))).get_result(conn)
    }
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = care_team_members)]
pub struct CareTeamRow {
    pub patient_id: String,
    pub position: i32,
    pub organization_id: String,
    pub practitioner_id: Option<String>,
    pub role: String,
    pub since: String,
    pub until: Option<String>,
}

impl CareTeamRow {
    pub fn for_patient(conn: &mut DbConn, patient_id: &str) -> QueryResult<Vec<Self>> {
        care_team_members::table
            .filter(care_team_members::patient_id.eq(patient_id))
            .order(care_team_members::position)
            .load(conn)
    }

    /// Replaces the whole team of a patient (run inside a write transaction).
    pub fn replace(conn: &mut DbConn, patient_id: &str, members: &[Self]) -> QueryResult<()> {
        diesel::delete(care_team_members::table.filter(care_team_members::patient_id.eq(patient_id))).execute(conn)?;
        // One statement per member: the combined backend has no multi-row insert.
        for member in members {
            diesel::insert_into(care_team_members::table).values(member).execute(conn)?;
        }
        Ok(())
    }
}
