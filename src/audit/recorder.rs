//! Group commit of read events. A read's audit event must be durable before the answer leaves,
//! but a commit of its own (an fsync on SQLite) costs more than the read itself. So readers hand
//! their event to one recorder thread and wait for it: while the recorder commits one batch, the
//! next gathers, so under load many reads share a commit, and a lone read waits no longer than
//! its own commit would take. No timer, no added latency.
//!
//! The recorder writes through a connection pool of its own: readers wait holding their pooled
//! connection, and the recorder must never queue behind them for one.

use std::sync::mpsc;

use super::chain::append_all;
use super::event::Event;
use crate::db::{DbPool, write_tx};
use crate::error::ApiError;

/// Events one commit gathers up to, so that one transaction stays short (a single listing's
/// events are never split, so a batch may exceed it by one job).
const MAX_BATCH: usize = 512;

struct Job {
    /// The request's event and those of the patients it disclosed: one commit, all or none.
    events: Vec<Event>,
    outcome: &'static str,
    status: u16,
    /// Whether the event is committed; why not is logged, not told to the client.
    done: mpsc::SyncSender<bool>,
}

/// The handle readers record through. Dropping the last one stops the thread.
pub struct Recorder {
    jobs: mpsc::Sender<Job>,
}

impl Recorder {
    /// Starts the recorder thread on `pool` (one connection is all it needs).
    pub fn start(pool: DbPool) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::channel();
        std::thread::Builder::new().name("audit-recorder".into()).spawn(move || run(&pool, &rx))?;
        Ok(Self { jobs })
    }

    /// Appends the event (with one per patient it disclosed, see [`Event::expand`]) and returns
    /// once they are committed. Blocking: call it off the async workers.
    pub fn record(&self, event: Event, outcome: &'static str, status: u16) -> Result<(), ApiError> {
        let (done, wait) = mpsc::sync_channel(1);
        self.jobs
            .send(Job { events: event.expand(), outcome, status, done })
            .map_err(|_| ApiError::ServiceUnavailable("the audit recorder is not running".into()))?;
        match wait.recv() {
            Ok(true) => Ok(()),
            Ok(false) => Err(ApiError::ServiceUnavailable("the audit event could not be recorded".into())),
            Err(_) => Err(ApiError::ServiceUnavailable("the audit recorder stopped".into())),
        }
    }
}

fn run(pool: &DbPool, rx: &mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut size = first.events.len();
        let mut batch = vec![first];
        while size < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => {
                    size += job.events.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        match commit(pool, &batch) {
            // A reader that has gone away no longer waits for its answer.
            Ok(()) => batch.into_iter().for_each(|job| {
                let _reader_gone = job.done.send(true);
            }),
            // One event that cannot be written must not sink the others: each on its own.
            Err(_) => {
                for job in batch {
                    let result = commit(pool, std::slice::from_ref(&job));
                    if let Err(e) = &result {
                        let action = job.events.first().map_or("", |e| e.action);
                        tracing::error!(error = %e, action, "audit event not recorded");
                    }
                    let _reader_gone = job.done.send(result.is_ok());
                }
            }
        }
    }
}

fn commit(pool: &DbPool, jobs: &[Job]) -> Result<(), ApiError> {
    let mut conn = pool.get()?;
    let events: Vec<_> = jobs.iter().flat_map(|j| j.events.iter().map(|e| (e, j.outcome, j.status))).collect();
    write_tx(&mut conn, |tx| append_all(tx, &events).map(drop))
}
