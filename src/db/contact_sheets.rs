//! Contact sheets: the head row of each sheet (addressing, state, times; body sealed), the
//! organisations that were ever party to it, and its thread of events numbered by the global
//! change sequence (so that sheets ride the change feed next to documents).

use diesel::prelude::*;

use super::DbConn;
use super::schema::{contact_sheet_events, contact_sheet_parties, contact_sheets};

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = contact_sheets, treat_none_as_null = true)]
pub struct SheetRow {
    pub id: String,
    /// `None` for a question to a consultation desk about no patient.
    pub patient_id: Option<String>,
    pub sender_sub: String,
    pub sender_org: String,
    pub to_org: String,
    pub to_practitioner: Option<String>,
    pub category: String,
    pub urgency: String,
    /// Sealed.
    pub body: String,
    pub reply_by: Option<String>,
    pub state: String,
    pub version: i32,
    pub sent_at: String,
    pub delivered_at: Option<String>,
    pub read_at: Option<String>,
    pub read_by: Option<String>,
    pub answered_at: Option<String>,
    pub closed_at: Option<String>,
    pub withdrawn_at: Option<String>,
    pub updated_at: String,
    /// The sheet's own wrapped data key, only when it has no patient.
    pub data_key: Option<String>,
    pub data_key_kid: Option<String>,
}

/// One entry of a sheet's thread.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = contact_sheet_events)]
pub struct SheetEventRow {
    pub sheet_id: String,
    pub version: i32,
    pub seq: i64,
    pub patient_id: Option<String>,
    /// `sent`, `delivered`, `read`, `answered`, `replied`, `forwarded`, `withdrawn`, `closed`.
    pub op: String,
    pub actor_sub: String,
    pub actor_org: String,
    pub to_org: Option<String>,
    pub to_practitioner: Option<String>,
    /// Sealed: a reply's text, or a forwarding note.
    pub note: Option<String>,
    pub at: String,
}

/// Which side of the sheets a listing looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Inbox,
    Sent,
}

/// A listing's filter, as stored words and times.
#[derive(Debug, Clone)]
pub struct SheetFilter {
    pub sub: String,
    pub org: String,
    pub side: Side,
    /// Only sheets in one of these states (any when empty).
    pub states: Vec<String>,
    pub patient_id: Option<String>,
    /// Only sheets past `reply_by` at this time and neither answered, closed nor withdrawn.
    pub overdue_at: Option<String>,
}

/// States in which a sheet still waits for something.
const OPEN: [&str; 4] = ["sent", "delivered", "read", "forwarded"];

impl SheetRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(contact_sheets::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        contact_sheets::table.find(id).first(conn).optional()
    }

    /// Writes the row over version `expected`; false when another writer moved it first.
    pub fn advance(&self, conn: &mut DbConn, expected: i32) -> QueryResult<bool> {
        let n = diesel::update(contact_sheets::table.find(&self.id).filter(contact_sheets::version.eq(expected)))
            .set(self)
            .execute(conn)?;
        Ok(n == 1)
    }

    /// A page of the caller's box, newest first, after the `(sent_at, id)` cursor.
    pub fn list(
        conn: &mut DbConn,
        f: &SheetFilter,
        after: Option<&(String, String)>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = contact_sheets::table
            .order((contact_sheets::sent_at.desc(), contact_sheets::id.desc()))
            .limit(limit)
            .into_boxed();
        query = match f.side {
            Side::Inbox => query.filter(contact_sheets::to_org.eq(f.org.clone())).filter(
                contact_sheets::to_practitioner.is_null().or(contact_sheets::to_practitioner.eq(f.sub.clone())),
            ),
            Side::Sent => query.filter(contact_sheets::sender_org.eq(f.org.clone())),
        };
        if !f.states.is_empty() {
            query = query.filter(contact_sheets::state.eq_any(f.states.clone()));
        }
        if let Some(patient) = &f.patient_id {
            query = query.filter(contact_sheets::patient_id.eq(patient.clone()));
        }
        if let Some(now) = &f.overdue_at {
            query = query.filter(contact_sheets::reply_by.lt(now.clone())).filter(contact_sheets::state.eq_any(OPEN));
        }
        if let Some((at, id)) = after {
            query = query.filter(
                contact_sheets::sent_at
                    .lt(at.clone())
                    .or(contact_sheets::sent_at.eq(at.clone()).and(contact_sheets::id.lt(id.clone()))),
            );
        }
        query.load(conn)
    }

    /// Sheets sent in `[from, to)`, optionally only those one organisation sent or received.
    pub fn sent_between(conn: &mut DbConn, from: &str, to: &str, org: Option<&str>) -> QueryResult<Vec<Self>> {
        let mut query = contact_sheets::table
            .filter(contact_sheets::sent_at.ge(from.to_owned()))
            .filter(contact_sheets::sent_at.lt(to.to_owned()))
            .order((contact_sheets::sent_at, contact_sheets::id))
            .into_boxed();
        if let Some(org) = org {
            query = query
                .filter(contact_sheets::to_org.eq(org.to_owned()).or(contact_sheets::sender_org.eq(org.to_owned())));
        }
        query.load(conn)
    }

    /// Every sheet that has its own data key (desk questions), for key rotation.
    pub fn with_own_keys(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        contact_sheets::table.filter(contact_sheets::data_key.is_not_null()).load(conn)
    }

    /// Swaps a sheet's own wrapped key, only if it is still the one read.
    pub fn replace_data_key(conn: &mut DbConn, id: &str, old_kid: &str, kid: &str, blob: &str) -> QueryResult<bool> {
        let n = diesel::update(contact_sheets::table.find(id).filter(contact_sheets::data_key_kid.eq(old_kid)))
            .set((contact_sheets::data_key_kid.eq(kid), contact_sheets::data_key.eq(blob)))
            .execute(conn)?;
        Ok(n == 1)
    }
}

/// The subject a patient-less sheet's own data key is wrapped for (in place of a patient id):
/// the prefix keeps it apart from patient ids, the id binds the key to this one sheet.
pub fn key_subject(sheet_id: &str) -> String {
    format!("desk-question:{sheet_id}")
}

/// Adds `org` to the parties of a sheet (once).
pub fn add_party(conn: &mut DbConn, sheet_id: &str, org: &str) -> QueryResult<()> {
    let known = diesel::select(diesel::dsl::exists(
        contact_sheet_parties::table.find((sheet_id, org)).select(contact_sheet_parties::sheet_id),
    ))
    .get_result::<bool>(conn)?;
    if !known {
        diesel::insert_into(contact_sheet_parties::table)
            .values((contact_sheet_parties::sheet_id.eq(sheet_id), contact_sheet_parties::organization_id.eq(org)))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether `org` was ever party to the sheet.
pub fn is_party(conn: &mut DbConn, sheet_id: &str, org: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        contact_sheet_parties::table.find((sheet_id, org)).select(contact_sheet_parties::sheet_id),
    ))
    .get_result(conn)
}

impl SheetEventRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(contact_sheet_events::table).values(self).execute(conn).map(drop)
    }

    /// A sheet's thread, oldest first.
    pub fn thread(conn: &mut DbConn, sheet_id: &str) -> QueryResult<Vec<Self>> {
        contact_sheet_events::table
            .filter(contact_sheet_events::sheet_id.eq(sheet_id.to_owned()))
            .order(contact_sheet_events::version)
            .load(conn)
    }

    /// Up to `limit` thread entries with a sequence number above `since` and up to `head`,
    /// lowest first.
    pub fn after(conn: &mut DbConn, since: i64, head: i64, limit: i64) -> QueryResult<Vec<Self>> {
        contact_sheet_events::table
            .filter(contact_sheet_events::seq.gt(since))
            .filter(contact_sheet_events::seq.le(head))
            .order(contact_sheet_events::seq)
            .limit(limit)
            .load(conn)
    }

    /// Whether any thread entry lies beyond `since`.
    pub fn any_after(conn: &mut DbConn, since: i64) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            contact_sheet_events::table.filter(contact_sheet_events::seq.gt(since)).select(contact_sheet_events::seq),
        ))
        .get_result(conn)
    }
}
