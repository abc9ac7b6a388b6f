//! Documents: a head row per document (its current version, bumped by every write) and an
//! immutable row per version, numbered by the global change sequence.

use diesel::prelude::*;

use super::DbConn;
use super::patients::PatientRow;
use super::schema::{counters, document_versions, documents, idempotency_keys, patients};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = documents)]
pub struct DocumentRow {
    pub id: String,
    pub patient_id: String,
    pub doc_type: String,
    pub schema_version: String,
    pub version: i32,
    pub deleted: bool,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = document_versions)]
pub struct VersionRow {
    pub document_id: String,
    pub version: i32,
    pub patient_id: String,
    pub doc_type: String,
    pub schema_version: String,
    /// `created`, `updated` or `deleted`.
    pub op: String,
    /// The sealed content; `None` for a tombstone.
    pub content: Option<String>,
    pub seq: i64,
    pub created_at: String,
    pub created_by: String,
}

/// Takes the next global change sequence number. Call it first in a write transaction: the row
/// lock it takes orders concurrent writers, so sequence order is commit order (the change feed
/// relies on this) and every later check in the transaction sees the previous writer's result.
pub fn next_seq(conn: &mut DbConn) -> QueryResult<i64> {
    diesel::update(counters::table.find("change_seq"))
        .set(counters::value.eq(counters::value + 1))
        .returning(counters::value)
        .get_result(conn)
}

impl DocumentRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(documents::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        documents::table.find(id).first(conn).optional()
    }

    /// The head with its patient, in one query (what every access to a document starts with).
    pub fn find_with_patient(conn: &mut DbConn, id: &str) -> QueryResult<Option<(Self, PatientRow)>> {
        documents::table.inner_join(patients::table).filter(documents::id.eq(id)).first(conn).optional()
    }

    /// Moves the head from `expected` to the new version; false when another writer moved it first.
    pub fn advance(&self, conn: &mut DbConn, expected: i32) -> QueryResult<bool> {
        let n = diesel::update(documents::table.find(&self.id).filter(documents::version.eq(expected)))
            .set((
                documents::version.eq(self.version),
                documents::schema_version.eq(&self.schema_version),
                documents::deleted.eq(self.deleted),
                documents::updated_at.eq(&self.updated_at),
                documents::updated_by.eq(&self.updated_by),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// A patient's live documents in (updated_at, id) order, after the cursor.
    pub fn list_for_patient(
        conn: &mut DbConn,
        patient_id: &str,
        doc_type: Option<&str>,
        updated_since: Option<&str>,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = documents::table
            .filter(documents::patient_id.eq(patient_id.to_owned()))
            .filter(documents::deleted.eq(false))
            .order((documents::updated_at, documents::id))
            .limit(limit)
            .into_boxed();
        if let Some(t) = doc_type {
            query = query.filter(documents::doc_type.eq(t.to_owned()));
        }
        if let Some(since) = updated_since {
            query = query.filter(documents::updated_at.ge(since.to_owned()));
        }
        if let Some((at, id)) = after {
            query = query.filter(
                documents::updated_at
                    .gt(at.to_owned())
                    .or(documents::updated_at.eq(at.to_owned()).and(documents::id.gt(id.to_owned()))),
            );
        }
        query.load(conn)
    }
}

impl VersionRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(document_versions::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, document_id: &str, version: i32) -> QueryResult<Option<Self>> {
        document_versions::table.find((document_id, version)).first(conn).optional()
    }

    /// Newest first, below `before` when given.
    pub fn history(conn: &mut DbConn, document_id: &str, before: Option<i32>, limit: i64) -> QueryResult<Vec<Self>> {
        let mut query = document_versions::table
            .filter(document_versions::document_id.eq(document_id.to_owned()))
            .order(document_versions::version.desc())
            .limit(limit)
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(document_versions::version.lt(before));
        }
        query.load(conn)
    }
}

/// A remembered answer to a request that carried an `Idempotency-Key`. It points at the version
/// written (never a copy of the content, which would sit in the database unsealed).
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub caller: String,
    pub idem_key: String,
    pub request_hash: String,
    pub status: i32,
    /// `{"document_id": ..., "version": ...}`
    pub response: String,
    pub created_at: String,
}

impl IdempotencyRow {
    /// The remembered answer, if one was given after `not_before`; older ones are forgotten.
    pub fn find(conn: &mut DbConn, caller: &str, key: &str, not_before: &str) -> QueryResult<Option<Self>> {
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(not_before.to_owned())))
            .execute(conn)?;
        idempotency_keys::table.find((caller, key)).first(conn).optional()
    }

    /// Whether an answer given after `not_before` is remembered (a read: nothing is forgotten).
    pub fn exists(conn: &mut DbConn, caller: &str, key: &str, not_before: &str) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            idempotency_keys::table
                .filter(idempotency_keys::caller.eq(caller))
                .filter(idempotency_keys::idem_key.eq(key))
                .filter(idempotency_keys::created_at.ge(not_before.to_owned())),
        ))
        .get_result(conn)
    }

    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(idempotency_keys::table).values(self).execute(conn).map(drop)
    }
}
