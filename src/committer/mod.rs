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
//!
//! The queue is bounded (`--committer-queue-max`): past the bound a job is refused at once with
//! 503 and `Retry-After`, rather than every request waiting longer and memory growing while the
//! one writer falls behind.
//!
//! On PostgreSQL several instances' committers share the database. A batch the database fails to
//! break a deadlock or a serialisation conflict (`ApiError::Contended`) has answered nobody yet,
//! so it is rolled back and run again whole, a few times with a short random pause, before
//! anyone hears of it. That is why a job is `Fn`: it may run more than once, and only the result
//! of the run that committed is answered.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::audit::{self, Event};
use crate::db::{self, DbConn, DbPool};
use crate::error::ApiError;
use crate::metrics;

mod jobs;

use jobs::{Job, Pending, Record, Write};

/// Jobs one transaction gathers at most, so that it stays short and a failing batch costs little.
const MAX_BATCH: usize = 256;

/// Runs of one batch at most when the database keeps failing it for contention. A deadlock
/// between committers cannot happen (they lock in one order, `db::lock_batch`); what is left is a
/// writer outside the committer, which holds its locks for one short statement.
const ATTEMPTS: u32 = 5;

/// The handle writers and readers commit through. Dropping the last one stops the thread.
pub struct Committer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    /// Jobs sent and not yet taken into a batch (for `/metrics`, and the bound).
    queued: Arc<AtomicUsize>,
    /// Jobs that may wait at most; 0: no bound.
    max_queued: usize,
}

impl Committer {
    /// Starts the committer thread with the write connection of `pool` (it holds one connection
    /// and reconnects through the pool when that breaks). At most `max_queued` jobs wait (0: no
    /// bound); more are refused with 503.
    pub fn start(pool: DbPool, max_queued: usize) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let taken = queued.clone();
        std::thread::Builder::new().name("committer".into()).spawn(move || run(&pool, &rx, &taken))?;
        Ok(Self { jobs, queued, max_queued })
    }

    /// Runs `work` in the next batch under a savepoint of its own: an error rolls back what it
    /// wrote and is answered. Resolves once the batch has committed (503 if it could not).
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: Fn(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.submit(Box::new(Pending { work, result: None, reply }))?;
        answer.await.map_err(|_| stopped())?
    }

    /// A write with its audit event, under a savepoint of its own: the refusal of a refused
    /// write is committed in its place (as [`audit::write`] does inside a transaction).
    pub async fn write<T, F>(&self, event: Event, success_status: u16, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: Fn(&mut DbConn, &mut Event) -> Result<T, ApiError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Write { event, success_status, work, result: None, entries: Vec::new(), reply };
        self.submit(Box::new(job))?;
        answer.await.map_err(|_| stopped())?
    }

    /// Appends the event (with one per patient it disclosed, see [`Event::expand`]) and resolves
    /// once it is committed: a read's event is durable before its answer leaves.
    pub async fn record(&self, event: Event, outcome: &'static str, status: u16) -> Result<(), ApiError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Box::new(Record::new(event, outcome, status, reply)))?;
        answer.await.map_err(|_| stopped())?.map_err(unrecorded)
    }

    /// [`Committer::record`] for code already off the async workers (it blocks the thread).
    pub fn record_blocking(&self, event: Event, outcome: &'static str, status: u16) -> Result<(), ApiError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Box::new(Record::new(event, outcome, status, reply)))?;
        answer.blocking_recv().map_err(|_| stopped())?.map_err(unrecorded)
    }

    fn submit(&self, job: Box<dyn Job>) -> Result<(), ApiError> {
        // Counted before it is sent, so the thread never takes more than was counted. Each
        // submitter sees its own count before it, so no more than the bound are ever let in.
        let before = self.queued.fetch_add(1, Ordering::Relaxed);
        if self.max_queued > 0 && before >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(ApiError::ServiceUnavailable("the server is busy with writes; retry shortly".into()));
        }
        metrics::committer_queue_depth(before + 1);
        self.jobs.send(job).map_err(|_| {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            stopped()
        })
    }
}

fn stopped() -> ApiError {
    ApiError::ServiceUnavailable("the committer is not running".into())
}

fn unrecorded(e: ApiError) -> ApiError {
    tracing::error!(error = %e, "audit event not recorded");
    ApiError::ServiceUnavailable("the audit event could not be recorded".into())
}

fn run(pool: &DbPool, rx: &mpsc::Receiver<Box<dyn Job>>, queued: &AtomicUsize) {
    let mut conn = None;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let left = queued.fetch_sub(batch.len(), Ordering::Relaxed).saturating_sub(batch.len());
        metrics::committer_queue_depth(left);
        metrics::committer_batch(batch.len());
        let committed = commit_retrying(pool, &mut conn, &mut batch);
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

/// Commits the batch, running it again while the database fails it for contention (at most
/// [`ATTEMPTS`] runs). Nothing was answered yet, so no request learns of a run that failed.
fn commit_retrying(
    pool: &DbPool,
    conn: &mut Option<db::PooledConn>,
    batch: &mut [Box<dyn Job>],
) -> Result<(), ApiError> {
    let mut attempt = 1;
    loop {
        let result = connection(pool, conn).and_then(|c| commit(c, batch));
        match result {
            Err(ApiError::Contended(cause)) if attempt < ATTEMPTS => {
                tracing::warn!(%cause, attempt, jobs = batch.len(), "a commit batch met contention; running it again");
                metrics::committer_retry();
                std::thread::sleep(backoff(attempt));
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// A pause that doubles with each attempt (5, 10, 20, 40 ms) and is drawn at random below that,
/// so two committers that met once do not meet again in step.
fn backoff(attempt: u32) -> Duration {
    use ring::rand::SecureRandom;
    let ceiling_us = 5_000u64 << (attempt - 1).min(4);
    let mut bytes = [0u8; 8];
    let drawn = ring::rand::SystemRandom::new().fill(&mut bytes).map_or(ceiling_us, |()| u64::from_le_bytes(bytes));
    Duration::from_micros(ceiling_us / 2 + drawn % (ceiling_us / 2))
}

/// The write connection, connected (again) when there is none.
fn connection<'a>(pool: &DbPool, conn: &'a mut Option<db::PooledConn>) -> Result<&'a mut DbConn, ApiError> {
    if conn.is_none() {
        // Bounded: a database that is down fails this batch and is retried with the next.
        *conn = Some(pool.get_timeout(Duration::from_secs(5))?);
    }
    conn.as_deref_mut().ok_or_else(|| ApiError::internal("no write connection"))
}

/// Runs the batch in one transaction, each job under its own savepoint. The events of each run
/// of consecutive jobs that defer them (writes', reads') are one append after the run, in job
/// order, so the chain is as it would be job by job and its head moves once per run (three
/// statements, not three an event). A job that appends for itself runs after the events before
/// it are appended.
fn commit(conn: &mut DbConn, batch: &mut [Box<dyn Job>]) -> Result<(), ApiError> {
    db::write_tx(conn, |tx| {
        let started = Instant::now();
        db::lock_batch(tx)?;
        metrics::committer_lock_wait(started.elapsed());
        let mut from = 0;
        for i in 0..batch.len() {
            if !batch[i].defers_audit() {
                append_entries(tx, &batch[from..i])?;
                from = i + 1;
            }
            run_job(tx, &mut batch[i])?;
        }
        append_entries(tx, &batch[from..])
    })
}

fn append_entries(tx: &mut DbConn, jobs: &[Box<dyn Job>]) -> Result<(), ApiError> {
    let events: Vec<(&Event, &str, u16)> =
        jobs.iter().flat_map(|job| job.entries().iter().map(|(e, outcome, status)| (e, *outcome, *status))).collect();
    if events.is_empty() {
        return Ok(());
    }
    audit::append_all(tx, &events).map(drop)
}

fn run_job(tx: &mut DbConn, job: &mut Box<dyn Job>) -> Result<(), ApiError> {
    // A bug that panics in one job must not take the only writer down with it: the batch is
    // rolled back and answered 503, and the thread goes on.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(tx)));
    if ran.is_err() {
        return Err(ApiError::internal("a write panicked"));
    }
    if db::is_broken(tx) {
        return Err(ApiError::ServiceUnavailable("the transaction broke mid-batch".into()));
    }
    // Its savepoint was rolled back, but what the batch locked before it is still held and the
    // other side waits for it: the whole batch gives way and is run again.
    if job.contended() {
        return Err(ApiError::Contended("a job of the batch met contention".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use diesel::RunQueryDsl;

    use super::*;
    use crate::config::Settings;

    fn committer() -> (tempfile::TempDir, Committer, DbPool) {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::for_data_dir(dir.path());
        std::fs::create_dir_all(&settings.data_dir).unwrap();
        let pool = db::open(&settings).unwrap();
        let committer = Committer::start(db::side_pool(&settings, 1), 0).unwrap();
        (dir, committer, pool)
    }

    fn count(pool: &DbPool) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<N> =
            diesel::sql_query("SELECT COUNT(*) AS n FROM scratch").load(&mut pool.get().unwrap()).unwrap();
        rows[0].n
    }

    fn insert(tx: &mut DbConn) -> Result<(), ApiError> {
        diesel::sql_query("INSERT INTO scratch (x) VALUES (1)").execute(tx)?;
        Ok(())
    }

    #[tokio::test]
    async fn a_failing_job_rolls_back_alone_and_a_panicking_one_does_not_stop_the_thread() {
        let (_dir, committer, pool) = committer();
        committer
            .run(|tx| Ok(diesel::sql_query("CREATE TABLE scratch (x INTEGER)").execute(tx).map(drop)?))
            .await
            .unwrap();
        // A slow job holds the thread so that the next three queue and share one batch.
        let slow = committer.run(|_| {
            std::thread::sleep(Duration::from_millis(100));
            Ok(())
        });
        let ok = committer.run(insert);
        let failing = committer.run(|tx| {
            insert(tx)?;
            Err::<(), _>(ApiError::BadRequest("refused".into()))
        });
        let also_ok = committer.run(insert);
        let (slow, ok, failing, also_ok) = tokio::join!(slow, ok, failing, also_ok);
        assert!(slow.is_ok() && ok.is_ok() && also_ok.is_ok());
        assert!(matches!(failing, Err(ApiError::BadRequest(_))), "{failing:?}");
        assert_eq!(count(&pool), 2, "the refused job's insert is rolled back, the others' kept");

        let panicked = committer.run(|tx| -> Result<(), ApiError> {
            insert(tx)?;
            panic!("a bug")
        });
        assert!(matches!(panicked.await, Err(ApiError::ServiceUnavailable(_))));
        committer.run(insert).await.unwrap();
        assert_eq!(count(&pool), 3, "the panicking batch rolled back; the thread still commits");
    }

    #[tokio::test]
    async fn a_batch_failed_for_contention_is_run_again_and_only_its_last_run_kept() {
        let (_dir, committer, pool) = committer();
        committer
            .run(|tx| Ok(diesel::sql_query("CREATE TABLE scratch (x INTEGER)").execute(tx).map(drop)?))
            .await
            .unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let seen = runs.clone();
        let answer = committer
            .run(move |tx| {
                insert(tx)?;
                // The database's verdict on the first two runs: a deadlock was broken by failing us.
                match seen.fetch_add(1, Ordering::Relaxed) {
                    0 | 1 => Err(ApiError::Contended("deadlock detected".into())),
                    n => Ok(n),
                }
            })
            .await;
        assert_eq!(answer.unwrap(), 2, "answered from the third run");
        assert_eq!(count(&pool), 1, "the failed runs' inserts were rolled back with their batch");

        let always = committer.run(|tx| -> Result<(), ApiError> {
            insert(tx)?;
            Err(ApiError::Contended("deadlock detected".into()))
        });
        assert!(matches!(always.await, Err(ApiError::ServiceUnavailable(_))), "bounded: then a 503");
        assert_eq!(count(&pool), 1);
    }
}
