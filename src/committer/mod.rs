//! One committer per database. SQLite has one writer whatever we do; left to itself it picks the
//! next one by sleep-and-retry in its busy handler, which is unfair (a writer can wait seconds
//! while others overtake it) and spends an fsync per write. So every write, and every read's audit
//! event, is handed to one thread that owns the write connection. It takes whatever has queued,
//! in arrival order, runs each job under a savepoint of one transaction (a job that fails rolls
//! back alone), commits once, and only then answers all of them. While it commits, the next
//! batch gathers: no timer, so a lone write waits no longer than its own commit, and under load
//! many writes share one.
//!
//! Sequence numbers and the audit chain are assigned inside the batch in job order, so both stay
//! gap-free and ordered. On PostgreSQL the same shape turns many commits into one.

use std::sync::mpsc;
use std::time::Duration;

use diesel::Connection;
use tokio::sync::oneshot;

use crate::audit::{self, Event};
use crate::db::{self, DbConn, DbPool};
use crate::error::ApiError;

/// Jobs one transaction gathers at most, so that it stays short and a failing batch costs little.
const MAX_BATCH: usize = 256;

/// The handle writers and readers commit through. Dropping the last one stops the thread.
pub struct Committer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Committer {
    /// Starts the committer thread with the write connection of `pool` (it holds one connection
    /// and reconnects through the pool when that breaks).
    pub fn start(pool: DbPool) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::channel();
        std::thread::Builder::new().name("committer".into()).spawn(move || run(&pool, &rx))?;
        Ok(Self { jobs })
    }

    /// Runs `work` in the next batch under a savepoint of its own: an error rolls back what it
    /// wrote and is answered. Resolves once the batch has committed (503 if it could not).
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.submit(Box::new(Pending { work: Some(work), result: None, reply }))?;
        answer.await.map_err(|_| stopped())?
    }

    /// A write with its audit event ([`audit::write`]): the refusal of a refused write is
    /// committed in its place.
    pub async fn write<T, F>(&self, event: Event, success_status: u16, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn, &mut Event) -> Result<T, ApiError> + Send + 'static,
    {
        self.run(move |tx| Ok(audit::write(tx, event, success_status, work))).await?
    }

    /// Appends the event (with one per patient it disclosed, see [`Event::expand`]) and resolves
    /// once it is committed: a read's event is durable before its answer leaves.
    pub async fn record(&self, event: Event, outcome: &'static str, status: u16) -> Result<(), ApiError> {
        self.run(move |tx| audit::append(tx, &event, outcome, status).map(drop)).await.map_err(unrecorded)
    }

    /// [`Committer::record`] for code already off the async workers (it blocks the thread).
    pub fn record_blocking(&self, event: Event, outcome: &'static str, status: u16) -> Result<(), ApiError> {
        let (reply, answer) = oneshot::channel();
        let work = move |tx: &mut DbConn| audit::append(tx, &event, outcome, status).map(drop);
        self.submit(Box::new(Pending { work: Some(work), result: None, reply }))?;
        answer.blocking_recv().map_err(|_| stopped())?.map_err(unrecorded)
    }

    fn submit(&self, job: Box<dyn Job>) -> Result<(), ApiError> {
        self.jobs.send(job).map_err(|_| stopped())
    }
}

fn stopped() -> ApiError {
    ApiError::ServiceUnavailable("the committer is not running".into())
}

fn unrecorded(e: ApiError) -> ApiError {
    tracing::error!(error = %e, "audit event not recorded");
    ApiError::ServiceUnavailable("the audit event could not be recorded".into())
}

/// One unit of a batch, its result kept until the batch has committed.
trait Job: Send {
    /// Runs inside the batch transaction.
    fn run(&mut self, tx: &mut DbConn);
    /// Answers the waiting request: its result if the batch committed, 503 if it did not.
    fn answer(self: Box<Self>, committed: bool);
}

struct Pending<T, F> {
    work: Option<F>,
    result: Option<Result<T, ApiError>>,
    reply: oneshot::Sender<Result<T, ApiError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send,
{
    fn run(&mut self, tx: &mut DbConn) {
        if let Some(work) = self.work.take() {
            // A nested diesel transaction is a savepoint: on error only this job rolls back.
            self.result = Some(tx.transaction(work));
        }
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

fn run(pool: &DbPool, rx: &mpsc::Receiver<Box<dyn Job>>) {
    let mut conn = None;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let committed = match connection(pool, &mut conn) {
            Ok(c) => commit(c, &mut batch),
            Err(e) => Err(e),
        };
        if let Err(e) = &committed {
            tracing::error!(error = %e, jobs = batch.len(), "a commit batch failed; its requests are answered 503");
            // A connection that failed mid-batch is not trusted with the next one.
            conn = None;
        }
        for job in batch {
            job.answer(committed.is_ok());
        }
    }
}

/// The write connection, connected (again) when there is none.
fn connection<'a>(pool: &DbPool, conn: &'a mut Option<db::PooledConn>) -> Result<&'a mut DbConn, ApiError> {
    if conn.is_none() {
        // Bounded: a database that is down fails this batch and is retried with the next.
        *conn = Some(pool.get_timeout(Duration::from_secs(5))?);
    }
    conn.as_deref_mut().ok_or_else(|| ApiError::internal("no write connection"))
}

/// Runs the batch in one transaction, each job under its own savepoint.
fn commit(conn: &mut DbConn, batch: &mut [Box<dyn Job>]) -> Result<(), ApiError> {
    db::write_tx(conn, |tx| {
        for job in batch.iter_mut() {
            job.run(tx);
            if db::is_broken(tx) {
                return Err(ApiError::ServiceUnavailable("the transaction broke mid-batch".into()));
            }
        }
        Ok(())
    })
}
