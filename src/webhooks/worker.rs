//! The delivery worker: a background task that wakes on every local commit (and every
//! `poll_ms`, for commits of other instances and retries coming due), claims the due
//! subscriptions it has room for, and runs each claimed one as its own task. Organisations take
//! turns for the slots, each holding at most its share (see `claim`), and a run gives its slot
//! back after a turn of deliveries (`deliver::TURN`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, watch};
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

/// Subscriptions this instance is running now, by id with their organisation: it never starts a
/// second run of one, and counts each organisation's runs against its share.
type Running = Arc<Mutex<HashMap<String, String>>>;

async fn main_loop(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let owner = format!("{}:{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let client = Client::new(&state.settings.webhooks);
    let concurrency = state.settings.webhooks.concurrency.max(1);
    let slots = Arc::new(Semaphore::new(concurrency));
    let running: Running = Arc::default();
    // A run that ends well wakes the loop, so its slot (and its organisation's turn) is given
    // again at once rather than at the next poll.
    let freed = Arc::new(Notify::new());
    let mut ticks = state.changes.subscribe();
    let poll = Duration::from_millis(state.settings.webhooks.poll_ms.max(10));
    let mut turn = 0usize;
    loop {
        if *stop.borrow() {
            break;
        }
        let free = slots.available_permits();
        if free > 0 {
            match claim(&state, &owner, &running, free, turn).await {
                Ok(claimed) => {
                    turn = turn.wrapping_add(1);
                    for (id, _org) in claimed {
                        let Ok(slot) = slots.clone().acquire_owned().await else { break };
                        let (st, cl, own, run, stp, fr) = (
                            state.clone(),
                            client.clone(),
                            owner.clone(),
                            running.clone(),
                            stop.clone(),
                            freed.clone(),
                        );
                        tokio::spawn(async move {
                            let ran = deliver::run(&st, &cl, &own, &id, &stp).await;
                            if let Err(e) = &ran {
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
                            // A run that failed (say, the committer is full) waits for the next
                            // poll: waking at once would retry it in a tight loop.
                            if ran.is_ok() {
                                fr.notify_one();
                            }
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not look for due webhook subscriptions"),
            }
        }
        tokio::select! {
            _ = stop.changed() => {}
            _ = ticks.changed() => {}
            () = freed.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
    // Wait for the runs to end: each gives its slot back when done.
    let _all = slots.acquire_many(u32::try_from(concurrency).unwrap_or(u32::MAX)).await;
}

/// Claims up to `room` due subscriptions (free or expired lease) for this instance, fairly:
/// organisations take turns, one subscription each per round, starting from a different one
/// each call (`turn`), and none holds more than `--webhook-org-concurrency` runs. So one
/// organisation's many slow receivers hold at most its share of the slots, and every other
/// organisation with something due gets a slot within a round.
async fn claim(
    state: &Arc<AppState>,
    owner: &str,
    running: &Running,
    room: usize,
    turn: usize,
) -> Result<Vec<(String, String)>, ApiError> {
    let busy: HashMap<String, String> = running.lock().map_err(ApiError::internal)?.clone();
    let owner = owner.to_owned();
    let lease = i64::try_from(state.settings.webhooks.lease_secs).unwrap_or(60);
    let share = state.settings.webhooks.org_concurrency.max(1);
    let clock = state.clock.clone();
    let claimed = db::run(&state.pool, move |conn| {
        let head = changes::last_seq(conn)?;
        let now = clock.now();
        let (at, until) = (clock::format(now), clock::format(now + time::Duration::seconds(lease)));
        let mut orgs = SubscriptionRow::due_organizations(conn, head, &at)?;
        if !orgs.is_empty() {
            let first = turn % orgs.len();
            orgs.rotate_left(first);
        }
        // Each organisation's candidates, up to the runs it may still start.
        let mut queues: Vec<(String, VecDeque<String>)> = Vec::new();
        for org in orgs {
            let held = busy.values().filter(|o| **o == org).count();
            let left = share.saturating_sub(held);
            if left == 0 {
                continue;
            }
            let limit = i64::try_from(left + held).unwrap_or(i64::MAX);
            let ids: VecDeque<String> = SubscriptionRow::due_in(conn, &org, head, &at, limit)?
                .into_iter()
                .filter(|id| !busy.contains_key(id))
                .collect();
            queues.push((org, ids.into_iter().take(left).collect()));
        }
        let mut claimed = Vec::new();
        while claimed.len() < room && queues.iter().any(|(_, q)| !q.is_empty()) {
            for (org, queue) in &mut queues {
                if claimed.len() == room {
                    break;
                }
                // A candidate another instance took meanwhile gives its place to the next one.
                while let Some(id) = queue.pop_front() {
                    if SubscriptionRow::claim(conn, &id, &owner, &at, &until)? {
                        claimed.push((id, org.clone()));
                        break;
                    }
                }
            }
        }
        Ok(claimed)
    })
    .await?;
    running.lock().map_err(ApiError::internal)?.extend(claimed.iter().cloned());
    Ok(claimed)
}
