//! Documents as the HTTP layer asks for them: each call runs in a transaction of its own with its
//! audit event (the functions of `read` and `write` run inside a caller's transaction, which is
//! how a batch uses them) and wakes the change feed after a write commits.

use std::sync::Arc;

use super::{Document, DocumentInput, Idempotency, IfMatch, ListCursor, ListFilter, Written};
use crate::audit::Event;
use crate::context::Context;
use crate::db;
use crate::domain;
use crate::error::ApiError;
use crate::ids::{DocumentId, PatientId};
use crate::state::AppState;

/// Creates a document for a patient: authorised, validated, sealed, stored as version 1.
pub async fn create(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    input: DocumentInput,
    idem: Option<Idempotency>,
) -> Result<Written, ApiError> {
    // Validated and sealed here, beside the other requests, not on the one writer's thread.
    let input = Arc::new(input);
    let (st, pid, shared) = (state.clone(), patient.clone(), input.clone());
    let prepared = db::run(&state.pool, move |conn| super::prepare(conn, &st, &pid, &shared)).await?;
    let shared = input.clone();
    let mut written = domain::write(state, Event::new(&ctx, "document.create"), 201, move |tx, st, ev| {
        super::create_prepared(tx, st, &ctx.caller, (&patient, &shared, &prepared), idem.as_ref(), ev)
    })
    .await?;
    state.notify_change();
    if !written.replayed {
        // The committer dropped its share before answering, so the content moves, uncopied.
        written.document.content = Arc::try_unwrap(input).map_or_else(|shared| shared.content.clone(), |i| i.content);
    }
    Ok(written)
}

/// Replaces a document's content as a new version, if `precondition` still holds.
pub async fn update(
    state: &Arc<AppState>,
    ctx: Context,
    id: DocumentId,
    precondition: IfMatch,
    input: DocumentInput,
    idem: Option<Idempotency>,
) -> Result<Written, ApiError> {
    let written = domain::write(state, Event::new(&ctx, "document.update"), 200, move |tx, st, ev| {
        let change = super::Update { id: &id, if_match: precondition, input: &input, idem: idem.as_ref() };
        super::update(tx, st, &ctx.caller, change, ev)
    })
    .await?;
    state.notify_change();
    Ok(written)
}

/// Deletes a document: a tombstone version; its history stays.
pub async fn delete(
    state: &Arc<AppState>,
    ctx: Context,
    id: DocumentId,
    precondition: IfMatch,
) -> Result<Document, ApiError> {
    let doc = domain::write(state, Event::new(&ctx, "document.delete"), 200, move |tx, st, ev| {
        super::delete(tx, st, &ctx.caller, &id, precondition, ev)
    })
    .await?;
    state.notify_change();
    Ok(doc)
}

/// One version of a document (the current one when `version` is `None`).
pub async fn get(
    state: &Arc<AppState>,
    ctx: Context,
    id: DocumentId,
    version: Option<i32>,
) -> Result<Document, ApiError> {
    domain::read(state, Event::new(&ctx, "document.read"), move |conn, st, ev| {
        super::read(conn, st, &ctx.caller, &id, version, ev)
    })
    .await
}

/// Every version of a document, newest first, before version `before`.
pub async fn history(
    state: &Arc<AppState>,
    ctx: Context,
    id: DocumentId,
    before: Option<i32>,
    limit: i64,
) -> Result<Vec<Document>, ApiError> {
    domain::read(state, Event::new(&ctx, "document.history"), move |conn, st, ev| {
        super::history(conn, st, &ctx.caller, &id, before, limit, ev)
    })
    .await
}

/// A page of a patient's documents the caller may read, and where the next page starts.
pub async fn list(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    filter: ListFilter,
    limit: i64,
) -> Result<(Vec<Document>, Option<ListCursor>), ApiError> {
    domain::read(state, Event::new(&ctx, "document.list"), move |conn, st, ev| {
        super::list(conn, st, &ctx.caller, &patient, &filter, limit, ev)
    })
    .await
}
