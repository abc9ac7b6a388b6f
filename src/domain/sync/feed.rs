//! The change feed of stations that work offline: followed by cursor, filtered by the access
//! rule, long-polling once caught up.
//!
//! A cursor never skips a change because `next_seq` locks the counter row first in every write
//! transaction and holds it to commit: sequence numbers become visible in the order given out, so
//! once a reader sees N, everything below N has committed or never will (docs/sync.md). The two
//! streams (document versions, sheet entries) are read in two statements, each below the head
//! read first (`changes::after`), so a commit between them cannot be seen in one and missed in
//! the other.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::time::{Instant, timeout_at};
use utoipa::ToSchema;

use crate::access::{self, Action, PatientFacts, Resource};
use crate::audit::{self, Event};
use crate::auth::Caller;
use crate::db::changes::{self, ChangeRow, Kind};
use crate::db::contact_sheets;
use crate::db::patients::PatientRow;
use crate::db::{self, DbConn};
use crate::domain::fields::Errors;
use crate::domain::params::{self, Cursor};
use crate::error::ApiError;
use crate::gate::Want;
use crate::state::AppState;

/// The most changes one feed page may hold.
const MAX_LIMIT: usize = Cursor::MAX_LIMIT as usize;
/// The longest a long-poll (`wait`) may hold a feed request open, in seconds.
pub const MAX_WAIT_SECS: u64 = 60;
/// How often a waiting long-poll looks again without being woken: the bound on how late it
/// sees a commit made by another carepath process.
pub const RESCAN_EVERY: Duration = Duration::from_secs(1);
/// Rows one feed request examines at most, visible or not, so that a caller who may see little
/// of a large feed gets bounded requests (with `has_more`) rather than one that scans it all.
pub const MAX_SCAN: usize = 10_000;

/// What a change is a change of.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeResource {
    /// A document version (`GET /v1/documents/{document_id}`).
    Document,
    /// A contact sheet's thread entry (`GET /v1/contact-sheets/{document_id}`).
    ContactSheet,
}

/// One change the caller may see.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Change {
    /// Position in the global change sequence.
    pub seq: i64,
    /// What changed: a document, or a contact sheet.
    pub resource: ChangeResource,
    /// The patient the document or sheet is about; null only for a question to a
    /// consultation desk about no patient.
    pub patient_id: Option<String>,
    /// The document (or contact sheet) changed.
    pub document_id: String,
    /// Its document type, e.g. `care-path`.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// The version this change wrote.
    pub version: i32,
    /// `created`, `updated` or `deleted`; for a contact sheet, its thread entry (`sent`,
    /// `delivered`, `read`, `answered`, `replied`, `forwarded`, `withdrawn`, `closed`).
    pub op: String,
    /// When the version was written; RFC 3339 in UTC.
    pub at: String,
}

impl From<ChangeRow> for Change {
    fn from(r: ChangeRow) -> Self {
        Self {
            seq: r.seq,
            resource: match r.kind {
                Kind::Document => ChangeResource::Document,
                Kind::ContactSheet => ChangeResource::ContactSheet,
            },
            patient_id: r.patient_id,
            document_id: r.document_id,
            doc_type: r.doc_type,
            version: r.version,
            op: r.op,
            at: r.created_at,
        }
    }
}

/// An answer of the change feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    /// The visible changes, in commit order.
    pub changes: Vec<Change>,
    /// Send as `since` next time. It is the last change examined, visible or not, so hidden
    /// changes are never examined again.
    pub next_cursor: String,
    /// More changes lay past `next_cursor` when this answer was cut: ask again at once.
    pub has_more: bool,
}

/// What a feed request asks.
#[derive(Debug, Clone, Copy)]
pub struct FeedQuery {
    /// Changes after this sequence number (the previous `next_cursor`; 0 from the start).
    pub since: i64,
    /// The most visible changes to answer.
    pub limit: usize,
    /// How long to wait for a change when there is none yet.
    pub wait: Duration,
}

impl FeedQuery {
    /// The `since`, `limit` and `wait` parameters as sent (text), each bad one named.
    pub fn parse(since: Option<&str>, limit: Option<&str>, wait: Option<&str>) -> Result<FeedQuery, ApiError> {
        let mut errors = Errors::default();
        let Cursor { since, limit } = Cursor::parse(&mut errors, since, limit);
        let wait = params::whole(&mut errors, "wait", wait, 0, 0..=MAX_WAIT_SECS);
        errors.finish()?;
        Ok(FeedQuery { since, limit, wait: Duration::from_secs(wait) })
    }
}

/// What one pass over the feed found for a caller.
pub struct Scan {
    /// The changes the caller may see, in commit order.
    pub changes: Vec<Change>,
    /// The last change examined, visible or not.
    pub cursor: i64,
    /// More changes lie past `cursor`.
    pub has_more: bool,
}

impl Scan {
    fn page(self) -> ChangePage {
        ChangePage { changes: self.changes, next_cursor: self.cursor.to_string(), has_more: self.has_more }
    }
}

/// Reads forward from `since` in chunks until `limit` visible changes, the scan budget or the
/// end. Each patient's facts are loaded once per request, so a consent revoked or a care-team
/// membership ended hides that patient's changes from the next request on. The webhook
/// deliverer filters with this too (`limit` 1, just before each delivery): one access rule.
pub fn scan(conn: &mut DbConn, state: &AppState, caller: &Caller, since: i64, limit: usize) -> Result<Scan, ApiError> {
    access::check(caller, Resource::Document, Action::Read)?;
    let chunk = limit.clamp(100, MAX_LIMIT);
    let mut facts: HashMap<String, Option<PatientFacts>> = HashMap::new();
    let mut out = Scan { changes: Vec::new(), cursor: since, has_more: false };
    let mut scanned = 0;
    loop {
        let (rows, head) = changes::after(conn, out.cursor, i64::try_from(chunk).map_err(ApiError::internal)?)?;
        let complete = rows.len() < chunk;
        for row in rows {
            out.cursor = row.seq;
            scanned += 1;
            if visible(conn, state, caller, &mut facts, &row)? {
                out.changes.push(row.into());
            }
            if out.changes.len() == limit || scanned >= MAX_SCAN {
                out.has_more = changes::any_after(conn, out.cursor)?;
                return Ok(out);
            }
        }
        if complete {
            // Everything up to the head was examined: the next pass starts there.
            out.cursor = out.cursor.max(head);
            return Ok(out);
        }
    }
}

/// The access rule for reading this document type, without break-glass: an emergency opens one
/// record for one clinician, never a stream of them. A contact sheet's entries go to the
/// organisations party to the sheet, while the rule lets them read the patient's sheets.
fn visible(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    cache: &mut HashMap<String, Option<PatientFacts>>,
    row: &ChangeRow,
) -> Result<bool, ApiError> {
    let want = match row.kind {
        Kind::Document => Want::read(Resource::Document).of_type(&row.doc_type),
        Kind::ContactSheet => {
            if !access::role_allows(caller.role, Resource::ContactSheet, Action::Read)
                || !contact_sheets::is_party(conn, &row.document_id, &caller.org)?
            {
                return Ok(false);
            }
            Want::read(Resource::ContactSheet).of_type(&row.doc_type)
        }
    };
    let Some(patient_id) = &row.patient_id else { return Ok(true) };
    let facts = match cache.entry(patient_id.clone()) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(e) => {
            // An erased patient's changes stay in the sequence (no gap) but are shown to no one.
            let loaded = match PatientRow::find(conn, patient_id)? {
                Some(patient) if patient.erased_at.is_none() => Some(crate::gate::facts(conn, state, &patient)?),
                Some(_) | None => None,
            };
            e.insert(loaded)
        }
    };
    Ok(facts.as_ref().is_some_and(|f| crate::gate::allows(state, caller, f, want, false).is_ok()))
}

enum Poll {
    Answer(ChangePage),
    Nothing { cursor: i64 },
}

/// One scan; answers (and records the request's one audit event) if there is anything to say
/// or the wait is over, else hands back how far it read.
async fn poll(
    state: &Arc<AppState>,
    caller: &Caller,
    event: &Event,
    since: i64,
    limit: usize,
    last: bool,
) -> Result<Poll, ApiError> {
    let (st, caller, event) = (state.clone(), caller.clone(), event.clone());
    let scanned = db::run(&state.pool, move |conn| Ok(scan(conn, &st, &caller, since, limit))).await?;
    match scanned {
        Ok(s) if s.changes.is_empty() && !s.has_more && !last => Ok(Poll::Nothing { cursor: s.cursor }),
        result => {
            let (outcome, status) = audit::read_outcome(&result);
            state.committer.record(event, outcome, status).await?;
            result.map(|s| Poll::Answer(s.page()))
        }
    }
}

/// Answers a feed request: at once when there is something to see (or no wait was asked for),
/// else as soon as a change the caller may see commits, else empty when the wait runs out. No
/// database connection is held while waiting.
pub async fn follow(
    state: Arc<AppState>,
    caller: Caller,
    event: Event,
    query: FeedQuery,
) -> Result<ChangePage, ApiError> {
    // Subscribed before the first scan: a commit landing between that scan and the wait below
    // still marks the receiver changed, so it cannot be missed.
    let mut ticks = state.changes.subscribe();
    // A waiting request holds a place among the caller's long-polls until it answers.
    let _place = match query.wait.is_zero() {
        true => None,
        false => Some(state.limits.long_poll(&caller.sub, &caller.org)?),
    };
    let deadline = Instant::now() + query.wait;
    let mut since = query.since;
    let mut last = query.wait.is_zero();
    loop {
        match poll(&state, &caller, &event, since, query.limit, last).await? {
            Poll::Answer(page) => return Ok(page),
            Poll::Nothing { cursor } => since = cursor,
        }
        // `changed` marks the tick seen before the rescan, so a commit during it wakes us again.
        // The tick only hears this process's commits; the periodic rescan catches those of other
        // instances on the same PostgreSQL database.
        let next = (Instant::now() + RESCAN_EVERY).min(deadline);
        // A stopping server answers what there is now rather than hold the stop up.
        last = tokio::select! {
            woken = timeout_at(next, ticks.changed()) => match woken {
                Ok(Ok(())) => false,
                Ok(Err(_)) => true,
                Err(_) => next >= deadline,
            },
            () = state.stopped() => true,
        };
    }
}
