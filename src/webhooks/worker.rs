//! The delivery worker: a background task that wakes on every local commit (and every
//! `poll_ms`, for commits of other instances and retries coming due), claims the due
//! subscriptions it has room for, and runs each claimed one as its own task.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use super::client::Client;
use super::deliver;
use crate::clock;
use crate::db::subscriptions::SubscriptionRow;
use crate::db::{self, changes};
use crate::error::ApiError;
use crate::state::AppState;

/// A running worker. Stopping it lets runs in flight finish their current delivery, then
/// releases their leases; dropping it without `stop` leaves it running.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Worker {
    /// Starts the worker on the current runtime.
    pub fn start(state: Arc<AppState>) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(main_loop(state, stopped));
        Self { stop, task }
    }

    /// Stops it and waits until every run has ended.
    pub async fn stop(self) {
        let _sent = self.stop.send(true);
        let _ended = self.task.await;
    }
}

/// Subscriptions this instance is running now, so it never starts a second run of one.
type Running = Arc<Mutex<HashSet<String>>>;

async fn main_loop(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let owner = format!("{}:{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let client = Client::new(&state.settings.webhooks);
    let concurrency = state.settings.webhooks.concurrency.max(1);
    let slots = Arc::new(Semaphore::new(concurrency));
    let running: Running = Arc::default();
    let mut ticks = state.changes.subscribe();
    let poll = Duration::from_millis(state.settings.webhooks.poll_ms.max(10));
    loop {
        if *stop.borrow() {
            break;
        }
        let free = slots.available_permits();
        if free > 0 {
            match claim(&state, &owner, &running, free).await {
                Ok(claimed) => {
                    for id in claimed {
                        let Ok(slot) = slots.clone().acquire_owned().await else { break };
                        let (st, cl, own, run, stp) =
                            (state.clone(), client.clone(), owner.clone(), running.clone(), stop.clone());
                        tokio::spawn(async move {
                            if let Err(e) = deliver::run(&st, &cl, &own, &id, &stp).await {
                                tracing::warn!(subscription = %id, error = %e, "webhook delivery run failed");
                            }
                            let (sid, own2) = (id.clone(), own.clone());
                            let released =
                                db::run(&st.pool, move |conn| Ok(SubscriptionRow::release(conn, &sid, &own2)?)).await;
                            if let Err(e) = released {
                                tracing::warn!(subscription = %id, error = %e, "could not release a webhook lease");
                            }
                            if let Ok(mut set) = run.lock() {
                                set.remove(&id);
                            }
                            drop(slot);
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not look for due webhook subscriptions"),
            }
        }
        tokio::select! {
            _ = stop.changed() => {}
            _ = ticks.changed() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
    // Wait for the runs to end: each gives its slot back when done.
    let _all = slots.acquire_many(u32::try_from(concurrency).unwrap_or(u32::MAX)).await;
}

/// Claims up to `room` due subscriptions (free or expired lease) for this instance.
async fn claim(state: &Arc<AppState>, owner: &str, running: &Running, room: usize) -> Result<Vec<String>, ApiError> {
    let busy: HashSet<String> = running.lock().map_err(ApiError::internal)?.clone();
    let owner = owner.to_owned();
    let lease = i64::try_from(state.settings.webhooks.lease_secs).unwrap_or(60);
    let claimed = db::run(&state.pool, move |conn| {
        let head = changes::last_seq(conn)?;
        let now = OffsetDateTime::now_utc();
        let (at, until) = (clock::format(now), clock::format(now + time::Duration::seconds(lease)));
        let limit = i64::try_from(room + busy.len()).unwrap_or(i64::MAX);
        let mut claimed = Vec::new();
        for id in SubscriptionRow::due(conn, head, &at, limit)? {
            if claimed.len() < room && !busy.contains(&id) && SubscriptionRow::claim(conn, &id, &owner, &at, &until)? {
                claimed.push(id);
            }
        }
        Ok(claimed)
    })
    .await?;
    running.lock().map_err(ApiError::internal)?.extend(claimed.iter().cloned());
    Ok(claimed)
}
