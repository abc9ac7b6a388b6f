//! The jobs a batch runs: a request's work under a savepoint, and a read's audit event (which
//! `commit` appends together with its neighbours).

use diesel::Connection;
use tokio::sync::oneshot;

use crate::audit::Event;
use crate::db::DbConn;
use crate::error::ApiError;

/// One unit of a batch, its result kept until the batch has committed.
pub(super) trait Job: Send {
    /// Runs inside the batch transaction (again, when the batch is run again).
    fn run(&mut self, tx: &mut DbConn);
    /// Whether the last run was failed by the database for contention: the batch is run again.
    fn contended(&self) -> bool;
    /// Answers the waiting request: its result if the batch committed, 503 if it did not.
    fn answer(self: Box<Self>, committed: bool);
    /// The events of a job that only appends to the audit log: consecutive ones are appended
    /// together, the chain's head moved once for all (`commit`).
    fn events(&self) -> Option<&Record> {
        None
    }
}

pub(super) struct Pending<T, F> {
    pub(super) work: F,
    /// Whether the work needs a savepoint from here (false when it keeps its own).
    pub(super) savepoint: bool,
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
        self.result = Some(if self.savepoint { tx.transaction(work) } else { work(tx) });
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

/// A read's audit event (expanded, see [`Event::expand`]). It needs no savepoint: an append fails
/// only when the database does, and then the whole batch fails and every job hears 503.
pub(super) struct Record {
    pub(super) events: Vec<Event>,
    pub(super) outcome: &'static str,
    pub(super) status: u16,
    reply: oneshot::Sender<Result<(), ApiError>>,
}

impl Record {
    pub(super) fn new(
        event: Event,
        outcome: &'static str,
        status: u16,
        reply: oneshot::Sender<Result<(), ApiError>>,
    ) -> Self {
        let events = if event.disclosed.is_empty() { vec![event] } else { event.expand() };
        Self { events, outcome, status, reply }
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

    fn events(&self) -> Option<&Record> {
        Some(self)
    }
}
