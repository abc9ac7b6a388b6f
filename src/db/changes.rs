//! The change feed's reads: document versions and contact-sheet thread entries in change-sequence
//! order, metadata only (sealed content never leaves these queries). The unique indexes on both
//! tables' `seq` serve them; the two streams are merged here, so the feed above sees one sequence.
//!
//! Each read is bounded by the committed head of the change counter, read first. On PostgreSQL
//! every statement sees its own snapshot, so without the bound the sheet query could see a
//! change committed after the document query ran, and a cursor moved past it would skip the
//! document version committed between the two. Every number up to the committed head belongs to
//! a committed transaction (the counter's row lock is held to commit), so below it both streams
//! are complete.

use diesel::prelude::*;

use super::DbConn;
use super::contact_sheets::SheetEventRow;
use super::schema::{counters, document_versions};

/// What a change is a change of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Document,
    ContactSheet,
}

/// One committed change, as the feed lists it.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub seq: i64,
    pub kind: Kind,
    /// Absent only for a consultation-desk question about no patient.
    pub patient_id: Option<String>,
    pub document_id: String,
    pub doc_type: String,
    pub version: i32,
    /// `created`, `updated` or `deleted`; for a sheet, its thread entry (`sent`, `read`, ...).
    pub op: String,
    pub created_at: String,
}

type DocChange = (i64, String, String, String, i32, String, String);

/// Up to `limit` changes with a sequence number above `since`, lowest first, and the head they
/// were read below: with fewer than `limit` rows, every change up to the head is in them.
pub fn after(conn: &mut DbConn, since: i64, limit: i64) -> QueryResult<(Vec<ChangeRow>, i64)> {
    let head = last_seq(conn)?;
    let docs: Vec<DocChange> = document_versions::table
        .filter(document_versions::seq.gt(since))
        .filter(document_versions::seq.le(head))
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
        .load(conn)?;
    let sheets = SheetEventRow::after(conn, since, head, limit)?;
    let mut all: Vec<ChangeRow> = docs
        .into_iter()
        .map(|(seq, patient_id, document_id, doc_type, version, op, created_at)| ChangeRow {
            seq,
            kind: Kind::Document,
            patient_id: Some(patient_id),
            document_id,
            doc_type,
            version,
            op,
            created_at,
        })
        .chain(sheets.into_iter().map(|e| ChangeRow {
            seq: e.seq,
            kind: Kind::ContactSheet,
            patient_id: e.patient_id,
            document_id: e.sheet_id,
            doc_type: "contact-sheet".into(),
            version: e.version,
            op: e.op,
            created_at: e.at,
        }))
        .collect();
    // Each stream is complete up to its own `limit`-th row, so the merge is complete up to the
    // lower of the two: cut there.
    all.sort_by_key(|c| c.seq);
    all.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok((all, head))
}

/// Whether any change lies beyond `since`.
pub fn any_after(conn: &mut DbConn, since: i64) -> QueryResult<bool> {
    let docs: bool = diesel::select(diesel::dsl::exists(
        document_versions::table.filter(document_versions::seq.gt(since)).select(document_versions::seq),
    ))
    .get_result(conn)?;
    Ok(docs || SheetEventRow::any_after(conn, since)?)
}

/// The highest sequence number committed so far, of a document version or a sheet's thread
/// entry alike (0 before any change).
pub fn last_seq(conn: &mut DbConn) -> QueryResult<i64> {
    counters::table.find("change_seq").select(counters::value).first(conn)
}
