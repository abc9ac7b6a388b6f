//! Care documents: validated against their schema, sealed field by field, every change a new
//! immutable version. A write is one transaction: the head row, the version (with its sealed
//! content and its change sequence number) and the remembered idempotent answer commit together.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::access::{Action, Resource};
use crate::audit::Event;
use crate::auth::Caller;
use crate::crypto::sealing::{self, Place};
use crate::db::DbConn;
use crate::db::documents::{DocumentRow, VersionRow};
use crate::db::patients::PatientRow;
use crate::domain::patients::erased_patient_gone;
use crate::error::ApiError;
use crate::gate::{Admitted, Want, authorize_loaded};
use crate::schemas::SchemaEntry;
use crate::state::AppState;

pub mod audited;
mod prepare;
mod read;
mod withheld;
mod write;

pub use prepare::{Prepared, prepare};
pub use read::{history, list, read};
pub use write::{Update, create, create_prepared, delete, examine_create, examine_update, remembered, update};

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
    /// The document id (a UUID), the same for all its versions.
    pub id: String,
    /// The patient the document is about.
    pub patient_id: String,
    /// Document type, e.g. `care-path`.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// Schema version of the type the content is valid against, e.g. `1.1.0`.
    pub schema_version: String,
    /// Version number, from 1, one more with every change; also the `ETag` (`"<version>"`).
    pub version: i32,
    /// `null` for a deleted document's tombstone.
    #[schema(value_type = Option<Object>, required = true)]
    pub content: Value,
    /// Pointers into `content` of values withheld from this caller (restricted fields).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
    /// `true` on a deleted document's tombstone; absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// When the document's first version was written; RFC 3339 in UTC.
    pub created_at: String,
    /// Who wrote the first version (token `sub`).
    pub created_by: String,
    /// When this version was written; RFC 3339 in UTC.
    pub updated_at: String,
    /// Who wrote this version (token `sub`).
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
    /// `*`: any current version.
    Any,
    /// `"<version>"`: only while this version is current.
    Version(i32),
}

impl IfMatch {
    /// `*`, or one strong ETag `"<version>"` of 1 to 9 digits (weak tags never match, as RFC
    /// 9110 says): the pattern the API document gives.
    pub fn parse(header: &str) -> Option<Self> {
        let h = header.trim();
        if h == "*" {
            return Some(Self::Any);
        }
        let digits = h.strip_prefix('"')?.strip_suffix('"')?;
        if !(1..=9).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(Self::Version)
    }
}

/// A request's `Idempotency-Key`, scoped to the caller (organisation, subject and role), with a
/// digest of what was asked.
#[derive(Debug, Clone)]
pub struct Idempotency {
    /// The caller as one string: organisation, subject and role, so that another role of the same
    /// person has keys of its own.
    pub caller: String,
    /// The `Idempotency-Key` header as sent.
    pub key: String,
    /// Hex SHA-256 of method, path and body: a key reused for a different request is refused.
    pub request_hash: String,
}

/// What an idempotency key must be (the pattern of its schema says the same).
pub const IDEMPOTENCY_KEY_RULE: &str = "must be 1 to 255 visible ASCII characters";

/// 1 to 255 visible ASCII characters.
pub fn is_idempotency_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

impl Idempotency {
    /// Checks the key (1 to 255 visible ASCII characters, else a 422) and digests the request.
    pub fn new(caller: &Caller, key: &str, method: &str, path: &str, body: &impl Serialize) -> Result<Self, ApiError> {
        if !is_idempotency_key(key) {
            return Err(ApiError::field("/header/Idempotency-Key", IDEMPOTENCY_KEY_RULE));
        }
        let body = serde_json::to_vec(body).map_err(ApiError::internal)?;
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for part in [method.as_bytes(), b"\0", path.as_bytes(), b"\0", &body] {
            ctx.update(part);
        }
        let hash = crate::crypto::keyfile::hex(ctx.finish().as_ref());
        // The full caller: the same person under another role has keys of its own.
        let scope = format!("{}\u{1f}{}\u{1f}{}", caller.org, caller.sub, caller.role.as_str());
        Ok(Self { caller: scope, key: key.to_owned(), request_hash: hash })
    }
}

/// The answer to a write.
pub struct Written {
    /// The HTTP status to answer with.
    pub status: u16,
    /// The document as written, as the caller may see it.
    pub document: Document,
    /// The answer of an earlier request with the same idempotency key, nothing written now.
    pub replayed: bool,
}

/// Finds the schema and validates the content: the errors (at most `MAX_REPORTED_ERRORS` and a
/// count of the rest), located in the request body. Callers authorize first.
pub fn check<'s>(state: &'s AppState, input: &DocumentInput) -> Result<&'s SchemaEntry, ApiError> {
    let entry = schema_for(state, input)?;
    let errors = entry.validate(&input.content);
    if errors.is_empty() { Ok(entry) } else { Err(ApiError::Validation(errors)) }
}

/// The input's schema, and its content not nested too deep; the content is not validated yet.
fn schema_for<'s>(state: &'s AppState, input: &DocumentInput) -> Result<&'s SchemaEntry, ApiError> {
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
    Ok(entry)
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
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
            let key = state.data_key(patient)?;
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

/// Loads the head and its patient, authorised for `action`.
fn load_head(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
    event: &mut Event,
) -> Result<(DocumentRow, Admitted), ApiError> {
    event.resource_type = Some("document");
    event.resource_id = Some(id.to_owned());
    let Some((head, patient)) = DocumentRow::find_with_patient(conn, id)? else {
        // The lookups of a refused caller, so a missing id takes about as long (no patient has
        // a document's id, so this can only end in the same 404).
        let _decoy = authorize_loaded(conn, state, caller, (id, None), Want::to(action, Resource::Document), event);
        return Err(ApiError::NotFound("no such document".into()));
    };
    let want = Want::to(action, Resource::Document).of_type(&head.doc_type);
    let access =
        authorize_loaded(conn, state, caller, (&head.patient_id, Some(patient)), want, event).map_err(|e| {
            if matches!(e, ApiError::NotFound(_)) { ApiError::NotFound("no such document".into()) } else { e }
        })?;
    erased_patient_gone(&access.patient)?;
    Ok((head, access))
}

/// Records on the audit event which version was touched.
fn note(event: &mut Event, v: &VersionRow) {
    event.resource_type = Some("document");
    event.resource_id = Some(v.document_id.clone());
    event.resource_version = Some(v.version);
}

/// (updated_at, id) of the last document a list page examined.
pub type ListCursor = (String, String);

/// Filters of a patient's document list.
#[derive(Debug, Default)]
pub struct ListFilter {
    /// Only documents of this type.
    pub doc_type: Option<String>,
    /// Only documents changed at or after this instant (stored timestamp format).
    pub updated_since: Option<String>,
    /// (updated_at, id) of the last document of the previous page.
    pub after: Option<ListCursor>,
}
