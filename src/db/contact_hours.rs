//! Contact hours (ケアマネタイム): a practitioner's weekly slots and dated exceptions.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{contact_hour_exceptions, contact_hours, practitioners};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = contact_hours)]
pub struct SlotRow {
    pub practitioner_id: String,
    pub position: i32,
    pub organization_id: String,
    /// ISO weekday: 1 Monday … 7 Sunday.
    pub weekday: i32,
    /// `HH:MM` in the region's time zone.
    pub start_time: String,
    pub end_time: String,
    pub channel: String,
    pub audience: String,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = contact_hour_exceptions)]
pub struct ExceptionRow {
    pub practitioner_id: String,
    /// `YYYY-MM-DD`: no contact hours that day.
    pub day: String,
    pub note: Option<String>,
}

/// Replaces a practitioner's slots and exceptions.
pub fn replace(
    conn: &mut DbConn,
    practitioner: &str,
    slots: &[SlotRow],
    exceptions: &[ExceptionRow],
) -> QueryResult<()> {
    diesel::delete(contact_hours::table.filter(contact_hours::practitioner_id.eq(practitioner))).execute(conn)?;
    diesel::delete(contact_hour_exceptions::table.filter(contact_hour_exceptions::practitioner_id.eq(practitioner)))
        .execute(conn)?;
    // One row at a time: the combined backend has no multi-row insert.
    for slot in slots {
        diesel::insert_into(contact_hours::table).values(slot).execute(conn)?;
    }
    for exception in exceptions {
        diesel::insert_into(contact_hour_exceptions::table).values(exception).execute(conn)?;
    }
    Ok(())
}

/// A practitioner's slots (weekday, start order) and exceptions (day order).
pub fn of(conn: &mut DbConn, practitioner: &str) -> QueryResult<(Vec<SlotRow>, Vec<ExceptionRow>)> {
    let slots = contact_hours::table
        .filter(contact_hours::practitioner_id.eq(practitioner.to_owned()))
        .order((contact_hours::weekday, contact_hours::start_time, contact_hours::position))
        .load(conn)?;
    let exceptions = contact_hour_exceptions::table
        .filter(contact_hour_exceptions::practitioner_id.eq(practitioner.to_owned()))
        .order(contact_hour_exceptions::day)
        .load(conn)?;
    Ok((slots, exceptions))
}

/// The region's slots, optionally of one organisation, profession or weekday, with each slot's
/// practitioner name and profession.
pub fn region(
    conn: &mut DbConn,
    organization: Option<&str>,
    profession: Option<&str>,
    weekday: Option<i32>,
) -> QueryResult<Vec<(SlotRow, String, String)>> {
    let mut query = contact_hours::table
        .inner_join(practitioners::table.on(practitioners::id.eq(contact_hours::practitioner_id)))
        .select((
            (
                contact_hours::practitioner_id,
                contact_hours::position,
                contact_hours::organization_id,
                contact_hours::weekday,
                contact_hours::start_time,
                contact_hours::end_time,
                contact_hours::channel,
                contact_hours::audience,
                contact_hours::notes,
            ),
            practitioners::name,
            practitioners::profession,
        ))
        .order((
            contact_hours::organization_id,
            contact_hours::weekday,
            contact_hours::start_time,
            contact_hours::practitioner_id,
        ))
        .into_boxed();
    if let Some(org) = organization {
        query = query.filter(contact_hours::organization_id.eq(org.to_owned()));
    }
    if let Some(p) = profession {
        query = query.filter(practitioners::profession.eq(p.to_owned()));
    }
    if let Some(w) = weekday {
        query = query.filter(contact_hours::weekday.eq(w));
    }
    query.limit(2000).load(conn)
}

/// Practitioners of these organisations who publish any slot.
pub fn practitioners_with_hours(conn: &mut DbConn, orgs: &[String]) -> QueryResult<Vec<String>> {
    contact_hours::table
        .filter(contact_hours::organization_id.eq_any(orgs))
        .select(contact_hours::practitioner_id)
        .distinct()
        .order(contact_hours::practitioner_id)
        .load(conn)
}
