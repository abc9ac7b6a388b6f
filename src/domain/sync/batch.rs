//! Batch upload of document writes, item by item or all or nothing, retry-safe through
//! per-operation idempotency keys.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::audit::{self, Event};
use crate::auth::Caller;
use crate::context::Context;
use crate::db::DbConn;
use crate::db::documents::DocumentRow;
use crate::domain::documents::{self, Document, DocumentInput, Idempotency, IfMatch, Written};
use crate::domain::fields::Errors;
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;
use diesel::Connection;

/// An operation's `if_match`: a version number, or an ETag as in the `If-Match` header.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum IfMatchInput {
    /// The version number the update expects to replace.
    Version(i32),
    /// An ETag such as `"3"` (quotes included), or `*`.
    ETag(String),
}

/// One write of a batch: the body of the single request it stands for, plus its key.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// As `POST /v1/patients/{patient_id}/documents`.
    Create {
        /// The patient the document is about.
        patient_id: String,
        /// Document type, e.g. `care-path`.
        #[serde(rename = "type")]
        doc_type: String,
        /// Schema version of the type, e.g. `1.1.0`.
        schema_version: String,
        /// The document, valid against its schema.
        #[schema(value_type = Object)]
        content: Value,
        /// Shared with the single request's `Idempotency-Key`: either retry replays the first answer.
        /// 1 to 255 visible ASCII characters, each key once per batch.
        #[schema(pattern = r"^[!-~]{1,255}$")]
        idempotency_key: String,
    },
    /// As `PUT /v1/documents/{document_id}` with `If-Match`.
    Update {
        /// The document to replace.
        document_id: String,
        /// The version the update expects to replace, as `If-Match` would say it.
        if_match: IfMatchInput,
        /// Optional: the stored document's type is taken when absent.
        #[serde(rename = "type")]
        doc_type: Option<String>,
        /// Schema version of the type, e.g. `1.1.0`.
        schema_version: String,
        /// The new content, valid against its schema.
        #[schema(value_type = Object)]
        content: Value,
        /// 1 to 255 visible ASCII characters, each key once per batch.
        #[schema(pattern = r"^[!-~]{1,255}$")]
        idempotency_key: String,
    },
}

impl Operation {
    fn key(&self) -> &str {
        match self {
            Self::Create { idempotency_key, .. } | Self::Update { idempotency_key, .. } => idempotency_key,
        }
    }
}

/// A batch of document writes, as sent by a client syncing offline work.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchInput {
    /// All or nothing: when one operation fails, none is written.
    #[serde(default)]
    pub atomic: bool,
    /// 1 to 100 operations (the default `batch_max_operations`; a service may set another).
    #[schema(min_items = 1, max_items = 100)]
    pub operations: Vec<Operation>,
}

/// One operation's outcome: its status and the document written, or the problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpResult {
    /// The HTTP status the single request would have answered.
    pub status: u16,
    /// The document written, on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<Document>,
    /// Why the operation failed, on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

/// The outcome of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResults {
    /// One result per operation, in the order sent.
    pub results: Vec<OpResult>,
}

/// The operation that sank an atomic batch, and why (pointers already under `/operations/<i>`).
#[derive(Debug)]
pub struct Failed {
    /// Position of the failing operation in the batch, from 0.
    pub index: usize,
    /// Its error, pointers already moved under `/operations/<index>`.
    pub error: ApiError,
}

impl Failed {
    /// The problem document answered for the whole batch, its detail naming the operation.
    pub fn problem(&self) -> Problem {
        let mut problem = self.error.problem();
        problem.detail = format!("operation {}: {}", self.index, problem.detail);
        problem
    }
}

/// Moves an operation's errors under `/operations/<i>`; header pointers become its fields.
fn locate(error: ApiError, i: usize) -> ApiError {
    let ApiError::Validation(errors) = error else { return error };
    let at = |p: &str| match p {
        "/header/Idempotency-Key" => format!("/operations/{i}/idempotency_key"),
        "/header/If-Match" => format!("/operations/{i}/if_match"),
        other => format!("/operations/{i}{other}"),
    };
    ApiError::Validation(errors.into_iter().map(|e| FieldError::new(at(&e.pointer), e.message)).collect())
}

/// Shape checks of the whole batch, before anything is read or written.
pub fn check(state: &AppState, input: &BatchInput) -> Result<(), ApiError> {
    let max = state.settings.batch_max_operations;
    if input.operations.is_empty() || input.operations.len() > max {
        return Err(ApiError::field("/operations", format!("must hold 1 to {max} operations")));
    }
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut errors = Errors::default();
    for (i, op) in input.operations.iter().enumerate() {
        // What the document says of every operation, refused for the whole batch as the
        // extractor refuses a malformed single request (not as one operation's outcome).
        if !documents::is_idempotency_key(op.key()) {
            errors.add(format!("/operations/{i}/idempotency_key"), documents::IDEMPOTENCY_KEY_RULE);
        } else if let Some(j) = first.insert(op.key(), i) {
            errors.add(format!("/operations/{i}/idempotency_key"), format!("repeats the key of operation {j}"));
        }
        let (content, if_match) = match op {
            Operation::Create { content, .. } => (content, None),
            Operation::Update { content, if_match, .. } => (content, Some(if_match)),
        };
        if !content.is_object() {
            errors.add(format!("/operations/{i}/content"), "must be an object");
        }
        if let Some(IfMatchInput::ETag(tag)) = if_match
            && IfMatch::parse(tag).is_none()
        {
            errors.add(format!("/operations/{i}/if_match"), "must be a version, * or one strong ETag like \"3\"");
        }
    }
    errors.finish()
}

/// An operation as the single request it stands for.
enum Request {
    Create { patient_id: String, input: DocumentInput, idem: Idempotency },
    Update { document_id: String, precondition: IfMatch, input: DocumentInput, idem: Idempotency },
}

impl Request {
    fn of(conn: &mut DbConn, caller: &Caller, op: &Operation, event: &mut Event) -> Result<Self, ApiError> {
        Ok(match op {
            Operation::Create { patient_id, doc_type, schema_version, content, idempotency_key } => {
                event.action = "document.create";
                let input = DocumentInput {
                    doc_type: doc_type.clone(),
                    schema_version: schema_version.clone(),
                    content: content.clone(),
                };
                let path = format!("/v1/patients/{patient_id}/documents");
                let idem = Idempotency::new(caller, idempotency_key, "POST", &path, &input)?;
                Self::Create { patient_id: patient_id.clone(), input, idem }
            }
            Operation::Update { document_id, if_match, doc_type, schema_version, content, idempotency_key } => {
                event.action = "document.update";
                let precondition = match if_match {
                    IfMatchInput::Version(v) => Some(IfMatch::Version(*v)),
                    IfMatchInput::ETag(tag) => IfMatch::parse(tag),
                }
                .ok_or_else(|| ApiError::field("/if_match", "must be a version, * or one strong ETag like \"3\""))?;
                // A document never changes type, so reading it before `update` takes the lock is
                // safe; `update` authorises, and a hidden document is as absent as a missing one.
                let doc_type = match doc_type {
                    Some(t) => t.clone(),
                    None => {
                        event.resource_type = Some("document");
                        event.resource_id = Some(document_id.clone());
                        DocumentRow::find(conn, document_id)?
                            .ok_or_else(|| ApiError::NotFound("no such document".into()))?
                            .doc_type
                    }
                };
                let input =
                    DocumentInput { doc_type, schema_version: schema_version.clone(), content: content.clone() };
                let path = format!("/v1/documents/{document_id}");
                let idem = Idempotency::new(caller, idempotency_key, "PUT", &path, &input)?;
                Self::Update { document_id: document_id.clone(), precondition, input, idem }
            }
        })
    }
}

/// Looks at every operation of an atomic batch before anything is written, as its single
/// request would: authorised first (a caller without access gets the 404 of a missing patient or
/// document, never a validation answer about it), then validated. A batch bound to fail fails
/// before it takes the write lock; the refusal is recorded as the single request's would be.
/// Operations whose key already has a remembered answer are left to replay.
fn precheck(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    ops: &[Operation],
    event: &Event,
) -> Result<Result<(), Failed>, ApiError> {
    for (index, op) in ops.iter().enumerate() {
        let mut ev = event.clone();
        let looked = Request::of(conn, caller, op, &mut ev).and_then(|request| match request {
            Request::Create { idem, .. } | Request::Update { idem, .. }
                if documents::remembered(conn, state, &idem)? =>
            {
                Ok(())
            }
            Request::Create { patient_id, input, .. } => {
                documents::examine_create(conn, state, caller, &patient_id, &input, &mut ev)
            }
            Request::Update { document_id, input, .. } => {
                documents::examine_update(conn, state, caller, &document_id, &input, &mut ev)
            }
        });
        if let Err(error) = looked {
            return refused(conn, index, ev, error).map(Err);
        }
    }
    Ok(Ok(()))
}

/// Records an atomic batch's refused operation on its own, by the same path that records a
/// refused single write (which hands the error back).
fn refused(conn: &mut DbConn, index: usize, ev: Event, error: ApiError) -> Result<Failed, ApiError> {
    match audit::write(conn, ev, 0, |_, _| Err::<(), _>(error)) {
        Ok(()) => Err(ApiError::internal("a refused operation came back as written")),
        Err(ApiError::Internal(cause)) => Err(ApiError::Internal(cause)),
        Err(error) => Ok(Failed { index, error: locate(error, index) }),
    }
}

/// Runs one operation through the same domain function, with the same idempotency key space, as
/// its single request (inside the caller's transaction).
fn apply(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    op: &Operation,
    event: &mut Event,
) -> Result<Written, ApiError> {
    match Request::of(conn, caller, op, event)? {
        Request::Create { patient_id, input, idem } => {
            documents::create(conn, state, caller, &patient_id, &input, Some(&idem), event)
        }
        Request::Update { document_id, precondition, input, idem } => {
            let change =
                documents::Update { id: &document_id, if_match: precondition, input: &input, idem: Some(&idem) };
            documents::update(conn, state, caller, change, event)
        }
    }
}

fn success(w: Written) -> OpResult {
    OpResult { status: w.status, document: Some(w.document), problem: None }
}

/// Each operation in its own transaction with its own audit event; one failing leaves the rest.
pub fn run_each(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    ops: &[Operation],
    event: &Event,
) -> Vec<OpResult> {
    let mut results = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let status = if matches!(op, Operation::Create { .. }) { 201 } else { 200 };
        match audit::write(conn, event.clone(), status, |tx, ev| apply(tx, state, caller, op, ev)) {
            Ok(w) => results.push(success(w)),
            Err(e) => {
                let e = locate(e, i);
                results.push(OpResult { status: e.status(), document: None, problem: Some(e.problem()) });
            }
        }
    }
    results
}

/// Every operation in one transaction, an audit event each; the first failure rolls all back.
pub fn run_atomic(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    ops: &[Operation],
    event: &Event,
) -> Result<Result<Vec<OpResult>, Failed>, ApiError> {
    if let Err(failed) = precheck(conn, state, caller, ops, event)? {
        return Ok(Err(failed));
    }
    let mut failing: Option<(usize, Event)> = None;
    let result = conn.transaction(|tx| {
        let mut results = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            let mut ev = event.clone();
            let written = apply(tx, state, caller, op, &mut ev).inspect_err(|_| failing = Some((i, ev.clone())))?;
            audit::append(tx, &ev, "allowed", written.status)?;
            results.push(success(written));
        }
        Ok(results)
    });
    match (result, failing) {
        (Ok(results), _) => Ok(Ok(results)),
        (Err(ApiError::Internal(cause)), _) => Err(ApiError::Internal(cause)),
        // The refusal is recorded on its own after the rollback.
        (Err(error), Some((index, ev))) => refused(conn, index, ev, error).map(Err),
        (Err(error), None) => Err(error),
    }
}

/// Whether any operation wrote (or replayed) a document, so long-polls should look.
pub fn wrote(results: &[OpResult]) -> bool {
    results.iter().any(|r| r.document.is_some())
}

/// Runs a batch: validated first, then each operation in its own transaction, or all in one
/// (`atomic`). `Err(Failed)` is an atomic batch's failing operation, with nothing written.
pub async fn submit(
    state: &Arc<AppState>,
    ctx: Context,
    input: BatchInput,
) -> Result<Result<Vec<OpResult>, Failed>, ApiError> {
    check(state, &input)?;
    let st = state.clone();
    let event = Event::new(&ctx, "document.create");
    let caller = ctx.caller;
    let outcome = state
        .committer
        .run(move |conn| {
            if input.atomic {
                run_atomic(conn, &st, &caller, &input.operations, &event)
            } else {
                Ok(Ok(run_each(conn, &st, &caller, &input.operations, &event)))
            }
        })
        .await?;
    if outcome.as_ref().is_ok_and(|results| wrote(results)) {
        state.notify_change();
    }
    Ok(outcome)
}
