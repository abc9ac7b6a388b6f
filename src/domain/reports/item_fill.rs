//! Item fill (section F: evaluate the shared items before changing the form): for every field of
//! a document type's schema, the share of current documents in which it is present and not
//! empty, overall and by the kind of organisation that wrote the current version.
//!
//! It reads the stored structure only. A sealed value is one ciphertext string where the schema
//! marks it, so it counts as filled and is never opened; what lies inside it (the items of a
//! sealed list) is not visible, and the sealed field is reported as a leaf.
//!
//! Counts are suppressed like the indicators' (`suppression`): one end-of-life record of one
//! station in one month says that someone there died. Days are whole calendar months, so that
//! two answers cannot differ by one day's documents.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use time::Date;

use super::Days;
use super::indicators::{Cell, Granularity, whole};
use super::suppression::{Group, Hidden, THRESHOLD, suppress_but_zero};
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
/// Counts below 5 are `<5`, and `x` where a hidden count could be subtracted back out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Fill {
    /// The kind of organisation that wrote the documents' current versions, or `all`.
    pub writer_kind: String,
    /// Documents whose schema version has the field.
    pub documents: Cell,
    /// Of these, documents in which it is present and not empty.
    pub filled: Cell,
    /// `filled / documents`, rounded to 4 places; hidden with either count; absent when there
    /// are no documents.
    pub share: Option<Cell>,
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
    /// First day counted (current version written on or after), when given: the first of the
    /// month of the `from` asked.
    pub from: Option<String>,
    /// Last day counted, when given: the last of the month of the `to` asked.
    pub to: Option<String>,
    /// The writing organisation counted, when given.
    pub organization: Option<String>,
    /// Current documents counted (`<5` when fewer than 5).
    pub documents: Cell,
    /// Every field of the schema (of every version counted), in schema order.
    pub fields: Vec<FieldFill>,
    /// Fields no counted document filled (listed once 5 or more documents are counted).
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
    super::super::read_lagging(state, event, move |conn, st, _ev| {
        super::authorize(st, &ctx, Action::Read)?;
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

    // Whole months, as the indicators' periods are (`indicators::whole`).
    let month = |d: Date| whole(Days { first: d, last: d }, Granularity::Month);
    let (first, last) = (query.from.map(|d| month(d).first), query.to.map(|d| month(d).last));
    let midnight = |d: Date| st.calendar.instant_at(d, 0).map(crate::clock::format);
    let from = first.and_then(midnight);
    let to = last.and_then(|d| d.next_day()).and_then(midnight);
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
    let mut fields = Vec::with_capacity(paths.len());
    let mut never_used = Vec::new();
    for (i, (path, sealed)) in paths.into_iter().enumerate() {
        let docs: u64 = per_kind.values().map(|(d, _)| d[i]).sum();
        let fills: u64 = per_kind.values().map(|(_, f)| f[i]).sum();
        if fills == 0 && total >= THRESHOLD {
            never_used.push(path.clone());
        }
        let mut counts = vec![("all", docs, fills)];
        counts.extend(per_kind.iter().map(|(kind, (d, f))| (kind.as_str(), d[i], f[i])));
        fields.push(FieldFill { path, sealed, fill: suppressed(&counts) });
    }
    Ok(ItemFill {
        doc_type: query.doc_type.clone(),
        schema_version: query.schema_version.clone(),
        from: first.map(crate::clock::format_day),
        to: last.map(crate::clock::format_day),
        organization: query.organization.clone(),
        documents: if total < THRESHOLD { Cell::Hidden("<5".into()) } else { Cell::Count(total) },
        fields,
        never_used,
    })
}

/// One field's rows (`all` first, then by kind), suppressed: documents and fills each add up
/// from the kinds to `all`, so each is a group; a zero is shown (no one's record is in it).
fn suppressed(counts: &[(&str, u64, u64)]) -> Vec<Fill> {
    let n = counts.len();
    let values: Vec<u64> = counts.iter().map(|c| c.1).chain(counts.iter().map(|c| c.2)).collect();
    let groups = [Group { total: 0, parts: (1..n).collect() }, Group { total: n, parts: (n + 1..2 * n).collect() }];
    let hidden = suppress_but_zero(&values, &groups);
    let cell = |h: Hidden, v: u64| match h {
        Hidden::No => Cell::Count(v),
        Hidden::Small => Cell::Hidden("<5".into()),
        Hidden::Complement => Cell::Hidden("x".into()),
    };
    counts
        .iter()
        .enumerate()
        .map(|(k, &(kind, documents, filled))| {
            let (hd, hf) = (hidden[k], hidden[n + k]);
            let share = (documents > 0).then(|| match (hd, hf) {
                (Hidden::No, Hidden::No) => {
                    Cell::Number((filled as f64 / documents as f64 * 10_000.0).round() / 10_000.0)
                }
                (Hidden::Small, _) | (_, Hidden::Small) => Cell::Hidden("<5".into()),
                _ => Cell::Hidden("x".into()),
            });
            Fill { writer_kind: kind.to_owned(), documents: cell(hd, documents), filled: cell(hf, filled), share }
        })
        .collect()
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
                text(&k.documents),
                text(&k.filled),
                k.share.as_ref().map(text).unwrap_or_default(),
            ]);
        }
    }
    rows
}

fn text(cell: &Cell) -> String {
    match cell {
        Cell::Count(n) => n.to_string(),
        Cell::Number(x) => format!("{x:.4}"),
        Cell::Hidden(s) => s.clone(),
    }
}
