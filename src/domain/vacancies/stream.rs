//! Following the board: every publish and confirmation, in commit order, as a live stream (what
//! `GET /v1/vacancies/stream` sends as Server-Sent Events) or as pages by cursor for pollers.
//! Both read the same numbered changes, so a client may switch between them with one cursor.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{Instant, timeout_at};
use utoipa::ToSchema;

use crate::access::{self, Action, Resource};
use crate::context::Context;
use crate::db;
use crate::db::vacancies::{self, ChangeRow};
use crate::domain::params::Cursor;
use crate::error::ApiError;
use crate::limits::Place;
use crate::state::AppState;

use super::publish::announce;
use super::types::ShortStayService;

/// Changes read from the database at a time while a stream catches up.
const CHUNK: i64 = 500;

/// One publish or confirmation of a posting.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VacancyChange {
    /// Position in the board's change sequence: the stream's event id and the feed's cursor.
    pub seq: i64,
    /// The facility.
    pub facility: String,
    /// The service.
    pub service: ShortStayService,
    /// The posting's version after the change.
    pub version: i32,
    /// `published` (a new version) or `confirmed` (unchanged, fresh again).
    pub op: String,
    /// When the posting was last confirmed, as of this change.
    pub confirmed_at: String,
    /// When the change committed; RFC 3339 in UTC.
    pub at: String,
}

impl TryFrom<&ChangeRow> for VacancyChange {
    type Error = ApiError;
    fn try_from(r: &ChangeRow) -> Result<Self, ApiError> {
        Ok(Self {
            seq: r.seq,
            facility: r.facility_id.clone(),
            service: r.service.parse().map_err(ApiError::internal)?,
            version: r.version,
            op: r.op.clone(),
            confirmed_at: r.confirmed_at.clone(),
            at: r.at.clone(),
        })
    }
}

/// A page of the board's changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct VacancyChangePage {
    /// Changes after `since`, in commit order.
    pub changes: Vec<VacancyChange>,
    /// Send as `since` next time (the last change's `seq`, or `since` again when there was none).
    pub next_cursor: String,
    /// More changes lay past `next_cursor`: ask again at once.
    pub has_more: bool,
}

/// One page of changes after `since` (any authenticated caller).
pub async fn changes(
    state: &Arc<AppState>,
    ctx: Context,
    Cursor { since, limit }: Cursor,
) -> Result<VacancyChangePage, ApiError> {
    access::check(&ctx.caller, Resource::Directory, Action::Read)?;
    let ask = i64::try_from(limit + 1).map_err(ApiError::internal)?;
    let rows = db::run(&state.pool, move |conn| Ok(ChangeRow::after(conn, since, ask)?)).await?;
    let has_more = rows.len() > limit;
    let changes: Vec<VacancyChange> = rows.iter().take(limit).map(VacancyChange::try_from).collect::<Result<_, _>>()?;
    let next_cursor = changes.last().map_or(since, |c| c.seq).to_string();
    Ok(VacancyChangePage { changes, next_cursor, has_more })
}

/// What a stream says next.
#[derive(Debug)]
pub enum Next {
    /// A change, to send with its `seq` as the event id.
    Change(VacancyChange),
    /// Nothing happened for a heartbeat period: say so, to keep proxies from closing the line.
    Heartbeat,
    /// The server is stopping: end the stream (the client reconnects with `Last-Event-ID`).
    End,
}

/// One connected follower: sends each change once, in order, none missed, from where it began.
pub struct Stream {
    state: Arc<AppState>,
    live: broadcast::Receiver<Arc<ChangeRow>>,
    /// The last change handed out (or the starting position).
    last: i64,
    backlog: VecDeque<ChangeRow>,
    /// Reading from the database until the end of the sequence, before following the hub.
    catching_up: bool,
    heartbeat: Duration,
    next_beat: Instant,
    /// Its place among the open streams (the caller's, its organisation's, the instance's),
    /// given back when the stream is dropped: when the client goes away.
    _place: Place,
}

/// Opens a stream after `last_event_id` (a resumed one), or from now. An id past the end of the
/// sequence (from another installation) starts from now. 429 when the caller, its organisation
/// or the instance already holds as many streams as allowed.
pub async fn open_stream(state: &Arc<AppState>, ctx: Context, last_event_id: Option<i64>) -> Result<Stream, ApiError> {
    access::check(&ctx.caller, Resource::Directory, Action::Read)?;
    let place = state.limits.stream(&ctx.caller.sub, &ctx.caller.org)?;
    // Subscribed before anything is read: whatever commits from here on reaches us, or leaves a
    // gap that we notice and fill from the database.
    let live = state.vacancies.subscribe();
    announce(state).await;
    let end = db::run(&state.pool, |conn| Ok(vacancies::last_seq(conn)?)).await?;
    let last = last_event_id.filter(|id| *id <= end).unwrap_or(end);
    let heartbeat = Duration::from_secs(state.settings.vacancy_heartbeat_secs);
    Ok(Stream {
        state: state.clone(),
        live,
        last,
        backlog: VecDeque::new(),
        catching_up: last < end,
        heartbeat,
        next_beat: Instant::now() + heartbeat,
        _place: place,
    })
}

impl Stream {
    /// The position the stream started at or has reached.
    pub fn position(&self) -> i64 {
        self.last
    }

    /// Waits for the next thing to send.
    pub async fn next(&mut self) -> Result<Next, ApiError> {
        loop {
            if let Some(row) = self.backlog.pop_front() {
                self.last = row.seq;
                return self.emit(&row);
            }
            if self.catching_up {
                let since = self.last;
                let rows = db::run(&self.state.pool, move |conn| Ok(ChangeRow::after(conn, since, CHUNK)?)).await?;
                self.catching_up = i64::try_from(rows.len()).unwrap_or(i64::MAX) == CHUNK;
                self.backlog.extend(rows);
                continue;
            }
            let received = tokio::select! {
                received = timeout_at(self.next_beat, self.live.recv()) => received,
                () = self.state.stopped() => return Ok(Next::End),
            };
            match received {
                Err(_elapsed) => {
                    self.next_beat = Instant::now() + self.heartbeat;
                    return Ok(Next::Heartbeat);
                }
                Ok(Ok(row)) if row.seq <= self.last => {}
                Ok(Ok(row)) if row.seq == self.last + 1 => {
                    self.last = row.seq;
                    return self.emit(&row);
                }
                // A gap (the hub started after us), or we fell too far behind: read the database.
                Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) => self.catching_up = true,
                Ok(Err(RecvError::Closed)) => return Err(ApiError::ServiceUnavailable("shutting down".into())),
            }
        }
    }

    fn emit(&mut self, row: &ChangeRow) -> Result<Next, ApiError> {
        self.next_beat = Instant::now() + self.heartbeat;
        Ok(Next::Change(VacancyChange::try_from(row)?))
    }
}
