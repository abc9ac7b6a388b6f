//! Item fill (section F: evaluate the shared items before changing the form): for every field of
//! a document type's schema, the share of current documents in which it is present and not
//! empty, overall and by the kind of organisation that wrote the current version.
//!
//! It reads the stored structure only. A sealed value is one ciphertext string where the schema
//! marks it, so it counts as filled and is never opened; what lies inside it (the items of a
//! sealed list) is not visible, and the sealed field is reported as a leaf.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use time::Date;

use crate::access::Action;
use crate::audit::Event;
use crate::context::Context;
use crate::db::reports::{CurrentDoc, DocFilter};
use crate::error::ApiError;
use crate::schemas::SchemaEntry;
use crate::state::AppState;

/// Rows read per query: bounds memory whatever the number of documents.
const PAGE: i64 = 2000;
/// The writer's kind when the audit log does not name the organisation (or it left the directory).
pub const UNKNOWN_KIND: &str = "unknown";

/// What to count.
#[derive(Debug, Clone)]
pub struct ItemFillQuery {
    /// The document type.
    pub doc_type: String,
    /// One schema version, or every version of the type.
    pub schema_version: Option<String>,
    /// First and last day (region's calendar) the current version was written, both included.
    pub from: Option<Date>,
    /// See `from`.
    pub to: Option<Date>,
    /// Only versions written by this organisation.
    pub organization: Option<String>,
}

/// How many documents filled a field, of how many that could (their schema version has it).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Fill {
    /// The kind of organisation that wrote the documents' current versions, or `all`.
    pub writer_kind: String,
    /// Documents whose schema version has the field.
    pub documents: u64,
    /// Of these, documents in which it is present and not empty.
    pub filled: u64,
    /// `filled / documents`, rounded to 4 places; absent when there are no documents.
    pub share: Option<f64>,
}

/// One field of the schema.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldFill {
    /// JSON Pointer with `*` for array elements, e.g. `/medications/*/dose`.
    pub path: String,
    /// The schema seals this field: it counts as filled when a ciphertext is present (never opened).
    pub sealed: bool,
    /// First over all writers (`writer_kind: all`), then by kind of writing organisation.
    pub fill: Vec<Fill>,
}

/// The answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemFill {
    /// The document type.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// The schema version counted, or absent for every version of the type.
    pub schema_version: Option<String>,
    /// First day counted (current version written on or after), when given.
    pub from: Option<String>,
    /// Last day counted, when given.
    pub to: Option<String>,
    /// The writing organisation counted, when given.
    pub organization: Option<String>,
    /// Current documents counted.
    pub documents: u64,
    /// Every field of the schema (of every version counted), in schema order.
    pub fields: Vec<FieldFill>,
    /// Fields no counted document filled.
    pub never_used: Vec<String>,
}

/// A schema version's fields as a tree, so that one walk of a document marks what it fills.
#[derive(Default)]
struct Node {
    field: Option<usize>,
    keys: HashMap<String, Node>,
    items: Option<Box<Node>>,
}

impl Node {
    fn build(entry: &SchemaEntry, index: &HashMap<String, usize>) -> Self {
        let mut root = Node::default();
        for f in &entry.fields {
            let mut node = &mut root;
            for step in f.path.split('/').skip(1) {
                node = if step == "*" {
                    node.items.get_or_insert_with(Box::default)
                } else {
                    node.keys.entry(step.replace("~1", "/").replace("~0", "~")).or_default()
                };
            }
            node.field = index.get(&f.path).copied();
        }
        root
    }
}

/// Whether `value` is present and not empty, marking the fields it fills on the way.
fn walk(value: &Value, node: Option<&Node>, filled: &mut [bool]) -> bool {
    let here = match value {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
        Value::Array(items) => {
            let child = node.and_then(|n| n.items.as_deref());
            items.iter().fold(false, |any, item| walk(item, child, filled) | any)
        }
        Value::Object(map) => {
            map.iter().fold(false, |any, (k, v)| walk(v, node.and_then(|n| n.keys.get(k)), filled) | any)
        }
    };
    if here && let Some(slot) = node.and_then(|n| n.field).and_then(|i| filled.get_mut(i)) {
        *slot = true;
    }
    here
}

/// Counts item fill for `query`; audited as `report.item_fill`.
pub async fn item_fill(state: &Arc<AppState>, ctx: Context, query: ItemFillQuery) -> Result<ItemFill, ApiError> {
    let mut event = Event::new(&ctx, "report.item_fill");
    event.resource_type = Some("report");
    event.resource_id = Some("item-fill".into());
    super::super::read(state, event, move |conn, st, _ev| {
        super::authorise(st, &ctx, Action::Read)?;
        count(conn, st, &query)
    })
    .await
}

/// The counting itself, on a connection (the benchmark calls it directly).
pub fn count(conn: &mut crate::db::DbConn, st: &AppState, query: &ItemFillQuery) -> Result<ItemFill, ApiError> {
    let versions: Vec<&SchemaEntry> = match &query.schema_version {
        Some(v) => vec![
            st.schemas
                .get(&query.doc_type, v)
                .ok_or_else(|| ApiError::field("/query/schema_version", "no such schema version of this type"))?,
        ],
        None => {
            let all = st.schemas.types();
            let list = all
                .get(query.doc_type.as_str())
                .ok_or_else(|| ApiError::field("/query/type", "no such document type"))?;
            list.iter().rev().filter_map(|v| st.schemas.get(&query.doc_type, v)).collect()
        }
    };
    // The union of the versions' fields, newest version's order first.
    let mut paths: Vec<(String, bool)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for entry in &versions {
        for f in &entry.fields {
            if !index.contains_key(&f.path) {
                index.insert(f.path.clone(), paths.len());
                paths.push((f.path.clone(), f.sealed));
            }
        }
    }
    let trees: HashMap<String, (Node, Vec<usize>)> = versions
        .iter()
        .map(|e| {
            let own = e.fields.iter().filter_map(|f| index.get(&f.path).copied()).collect();
            (e.version.to_string(), (Node::build(e, &index), own))
        })
        .collect();

    let midnight = |d: Date| st.calendar.instant_at(d, 0).map(crate::clock::format);
    let from = query.from.and_then(midnight);
    let to = query.to.and_then(|d| d.next_day()).and_then(midnight);
    let filter = DocFilter {
        doc_type: query.doc_type.clone(),
        schema_version: query.schema_version.clone(),
        from,
        to,
        organization: query.organization.clone(),
    };
    // By writer kind: documents per field (their version has it) and fills per field.
    let mut per_kind: BTreeMap<String, (Vec<u64>, Vec<u64>)> = BTreeMap::new();
    let mut total = 0u64;
    let mut filled = vec![false; paths.len()];
    let mut after: Option<String> = None;
    loop {
        let page = CurrentDoc::page(conn, &filter, after.as_deref(), PAGE)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for doc in &page {
            let Some((tree, own)) = trees.get(&doc.schema_version) else { continue };
            total += 1;
            filled.iter_mut().for_each(|f| *f = false);
            if let Some(text) = &doc.content {
                let content: Value = serde_json::from_str(text).map_err(ApiError::internal)?;
                walk(&content, Some(tree), &mut filled);
            }
            let kind = doc.writer_kind.clone().unwrap_or_else(|| UNKNOWN_KIND.to_owned());
            let (docs, fills) = per_kind.entry(kind).or_insert_with(|| (vec![0; paths.len()], vec![0; paths.len()]));
            for &i in own {
                docs[i] += 1;
                fills[i] += u64::from(filled[i]);
            }
        }
        if i64::try_from(page.len()).unwrap_or(PAGE) < PAGE {
            break;
        }
    }
    let fill = |kind: &str, documents: u64, filled: u64| Fill {
        writer_kind: kind.to_owned(),
        documents,
        filled,
        share: (documents > 0).then(|| (filled as f64 / documents as f64 * 10_000.0).round() / 10_000.0),
    };
    let mut fields = Vec::with_capacity(paths.len());
    let mut never_used = Vec::new();
    for (i, (path, sealed)) in paths.into_iter().enumerate() {
        let docs: u64 = per_kind.values().map(|(d, _)| d[i]).sum();
        let fills: u64 = per_kind.values().map(|(_, f)| f[i]).sum();
        if fills == 0 {
            never_used.push(path.clone());
        }
        let mut row = vec![fill("all", docs, fills)];
        row.extend(per_kind.iter().map(|(kind, (d, f))| fill(kind, d[i], f[i])));
        fields.push(FieldFill { path, sealed, fill: row });
    }
    Ok(ItemFill {
        doc_type: query.doc_type.clone(),
        schema_version: query.schema_version.clone(),
        from: query.from.map(crate::clock::format_day),
        to: query.to.map(crate::clock::format_day),
        organization: query.organization.clone(),
        documents: total,
        fields,
        never_used,
    })
}

/// The answer as CSV rows: one per field and writer kind.
pub fn csv_rows(report: &ItemFill) -> Vec<[String; 6]> {
    let mut rows = vec![[
        "path".into(),
        "sealed".into(),
        "writer_kind".into(),
        "documents".into(),
        "filled".into(),
        "share".into(),
    ]];
    for f in &report.fields {
        for k in &f.fill {
            rows.push([
                f.path.clone(),
                f.sealed.to_string(),
                k.writer_kind.clone(),
                k.documents.to_string(),
                k.filled.to_string(),
                k.share.map(|s| format!("{s:.4}")).unwrap_or_default(),
            ]);
        }
    }
    rows
}
