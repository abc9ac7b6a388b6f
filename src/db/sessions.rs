//! Ended sessions, kept so that a restart does not bring them back: tokens signed out before
//! their `exp` (by digest) and users whose sessions an admin ended. `auth::Authenticator` holds
//! them in memory and checks every token against them; these rows are written when a session
//! ends and read at start and every second after, so that every instance on the database refuses
//! an ending any of them served.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{ended_tokens, ended_users};

/// A token refused until `expires_at` (Unix seconds): the hex SHA-256 of the token text.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = ended_tokens)]
pub struct EndedTokenRow {
    pub digest: String,
    pub expires_at: i64,
}

impl EndedTokenRow {
    /// Records the ending; ending the same token again keeps one row.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::delete(ended_tokens::table.find(&self.digest)).execute(conn)?;
        diesel::insert_into(ended_tokens::table).values(self).execute(conn).map(drop)
    }

    /// Drops the endings of tokens expired at `now` (at start: one instance's sweep is enough).
    pub fn drop_expired(conn: &mut DbConn, now: i64) -> QueryResult<()> {
        diesel::delete(ended_tokens::table.filter(ended_tokens::expires_at.lt(now))).execute(conn).map(drop)
    }

    /// The endings that still matter at `now`.
    pub fn live(conn: &mut DbConn, now: i64) -> QueryResult<Vec<Self>> {
        ended_tokens::table.filter(ended_tokens::expires_at.ge(now)).load(conn)
    }
}

/// A user whose tokens issued up to `ended_at` (Unix seconds) are refused.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = ended_users)]
pub struct EndedUserRow {
    pub organization_id: String,
    pub sub: String,
    pub ended_at: i64,
}

impl EndedUserRow {
    /// Records the ending, replacing an earlier one of the same user.
    pub fn upsert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::delete(ended_users::table.find((&self.organization_id, &self.sub))).execute(conn)?;
        diesel::insert_into(ended_users::table).values(self).execute(conn).map(drop)
    }

    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        ended_users::table.load(conn)
    }
}
