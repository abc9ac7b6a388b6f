//! Care documents: validated against their schema, sealed field by field, every change a new
//! immutable version. A write is one transaction: the head row, the version (with its sealed
//! content and its change sequence number) and the remembered idempotent answer commit together.

use actix_web::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::access::{Action, Resource};
use crate::audit::Event;
use crate::auth::Caller;
use crate::authorize::{self, Access, authorise};
use crate::clock;
use crate::crypto::{CryptoError, DataKey, WrappedKey};
use crate::db::DbConn;
use crate::db::documents::{DocumentRow, IdempotencyRow, VersionRow, next_seq};
use crate::db::patients::PatientRow;
use crate::domain::paging;
use crate::error::ApiError;
use crate::schemas::SchemaEntry;
use crate::sealing::{self, Place};
use crate::state::AppState;

/// Content nested deeper than this is refused (422) before validation.
pub const MAX_DEPTH: usize = 32;

/// What a client sends to create or replace a document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    /// Document type, e.g. `care-path`.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// Schema version of the type, e.g. `1.1.0`.
    pub schema_version: String,
    /// The document, valid against `schemas/<type>/<schema_version>.json`.
    #[schema(value_type = Object)]
    pub content: Value,
}

/// A document version as a caller sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Document {
    pub id: String,
    pub patient_id: String,
    #[serde(rename = "type")]
    pub doc_type: String,
    pub schema_version: String,
    pub version: i32,
    /// `null` for a deleted document's tombstone.
    #[schema(value_type = Object)]
    pub content: Value,
    /// Pointers into `content` of values withheld from this caller (restricted fields).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

impl Document {
    /// The strong validator of this version.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// The `If-Match` precondition of an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Version(i32),
}

impl IfMatch {
    /// `*`, or one strong ETag `"<version>"` (weak tags never match, as RFC 9110 says).
    pub fn parse(header: &str) -> Option<Self> {
        let h = header.trim();
        if h == "*" {
            return Some(Self::Any);
        }
        h.strip_prefix('"')?.strip_suffix('"')?.parse().ok().map(Self::Version)
    }
}

/// A request's `Idempotency-Key`, scoped to the caller, with a digest of what was asked.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub caller: String,
    pub key: String,
    pub request_hash: String,
}

impl Idempotency {
    pub fn new(caller: &Caller, key: &str, method: &str, path: &str, body: &impl Serialize) -> Result<Self, ApiError> {
        if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::field("/header/Idempotency-Key", "must be 1 to 255 visible ASCII characters"));
        }
        let body = serde_json::to_vec(body).map_err(ApiError::internal)?;
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for part in [method.as_bytes(), b"\0", path.as_bytes(), b"\0", &body] {
            ctx.update(part);
        }
        let hash = ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self { caller: format!("{}\u{1f}{}", caller.org, caller.sub), key: key.to_owned(), request_hash: hash })
    }
}

/// The answer to a write.
pub struct Written {
    pub status: StatusCode,
    pub document: Document,
}

/// Finds the schema and validates the content: every error, located in the request body.
pub fn check<'s>(state: &'s AppState, input: &DocumentInput) -> Result<&'s SchemaEntry, ApiError> {
    let Some(entry) = state.schemas.get(&input.doc_type, &input.schema_version) else {
        return Err(if state.schemas.has_type(&input.doc_type) {
            ApiError::field(
                "/schema_version",
                format!("{} has no schema version {}", input.doc_type, input.schema_version),
            )
        } else {
            ApiError::field("/type", format!("unknown document type {}", input.doc_type))
        });
    };
    if depth(&input.content) > MAX_DEPTH {
        return Err(ApiError::field("/content", format!("nests deeper than {MAX_DEPTH} levels")));
    }
    let errors = entry.validate(&input.content);
    if errors.is_empty() { Ok(entry) } else { Err(ApiError::Validation(errors)) }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The patient's data key; 410 once it was shredded.
pub fn data_key(state: &AppState, patient: &PatientRow) -> Result<DataKey, ApiError> {
    let blob = patient.data_key.clone().ok_or_else(|| ApiError::Gone("this patient's record was erased".into()))?;
    let wrapped = WrappedKey { kid: patient.data_key_kid.clone(), blob };
    match state.keys().unwrap_data_key(&patient.id, &wrapped) {
        Err(CryptoError::UnknownKid(_)) => {
            // A rotation elsewhere re-wrapped this key under a newer master key: load it.
            state.reload_keys()?;
            state.keys().unwrap_data_key(&patient.id, &wrapped).map_err(ApiError::internal)
        }
        other => other.map_err(ApiError::internal),
    }
}

/// Renders a stored version for `caller` (restricted fields withheld unless cleared).
fn render(
    state: &AppState,
    restricted: bool,
    patient: &PatientRow,
    head: &DocumentRow,
    v: &VersionRow,
) -> Result<Document, ApiError> {
    let (content, withheld) = match &v.content {
        None => (Value::Null, Vec::new()),
        Some(stored) => {
            let entry = state.schemas.get(&v.doc_type, &v.schema_version).ok_or_else(|| {
                ApiError::internal(format!("stored schema {} {} is gone", v.doc_type, v.schema_version))
            })?;
            let stored: Value = serde_json::from_str(stored).map_err(ApiError::internal)?;
            let key = data_key(state, patient)?;
            let place = Place { patient_id: &v.patient_id, document_id: &v.document_id, version: i64::from(v.version) };
            let opened = sealing::open(&entry.marked, &stored, &key, place, restricted).map_err(ApiError::internal)?;
            (opened.content, opened.withheld)
        }
    };
    Ok(Document {
        id: v.document_id.clone(),
        patient_id: v.patient_id.clone(),
        doc_type: v.doc_type.clone(),
        schema_version: v.schema_version.clone(),
        version: v.version,
        content,
        withheld,
        deleted: v.op == "deleted",
        created_at: head.created_at.clone(),
        created_by: head.created_by.clone(),
        updated_at: v.created_at.clone(),
        updated_by: v.created_by.clone(),
    })
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
    let ttl = time::Duration::seconds(i64::try_from(state.settings.idempotency_ttl_secs).unwrap_or(i64::MAX / 2));
    let not_before = clock::format(time::OffsetDateTime::now_utc() - ttl);
    let Some(row) = IdempotencyRow::find(conn, &idem.caller, &idem.key, &not_before)? else { return Ok(None) };
    if row.request_hash != idem.request_hash {
        return Err(ApiError::field("/header/Idempotency-Key", "this key was already used for a different request"));
    }
    let answer: Value = serde_json::from_str(&row.response).map_err(ApiError::internal)?;
    let (Some(id), Some(version)) = (answer["document_id"].as_str(), answer["version"].as_i64()) else {
        return Err(ApiError::internal("stored idempotent answer"));
    };
    let version = i32::try_from(version).map_err(ApiError::internal)?;
    let document = read(conn, state, caller, id, Some(version), event)?;
    let status = StatusCode::from_u16(u16::try_from(row.status).unwrap_or(200)).map_err(ApiError::internal)?;
    Ok(Some(Written { status, document }))
}

fn remember(conn: &mut DbConn, idem: Option<&Idempotency>, status: StatusCode, doc: &Document) -> Result<(), ApiError> {
    if let Some(idem) = idem {
        IdempotencyRow {
            caller: idem.caller.clone(),
            idem_key: idem.key.clone(),
            request_hash: idem.request_hash.clone(),
            status: i32::from(status.as_u16()),
            response: json!({"document_id": doc.id, "version": doc.version}).to_string(),
            created_at: clock::now(),
        }
        .insert(conn)?;
    }
    Ok(())
}

/// Seals and stores one version, moving the head from `expected` (run inside `write_tx`, after `next_seq`).
#[expect(clippy::too_many_arguments, reason = "one version's every part, written together")]
fn store_version(
    conn: &mut DbConn,
    state: &AppState,
    patient: &PatientRow,
    head: &DocumentRow,
    expected: Option<i32>,
    op: &str,
    entry: Option<&SchemaEntry>,
    content: Option<&Value>,
    seq: i64,
) -> Result<VersionRow, ApiError> {
    let sealed = match (entry, content) {
        (Some(entry), Some(content)) => {
            let key = data_key(state, patient)?;
            let place = Place { patient_id: &patient.id, document_id: &head.id, version: i64::from(head.version) };
            Some(sealing::seal(&entry.marked, content, &key, place).map_err(ApiError::internal)?.to_string())
        }
        _ => None,
    };
    let version = VersionRow {
        document_id: head.id.clone(),
        version: head.version,
        patient_id: patient.id.clone(),
        doc_type: head.doc_type.clone(),
        schema_version: head.schema_version.clone(),
        op: op.to_owned(),
        content: sealed,
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

/// Creates a document as version 1 (run inside `write_tx`).
pub fn create(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient_id: &str,
    input: &DocumentInput,
    idem: Option<&Idempotency>,
    event: &mut Event,
) -> Result<Written, ApiError> {
    let seq = next_seq(conn)?;
    if let Some(done) = replay(conn, state, caller, idem, event)? {
        return Ok(done);
    }
    let patient =
        authorise(conn, state, caller, patient_id, Resource::Document, Action::Write, Some(&input.doc_type), event)?
            .patient;
    let entry = check(state, input)?;
    let now = clock::now();
    let head = DocumentRow {
        id: uuid::Uuid::new_v4().to_string(),
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
    let v = store_version(conn, state, &patient, &head, None, "created", Some(entry), Some(&input.content), seq)?;
    note(event, &v);
    let document = echo(&head, &v, input);
    remember(conn, idem, StatusCode::CREATED, &document)?;
    Ok(Written { status: StatusCode::CREATED, document })
}

/// The writer's own content, as written (no need to open what was just sealed).
fn echo(head: &DocumentRow, v: &VersionRow, input: &DocumentInput) -> Document {
    Document {
        id: head.id.clone(),
        patient_id: head.patient_id.clone(),
        doc_type: head.doc_type.clone(),
        schema_version: v.schema_version.clone(),
        version: v.version,
        content: input.content.clone(),
        withheld: Vec::new(),
        deleted: false,
        created_at: head.created_at.clone(),
        created_by: head.created_by.clone(),
        updated_at: v.created_at.clone(),
        updated_by: v.created_by.clone(),
    }
}

/// Loads the head and its patient, authorised for `action`.
fn load_head(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
    event: &mut Event,
) -> Result<(DocumentRow, Access), ApiError> {
    event.resource_type = Some("document");
    event.resource_id = Some(id.to_owned());
    let head = DocumentRow::find(conn, id)?.ok_or_else(|| ApiError::NotFound("no such document".into()))?;
    let access =
        authorise(conn, state, caller, &head.patient_id, Resource::Document, action, Some(&head.doc_type), event)
            .map_err(|e| {
                if matches!(e, ApiError::NotFound(_)) { ApiError::NotFound("no such document".into()) } else { e }
            })?;
    if access.patient.erased_at.is_some() {
        return Err(ApiError::Gone("this patient's record was erased".into()));
    }
    Ok((head, access))
}

/// Records on the audit event which version was touched.
fn note(event: &mut Event, v: &VersionRow) {
    event.resource_type = Some("document");
    event.resource_id = Some(v.document_id.clone());
    event.resource_version = Some(v.version);
}

/// The 412 answer: the current version's metadata and content, so the client can merge.
fn stale(conn: &mut DbConn, state: &AppState, access: &Access, head: &DocumentRow) -> ApiError {
    let current = VersionRow::find(conn, &head.id, head.version)
        .ok()
        .flatten()
        .and_then(|v| render(state, access.allowed.restricted, &access.patient, head, &v).ok())
        .and_then(|d| serde_json::to_value(d).ok());
    ApiError::PreconditionFailed { detail: format!("the current version is {}", head.version), current }
}

/// Replaces the content as a new version (run inside `write_tx`).
#[expect(clippy::too_many_arguments, reason = "the update's every input, named")]
pub fn update(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
    input: &DocumentInput,
    idem: Option<&Idempotency>,
    event: &mut Event,
) -> Result<Written, ApiError> {
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
    if input.doc_type != head.doc_type {
        return Err(ApiError::field("/type", format!("a {} document cannot become {}", head.doc_type, input.doc_type)));
    }
    let entry = check(state, input)?;
    let current = crate::schemas::Version::parse(&head.schema_version);
    if current.is_some_and(|c| c.0 > entry.version.0 || (c.0 == entry.version.0 && c > entry.version)) {
        return Err(ApiError::field("/schema_version", format!("cannot move back from {}", head.schema_version)));
    }
    let next = DocumentRow {
        version: head.version + 1,
        schema_version: input.schema_version.clone(),
        updated_at: clock::now(),
        updated_by: caller.sub.clone(),
        ..head.clone()
    };
    let v = store_version(
        conn,
        state,
        &access.patient,
        &next,
        Some(head.version),
        "updated",
        Some(entry),
        Some(&input.content),
        seq,
    )?;
    note(event, &v);
    let document = echo(&next, &v, input);
    remember(conn, idem, StatusCode::OK, &document)?;
    Ok(Written { status: StatusCode::OK, document })
}

/// Writes a tombstone version; the history stays (run inside `write_tx`).
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
        updated_at: clock::now(),
        updated_by: caller.sub.clone(),
        ..head.clone()
    };
    let v = store_version(conn, state, &access.patient, &next, Some(head.version), "deleted", None, None, seq)?;
    note(event, &v);
    render(state, access.allowed.restricted, &access.patient, &next, &v)
}

/// Reads the current version, or version `n`.
pub fn read(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    id: &str,
    n: Option<i32>,
    event: &mut Event,
) -> Result<Document, ApiError> {
    let (head, access) = load_head(conn, state, caller, id, Action::Read, event)?;
    if n.is_none() && head.deleted {
        return Err(ApiError::Gone("this document was deleted".into()));
    }
    let v = VersionRow::find(conn, id, n.unwrap_or(head.version))?
        .ok_or_else(|| ApiError::NotFound("no such version".into()))?;
    note(event, &v);
    render(state, access.allowed.restricted, &access.patient, &head, &v)
}

/// Every version, newest first, below version `before`.
pub fn history(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    id: &str,
    before: Option<i32>,
    limit: i64,
    event: &mut Event,
) -> Result<Vec<Document>, ApiError> {
    let (head, access) = load_head(conn, state, caller, id, Action::Read, event)?;
    let restricted = access.allowed.restricted;
    VersionRow::history(conn, id, before, limit)?
        .iter()
        .map(|v| render(state, restricted, &access.patient, &head, v))
        .collect()
}

/// A patient's live documents (current versions), oldest change first, and the cursor of the
/// next page. Consent may share some types and not others: each document is asked about on its
/// own, those not shared are absent, and the page is filled past them (`paging::fill`).
pub fn list(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    patient_id: &str,
    filter: &ListFilter,
    limit: i64,
    event: &mut Event,
) -> Result<(Vec<Document>, Option<(String, String)>), ApiError> {
    let access = authorise(conn, state, caller, patient_id, Resource::Document, Action::Read, None, event)?;
    if access.patient.erased_at.is_some() {
        return Err(ApiError::Gone("this patient's record was erased".into()));
    }
    let fetch = |conn: &mut DbConn, after: Option<&(String, String)>, n: i64| {
        Ok(DocumentRow::list_for_patient(
            conn,
            &access.patient.id,
            filter.doc_type.as_deref(),
            filter.updated_since.as_deref(),
            after.map(|(a, b)| (a.as_str(), b.as_str())),
            n,
        )?)
    };
    let keep = |conn: &mut DbConn, head: DocumentRow| {
        let decision = authorize::decide(
            state,
            caller,
            &access.facts,
            Resource::Document,
            Action::Read,
            Some(&head.doc_type),
            event.break_glass,
        );
        let Ok(allowed) = decision else { return Ok(None) };
        let v = VersionRow::find(conn, &head.id, head.version)?
            .ok_or_else(|| ApiError::internal("head without version"))?;
        render(state, allowed.restricted, &access.patient, &head, &v).map(Some)
    };
    let key = |head: &DocumentRow| (head.updated_at.clone(), head.id.clone());
    paging::fill(conn, limit, filter.after.clone(), fetch, key, keep)
}

/// Filters of a patient's document list.
#[derive(Debug, Default)]
pub struct ListFilter {
    pub doc_type: Option<String>,
    pub updated_since: Option<String>,
    /// (updated_at, id) of the last document of the previous page.
    pub after: Option<(String, String)>,
}
