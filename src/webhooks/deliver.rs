//! One delivery run of one subscription, by the instance holding its lease: find the next change
//! the subscribing organisation may see *now* (the change feed's own filter, judged just before
//! each POST), send it signed, move the cursor, repeat until caught up or a delivery fails.
//!
//! At least once: the cursor moves only after the receiver answered 2xx, so a crash between the
//! two sends that change again. In order: one run per subscription at a time (the lease), and a
//! failure ends the run, so nothing after a failed change is sent before it.
//!
//! Each POST is an audit event (`subscription.deliver`, naming the patient) committed before it
//! leaves, as a read's event is durable before its answer. A run ends after [`TURN`] deliveries
//! even when more are due, so that the worker can give the slot to another organisation's turn.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::watch;

use super::client::Client;
use super::sign;
use crate::audit::Event;
use crate::auth::Caller;
use crate::clock;
use crate::crypto::{CryptoError, WrappedKey};
use crate::db::subscriptions::{ACTIVE, Failure, SubscriptionRow};
use crate::db::{self, DbConn};
use crate::domain;
use crate::domain::sync::{self, Change};
use crate::error::ApiError;
use crate::state::AppState;

/// The body of a webhook: which document changed, never what it says (the receiver fetches it
/// with its own token, so consent is enforced again when it reads).
#[derive(Debug, Serialize)]
struct Payload<'a> {
    subscription_id: &'a str,
    seq: i64,
    /// `document` or `contact_sheet`.
    resource: crate::domain::sync::ChangeResource,
    /// Null only for a question to a consultation desk about no patient.
    patient_id: Option<&'a str>,
    document_id: &'a str,
    #[serde(rename = "type")]
    doc_type: &'a str,
    version: i32,
    op: &'a str,
}

/// Deliveries one run makes at most before it gives its slot back (the subscription stays due).
pub const TURN: usize = 10;

/// A change to send, with what sending needs.
struct Delivery {
    /// Whose access filtered it: the subscription's organisation and role.
    subscriber: Caller,
    from: i64,
    change: Change,
    url: String,
    key: [u8; 32],
    attempts: i32,
    failing_since: Option<String>,
}

enum Step {
    /// Nothing left to send (or the run must stop: lease lost, replayed, deleted, disabled).
    Done,
    Send(Box<Delivery>),
}

fn lease_end(state: &AppState) -> String {
    let secs = i64::try_from(state.settings.webhooks.lease_secs).unwrap_or(60);
    clock::format(state.clock.now() + time::Duration::seconds(secs))
}

/// The caller whose access the subscription's changes are filtered by: its organisation, with
/// the role and purpose it was registered with.
fn subscriber(row: &SubscriptionRow) -> Result<Caller, ApiError> {
    Ok(Caller {
        sub: format!("subscription:{}", row.id),
        org: row.organization_id.clone(),
        role: row.role.parse().map_err(ApiError::internal)?,
        purpose: Some(row.purpose.clone()),
    })
}

/// Whether a change passes one of the subscription's filter lists (empty: every value). A list
/// that cannot be read passes nothing: a damaged filter must never widen what is sent.
fn wants(id: &str, list_json: &str, value: &str) -> bool {
    match serde_json::from_str::<Vec<String>>(list_json) {
        Ok(list) => list.is_empty() || list.iter().any(|v| v == value),
        Err(e) => {
            tracing::error!(subscription = %id, error = %e, "unreadable webhook filter list: delivering nothing");
            false
        }
    }
}

/// The audit event of one delivery: the subscription read the change as its organisation and
/// role, and the POST tells the receiver that this patient's document changed.
fn delivery_event(id: &str, delivery: &Delivery) -> Event {
    let (who, c) = (&delivery.subscriber, &delivery.change);
    let mut event = Event::system("subscription.deliver");
    event.actor_sub.clone_from(&who.sub);
    event.actor_org.clone_from(&who.org);
    event.actor_role = who.role.as_str().to_owned();
    event.purpose = who.purpose.clone().unwrap_or_else(|| "treatment".into());
    event.request_id = sign::message_id(id, c.seq);
    event.patient_id.clone_from(&c.patient_id);
    let kind = match c.resource {
        sync::ChangeResource::Document => "document",
        sync::ChangeResource::ContactSheet => "contact_sheet",
    };
    event.resource_version = Some(c.version);
    event.resource(kind, &c.document_id)
}

fn secret(state: &AppState, row: &SubscriptionRow) -> Result<[u8; 32], ApiError> {
    let wrapped = WrappedKey { kid: row.secret_kid.clone(), blob: row.secret.clone() };
    match state.keys().unwrap_secret(&row.id, &wrapped) {
        Err(CryptoError::UnknownKid(_)) => {
            state.reload_keys()?;
            state.keys().unwrap_secret(&row.id, &wrapped).map_err(ApiError::internal)
        }
        other => other.map_err(ApiError::internal),
    }
}

/// Finds the next change to send, skipping (and moving the cursor past) those the subscriber
/// may not see or did not ask for.
fn next_step(conn: &mut DbConn, state: &AppState, id: &str, owner: &str) -> Result<Step, ApiError> {
    loop {
        let Some(row) = SubscriptionRow::find(conn, id)? else { return Ok(Step::Done) };
        if row.status != ACTIVE || row.lease_owner.as_deref() != Some(owner) {
            return Ok(Step::Done);
        }
        if !SubscriptionRow::renew(conn, id, owner, &lease_end(state))? {
            return Ok(Step::Done);
        }
        let from = row.delivered_seq;
        let caller = subscriber(&row)?;
        let scan = sync::scan(conn, state, &caller, from, 1)?;
        match scan.changes.into_iter().next() {
            Some(change) if wants(id, &row.doc_types, &change.doc_type) && wants(id, &row.events, &change.op) => {
                let key = secret(state, &row)?;
                let delivery = Delivery {
                    subscriber: caller,
                    from,
                    change,
                    url: row.url,
                    key,
                    attempts: row.attempts,
                    failing_since: row.failing_since,
                };
                return Ok(Step::Send(Box::new(delivery)));
            }
            Some(change) => {
                if !SubscriptionRow::advance(conn, id, owner, from, change.seq, None)? {
                    return Ok(Step::Done);
                }
            }
            None => {
                if scan.cursor > from && !SubscriptionRow::advance(conn, id, owner, from, scan.cursor, None)? {
                    return Ok(Step::Done);
                }
                if !scan.has_more {
                    return Ok(Step::Done);
                }
            }
        }
    }
}

/// Delivers until caught up, a failure, a lost lease, its turn is over or `stop`.
pub async fn run(
    state: &Arc<AppState>,
    client: &Client,
    owner: &str,
    id: &str,
    stop: &watch::Receiver<bool>,
) -> Result<(), ApiError> {
    for _ in 0..TURN {
        if *stop.borrow() {
            return Ok(());
        }
        let (st, sid, own) = (state.clone(), id.to_owned(), owner.to_owned());
        let step = db::run(&state.pool, move |conn| next_step(conn, &st, &sid, &own)).await?;
        let Step::Send(delivery) = step else { return Ok(()) };
        let (from, seq) = (delivery.from, delivery.change.seq);
        state.committer.record(delivery_event(id, &delivery), "allowed", 200).await?;
        let outcome = send(client, id, &delivery).await?;
        let (sid, own) = (id.to_owned(), owner.to_owned());
        match outcome {
            Ok(()) => {
                let now = state.clock.stamp();
                let moved = db::run(&state.pool, move |conn| {
                    Ok(SubscriptionRow::advance(conn, &sid, &own, from, seq, Some(&now))?)
                })
                .await?;
                if !moved {
                    return Ok(());
                }
            }
            Err(error) => return failed(state, id, owner, &delivery, error).await,
        }
    }
    Ok(())
}

/// Signs and POSTs one change off the async workers.
async fn send(client: &Client, id: &str, delivery: &Delivery) -> Result<Result<(), String>, ApiError> {
    let c = &delivery.change;
    let payload = Payload {
        subscription_id: id,
        seq: c.seq,
        resource: c.resource,
        patient_id: c.patient_id.as_deref(),
        document_id: &c.document_id,
        doc_type: &c.doc_type,
        version: c.version,
        op: &c.op,
    };
    let body = serde_json::to_vec(&payload).map_err(ApiError::internal)?;
    let msg_id = sign::message_id(id, c.seq);
    // The receiver checks it against its own wall clock, so it is the wall clock here too.
    let timestamp = clock::Clock::system().now().unix_timestamp();
    let signature = sign::signature(&delivery.key, &msg_id, timestamp, &body);
    let headers =
        [("webhook-id", msg_id), ("webhook-timestamp", timestamp.to_string()), ("webhook-signature", signature)];
    let (client, url) = (client.clone(), delivery.url.clone());
    tokio::task::spawn_blocking(move || client.post(&url, &headers, &body)).await.map_err(ApiError::internal)
}

/// The delay before retry number `attempt` (1 for the first): doubling from the configured base
/// up to the cap, then between half and all of it at random, so that many subscriptions failing
/// together do not retry in step.
pub fn backoff(state: &AppState, attempt: i32) -> std::time::Duration {
    let s = &state.settings.webhooks;
    let exp = u32::try_from(attempt.clamp(1, 31) - 1).unwrap_or(30);
    let full = s.backoff_ms.saturating_mul(1u64 << exp).min(s.backoff_max_secs.saturating_mul(1000));
    let mut random = [0u8; 4];
    let jitter = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
        .map(|()| u64::from(u32::from_le_bytes(random)))
        .unwrap_or(0);
    let half = full / 2;
    std::time::Duration::from_millis(half + jitter % (full - half + 1))
}

/// A failed delivery: retry later, or, once failures have lasted the retry window, mark the
/// subscription failing (an audit event) until someone enables it again.
async fn failed(
    state: &Arc<AppState>,
    id: &str,
    owner: &str,
    delivery: &Delivery,
    error: String,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let since = delivery.failing_since.as_deref().and_then(clock::parse).unwrap_or(now);
    let window = time::Duration::seconds(i64::try_from(state.settings.webhooks.retry_secs).unwrap_or(i64::MAX));
    let (sid, own, at) = (id.to_owned(), owner.to_owned(), clock::format(now));
    tracing::info!(subscription = %id, seq = delivery.change.seq, error = %error, "webhook delivery failed");
    if now - since >= window {
        let event = Event::system("subscription.failing").resource("subscription", id);
        return domain::write(state, event, 200, move |tx, _, _| {
            SubscriptionRow::mark_failing(tx, &sid, &own, &error, &at)?;
            Ok(())
        })
        .await;
    }
    let next = clock::format(now + backoff(state, delivery.attempts + 1));
    let since = clock::format(since);
    db::run(&state.pool, move |conn| {
        let failure = Failure { error: &error, at: &at, since: &since, next_attempt_at: &next };
        Ok(SubscriptionRow::record_failure(conn, &sid, &own, &failure)?)
    })
    .await
}
