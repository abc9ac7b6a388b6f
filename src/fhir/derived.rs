//! What every clinical resource is derived from: the document's lists, their items' codes, and
//! the resource with the member it came from. Shared by `clinical` (conditions, medications,
//! allergies) and `orders` (prescriptions, observations), so neither imports the other's helpers.

use serde_json::{Map, Value, json};

use super::reference;
use crate::domain::documents::Document;

/// A resource derived from a document, with the content member it came from.
pub struct Derived {
    /// The content member, e.g. `diagnoses`.
    pub member: &'static str,
    pub resource: Value,
}

impl Derived {
    /// `Type/id` of the resource.
    pub fn reference(&self) -> Value {
        reference(
            self.resource["resourceType"].as_str().unwrap_or_default(),
            self.resource["id"].as_str().unwrap_or_default(),
        )
    }
}

pub fn items<'a>(doc: &'a Document, member: &str) -> impl Iterator<Item = (usize, &'a Map<String, Value>)> {
    doc.content.get(member).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object).enumerate()
}

pub fn s<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

/// The codings an item kept as sent (`codes`), then `extra` (system, code) unless one of them
/// already says it.
pub fn codings(o: &Map<String, Value>, extra: Option<(&str, &str)>) -> Vec<Value> {
    let mut out: Vec<Value> = o.get("codes").and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some((system, code)) = extra
        && !out.iter().any(|c| c["code"] == code)
    {
        out.push(json!({ "system": system, "code": code }));
    }
    out
}
