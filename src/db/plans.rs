//! The annual plans: one row per year, the body (items) as JSON, replaced whole per version;
//! and every version kept beside it.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{annual_plan_versions, annual_plans};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = annual_plans)]
pub struct PlanRow {
    pub year: i32,
    pub version: i32,
    /// The plan's items and review date (JSON).
    pub body: String,
    pub updated_at: String,
    pub updated_by: String,
    pub updated_org: String,
}

impl PlanRow {
    pub fn find(conn: &mut DbConn, year: i32) -> QueryResult<Option<Self>> {
        annual_plans::table.find(year).first(conn).optional()
    }

    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(annual_plans::table).values(self).execute(conn).map(drop)
    }

    /// Replaces the plan if `expected` is still its version; false when another write came first.
    pub fn replace(&self, conn: &mut DbConn, expected: i32) -> QueryResult<bool> {
        let n = diesel::update(annual_plans::table.find(self.year).filter(annual_plans::version.eq(expected)))
            .set((
                annual_plans::version.eq(self.version),
                annual_plans::body.eq(&self.body),
                annual_plans::updated_at.eq(&self.updated_at),
                annual_plans::updated_by.eq(&self.updated_by),
                annual_plans::updated_org.eq(&self.updated_org),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }
}

/// A version of a year's plan, as it was written.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = annual_plan_versions)]
pub struct PlanVersionRow {
    pub year: i32,
    pub version: i32,
    pub body: String,
    pub updated_at: String,
    pub updated_by: String,
    pub updated_org: String,
}

impl PlanVersionRow {
    /// Keeps `plan` as the version it is.
    pub fn keep(conn: &mut DbConn, plan: &PlanRow) -> QueryResult<()> {
        let row = Self {
            year: plan.year,
            version: plan.version,
            body: plan.body.clone(),
            updated_at: plan.updated_at.clone(),
            updated_by: plan.updated_by.clone(),
            updated_org: plan.updated_org.clone(),
        };
        diesel::insert_into(annual_plan_versions::table).values(&row).execute(conn).map(drop)
    }

    /// Up to `limit` versions of `year`, newest first, older than `before` when given.
    pub fn page(conn: &mut DbConn, year: i32, before: Option<i32>, limit: i64) -> QueryResult<Vec<Self>> {
        let mut query = annual_plan_versions::table
            .filter(annual_plan_versions::year.eq(year))
            .order(annual_plan_versions::version.desc())
            .limit(limit)
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(annual_plan_versions::version.lt(before));
        }
        query.load(conn)
    }
}
