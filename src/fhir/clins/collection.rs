//! In: a JP-CLINS collection Bundle of clinical information (JP_Bundle_CLINS, `type:
//! collection`: lab results, conditions, allergies, prescriptions, with no Composition), kept as a
//! `clinical-information` 1.0.0 document. There are no sections to say what an entry is for, so
//! each is filed by its resource type, every coding kept as sent (JLAC10/11 and units for
//! results), the Bundle itself kept whole (`source_bundle`, restricted).
//!
//! Infection results are restricted like the infections of the documents. Without the 520
//! section to say so, an entry is an infection's when it says so itself: a profile or category
//! naming infection (`Infection`, `infection`, 感染症), or, for an Observation, a JLAC10 code of
//! the infection serology and virology groups (5E, 5F) or of microbiology (6…). The rule leans
//! to restriction: a result wrongly withheld is asked for, one wrongly shown cannot be unseen.

use serde_json::{Map, Value, json};

use super::{Errors, identifier, items};
use crate::fhir::inbound::{Entries, Mapped};

/// JLAC10 as JP Core's lab result code system names it, and by its OID.
const JLAC10: &[&str] =
    &["http://jpfhir.jp/fhir/core/CodeSystem/JP_ObservationLabResultCode_CS", "urn:oid:1.2.392.200119.4.504"];

/// The document type a collection is kept as.
pub static KIND: super::Kind =
    super::Kind { code: "collection", doc_type: "clinical-information", version: "1.0.0", title: "臨床情報" };

/// Whether the resource says it is about an infection.
fn names_infection(r: &Value) -> bool {
    let said = |s: &str| s.contains("Infection") || s.contains("infection") || s.contains("感染症");
    let profiles = r["meta"]["profile"].as_array().into_iter().flatten().filter_map(Value::as_str);
    let categories = r["category"].as_array().into_iter().flatten().flat_map(|c| {
        let codings = c["coding"].as_array().into_iter().flatten();
        codings.flat_map(|x| [x["code"].as_str(), x["display"].as_str()]).flatten().chain(c["text"].as_str())
    });
    profiles.chain(categories).any(said)
}

/// Whether an Observation is an infection's result (see the module).
fn infection_result(r: &Value) -> bool {
    let jlac = r["code"]["coding"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["system"].as_str().is_some_and(|s| JLAC10.contains(&s)));
    let by_code = jlac.filter_map(|c| c["code"].as_str()).any(|code| {
        let code = code.to_ascii_uppercase();
        code.starts_with("5E") || code.starts_with("5F") || code.starts_with('6')
    });
    by_code || names_infection(r)
}

/// Maps a collection Bundle (`raw` as received) to the `clinical-information` it is kept as.
pub fn map(bundle: &Value, raw: &str, entries: &Entries<'_>) -> Result<Mapped, crate::error::ApiError> {
    let mut errors = Errors(Vec::new());
    let (key, id) = identifier(bundle, &mut errors);
    let mut content = Map::new();
    let mut located = Vec::new();
    let mut push = |content: &mut Map<String, Value>, member: &str, item: Value, i: usize| {
        let list = content.entry(member.to_owned()).or_insert_with(|| json!([]));
        if let Value::Array(list) = list {
            located.push((format!("/{member}/{}", list.len()), format!("Bundle.entry[{i}].resource")));
            list.push(item);
        }
    };
    for (i, e) in entries.list.iter().enumerate() {
        let r = &e["resource"];
        let full = e["fullUrl"].as_str();
        let at = format!("Bundle.entry[{i}].resource");
        match r["resourceType"].as_str().unwrap_or_default() {
            // The patient is compared with the record, never stored (as in the documents).
            "Patient" => {}
            "Observation" if infection_result(r) => {
                push(&mut content, "infection_results", items::observation(r, "", full), i);
            }
            "Observation" => push(&mut content, "observations", items::observation(r, "", full), i),
            "Condition" if names_infection(r) => push(&mut content, "infections", items::infection(r, "", full), i),
            "Condition" => push(&mut content, "diagnoses", items::condition(r, "", full), i),
            "AllergyIntolerance" => push(&mut content, "allergies", items::allergy(r, "", full), i),
            "MedicationRequest" | "MedicationStatement" => {
                push(&mut content, "medications", items::medication(r, "", full), i);
            }
            "DocumentReference" => {
                for a in items::attachments(r, "", full, &at, &mut errors) {
                    push(&mut content, "attachments", a, i);
                }
            }
            "" => errors.add(format!("Bundle.entry[{i}].resource.resourceType"), "every entry holds a resource"),
            _ => push(&mut content, "other_entries", items::other(r, "", full), i),
        }
        if errors.full() {
            break;
        }
    }
    let mut source = Map::new();
    source.insert("format".into(), json!("jp-clins"));
    source.insert("bundle_type".into(), json!("collection"));
    source.insert("bundle_identifier".into(), json!(id));
    items::put_str(&mut source, "bundle_identifier_system", &bundle["identifier"]["system"]);
    items::put_profiles(&mut source, &[&bundle["meta"]["profile"]]);
    items::put_str(&mut source, "timestamp", &bundle["timestamp"]);
    content.insert("source".into(), Value::Object(source));
    content.insert("source_bundle".into(), Value::String(raw.to_owned()));
    if !errors.0.is_empty() {
        return Err(crate::error::ApiError::Validation(errors.0));
    }
    let input = crate::domain::documents::DocumentInput {
        doc_type: KIND.doc_type.into(),
        schema_version: KIND.version.into(),
        content: Value::Object(content),
    };
    Ok(Mapped { input, identifier: key, sections: located })
}
