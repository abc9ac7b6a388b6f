//! The short-stay vacancy board: postings, their days, and the ordered list of changes that the
//! stream and the pollers' feed read.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{counters, vacancy_changes, vacancy_days, vacancy_postings};

/// One facility's posting for one service; field order follows the table.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = vacancy_postings)]
pub struct PostingRow {
    pub facility_id: String,
    pub service: String,
    pub version: i32,
    /// JSON of the contact (name, phone).
    pub contact: String,
    pub notes: Option<String>,
    pub confirmed_at: String,
    pub confirmed_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

/// One posted day.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = vacancy_days)]
pub struct DayRow {
    pub facility_id: String,
    pub service: String,
    /// `YYYY-MM-DD`, so text order is day order.
    pub day: String,
    pub beds_free: i32,
    /// JSON of the beds by room type and sex.
    pub beds: String,
    /// `,need,need,` (or `,` for none).
    pub accepts: String,
}

/// One committed publish or confirmation.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = vacancy_changes)]
pub struct ChangeRow {
    pub seq: i64,
    pub facility_id: String,
    pub service: String,
    pub version: i32,
    /// `published` or `confirmed`.
    pub op: String,
    pub confirmed_at: String,
    pub at: String,
}

/// Takes the next vacancy change number. Call it first in the writing transaction: the row lock
/// orders concurrent writers, so numbers become visible in the order given out (no gaps seen).
pub fn next_seq(conn: &mut DbConn) -> QueryResult<i64> {
    diesel::update(counters::table.find("vacancy_seq"))
        .set(counters::value.eq(counters::value + 1))
        .returning(counters::value)
        .get_result(conn)
}

/// The highest change number committed (0 before the first).
pub fn last_seq(conn: &mut DbConn) -> QueryResult<i64> {
    counters::table.find("vacancy_seq").select(counters::value).first(conn)
}

impl PostingRow {
    pub fn find(conn: &mut DbConn, facility: &str, service: &str) -> QueryResult<Option<Self>> {
        vacancy_postings::table.find((facility, service)).first(conn).optional()
    }

    /// Several postings by key, in no particular order.
    pub fn find_many(conn: &mut DbConn, keys: &[(String, String)]) -> QueryResult<Vec<Self>> {
        let facilities: Vec<&str> = keys.iter().map(|(f, _)| f.as_str()).collect();
        let rows: Vec<Self> =
            vacancy_postings::table.filter(vacancy_postings::facility_id.eq_any(facilities)).load(conn)?;
        Ok(rows.into_iter().filter(|r| keys.iter().any(|(f, s)| *f == r.facility_id && *s == r.service)).collect())
    }

    /// Writes this version: inserts the first, replaces the rest whole (its days too).
    pub fn store(&self, conn: &mut DbConn, days: &[DayRow]) -> QueryResult<()> {
        if self.version == 1 {
            diesel::insert_into(vacancy_postings::table).values(self).execute(conn)?;
        } else {
            diesel::update(vacancy_postings::table.find((&self.facility_id, &self.service)))
                .set((
                    vacancy_postings::version.eq(self.version),
                    vacancy_postings::contact.eq(&self.contact),
                    vacancy_postings::notes.eq(&self.notes),
                    vacancy_postings::confirmed_at.eq(&self.confirmed_at),
                    vacancy_postings::confirmed_by.eq(&self.confirmed_by),
                    vacancy_postings::updated_at.eq(&self.updated_at),
                    vacancy_postings::updated_by.eq(&self.updated_by),
                ))
                .execute(conn)?;
            diesel::delete(
                vacancy_days::table
                    .filter(vacancy_days::facility_id.eq(&self.facility_id))
                    .filter(vacancy_days::service.eq(&self.service)),
            )
            .execute(conn)?;
        }
        // One statement a day: the combined backend has no multi-row insert.
        for day in days {
            diesel::insert_into(vacancy_days::table).values(day).execute(conn)?;
        }
        Ok(())
    }

    /// Marks the posting confirmed as it stands.
    pub fn confirm(conn: &mut DbConn, facility: &str, service: &str, at: &str, by: &str) -> QueryResult<()> {
        diesel::update(vacancy_postings::table.find((facility, service)))
            .set((vacancy_postings::confirmed_at.eq(at), vacancy_postings::confirmed_by.eq(by)))
            .execute(conn)
            .map(drop)
    }

    /// The posting's days from `from` on, in day order.
    pub fn days(&self, conn: &mut DbConn, from: &str) -> QueryResult<Vec<DayRow>> {
        vacancy_days::table
            .filter(vacancy_days::facility_id.eq(&self.facility_id))
            .filter(vacancy_days::service.eq(&self.service))
            .filter(vacancy_days::day.ge(from))
            .order(vacancy_days::day)
            .load(conn)
    }
}

/// Days in `from..=to` with a bed free that accept every need, of one service or all: the
/// search's candidates, which the caller then groups by posting.
pub fn free_days(
    conn: &mut DbConn,
    service: Option<&str>,
    from: &str,
    to: &str,
    needs: &[&str],
) -> QueryResult<Vec<DayRow>> {
    let mut query = vacancy_days::table
        .filter(vacancy_days::day.ge(from.to_owned()))
        .filter(vacancy_days::day.le(to.to_owned()))
        .filter(vacancy_days::beds_free.gt(0))
        .order((vacancy_days::facility_id, vacancy_days::service, vacancy_days::day))
        .into_boxed();
    if let Some(service) = service {
        query = query.filter(vacancy_days::service.eq(service.to_owned()));
    }
    for need in needs {
        // Needs are words of a closed vocabulary (letters and `_`), so no LIKE escaping is needed;
        // `_` matches itself among others, and the commas anchor the whole word.
        query = query.filter(vacancy_days::accepts.like(format!("%,{need},%")));
    }
    query.load(conn)
}

impl ChangeRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(vacancy_changes::table).values(self).execute(conn).map(drop)
    }

    /// Up to `limit` changes after `since`, lowest first.
    pub fn after(conn: &mut DbConn, since: i64, limit: i64) -> QueryResult<Vec<Self>> {
        vacancy_changes::table
            .filter(vacancy_changes::seq.gt(since))
            .order(vacancy_changes::seq)
            .limit(limit)
            .load(conn)
    }
}

/// The directory entries of these facilities.
pub fn facilities(conn: &mut DbConn, ids: &[&str]) -> QueryResult<Vec<super::directory::OrganizationRow>> {
    use super::schema::organizations;
    organizations::table.filter(organizations::id.eq_any(ids)).load(conn)
}
