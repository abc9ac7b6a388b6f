//! A FHIR R4 view of the record (JP Core profiles where JP Core has one): the mapping from our
//! patient, directory, care team, consents and documents to FHIR resources, and back for
//! discharge summaries. `docs/fhir.md` holds the tables; this module tree is the code of them.
//!
//! The view is built only from what a domain read returned to the caller: access, consent,
//! withheld fields and audit are decided there, never here. Resources are plain JSON values
//! (no FHIR model crate): the shapes are few and the independent check is `tests/fhir/run`.

pub mod audit;
pub mod clinical;
pub mod clins;
pub mod consent;
pub mod derived;
pub mod documents;
pub mod door;
pub mod export;
pub mod import;
pub mod inbound;
pub mod jobs;
pub mod orders;

pub mod people;
pub mod plan;
pub mod record;
pub mod server;
pub mod subject;
pub mod systems;

use serde_json::{Value, json};

pub use record::{Record, gather};

/// The media type of FHIR's JSON format.
pub const FHIR_JSON: &str = "application/fhir+json";

/// Our own code systems and identifier namespaces live under this base.
pub const OURS: &str = "https://carepath.example/fhir";

/// JP Core's profiles live under this base.
pub const JP_CORE: &str = "http://jpfhir.jp/fhir/core/StructureDefinition";

/// The security label of a resource from which fields were withheld from its reader.
pub fn redacted() -> Value {
    json!({
        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
        "code": "REDACTED",
        "display": "redacted"
    })
}

/// `meta` with a profile (JP Core's, when `profile` is given) and the redaction label when
/// something was withheld.
/// An object of these members, moved in. `json!` copies every `Value` it is given (it
/// serialises it again through `serde_json::to_value`): for a resource put into a Bundle entry
/// that was a deep copy of the resource, a sixth of a search's time.
pub fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

pub fn meta(profile: Option<&str>, last_updated: Option<&str>, withheld: bool) -> Value {
    let mut meta = serde_json::Map::new();
    if let Some(p) = profile {
        meta.insert("profile".into(), json!([format!("{JP_CORE}/{p}")]));
    }
    if let Some(at) = last_updated {
        meta.insert("lastUpdated".into(), json!(at));
    }
    if withheld {
        meta.insert("security".into(), json!([redacted()]));
    }
    Value::Object(meta)
}

/// A reference inside the bundle: `Type/id`.
pub fn reference(resource_type: &str, id: &str) -> Value {
    json!({ "reference": format!("{resource_type}/{id}") })
}

/// A coding of one of our code systems, `OURS/CodeSystem/<name>`.
pub fn ours(system: &str, code: &str) -> Value {
    json!({ "system": format!("{OURS}/CodeSystem/{system}"), "code": code })
}

/// A practitioner known only by the token subject that wrote something.
pub fn writer(sub: &str) -> Value {
    json!({ "identifier": { "system": format!("{OURS}/sid/subject"), "value": sub }, "display": sub })
}

/// A FHIR id from one of ours and a suffix: at most 64 of `[A-Za-z0-9.-]`.
pub fn derived_id(base: &str, suffix: &str) -> String {
    let id: String = format!("{base}-{suffix}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '-' })
        .collect();
    id.chars().take(64).collect()
}

/// Escapes text for a narrative's XHTML.
pub fn xhtml(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 48);
    out.push_str("<div xmlns=\"http://www.w3.org/1999/xhtml\">");
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<br/>"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push_str("</div>");
    out
}

/// Every resource of the record, in bundle order: patient, directory, team, consents, the
/// current care plan, then each document with what was derived from it.
pub fn resources(record: &Record) -> Vec<Value> {
    let managing = record.organizations.iter().find(|o| o.id == record.patient.managing_organization);
    let mut out = vec![people::patient(&record.patient, managing)];
    out.extend(record.organizations.iter().map(people::organization));
    out.extend(record.practitioners.iter().map(people::practitioner));
    if let Some(team) = &record.team {
        out.extend(people::roles(team));
        out.push(people::care_team(team, &record.patient.managing_organization));
    }
    for c in record.consents.iter().flatten() {
        out.push(consent::consent(c));
    }
    let current = plan::current_care_path(&record.documents);
    for doc in &record.documents {
        out.extend(document_resources(doc, current == Some(doc.id.as_str()), record.team.is_some()));
    }
    out
}

/// The resources of the record of type `kind`, in the order of [`resources`]. A clinical type
/// is built from the document lists alone: a search or read of Conditions need not build the
/// care plan, the medications and the rest only to drop them (a fifth of a search's time).
pub fn resources_of(record: &Record, kind: &str) -> Vec<Value> {
    let all = match kind {
        "Condition" | "MedicationStatement" | "MedicationRequest" | "AllergyIntolerance" | "Observation" => {
            record.documents.iter().flat_map(|d| clinical::derived_of(d, kind)).map(|d| d.resource).collect()
        }
        _ => resources(record),
    };
    all.into_iter().filter(|r| r["resourceType"] == kind).collect()
}

/// The resources made from one document: a CarePlan (a care path; `current` when it is the
/// patient's current one) or a Composition and a DocumentReference, then what its lists hold.
pub fn document_resources(doc: &crate::domain::documents::Document, current: bool, with_team: bool) -> Vec<Value> {
    let derived = clinical::derived(doc);
    let mut out = Vec::with_capacity(derived.len() + 2);
    if doc.doc_type == "care-path" {
        out.push(plan::care_plan(doc, current, &derived, with_team));
    } else {
        out.push(documents::composition(doc, &derived));
        out.push(documents::document_reference(doc));
    }
    out.extend(derived.into_iter().map(|d| d.resource));
    out
}

/// The record as a `collection` Bundle; `base` is the absolute URL the resources' `fullUrl`s
/// start with (`…/fhir`).
pub fn bundle(record: &Record, base: &str, now: &str) -> Value {
    let withheld = record.documents.iter().any(|d| !d.withheld.is_empty());
    let entries: Vec<Value> = resources(record)
        .into_iter()
        .map(|r| {
            let url = format!(
                "{base}/{}/{}",
                r["resourceType"].as_str().unwrap_or_default(),
                r["id"].as_str().unwrap_or_default()
            );
            object([("fullUrl", Value::String(url)), ("resource", r)])
        })
        .collect();
    object([
        ("resourceType", json!("Bundle")),
        ("id", Value::String(uuid::Uuid::new_v4().to_string())),
        ("meta", meta(None, Some(now), withheld)),
        ("type", json!("collection")),
        ("timestamp", json!(now)),
        ("entry", Value::Array(entries)),
    ])
}
