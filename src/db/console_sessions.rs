//! Server-side console sessions (issue 30): the row behind a session cookie, found by the
//! SHA-256 of the cookie's random id. Rows are written by the committer (start, end) with their
//! audit events; only `touch` (the idle clock) is bookkeeping on a pooled connection.

use diesel::prelude::*;

use super::DbConn;
use super::schema::console_sessions;

/// One session. Field order follows the table.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = console_sessions)]
pub struct SessionRow {
    /// Hex SHA-256 of the cookie's id.
    pub id_hash: String,
    /// The session's name in listings and revocations (not the cookie's id).
    pub public_id: String,
    /// The account signed in, if it was one (token and OIDC sign-ins have none).
    pub account_id: Option<String>,
    pub organization_id: String,
    pub sub: String,
    pub role: String,
    /// How the person signed in: `password+totp`, `recovery_code`, `token`, `oidc`.
    pub how: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The absolute time-out.
    pub expires_at: i64,
    pub ended_at: Option<i64>,
}

impl SessionRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(console_sessions::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, id_hash: &str) -> QueryResult<Option<Self>> {
        console_sessions::table.find(id_hash).first(conn).optional()
    }

    pub fn by_public_id(conn: &mut DbConn, public_id: &str) -> QueryResult<Option<Self>> {
        console_sessions::table.filter(console_sessions::public_id.eq(public_id)).first(conn).optional()
    }

    /// The user's sessions not yet ended, newest first (some may have timed out).
    pub fn open_of(conn: &mut DbConn, org: &str, sub: &str, now: i64) -> QueryResult<Vec<Self>> {
        console_sessions::table
            .filter(console_sessions::organization_id.eq(org))
            .filter(console_sessions::sub.eq(sub))
            .filter(console_sessions::ended_at.is_null())
            .filter(console_sessions::expires_at.gt(now))
            .order(console_sessions::created_at.desc())
            .load(conn)
    }

    /// Ends one session; whether it was open.
    pub fn end(conn: &mut DbConn, id_hash: &str, now: i64) -> QueryResult<bool> {
        let open = console_sessions::table.find(id_hash).filter(console_sessions::ended_at.is_null());
        Ok(diesel::update(open).set(console_sessions::ended_at.eq(now)).execute(conn)? == 1)
    }

    /// Ends every open session of the user; how many.
    pub fn end_all_of(conn: &mut DbConn, org: &str, sub: &str, now: i64) -> QueryResult<usize> {
        let open = console_sessions::table
            .filter(console_sessions::organization_id.eq(org))
            .filter(console_sessions::sub.eq(sub))
            .filter(console_sessions::ended_at.is_null());
        diesel::update(open).set(console_sessions::ended_at.eq(now)).execute(conn)
    }

    /// Moves the idle clock (one short statement of bookkeeping; see `domain::accounts::sessions`).
    pub fn touch(conn: &mut DbConn, id_hash: &str, now: i64) -> QueryResult<()> {
        diesel::update(console_sessions::table.find(id_hash).filter(console_sessions::ended_at.is_null()))
            .set(console_sessions::last_seen_at.eq(now))
            .execute(conn)
            .map(drop)
    }
}
