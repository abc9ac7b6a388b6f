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
    /// Moves (by trigger, in the same transaction) whenever the patient's care team or consents
    /// change: facts loaded at one revision hold until it moves.
    pub access_rev: i64,
    /// The health-insurance card's blind index (`domain::health_index`): `None` not yet indexed
    /// (registered before the index existed), `Some("")` no card.
    pub hi_index: Option<String>,
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

    /// Patients whose health-insurance card has this blind index.
    pub fn find_by_hi_index(conn: &mut DbConn, hi_index: &str) -> QueryResult<Vec<Self>> {
        patients::table.filter(patients::hi_index.eq(hi_index)).order(patients::id).load(conn)
    }

    /// Up to `limit` patients (not erased) whose card is not indexed yet, in id order.
    pub fn not_hi_indexed(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Self>> {
        patients::table
            .filter(patients::hi_index.is_null())
            .filter(patients::erased_at.is_null())
            .filter(patients::data_key.is_not_null())
            .order(patients::id)
            .limit(limit)
            .load(conn)
    }

    /// Sets the card's index where it is still unset (a registration that set it wins).
    pub fn set_hi_index(conn: &mut DbConn, id: &str, hi_index: &str) -> QueryResult<bool> {
        let n = diesel::update(patients::table.find(id).filter(patients::hi_index.is_null()))
            .set(patients::hi_index.eq(hi_index))
            .execute(conn)?;
        Ok(n == 1)
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

    /// Patients `org` manages, in id order after `after`.
    pub fn list_managed_by(conn: &mut DbConn, org: &str, after: Option<&str>, limit: i64) -> QueryResult<Vec<Self>> {
        let mut query = patients::table
            .filter(patients::managing_organization_id.eq(org.to_owned()))
            .order(patients::id)
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(patients::id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// Patients on whose care team `org` serves on `today`, in id order after `after`.
    pub fn list_on_team_of(
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
        let mut query =
            patients::table.filter(patients::id.eq_any(on_team)).order(patients::id).limit(limit).into_boxed();
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

/// Key management: data keys to re-wrap, and which master keys are still in use.
impl PatientRow {
    /// Patients whose data key is wrapped by another master key than `current`.
    pub fn wrapped_by_other(conn: &mut DbConn, current: &str, limit: i64) -> QueryResult<Vec<Self>> {
        patients::table
            .filter(patients::data_key.is_not_null())
            .filter(patients::data_key_kid.ne(current))
            .order(patients::id)
            .limit(limit)
            .load(conn)
    }

    pub fn count_wrapped_by_other(conn: &mut DbConn, current: &str) -> QueryResult<i64> {
        patients::table
            .filter(patients::data_key.is_not_null())
            .filter(patients::data_key_kid.ne(current))
            .count()
            .get_result(conn)
    }

    /// One patient whose data key is wrapped under master key `kid`.
    pub fn one_wrapped_by(conn: &mut DbConn, kid: &str) -> QueryResult<Option<Self>> {
        patients::table
            .filter(patients::data_key.is_not_null())
            .filter(patients::data_key_kid.eq(kid))
            .first(conn)
            .optional()
    }

    /// Patients whose data key still exists (not erased).
    pub fn count_with_data_key(conn: &mut DbConn) -> QueryResult<i64> {
        patients::table.filter(patients::data_key.is_not_null()).count().get_result(conn)
    }

    /// Replaces the wrapped key if it is still the one that was read (a concurrent erasure wins).
    pub fn replace_data_key(conn: &mut DbConn, id: &str, old_kid: &str, kid: &str, blob: &str) -> QueryResult<bool> {
        let n = diesel::update(
            patients::table
                .find(id)
                .filter(patients::data_key_kid.eq(old_kid))
                .filter(patients::data_key.is_not_null()),
        )
        .set((patients::data_key_kid.eq(kid), patients::data_key.eq(blob)))
        .execute(conn)?;
        Ok(n == 1)
    }

    pub fn kids_in_use(conn: &mut DbConn) -> QueryResult<Vec<String>> {
        patients::table.filter(patients::data_key.is_not_null()).select(patients::data_key_kid).distinct().load(conn)
    }

    /// One patient whose data key still exists: start-up checks that the master key opens it.
    pub fn any_with_key(conn: &mut DbConn) -> QueryResult<Option<Self>> {
        patients::table.filter(patients::data_key.is_not_null()).first(conn).optional()
    }

    /// Crypto-shredding: the data key is destroyed, and with it every sealed field of the patient.
    pub fn erase(conn: &mut DbConn, id: &str, at: &str, by: &str) -> QueryResult<bool> {
        let n = diesel::update(patients::table.find(id).filter(patients::erased_at.is_null()))
            .set((
                patients::data_key.eq(None::<String>),
                patients::sealed.eq("{}"),
                patients::ltc_index.eq(None::<String>),
                patients::hi_index.eq(None::<String>),
                patients::erased_at.eq(at),
                patients::updated_at.eq(at),
                patients::updated_by.eq(by),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }
}
