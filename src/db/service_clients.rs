//! Service clients and the assertions they have used: rows and queries. Writes run inside the
//! committer's transaction, with the audit event of the registration or the token.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{client_assertions, service_clients};

/// A registered service client.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = service_clients)]
pub struct ServiceClientRow {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub role: String,
    /// Space-separated, as OAuth writes scopes.
    pub scopes: String,
    /// `{"jwks": {...}}` or `{"pem": "..."}`.
    pub public_keys: String,
    pub created_at: String,
    pub created_by: String,
}

impl ServiceClientRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(service_clients::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        service_clients::table.find(id).first(conn).optional()
    }

    pub fn of_organization(conn: &mut DbConn, org: &str) -> QueryResult<Vec<Self>> {
        service_clients::table
            .filter(service_clients::organization_id.eq(org))
            .order(service_clients::created_at.asc())
            .load(conn)
    }
}

/// An assertion's `jti`, used once, remembered until its `exp` (Unix seconds).
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = client_assertions)]
pub struct UsedAssertionRow {
    pub client_id: String,
    pub jti: String,
    pub expires_at: i64,
}

impl UsedAssertionRow {
    /// Records the assertion; `false` if it was used before (a replay). Expired entries of the
    /// client are dropped first: past its `exp` an assertion is refused anyway.
    pub fn record_once(&self, conn: &mut DbConn, now: i64) -> QueryResult<bool> {
        diesel::delete(
            client_assertions::table
                .filter(client_assertions::client_id.eq(&self.client_id))
                .filter(client_assertions::expires_at.lt(now)),
        )
        .execute(conn)?;
        let seen = client_assertions::table
            .find((&self.client_id, &self.jti))
            .select(client_assertions::jti)
            .first::<String>(conn)
            .optional()?;
        if seen.is_some() {
            return Ok(false);
        }
        diesel::insert_into(client_assertions::table).values(self).execute(conn)?;
        Ok(true)
    }
}
