//! The version and last change of each resource of a record, as `meta.versionId` /
//! `meta.lastUpdated` and the `ETag` / `Last-Modified` of a read. A resource made from a document
//! (CarePlan, Composition, DocumentReference, and the Conditions, MedicationStatements and
//! AllergyIntolerances derived from its lists) has the document's version: those can be read at
//! an earlier version (`vread`). The rest carry when they last changed where we know it, and an
//! `ETag` made from their content.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::domain::documents::Document;
use crate::fhir::Record;

/// One resource with what its `ETag` and `Last-Modified` come from.
#[derive(Debug, Clone)]
pub struct Entry {
    pub resource: Value,
    /// The document version it was made from.
    pub version: Option<i32>,
    /// When it (or the document it was made from) last changed; stored format.
    pub last_updated: Option<String>,
}

impl Entry {
    pub fn kind(&self) -> &str {
        self.resource["resourceType"].as_str().unwrap_or_default()
    }

    pub fn id(&self) -> &str {
        self.resource["id"].as_str().unwrap_or_default()
    }

    /// A weak entity tag: the document version, or a digest of the resource as sent.
    pub fn etag(&self) -> String {
        match self.version {
            Some(v) => format!("W/\"{v}\""),
            None => {
                let body = self.resource.to_string();
                let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
                let hex: String = digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
                format!("W/\"{hex}\"")
            }
        }
    }
}

/// Whether resources of this type are made from one document (and versioned with it).
pub fn from_document(kind: &str) -> bool {
    matches!(
        kind,
        "CarePlan"
            | "Composition"
            | "DocumentReference"
            | "Condition"
            | "MedicationStatement"
            | "MedicationRequest"
            | "Observation"
            | "AllergyIntolerance"
    )
}

/// The document a resource of `kind` with `id` was made from: its own id, or the id its own
/// begins with (`{document}-{place}`, see `fhir::derived_id`).
pub fn document_id(kind: &str, id: &str) -> Option<String> {
    match kind {
        "CarePlan" | "Composition" | "DocumentReference" => Some(id.to_owned()),
        "Condition" | "MedicationStatement" | "MedicationRequest" | "Observation" | "AllergyIntolerance" => {
            // Document ids are UUIDs (36 characters); the place follows after a dash.
            let (doc, rest) = id.split_at_checked(36)?;
            rest.starts_with('-').then(|| doc.to_owned())
        }
        _ => None,
    }
}

/// Every resource of the record, each with its version and last change stamped into `meta`.
pub fn entries(record: &Record) -> Vec<Entry> {
    stamp_all(record, super::super::resources(record))
}

/// The record's resources of type `kind`, stamped as [`entries`] stamps them.
pub fn entries_of(record: &Record, kind: &str) -> Vec<Entry> {
    stamp_all(record, super::super::resources_of(record, kind))
}

fn stamp_all(record: &Record, resources: Vec<Value>) -> Vec<Entry> {
    let docs: HashMap<&str, &Document> = record.documents.iter().map(|d| (d.id.as_str(), d)).collect();
    let consents: HashMap<&str, String> = record
        .consents
        .iter()
        .flatten()
        .map(|c| (c.id.as_str(), c.revoked_at.clone().unwrap_or_else(|| c.recorded_at.clone())))
        .collect();
    let directory: HashMap<(&str, &str), &str> = record
        .organizations
        .iter()
        .map(|o| (("Organization", o.id.as_str()), o.updated_at.as_str()))
        .chain(record.practitioners.iter().map(|p| (("Practitioner", p.id.as_str()), p.updated_at.as_str())))
        .collect();
    resources
        .into_iter()
        .map(|resource| {
            let kind = resource["resourceType"].as_str().unwrap_or_default().to_owned();
            let id = resource["id"].as_str().unwrap_or_default().to_owned();
            let doc = document_id(&kind, &id).and_then(|d| docs.get(d.as_str()).copied());
            let (version, last_updated) = match (kind.as_str(), doc) {
                (_, Some(doc)) => (Some(doc.version), Some(doc.updated_at.clone())),
                ("Patient", _) => (None, Some(record.patient.updated_at.clone())),
                ("Consent", _) => (None, consents.get(id.as_str()).cloned()),
                (k, _) => (None, directory.get(&(k, id.as_str())).map(|s| (*s).to_owned())),
            };
            stamped(resource, version, last_updated)
        })
        .collect()
}

/// `resource` with `meta.versionId` and `meta.lastUpdated` set from what it was made from.
pub fn stamped(mut resource: Value, version: Option<i32>, last_updated: Option<String>) -> Entry {
    if !resource["meta"].is_object() && (version.is_some() || last_updated.is_some()) {
        resource["meta"] = json!({});
    }
    if let Some(v) = version {
        resource["meta"]["versionId"] = json!(v.to_string());
    }
    if let Some(at) = &last_updated {
        resource["meta"]["lastUpdated"] = json!(at);
    }
    Entry { resource, version, last_updated }
}
