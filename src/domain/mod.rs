//! The domain: one module per resource, each owning its rules, its transactions and its audit
//! events. A public domain function runs whole: authorised, validated, sealed, committed and
//! audited together, so the HTTP layer only parses and renders.

pub mod accounts;
pub mod audit_log;
pub mod care_plans;
pub mod care_team;
pub mod consents;
pub mod console_sessions;
pub mod coordination;
pub mod directory;
pub mod documents;
pub mod exports;
pub mod fields;
pub mod health_index;
pub mod identity;
pub mod insured_match;
pub mod paging;
pub mod params;
pub mod patients;
pub mod record;
pub mod reports;
pub mod service_clients;
pub mod sessions;
pub mod sync;
pub mod vacancies;

use std::sync::Arc;

use crate::audit::{self, Event};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::state::AppState;

/// Runs an audited read on a pooled connection, off the async workers. `f` completes the event
/// (patient, resource); the event is durable before the answer leaves, denials included. The
/// connection goes back to the pool before the event's commit is awaited.
pub async fn read<T, F>(state: &Arc<AppState>, event: Event, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn, &AppState, &mut Event) -> Result<T, ApiError> + Send + 'static,
{
    read_from(&state.pool, state, event, f).await
}

/// [`read`] from the read replica when there is one (`AppState::lagging`): only for a read whose
/// answer may be a little behind (a report's counts), and that authorises without a patient's
/// consent, which must always be the latest. Its audit event is still committed on the primary.
pub async fn read_lagging<T, F>(state: &Arc<AppState>, event: Event, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn, &AppState, &mut Event) -> Result<T, ApiError> + Send + 'static,
{
    read_from(&state.lagging, state, event, f).await
}

async fn read_from<T, F>(pool: &db::DbPool, state: &Arc<AppState>, event: Event, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn, &AppState, &mut Event) -> Result<T, ApiError> + Send + 'static,
{
    let st = state.clone();
    let (result, event) = db::run_read(pool, move |conn| {
        let mut event = event;
        let result = f(conn, &st, &mut event);
        Ok((result, event))
    })
    .await?;
    let (outcome, status) = audit::read_outcome(&result);
    state.committer.record(event, outcome, status).await?;
    result
}

/// Runs a write with its audit event in the committer's next batch; a refused write is recorded
/// alone. `status` is the HTTP status the success will be answered with, kept in the event. `f`
/// may run more than once (the committer runs a batch again that the database failed for
/// contention), so it borrows what it was given rather than consuming it.
pub async fn write<T, F>(state: &Arc<AppState>, event: Event, status: u16, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: Fn(&mut DbConn, &AppState, &mut Event) -> Result<T, ApiError> + Send + 'static,
{
    let st = state.clone();
    state.committer.write(event, status, move |tx, ev| f(tx, &st, ev)).await
}
