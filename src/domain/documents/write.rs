//! Writing documents: create, update and delete, each a new immutable version.

use serde_json::{Value, json};

use crate::access::{Action, Resource};
use crate::audit::Event;
use crate::auth::Caller;
use crate::clock;
use crate::crypto::sealing::{self, Place};
use crate::db::DbConn;
use crate::db::documents::{DocumentRow, IdempotencyRow, VersionRow, next_seq};
use crate::db::patients::PatientRow;
use crate::error::ApiError;
use crate::gate::{Admitted, Want, authorize};
use crate::schemas::SchemaEntry;
use crate::state::AppState;

use super::withheld;
use super::{Document, DocumentInput, Idempotency, IfMatch, Written, check, load_head, note, read, render};

/// The oldest remembered answer still replayed.
fn not_before(state: &AppState) -> String {
    let ttl = time::Duration::seconds(i64::try_from(state.settings.idempotency_ttl_secs).unwrap_or(i64::MAX / 2));
    clock::format(state.clock.now() - ttl)
}

/// Whether this key has a remembered answer (which a retry replays rather than writes again).
pub fn remembered(conn: &mut DbConn, state: &AppState, idem: &Idempotency) -> Result<bool, ApiError> {
    Ok(IdempotencyRow::exists(conn, &idem.caller, &idem.key, &not_before(state))?)
}

/// A remembered answer for this key, replayed; or an error if the key was used for another request.
fn replay(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    idem: Option<&Idempotency>,
    event: &mut Event,
) -> Result<Option<Written>, ApiError> {
    let Some(idem) = idem else { return Ok(None) };
    let Some(row) = IdempotencyRow::find(conn, &idem.caller, &idem.key, &not_before(state))? else {
        return Ok(None);
    };
    if row.request_hash != idem.request_hash {
        return Err(ApiError::field("/header/Idempotency-Key", "this key was already used for a different request"));
    }
    let answer: Value = serde_json::from_str(&row.response).map_err(ApiError::internal)?;
    let (Some(id), Some(version)) = (answer["document_id"].as_str(), answer["version"].as_i64()) else {
        return Err(ApiError::internal("stored idempotent answer"));
    };
    let version = i32::try_from(version).map_err(ApiError::internal)?;
    let document = read(conn, state, caller, id, Some(version), event)?;
    let status = u16::try_from(row.status).map_err(ApiError::internal)?;
    Ok(Some(Written { status, document, replayed: true }))
}

fn remember(
    conn: &mut DbConn,
    idem: Option<&Idempotency>,
    (status, at): (u16, String),
    doc: &Document,
) -> Result<(), ApiError> {
    if let Some(idem) = idem {
        IdempotencyRow {
            caller: idem.caller.clone(),
            idem_key: idem.key.clone(),
            request_hash: idem.request_hash.clone(),
            status: i32::from(status),
            response: json!({"document_id": doc.id, "version": doc.version}).to_string(),
            created_at: at,
        }
        .insert(conn)?;
    }
    Ok(())
}

/// One version about to be stored: the head it makes current, the head version it replaces
/// (`None` for a new document), what happened, its sealed content (`None` for a deletion), and
/// its place in the change feed.
struct NewVersion<'a> {
    head: &'a DocumentRow,
    replaces: Option<i32>,
    op: &'a str,
    content: Option<String>,
    seq: i64,
}

/// Seals content for the version `head` is about to become.
fn seal(
    state: &AppState,
    patient: &PatientRow,
    head: &DocumentRow,
    entry: &SchemaEntry,
    content: &Value,
) -> Result<String, ApiError> {
    let key = state.data_key(patient)?;
    let place = Place { patient_id: &patient.id, document_id: &head.id, version: i64::from(head.version) };
    Ok(sealing::seal(&entry.marked, content, &key, place).map_err(ApiError::internal)?.to_string())
}

/// Stores one version, moving the head on (in the committer's batch, under the job's
/// savepoint, after `next_seq`).
fn store_version(conn: &mut DbConn, patient: &PatientRow, new: NewVersion<'_>) -> Result<VersionRow, ApiError> {
    let NewVersion { head, replaces: expected, op, content, seq } = new;
    let version = VersionRow {
        document_id: head.id.clone(),
        version: head.version,
        patient_id: patient.id.clone(),
        doc_type: head.doc_type.clone(),
        schema_version: head.schema_version.clone(),
        op: op.to_owned(),
        content,
        seq,
        created_at: head.updated_at.clone(),
        created_by: head.updated_by.clone(),
    };
    match expected {
        None => head.insert(conn)?,
        Some(expected) => {
            if !head.advance(conn, expected)? {
                return Err(ApiError::Conflict("the document changed during the update; retry".into()));
            }
        }
    }
    version.insert(conn)?;
    Ok(version)
}

/// Creates a document as version 1 (in the committer's batch, under the job's savepoint),
/// validating and sealing it here.
pub fn create(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient_id: &str,
    input: &DocumentInput,
    idem: Option<&Idempotency>,
    event: &mut Event,
) -> Result<Written, ApiError> {
    let prepared = super::prepare(conn, state, patient_id, input)?;
    let mut written = create_prepared(conn, state, caller, (patient_id, input, &prepared), idem, event)?;
    if !written.replayed {
        written.document.content = input.content.clone();
    }
    Ok(written)
}

/// [`create`] of content already validated and sealed ([`super::prepare`]). The answer's content
/// is left `null` when it is not a replay: the caller echoes the content it holds, so the
/// committer neither copies nor drops it.
pub fn create_prepared(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    (patient_id, input, prepared): (&str, &DocumentInput, &super::Prepared),
    idem: Option<&Idempotency>,
    event: &mut Event,
) -> Result<Written, ApiError> {
    let seq = next_seq(conn)?;
    if let Some(done) = replay(conn, state, caller, idem, event)? {
        return Ok(done);
    }
    let patient =
        authorize(conn, state, caller, patient_id, Want::write(Resource::Document).of_type(&input.doc_type), event)?
            .patient;
    prepared.verdict.clone()?;
    let entry = check_schema(state, input)?;
    let now = state.clock.stamp();
    let head = DocumentRow {
        id: prepared.id.clone(),
        patient_id: patient.id.clone(),
        doc_type: input.doc_type.clone(),
        schema_version: input.schema_version.clone(),
        version: 1,
        deleted: false,
        created_at: now.clone(),
        created_by: caller.sub.clone(),
        updated_at: now,
        updated_by: caller.sub.clone(),
    };
    let sealed = match prepared.sealed_for(&patient) {
        Some(sealed) => sealed,
        None => seal(state, &patient, &head, entry, &input.content)?,
    };
    let new = NewVersion { head: &head, replaces: None, op: "created", content: Some(sealed), seq };
    let v = store_version(conn, &patient, new)?;
    note(event, &v);
    let document = echo(&head, &v, serde_json::Value::Null);
    remember(conn, idem, (201, state.clock.stamp()), &document)?;
    Ok(Written { status: 201, document, replayed: false })
}

/// The schema of content already validated.
fn check_schema<'s>(state: &'s AppState, input: &DocumentInput) -> Result<&'s SchemaEntry, ApiError> {
    state
        .schemas
        .get(&input.doc_type, &input.schema_version)
        .ok_or_else(|| ApiError::internal("validated schema is gone"))
}

/// The writer's own content, as written (no need to open what was just sealed).
fn echo(head: &DocumentRow, v: &VersionRow, content: Value) -> Document {
    Document {
        id: head.id.clone(),
        patient_id: head.patient_id.clone(),
        doc_type: head.doc_type.clone(),
        schema_version: v.schema_version.clone(),
        version: v.version,
        content,
        withheld: Vec::new(),
        deleted: false,
        created_at: head.created_at.clone(),
        created_by: head.created_by.clone(),
        updated_at: v.created_at.clone(),
        updated_by: v.created_by.clone(),
    }
}

/// The 412 answer: the current version's metadata and content, so the client can merge.
fn stale(conn: &mut DbConn, state: &AppState, access: &Admitted, head: &DocumentRow) -> ApiError {
    let current = VersionRow::find(conn, &head.id, head.version)
        .ok()
        .flatten()
        .and_then(|v| render(state, access.allowed.restricted, &access.patient, head, &v).ok())
        .and_then(|d| serde_json::to_value(d).ok());
    ApiError::PreconditionFailed { detail: format!("the current version is {}", head.version), current }
}

/// An update as asked: which document, the version it was made against, the new content, and
/// the idempotency key it may carry.
pub struct Update<'a> {
    /// The document.
    pub id: &'a str,
    /// The version the caller edited (`If-Match`).
    pub if_match: IfMatch,
    /// The new content.
    pub input: &'a DocumentInput,
    /// The request's idempotency key, if any.
    pub idem: Option<&'a Idempotency>,
}

/// Replaces the content as a new version (in the committer's batch, under the job's savepoint).
/// A caller not cleared for restricted fields keeps the current restricted values it could not
/// see (`withheld`).
pub fn update(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    change: Update<'_>,
    event: &mut Event,
) -> Result<Written, ApiError> {
    let Update { id, if_match, input, idem } = change;
    let seq = next_seq(conn)?;
    if let Some(done) = replay(conn, state, caller, idem, event)? {
        return Ok(done);
    }
    let (head, access) = load_head(conn, state, caller, id, Action::Write, event)?;
    if head.deleted {
        return Err(ApiError::Gone("this document was deleted".into()));
    }
    if let IfMatch::Version(v) = if_match
        && v != head.version
    {
        return Err(stale(conn, state, &access, &head));
    }
    let revision = revise(conn, state, &head, &access, input)?;
    let next = DocumentRow {
        version: head.version + 1,
        schema_version: input.schema_version.clone(),
        updated_at: state.clock.stamp(),
        updated_by: caller.sub.clone(),
        ..head.clone()
    };
    let sealed = seal(state, &access.patient, &next, revision.entry, &revision.content)?;
    let new = NewVersion { head: &next, replaces: Some(head.version), op: "updated", content: Some(sealed), seq };
    let v = store_version(conn, &access.patient, new)?;
    note(event, &v);
    let mut document = echo(&next, &v, input.content.clone());
    document.withheld = revision.kept;
    remember(conn, idem, (200, state.clock.stamp()), &document)?;
    Ok(Written { status: 200, document, replayed: false })
}

/// The content an update stores, checked.
struct Revision<'s> {
    entry: &'s SchemaEntry,
    /// The caller's content with the withheld values carried over (in clear until sealed).
    content: Value,
    /// Pointers of the values carried over: withheld from the caller in the answer too.
    kept: Vec<String>,
}

/// Checks an update's content against the current version: same type, no older schema version;
/// for a caller not cleared for restricted fields, the values withheld from it are carried over
/// (and setting one is refused); then the result is validated once.
fn revise<'s>(
    conn: &mut DbConn,
    state: &'s AppState,
    head: &DocumentRow,
    access: &Admitted,
    input: &DocumentInput,
) -> Result<Revision<'s>, ApiError> {
    if input.doc_type != head.doc_type {
        return Err(ApiError::field("/type", format!("a {} document cannot become {}", head.doc_type, input.doc_type)));
    }
    let entry = super::schema_for(state, input)?;
    let current = crate::schemas::Version::parse(&head.schema_version);
    if current.is_some_and(|c| c.0 > entry.version.0 || (c.0 == entry.version.0 && c > entry.version)) {
        return Err(ApiError::field("/schema_version", format!("cannot move back from {}", head.schema_version)));
    }
    let mut content = input.content.clone();
    let kept = if access.allowed.restricted {
        Vec::new()
    } else {
        let stored = VersionRow::find(conn, &head.id, head.version)?
            .ok_or_else(|| ApiError::internal("head without version"))?;
        let values = withheld::current(state, &access.patient, &stored)?;
        withheld::carry(&mut content, values)?
    };
    let errors = withheld::redact(entry.validate(&content), &kept, &input.schema_version);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(Revision { entry, content, kept })
}

/// An atomic batch's look ahead at a create: authorised, then validated; nothing written.
pub fn examine_create(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient_id: &str,
    input: &DocumentInput,
    event: &mut Event,
) -> Result<(), ApiError> {
    authorize(conn, state, caller, patient_id, Want::write(Resource::Document).of_type(&input.doc_type), event)?;
    check(state, input).map(drop)
}

/// An atomic batch's look ahead at an update: authorised, then checked as `update` will
/// (withheld values carried over); nothing written. `If-Match` is left to the write.
pub fn examine_update(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    id: &str,
    input: &DocumentInput,
    event: &mut Event,
) -> Result<(), ApiError> {
    let (head, access) = load_head(conn, state, caller, id, Action::Write, event)?;
    if head.deleted {
        return Err(ApiError::Gone("this document was deleted".into()));
    }
    revise(conn, state, &head, &access, input).map(drop)
}

/// Writes a tombstone version; the history stays (in the committer's batch, under the job's savepoint).
pub fn delete(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
    event: &mut Event,
) -> Result<Document, ApiError> {
    let seq = next_seq(conn)?;
    let (head, access) = load_head(conn, state, caller, id, Action::Write, event)?;
    if head.deleted {
        return Err(ApiError::Gone("this document was deleted".into()));
    }
    if let IfMatch::Version(v) = if_match
        && v != head.version
    {
        return Err(stale(conn, state, &access, &head));
    }
    let next = DocumentRow {
        version: head.version + 1,
        deleted: true,
        updated_at: state.clock.stamp(),
        updated_by: caller.sub.clone(),
        ..head.clone()
    };
    let new = NewVersion { head: &next, replaces: Some(head.version), op: "deleted", content: None, seq };
    let v = store_version(conn, &access.patient, new)?;
    note(event, &v);
    render(state, access.allowed.restricted, &access.patient, &next, &v)
}
