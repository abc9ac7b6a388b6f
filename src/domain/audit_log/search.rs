//! The auditor's event search as people make it: actors and organisations by name (resolved in
//! the directory inside the same audited read), newest first, a page at a time with the count of
//! matches and where the page stands among them. The API's `list_events` keeps its own shape
//! (sequence order, a forward cursor); both are one `audit.read` event each.

use std::sync::Arc;

use crate::access::{self, Action, Resource};
use crate::audit::Event;
use crate::context::Context;
use crate::db::DbConn;
use crate::db::audit::{AuditFilter, AuditRow};
use crate::db::directory::{OrganizationRow, PractitionerRow};
use crate::error::ApiError;
use crate::state::AppState;

use super::{AuditEvent, AuditQuery, with_reasons};

/// Directory entries a name search resolves to at most (a name matching more is too vague to
/// audit by; the page lists those it took).
pub const MAX_NAMED: i64 = 50;
/// Events one search answers at most (the CSV export's bound).
pub const MAX_SEARCH: i64 = 10_000;

/// The outcomes an event records (`audit::outcome_of`).
pub const OUTCOMES: &[&str] = &["allowed", "denied", "rejected", "failed"];

/// Which page of the matches, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The newest matches.
    Newest,
    /// The matches older than this sequence number (the next page).
    Before(i64),
    /// The matches newer than this sequence number (the previous page).
    After(i64),
}

/// An event search: the API's filters (by id, when a link carries one), names for actor and
/// organisation, the outcome, and the window.
#[derive(Debug)]
pub struct EventSearch {
    /// Patient, actor and organisation ids, action, period (RFC 3339), break-glass.
    pub query: AuditQuery,
    /// A part of the acting practitioner's name.
    pub actor_name: Option<String>,
    /// A part of the acting organisation's name.
    pub organization_name: Option<String>,
    /// One of [`OUTCOMES`].
    pub outcome: Option<String>,
    /// Which page.
    pub window: Window,
    /// 1 to [`MAX_SEARCH`].
    pub limit: i64,
}

/// A page of matches, newest first, and where it stands.
#[derive(Debug)]
pub struct Found {
    /// The events of this page, newest first.
    pub items: Vec<AuditEvent>,
    /// Every match of the filters.
    pub total: i64,
    /// Matches newer than this page (so the page starts at match `newer + 1`).
    pub newer: i64,
    /// Matches older than this page.
    pub older: i64,
    /// The practitioners the actor's name matched: (id, name).
    pub actors: Vec<(String, String)>,
    /// The organisations the organisation's name matched: (id, name).
    pub organizations: Vec<(String, String)>,
}

impl Found {
    /// The cursor of the next (older) page, when there is one.
    pub fn next(&self) -> Option<i64> {
        (self.older > 0).then(|| self.items.last().map(|e| e.event.seq)).flatten()
    }

    /// The cursor of the previous (newer) page, when there is one.
    pub fn previous(&self) -> Option<i64> {
        (self.newer > 0).then(|| self.items.first().map(|e| e.event.seq)).flatten()
    }
}

/// Events matching `search`, newest first, with their counts (auditor).
pub async fn search(state: &Arc<AppState>, ctx: Context, search: EventSearch) -> Result<Found, ApiError> {
    super::super::read(state, Event::new(&ctx, "audit.read"), move |conn, st, _| {
        access::check(&ctx.caller, Resource::Audit, Action::Read)?;
        if !(1..=MAX_SEARCH).contains(&search.limit) {
            return Err(ApiError::field("/query/limit", format!("must be between 1 and {MAX_SEARCH}")));
        }
        if let Some(outcome) = &search.outcome
            && !OUTCOMES.contains(&outcome.as_str())
        {
            return Err(ApiError::field("/query/outcome", format!("must be one of {}", OUTCOMES.join(", "))));
        }
        let EventSearch { query, actor_name, organization_name, outcome, window, limit } = search;
        let (mut filter, _) = AuditQuery { cursor: None, limit: None, ..query }.filter()?;
        filter.outcome_word = outcome;
        let actors = match actor_name {
            Some(name) => {
                let found = named_practitioners(conn, &name)?;
                // A sub that is no practitioner (a service client, a token's own sub) is found
                // by itself.
                filter.actor_subs = Some(found.iter().map(|(id, _)| id.clone()).chain([name]).collect());
                found
            }
            None => Vec::new(),
        };
        let organizations = match organization_name {
            Some(name) => {
                let found: Vec<(String, String)> =
                    OrganizationRow::named(conn, &name, MAX_NAMED)?.into_iter().map(|o| (o.id, o.name)).collect();
                filter.actor_orgs = Some(found.iter().map(|(id, _)| id.clone()).collect());
                found
            }
            None => Vec::new(),
        };
        let total = AuditRow::count(conn, &filter)?;
        let rows = match window {
            Window::Newest => AuditRow::list(conn, &AuditFilter { newest_first: true, ..filter.clone() }, limit)?,
            Window::Before(seq) => {
                let page = AuditFilter { newest_first: true, before_seq: Some(seq), ..filter.clone() };
                AuditRow::list(conn, &page, limit)?
            }
            Window::After(seq) => {
                // The page just above: the oldest `limit` of the newer events, turned round.
                let page = AuditFilter { after_seq: Some(seq), ..filter.clone() };
                let mut rows = AuditRow::list(conn, &page, limit)?;
                rows.reverse();
                rows
            }
        };
        let (newer, older) = match (rows.first(), rows.last()) {
            (Some(first), Some(last)) => (
                AuditRow::count(conn, &AuditFilter { after_seq: Some(first.seq), ..filter.clone() })?,
                AuditRow::count(conn, &AuditFilter { before_seq: Some(last.seq), ..filter })?,
            ),
            _ => (0, 0),
        };
        let items = with_reasons(conn, st, rows)?;
        Ok(Found { items, total, newer, older, actors, organizations })
    })
    .await
}

fn named_practitioners(conn: &mut DbConn, name: &str) -> Result<Vec<(String, String)>, ApiError> {
    Ok(PractitionerRow::named(conn, name, MAX_NAMED)?.into_iter().map(|p| (p.id, p.name)).collect())
}
