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
    /// 保険医療機関コード (10 digits), unique in the region.
    pub medical_institution_code: Option<String>,
    /// 介護保険事業所番号 (10 digits), unique in the region.
    pub ltc_provider_number: Option<String>,
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
                organizations::medical_institution_code.eq(&self.medical_institution_code),
                organizations::ltc_provider_number.eq(&self.ltc_provider_number),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// The organisation of exactly this name (names are unique in the directory).
    pub fn find_by_name(conn: &mut DbConn, name: &str) -> QueryResult<Option<Self>> {
        organizations::table.filter(organizations::name.eq(name)).first(conn).optional()
    }

    /// The organisation with this 保険医療機関コード, if any.
    pub fn by_medical_institution_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Self>> {
        organizations::table.filter(organizations::medical_institution_code.eq(code)).first(conn).optional()
    }

    /// The organisation with this 介護保険事業所番号, if any.
    pub fn by_ltc_provider_number(conn: &mut DbConn, number: &str) -> QueryResult<Option<Self>> {
        organizations::table.filter(organizations::ltc_provider_number.eq(number)).first(conn).optional()
    }

    /// Those of `numbers` that name an organisation, with it (one query for a whole file).
    pub fn by_ltc_provider_numbers(conn: &mut DbConn, numbers: &[String]) -> QueryResult<Vec<Self>> {
        organizations::table.filter(organizations::ltc_provider_number.eq_any(numbers)).load(conn)
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

    /// Up to `limit` organisations whose name contains `text`, by name.
    pub fn named(conn: &mut DbConn, text: &str, limit: i64) -> QueryResult<Vec<Self>> {
        organizations::table
            .filter(organizations::name.like(containing(text)).escape('\\'))
            .order(organizations::name)
            .limit(limit)
            .load(conn)
    }

    /// One page in id order, after the cursor, optionally of one kind or with one code.
    pub fn list(conn: &mut DbConn, by: ListBy<'_>, after: Option<&str>, limit: i64) -> QueryResult<Vec<Self>> {
        let mut query = organizations::table.order(organizations::id).limit(limit).into_boxed();
        if let Some(kind) = by.kind {
            query = query.filter(organizations::kind.eq(kind.to_owned()));
        }
        if let Some(code) = by.medical_institution_code {
            query = query.filter(organizations::medical_institution_code.eq(code.to_owned()));
        }
        if let Some(number) = by.ltc_provider_number {
            query = query.filter(organizations::ltc_provider_number.eq(number.to_owned()));
        }
        if let Some(after) = after {
            query = query.filter(organizations::id.gt(after.to_owned()));
        }
        query.load(conn)
    }
}

/// A LIKE pattern for names containing `text`, its own `%`, `_` and `\` taken literally.
fn containing(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// What an organisation listing is narrowed by (each `None` narrows nothing).
#[derive(Debug, Clone, Copy, Default)]
pub struct ListBy<'a> {
    pub kind: Option<&'a str>,
    pub medical_institution_code: Option<&'a str>,
    pub ltc_provider_number: Option<&'a str>,
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

    /// Up to `limit` practitioners whose name contains `text`, by name.
    pub fn named(conn: &mut DbConn, text: &str, limit: i64) -> QueryResult<Vec<Self>> {
        practitioners::table
            .filter(practitioners::name.like(containing(text)).escape('\\'))
            .order(practitioners::name)
            .limit(limit)
            .load(conn)
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
