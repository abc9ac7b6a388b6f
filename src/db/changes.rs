//! The change feed's reads: document versions in change-sequence order, metadata only (the sealed
//! content never leaves this query). The unique index on `document_versions.seq` serves both.

use diesel::prelude::*;

use super::DbConn;
use super::schema::document_versions;

/// One committed document change, as the feed lists it.
#[derive(Debug, Clone, Queryable)]
pub struct ChangeRow {
    pub seq: i64,
    pub patient_id: String,
    pub document_id: String,
    pub doc_type: String,
    pub version: i32,
    /// `created`, `updated` or `deleted`.
    pub op: String,
    pub created_at: String,
}

/// Up to `limit` changes with a sequence number above `since`, lowest first.
pub fn after(conn: &mut DbConn, since: i64, limit: i64) -> QueryResult<Vec<ChangeRow>> {
    document_versions::table
        .filter(document_versions::seq.gt(since))
        .order(document_versions::seq)
        .limit(limit)
        .select((
            document_versions::seq,
            document_versions::patient_id,
            document_versions::document_id,
            document_versions::doc_type,
            document_versions::version,
            document_versions::op,
            document_versions::created_at,
        ))
        .load(conn)
}

/// Whether any change lies beyond `since`.
pub fn any_after(conn: &mut DbConn, since: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        document_versions::table.filter(document_versions::seq.gt(since)).select(document_versions::seq),
    ))
    .get_result(conn)
}

/// The highest sequence number given out so far (0 before any change).
pub fn last_seq(conn: &mut DbConn) -> QueryResult<i64> {
    let max: Option<i64> = document_versions::table.select(diesel::dsl::max(document_versions::seq)).first(conn)?;
    Ok(max.unwrap_or(0))
}
