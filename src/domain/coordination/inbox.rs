//! The caller's boxes: sheets addressed to it (its organisation, or it by name) or sent by its
//! organisation, newest first, with counts of unread and overdue. Summaries only: no sealed text
//! leaves in a listing.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::view::{self, SheetSummary};
use super::{SHEET_TYPE, State};
use crate::access::{self, Action, PatientFacts, Resource};
use crate::audit::Event;
use crate::context::Context;
use crate::db::DbConn;
use crate::db::contact_sheets::{SheetFilter, SheetRow, Side};
use crate::db::patients::PatientRow;
use crate::domain::paging;
use crate::error::ApiError;
use crate::gate::Want;
use crate::state::AppState;

/// Which box to list.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BoxName {
    /// Sheets addressed to the caller's organisation (or to the caller by name).
    Inbox,
    /// Sheets the caller's organisation sent.
    Sent,
}

/// What a listing asks.
#[derive(Debug, Clone)]
pub struct SheetQuery {
    /// Inbox or sent box.
    pub side: BoxName,
    /// Only sheets in this state.
    pub state: Option<State>,
    /// Only sheets about this patient.
    pub patient_id: Option<String>,
    /// Only overdue sheets.
    pub overdue: bool,
    /// Only sheets still waiting for an answer (any open state); `state` narrows it no further.
    pub unanswered: bool,
    /// Page size.
    pub limit: i64,
    /// `(sent_at, id)` of the last sheet of the previous page.
    pub after: Option<(String, String)>,
}

/// A page of a box.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetList {
    /// Newest first.
    pub items: Vec<SheetSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Sheets in the caller's inbox not opened yet (delivered or forwarded to it).
    pub unread: usize,
    /// Sheets of this box past `reply_by` and still unanswered.
    pub overdue: usize,
}

fn filter(ctx: &Context, side: Side) -> SheetFilter {
    SheetFilter {
        sub: ctx.caller.sub.clone(),
        org: ctx.caller.org.clone(),
        side,
        states: Vec::new(),
        patient_id: None,
        overdue_at: None,
    }
}

/// Whether the caller may still see this sheet's patient (a revoked consent hides its sheets).
fn visible(
    conn: &mut DbConn,
    state: &AppState,
    ctx: &Context,
    cache: &mut HashMap<String, Option<PatientFacts>>,
    row: &SheetRow,
) -> Result<bool, ApiError> {
    let Some(pid) = &row.patient_id else { return Ok(true) };
    if !cache.contains_key(pid) {
        let loaded = match PatientRow::find(conn, pid)? {
            Some(p) if p.erased_at.is_none() => Some(crate::gate::facts(conn, state, &p)?),
            _ => None,
        };
        cache.insert(pid.clone(), loaded);
    }
    let want = Want::read(Resource::ContactSheet).of_type(SHEET_TYPE);
    Ok(cache
        .get(pid)
        .and_then(Option::as_ref)
        .is_some_and(|f| crate::gate::allows(state, &ctx.caller, f, want, false).is_ok()))
}

/// Counts sheets of a filter that the caller may see.
fn count(
    conn: &mut DbConn,
    state: &AppState,
    ctx: &Context,
    f: &SheetFilter,
    cache: &mut HashMap<String, Option<PatientFacts>>,
) -> Result<usize, ApiError> {
    let rows = SheetRow::list(conn, f, None, paging::MAX_SCAN)?;
    let mut n = 0;
    for row in &rows {
        if visible(conn, state, ctx, cache, row)? {
            n += 1;
        }
    }
    Ok(n)
}

/// Lists a box of the caller's.
pub async fn list(state: &Arc<AppState>, ctx: Context, q: SheetQuery) -> Result<SheetList, ApiError> {
    super::super::read(state, Event::new(&ctx, "contact_sheet.list"), move |conn, st, ev| {
        access::check(&ctx.caller, Resource::ContactSheet, Action::Read)?;
        let now = st.clock.stamp();
        let side = match q.side {
            BoxName::Inbox => Side::Inbox,
            BoxName::Sent => Side::Sent,
        };
        let mut f = filter(&ctx, side);
        f.states = match (q.unanswered, q.state) {
            (true, _) => State::OPEN_WORDS.iter().map(|s| (*s).to_owned()).collect(),
            (false, state) => state.map(|s| vec![s.as_str().to_owned()]).unwrap_or_default(),
        };
        f.patient_id = q.patient_id.clone();
        f.overdue_at = q.overdue.then(|| now.clone());
        let mut cache = HashMap::new();
        let (items, next) = paging::fill(
            conn,
            q.limit,
            q.after.clone(),
            |conn, after, n| Ok(SheetRow::list(conn, &f, after, n)?),
            |row| (row.sent_at.clone(), row.id.clone()),
            |conn, row| {
                if !visible(conn, st, &ctx, &mut cache, &row)? {
                    return Ok(None);
                }
                if let Some(pid) = &row.patient_id
                    && !ev.disclosed.contains(pid)
                {
                    ev.disclosed.push(pid.clone());
                }
                view::summary(&row, &now).map(Some)
            },
        )?;
        let mut unread = filter(&ctx, Side::Inbox);
        unread.states = vec![State::Delivered.as_str().to_owned(), State::Forwarded.as_str().to_owned()];
        let mut overdue = filter(&ctx, side);
        overdue.overdue_at = Some(now.clone());
        Ok(SheetList {
            items,
            next_cursor: next.map(|(at, id)| format!("{at}|{id}")),
            unread: count(conn, st, &ctx, &unread, &mut cache)?,
            overdue: count(conn, st, &ctx, &overdue, &mut cache)?,
        })
    })
    .await
}

/// Parses a `next_cursor` of this listing.
pub fn parse_cursor(cursor: &str) -> Result<(String, String), ApiError> {
    cursor
        .split_once('|')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .ok_or_else(|| ApiError::field("/query/cursor", "not a cursor of this listing"))
}
