//! Organisations and practitioners: the regional directory.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{organizations, practitioners};

/// Field order follows the table (rows are loaded by position).
#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl OrganizationRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(organizations::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        organizations::table.find(id).first(conn).optional()
    }

    /// Replaces the editable fields; keeps `created_at`. Returns whether the row existed.
    pub fn update(&self, conn: &mut DbConn) -> QueryResult<bool> {
        let n = diesel::update(organizations::table.find(&self.id))
            .set((
                organizations::name.eq(&self.name),
                organizations::kind.eq(&self.kind),
                organizations::address.eq(&self.address),
                organizations::phone.eq(&self.phone),
                organizations::updated_at.eq(&self.updated_at),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// The organisation of exactly this name (names are unique in the directory).
    pub fn find_by_name(conn: &mut DbConn, name: &str) -> QueryResult<Option<Self>> {
        organizations::table.filter(organizations::name.eq(name)).first(conn).optional()
    }

    /// Whether an organisation other than `except` has exactly this name.
    pub fn name_taken(conn: &mut DbConn, name: &str, except: Option<&str>) -> QueryResult<bool> {
        let ids: Vec<String> =
            organizations::table.filter(organizations::name.eq(name)).select(organizations::id).load(conn)?;
        Ok(ids.iter().any(|id| Some(id.as_str()) != except))
    }

    pub fn exists(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(organizations::table.find(id))).get_result(conn)
    }

    /// One page in id order, after the cursor.
    pub fn list(conn: &mut DbConn, kind: Option<&str>, after: Option<&str>, limit: i64) -> QueryResult<Vec<Self>> {
        let mut query = organizations::table.order(organizations::id).limit(limit).into_boxed();
        if let Some(kind) = kind {
            query = query.filter(organizations::kind.eq(kind.to_owned()));
        }
        if let Some(after) = after {
            query = query.filter(organizations::id.gt(after.to_owned()));
        }
        query.load(conn)
    }
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = practitioners)]
pub struct PractitionerRow {
    pub id: String,
    pub name: String,
    pub profession: String,
    pub organization_id: String,
    pub created_at: String,
    pub updated_at: String,
}

impl PractitionerRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(practitioners::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        practitioners::table.find(id).first(conn).optional()
    }

    pub fn update(&self, conn: &mut DbConn) -> QueryResult<bool> {
        let n = diesel::update(practitioners::table.find(&self.id))
            .set((
                practitioners::name.eq(&self.name),
                practitioners::profession.eq(&self.profession),
                practitioners::organization_id.eq(&self.organization_id),
                practitioners::updated_at.eq(&self.updated_at),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }

    pub fn list(
        conn: &mut DbConn,
        organization: Option<&str>,
        profession: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = practitioners::table.order(practitioners::id).limit(limit).into_boxed();
        if let Some(org) = organization {
            query = query.filter(practitioners::organization_id.eq(org.to_owned()));
        }
        if let Some(profession) = profession {
            query = query.filter(practitioners::profession.eq(profession.to_owned()));
        }
        if let Some(after) = after {
            query = query.filter(practitioners::id.gt(after.to_owned()));
        }
        query.load(conn)
    }
}

impl OrganizationRow {
    /// Those of `ids` that are consultation desks.
    pub fn desks_among(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<String>> {
        organizations::table
            .filter(organizations::id.eq_any(ids))
            .filter(organizations::kind.eq("consultation_desk"))
            .select(organizations::id)
            .load(conn)
    }
}
