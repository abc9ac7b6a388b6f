//! The audit log's tables: events (append-only), the chain head, break-glass reviews.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::DbConn;
use super::schema::{audit_checkpoints, audit_events, audit_head, audit_reviews, audit_signing_keys};

/// An event as stored, and as an audit export's line (`audit::verify::ExportLine`): the export
/// must carry exactly what the hashes cover. Routes answer `domain::audit_log::RecordedEvent`.
#[derive(Debug, Clone, Queryable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor_sub: String,
    pub actor_org: String,
    pub actor_role: String,
    pub action: String,
    pub patient_id: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub resource_version: Option<i32>,
    pub outcome: String,
    pub status: i32,
    pub purpose: String,
    pub break_glass: bool,
    pub break_glass_reason: Option<String>,
    pub request_id: String,
    pub prev_hash: String,
    pub hash: String,
    /// What the access rested on (JSON text: `kind` and its ids), or the failed condition
    /// (`{"kind": "denied", "condition": ...}`); absent where no access rule was asked.
    #[serde(default)]
    pub basis: Option<String>,
    /// The SHA-256 of the consent version this event created.
    #[serde(default)]
    pub digest: Option<String>,
}

/// Moves the head `n` sequence numbers on; returns the new last one and the hash the first new
/// event chains to. Being an UPDATE, it locks the head row until commit: appenders queue here,
/// so the chain never forks.
pub fn advance_head(conn: &mut DbConn, n: i64) -> QueryResult<(i64, String)> {
    diesel::update(audit_head::table.find(1))
        .set(audit_head::seq.eq(audit_head::seq + n))
        .returning((audit_head::seq, audit_head::hash))
        .get_result(conn)
}

pub fn set_head_hash(conn: &mut DbConn, hash: &str) -> QueryResult<()> {
    diesel::update(audit_head::table.find(1)).set(audit_head::hash.eq(hash)).execute(conn).map(drop)
}

pub fn head(conn: &mut DbConn) -> QueryResult<(i64, String)> {
    audit_head::table.find(1).select((audit_head::seq, audit_head::hash)).first(conn)
}

/// Filters of the auditors' listing.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub patient_id: Option<String>,
    pub actor_sub: Option<String>,
    pub actor_org: Option<String>,
    pub action: Option<String>,
    /// RFC 3339 bounds on `at`: from inclusive, to exclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    pub break_glass: Option<bool>,
    /// Only these actions (any of them).
    pub actions: Option<&'static [&'static str]>,
    pub outcome: Option<&'static str>,
    pub after_seq: Option<i64>,
    /// Events before this sequence number (a newest-first page's cursor).
    pub before_seq: Option<i64>,
    /// Only events by one of these actors (a name search resolved in the directory).
    pub actor_subs: Option<Vec<String>>,
    /// Only events by members of one of these organisations.
    pub actor_orgs: Option<Vec<String>>,
    /// Only events with this outcome (`allowed`, `denied`, ...), as a query names it.
    pub outcome_word: Option<String>,
    /// Newest first (the console's order); sequence order otherwise.
    pub newest_first: bool,
}

type Backend = <DbConn as diesel::Connection>::Backend;

/// Rows of one multi-row INSERT at most: 20 columns each stays far below the bound parameters
/// either backend takes in one statement (SQLite 32,766; PostgreSQL 65,535).
const ROWS_PER_INSERT: usize = 500;

impl AuditRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(audit_events::table).values(self).execute(conn).map(drop)
    }

    /// Inserts events in as few statements as the parameter bound allows. Through each backend's
    /// own connection: the combined one has no multi-row insert.
    pub fn insert_all(conn: &mut DbConn, rows: &[Self]) -> QueryResult<()> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let insert = diesel::insert_into(audit_events::table).values(chunk);
            match conn {
                DbConn::Sqlite(c) => insert.execute(c)?,
                DbConn::Pg(c) => insert.execute(c)?,
            };
        }
        Ok(())
    }

    pub fn find(conn: &mut DbConn, seq: i64) -> QueryResult<Option<Self>> {
        audit_events::table.find(seq).first(conn).optional()
    }

    /// The allowed event that created version `version` of consent `id` (it carries the digest).
    pub fn creating(conn: &mut DbConn, id: &str, version: i32) -> QueryResult<Option<Self>> {
        audit_events::table
            .filter(audit_events::resource_id.eq(id))
            .filter(audit_events::resource_type.eq("consent"))
            .filter(audit_events::resource_version.eq(version))
            .filter(audit_events::outcome.eq("allowed"))
            .filter(audit_events::digest.is_not_null())
            .order(audit_events::seq)
            .first(conn)
            .optional()
    }

    pub fn list(conn: &mut DbConn, filter: &AuditFilter, limit: i64) -> QueryResult<Vec<Self>> {
        let query = filtered(filter).limit(limit);
        if filter.newest_first {
            query.order(audit_events::seq.desc()).load(conn)
        } else {
            query.order(audit_events::seq).load(conn)
        }
    }

    /// How many events match `filter` (its cursors included).
    pub fn count(conn: &mut DbConn, filter: &AuditFilter) -> QueryResult<i64> {
        filtered(filter).count().get_result(conn)
    }

    /// Sequence number, stored reason (the grant reference) and review state of every
    /// break-glass event, oldest first: the openings are grouped from these few columns, and
    /// break-glass is rare next to the rest of the log.
    pub fn break_glass_marks(conn: &mut DbConn) -> QueryResult<Vec<BreakGlassMark>> {
        audit_events::table
            .filter(audit_events::break_glass.eq(true))
            .order(audit_events::seq)
            .select((
                audit_events::seq,
                audit_events::break_glass_reason,
                audit_events::actor_sub,
                audit_events::patient_id,
            ))
            .load(conn)
    }

    /// The events of these sequence numbers, in sequence order.
    pub fn of_seqs(conn: &mut DbConn, seqs: &[i64]) -> QueryResult<Vec<Self>> {
        audit_events::table.filter(audit_events::seq.eq_any(seqs.to_vec())).order(audit_events::seq).load(conn)
    }
}

/// A break-glass event's place and what ties it to its opening.
#[derive(Debug, Clone, Queryable)]
pub struct BreakGlassMark {
    pub seq: i64,
    /// `grant:<id>` (older events: the reason's text).
    pub reason: Option<String>,
    pub actor_sub: String,
    pub patient_id: Option<String>,
}

/// The filter as a query, without its order and limit (shared by the listing and its count).
fn filtered(filter: &AuditFilter) -> audit_events::BoxedQuery<'static, Backend> {
    let mut query = audit_events::table.into_boxed();
    if let Some(p) = &filter.patient_id {
        query = query.filter(audit_events::patient_id.eq(p.clone()));
    }
    if let Some(a) = &filter.actor_sub {
        query = query.filter(audit_events::actor_sub.eq(a.clone()));
    }
    if let Some(subs) = &filter.actor_subs {
        query = query.filter(audit_events::actor_sub.eq_any(subs.clone()));
    }
    if let Some(o) = &filter.actor_org {
        query = query.filter(audit_events::actor_org.eq(o.clone()));
    }
    if let Some(orgs) = &filter.actor_orgs {
        query = query.filter(audit_events::actor_org.eq_any(orgs.clone()));
    }
    if let Some(a) = &filter.action {
        query = query.filter(audit_events::action.eq(a.clone()));
    }
    if let Some(from) = &filter.from {
        query = query.filter(audit_events::at.ge(from.clone()));
    }
    if let Some(to) = &filter.to {
        query = query.filter(audit_events::at.lt(to.clone()));
    }
    if let Some(b) = filter.break_glass {
        query = query.filter(audit_events::break_glass.eq(b));
    }
    if let Some(actions) = filter.actions {
        query = query.filter(audit_events::action.eq_any(actions));
    }
    if let Some(outcome) = filter.outcome {
        query = query.filter(audit_events::outcome.eq(outcome));
    }
    if let Some(outcome) = &filter.outcome_word {
        query = query.filter(audit_events::outcome.eq(outcome.clone()));
    }
    if let Some(after) = filter.after_seq {
        query = query.filter(audit_events::seq.gt(after));
    }
    if let Some(before) = filter.before_seq {
        query = query.filter(audit_events::seq.lt(before));
    }
    query
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = audit_reviews)]
pub struct ReviewRow {
    pub event_seq: i64,
    pub reviewer_sub: String,
    pub reviewer_org: String,
    pub comment: String,
    pub reviewed_at: String,
}

impl ReviewRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(audit_reviews::table).values(self).execute(conn).map(drop)
    }

    pub fn for_events(conn: &mut DbConn, seqs: &[i64]) -> QueryResult<Vec<Self>> {
        audit_reviews::table.filter(audit_reviews::event_seq.eq_any(seqs.to_vec())).load(conn)
    }

    /// Every review, oldest first: one a reviewed access, so as many as auditors wrote.
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        audit_reviews::table.order(audit_reviews::event_seq).load(conn)
    }
}

#[derive(Debug, Clone, Queryable, Insertable, Serialize, Deserialize, ToSchema)]
#[diesel(table_name = audit_checkpoints)]
pub struct CheckpointRow {
    pub seq: i64,
    pub hash: String,
    pub signed_at: String,
    pub key_id: String,
    /// Base64 of the Ed25519 signature.
    pub signature: String,
}

impl CheckpointRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(audit_checkpoints::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, seq: i64) -> QueryResult<Option<Self>> {
        audit_checkpoints::table.find(seq).first(conn).optional()
    }

    pub fn latest(conn: &mut DbConn) -> QueryResult<Option<Self>> {
        audit_checkpoints::table.order(audit_checkpoints::seq.desc()).first(conn).optional()
    }

    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        audit_checkpoints::table.order(audit_checkpoints::seq).load(conn)
    }
}

/// A key that signs (or signed) checkpoints: its public part and the checkpoints it may sign.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = audit_signing_keys)]
pub struct SigningKeyRow {
    pub key_id: String,
    /// Base64 of the raw Ed25519 public key.
    pub public_key: String,
    pub valid_from_seq: i64,
    pub valid_until_seq: Option<i64>,
    pub created_at: String,
}

impl SigningKeyRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(audit_signing_keys::table).values(self).execute(conn).map(drop)
    }

    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        audit_signing_keys::table.order(audit_signing_keys::valid_from_seq).load(conn)
    }

    /// The key that signs now (the one without an end).
    pub fn current(conn: &mut DbConn) -> QueryResult<Option<Self>> {
        audit_signing_keys::table.filter(audit_signing_keys::valid_until_seq.is_null()).first(conn).optional()
    }

    pub fn find(conn: &mut DbConn, key_id: &str) -> QueryResult<Option<Self>> {
        audit_signing_keys::table.find(key_id).first(conn).optional()
    }

    /// Ends a key's validity at checkpoint `until`.
    pub fn retire(conn: &mut DbConn, key_id: &str, until: i64) -> QueryResult<()> {
        diesel::update(audit_signing_keys::table.find(key_id))
            .set(audit_signing_keys::valid_until_seq.eq(Some(until)))
            .execute(conn)
            .map(drop)
    }
}
