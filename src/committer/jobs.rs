//! The jobs a batch runs: a request's work under a savepoint, a write with its audit event, and
//! a read's audit event. The last two leave their events to the batch, which appends each run of
//! such jobs together (`commit`), the chain's head moved once for the run.

use diesel::Connection;
use tokio::sync::oneshot;

use crate::audit::{self, Event};
use crate::db::DbConn;
use crate::error::ApiError;

/// An event for the batch to append, with its outcome and status.
pub(super) type Entry = (Event, &'static str, u16);

/// One unit of a batch, its result kept until the batch has committed.
pub(super) trait Job: Send {
    /// Runs inside the batch transaction (again, when the batch is run again).
    fn run(&mut self, tx: &mut DbConn);
    /// Whether the last run was failed by the database for contention: the batch is run again.
    fn contended(&self) -> bool;
    /// Answers the waiting request: its result if the batch committed, 503 if it did not.
    fn answer(self: Box<Self>, committed: bool);
    /// Whether the job leaves its audit events to the batch ([`Job::entries`]) rather than
    /// appending them itself: the batch appends the events of a run of such jobs together.
    fn defers_audit(&self) -> bool {
        false
    }
    /// The events its last run left for the batch, in order.
    fn entries(&self) -> &[Entry] {
        &[]
    }
}

pub(super) struct Pending<T, F> {
    pub(super) work: F,
    pub(super) result: Option<Result<T, ApiError>>,
    pub(super) reply: oneshot::Sender<Result<T, ApiError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: Fn(&mut DbConn) -> Result<T, ApiError> + Send,
{
    fn run(&mut self, tx: &mut DbConn) {
        let work = &self.work;
        // A nested diesel transaction is a savepoint: on error only this job rolls back.
        self.result = Some(tx.transaction(work));
    }

    fn contended(&self) -> bool {
        matches!(self.result, Some(Err(ApiError::Contended(_))))
    }

    fn answer(self: Box<Self>, committed: bool) {
        let result = match self.result {
            Some(result) if committed => result,
            _ => Err(ApiError::ServiceUnavailable("the write could not be committed; retry".into())),
        };
        // A client that has gone away no longer waits for its answer.
        let _client_gone = self.reply.send(result);
    }
}

/// An event with one per patient it disclosed (see [`Event::expand`]), each with the outcome.
fn expanded(event: Event, outcome: &'static str, status: u16) -> Vec<Entry> {
    let events = if event.disclosed.is_empty() { vec![event] } else { event.expand() };
    events.into_iter().map(|e| (e, outcome, status)).collect()
}

/// A write and its audit event. The work runs under a savepoint; its event, or the refusal of a
/// refused write (whose work was rolled back), is left for the batch to append in job order. A
/// write the database failed (not the request's fault) leaves no event, as before.
pub(super) struct Write<T, F> {
    /// The event as submitted: each run starts from it (a rolled-back run may have filled it in).
    pub(super) event: Event,
    pub(super) success_status: u16,
    pub(super) work: F,
    pub(super) result: Option<Result<T, ApiError>>,
    pub(super) entries: Vec<Entry>,
    pub(super) reply: oneshot::Sender<Result<T, ApiError>>,
}

impl<T, F> Job for Write<T, F>
where
    T: Send,
    F: Fn(&mut DbConn, &mut Event) -> Result<T, ApiError> + Send,
{
    fn run(&mut self, tx: &mut DbConn) {
        let mut event = self.event.clone();
        let work = &self.work;
        let result = tx.transaction(|t| work(t, &mut event));
        let (outcome, status) = match &result {
            Ok(_) => ("allowed", self.success_status),
            Err(e) => audit::outcome_of(e),
        };
        self.entries = if outcome == "failed" { Vec::new() } else { expanded(event, outcome, status) };
        self.result = Some(result);
    }

    fn contended(&self) -> bool {
        matches!(self.result, Some(Err(ApiError::Contended(_))))
    }

    fn answer(self: Box<Self>, committed: bool) {
        let Self { result, reply, work, .. } = *self;
        // What the work holds (a request's content, say) is let go before the request wakes,
        // so that the request can take it back rather than copy it.
        drop(work);
        let result = match result {
            Some(result) if committed => result,
            _ => Err(ApiError::ServiceUnavailable("the write could not be committed; retry".into())),
        };
        let _client_gone = reply.send(result);
    }

    fn defers_audit(&self) -> bool {
        true
    }

    fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

/// A read's audit event. It needs no savepoint: an append fails only when the database does, and
/// then the whole batch fails and every job hears 503.
pub(super) struct Record {
    entries: Vec<Entry>,
    reply: oneshot::Sender<Result<(), ApiError>>,
}

impl Record {
    pub(super) fn new(
        event: Event,
        outcome: &'static str,
        status: u16,
        reply: oneshot::Sender<Result<(), ApiError>>,
    ) -> Self {
        Self { entries: expanded(event, outcome, status), reply }
    }
}

impl Job for Record {
    fn run(&mut self, _tx: &mut DbConn) {}

    fn contended(&self) -> bool {
        false
    }

    fn answer(self: Box<Self>, committed: bool) {
        let result = if committed {
            Ok(())
        } else {
            Err(ApiError::ServiceUnavailable("the audit event could not be committed".into()))
        };
        let _client_gone = self.reply.send(result);
    }

    fn defers_audit(&self) -> bool {
        true
    }

    fn entries(&self) -> &[Entry] {
        &self.entries
    }
}
