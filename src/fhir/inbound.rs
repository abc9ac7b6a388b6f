//! In: a FHIR `document` Bundle whose Composition is a discharge summary (退院時サマリー) becomes
//! a `discharge-summary` document. Sections are matched to the schema's members by their code
//! (`OURS/CodeSystem/document-section`, as our own Compositions carry) or their title; list
//! members are read back from the resources the section's entries reference (the inverse of
//! `clinical`), other members from the section's narrative. What cannot be mapped is a 422
//! naming it by a FHIRPath-style location (`Bundle.entry[0].resource.section[3]`).

use serde_json::{Map, Value, json};

use super::clinical::{ICD10, YJ};
use crate::domain::documents::DocumentInput;
use crate::error::{ApiError, FieldError};

const COMPOSITION: &str = "Bundle.entry[0].resource";
/// The members of `discharge-summary` 1.0.0.
const MEMBERS: &[&str] = &[
    "hospital",
    "attending_physician",
    "discharge_nurse",
    "admission_date",
    "discharge_date",
    "discharge_destination",
    "reason_for_admission",
    "diagnoses",
    "course_in_hospital",
    "procedures_in_hospital",
    "medications_at_discharge",
    "medication_changes",
    "allergies",
    "infections",
    "home_procedures",
    "adl_at_discharge",
    "care_level",
    "diet",
    "explanation_given",
    "follow_up",
    "nursing_notes",
    "rehabilitation_notes",
    "notes",
];
/// Members that are lists of resources in FHIR.
const LISTS: &[&str] = &["diagnoses", "medications_at_discharge", "allergies", "infections"];

/// The document to create, and the Bundle's identifier (`system|value`) it is idempotent on.
pub struct Mapped {
    pub input: DocumentInput,
    pub identifier: String,
    /// Content member → the index of the section it came from, to locate schema errors.
    pub sections: Vec<(String, usize)>,
}

struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError { pointer: at.into(), message: message.into() });
    }
}

fn text_of(div: &str) -> String {
    let with_breaks = div.replace("<br/>", "\n").replace("<br />", "\n");
    let mut out = String::new();
    let mut in_tag = false;
    for c in with_breaks.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&").trim().to_owned()
}

fn coded<'a>(concept: &'a Value, system: &str) -> Option<&'a str> {
    concept["coding"].as_array()?.iter().find(|c| c["system"].as_str().is_some_and(|s| s.ends_with(system)))?["code"]
        .as_str()
}

fn ext<'a>(r: &'a Value, name: &str) -> Option<&'a Value> {
    r["extension"].as_array()?.iter().find(|e| e["url"].as_str().is_some_and(|u| u.ends_with(name)))
}

fn put(o: &mut Map<String, Value>, key: &str, v: Option<&Value>) {
    if let Some(v) = v.filter(|v| !v.is_null()) {
        o.insert(key.to_owned(), v.clone());
    }
}

fn day(v: &Value) -> Option<Value> {
    v.as_str().map(|s| json!(s.chars().take(10).collect::<String>()))
}

/// The inverse of `clinical`: one list item from one resource, or why not.
fn item(member: &str, r: &Value) -> Result<Value, String> {
    let kind = r["resourceType"].as_str().unwrap_or_default();
    let mut o = Map::new();
    match (member, kind) {
        ("diagnoses", "Condition") => {
            put(&mut o, "icd10_code", coded(&r["code"], ICD10).map(Value::from).as_ref());
            put(&mut o, "name", r["code"].get("text"));
            put(&mut o, "onset_date", day(&r["onsetDateTime"]).as_ref());
            put(&mut o, "primary", ext(r, "primary-diagnosis").and_then(|e| e.get("valueBoolean")));
            put(&mut o, "notes", r["note"].get(0).and_then(|n| n.get("text")));
        }
        ("infections", "Condition") => {
            put(&mut o, "name", r["code"].get("text"));
            put(&mut o, "icd10_code", coded(&r["code"], ICD10).map(Value::from).as_ref());
            let status = ext(r, "infection-status")
                .and_then(|e| e["valueCoding"]["code"].as_str())
                .or_else(|| coded(&r["clinicalStatus"], "condition-clinical"));
            put(&mut o, "status", status.map(Value::from).as_ref());
            put(&mut o, "detected_on", day(&r["onsetDateTime"]).as_ref());
            put(&mut o, "precautions", r["note"].get(0).and_then(|n| n.get("text")));
        }
        ("medications_at_discharge", "MedicationStatement") => {
            let m = &r["medicationCodeableConcept"];
            put(&mut o, "name", m.get("text"));
            let dosage = &r["dosage"][0];
            put(&mut o, "dose", dosage["doseAndRate"][0]["type"].get("text"));
            put(&mut o, "route", coded(&dosage["route"], "/route").map(Value::from).as_ref());
            put(&mut o, "frequency", dosage.get("patientInstruction"));
            put(&mut o, "yj_code", coded(m, YJ).map(Value::from).as_ref());
            put(&mut o, "start_date", day(&r["effectivePeriod"]["start"]).as_ref());
            put(&mut o, "prescriber", r["informationSource"].get("display"));
            put(&mut o, "notes", r["note"].get(0).and_then(|n| n.get("text")));
        }
        ("allergies", "AllergyIntolerance") => {
            put(&mut o, "substance", r["code"].get("text"));
            let category = match r["category"][0].as_str() {
                Some("medication") => Some("drug"),
                Some("food") => Some("food"),
                Some("environment") => Some("environmental"),
                Some(_) => Some("other"),
                None => None,
            };
            put(&mut o, "category", category.map(Value::from).as_ref());
            put(&mut o, "reaction", r["reaction"][0]["manifestation"][0].get("text"));
            put(&mut o, "severity", r["reaction"][0].get("severity"));
        }
        _ => return Err(format!("a {kind} cannot be an item of {member}")),
    }
    Ok(Value::Object(o))
}

/// Finds the resource a reference names among the Bundle's entries (by `fullUrl` or `Type/id`).
fn resolve<'a>(entries: &'a [Value], reference: &str) -> Option<&'a Value> {
    entries.iter().find_map(|e| {
        let r = &e["resource"];
        let local = format!("{}/{}", r["resourceType"].as_str()?, r["id"].as_str().unwrap_or_default());
        let full = e["fullUrl"].as_str().unwrap_or_default();
        (full == reference || local == reference || full.ends_with(&format!("/{reference}"))).then_some(r)
    })
}

/// Maps the Bundle, or every reason it cannot be mapped.
pub fn map(bundle: &Value) -> Result<Mapped, ApiError> {
    let mut errors = Errors(Vec::new());
    if bundle["resourceType"] != "Bundle" {
        errors.add("Bundle.resourceType", "must be Bundle");
    }
    if bundle["type"] != "document" {
        errors.add("Bundle.type", "must be document");
    }
    let identifier = match (bundle["identifier"]["system"].as_str(), bundle["identifier"]["value"].as_str()) {
        (system, Some(value)) if !value.is_empty() => format!("{}|{value}", system.unwrap_or_default()),
        _ => {
            errors.add(
                "Bundle.identifier",
                "a document Bundle needs an identifier (its value): imports are idempotent on it",
            );
            String::new()
        }
    };
    let entries = bundle["entry"].as_array().map(Vec::as_slice).unwrap_or_default();
    let composition = &entries.first().map(|e| &e["resource"]).cloned().unwrap_or(Value::Null);
    if composition["resourceType"] != "Composition" {
        errors.add(COMPOSITION, "the first entry of a document Bundle must be its Composition");
        return Err(ApiError::Validation(errors.0));
    }
    let is_discharge = coded(&composition["type"], "loinc.org") == Some("18842-5")
        || coded(&composition["type"], "/document-type") == Some("discharge-summary");
    if !is_discharge {
        errors.add(format!("{COMPOSITION}.type"), "not a discharge summary (LOINC 18842-5)");
    }
    let mut content = Map::new();
    let mut sections = Vec::new();
    for (i, s) in composition["section"].as_array().map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
        let at = format!("{COMPOSITION}.section[{i}]");
        if s.get("emptyReason").is_some() {
            continue; // withheld or empty at the source: nothing to map
        }
        let Some(member) = coded(&s["code"], "/document-section").or(s["title"].as_str()).map(str::to_owned) else {
            errors.add(at, "a section needs a code or title naming a discharge-summary member");
            continue;
        };
        if !MEMBERS.contains(&member.as_str()) {
            errors.add(at, format!("a discharge summary has no member {member:?}"));
            continue;
        }
        let refs: Vec<&str> =
            s["entry"].as_array().into_iter().flatten().filter_map(|e| e["reference"].as_str()).collect();
        let value = if LISTS.contains(&member.as_str()) && !refs.is_empty() {
            let mut items = Vec::new();
            for (j, reference) in refs.iter().enumerate() {
                match resolve(entries, reference).map(|r| item(&member, r)) {
                    Some(Ok(v)) => items.push(v),
                    Some(Err(why)) => errors.add(format!("{at}.entry[{j}]"), why),
                    None => errors.add(format!("{at}.entry[{j}]"), format!("{reference} is not in the Bundle")),
                }
            }
            Value::Array(items)
        } else {
            let text = text_of(s["text"]["div"].as_str().unwrap_or_default());
            if text.is_empty() {
                errors.add(format!("{at}.text"), "a section without entries needs narrative text");
                continue;
            }
            // Structured members travel as JSON in the narrative (as our Compositions write them).
            match serde_json::from_str::<Value>(&text) {
                Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
                _ => Value::String(text),
            }
        };
        sections.push((member.clone(), i));
        content.insert(member, value);
    }
    if let Some(period) = composition["event"][0].get("period") {
        for (key, end) in [("admission_date", "start"), ("discharge_date", "end")] {
            if !content.contains_key(key)
                && let Some(d) = day(&period[end])
            {
                content.insert(key.to_owned(), d);
            }
        }
    }
    if !content.contains_key("hospital") {
        let name = composition["custodian"]["reference"]
            .as_str()
            .and_then(|r| resolve(entries, r))
            .and_then(|o| o["name"].as_str())
            .or(composition["custodian"]["display"].as_str());
        match name {
            Some(name) => {
                content.insert("hospital".into(), json!({ "name": name }));
            }
            None => errors.add(
                format!("{COMPOSITION}.custodian"),
                "the discharging hospital: a custodian Organization with a name, or a hospital section",
            ),
        }
    }
    if !errors.0.is_empty() {
        return Err(ApiError::Validation(errors.0));
    }
    let input = DocumentInput {
        doc_type: "discharge-summary".into(),
        schema_version: "1.0.0".into(),
        content: Value::Object(content),
    };
    Ok(Mapped { input, identifier, sections })
}

/// Re-locates schema errors of the mapped content (`/content/<member>/…`) at the section the
/// member came from.
pub fn locate(error: ApiError, sections: &[(String, usize)]) -> ApiError {
    let ApiError::Validation(list) = error else { return error };
    let located = list
        .into_iter()
        .map(|mut e| {
            let rest = e.pointer.strip_prefix("/content").unwrap_or(&e.pointer).to_owned();
            let member = rest.trim_start_matches('/').split('/').next().unwrap_or_default();
            let at = match sections.iter().find(|(m, _)| m == member) {
                Some((_, i)) => format!("{COMPOSITION}.section[{i}]"),
                None => COMPOSITION.to_owned(),
            };
            e.message = format!("{} (discharge-summary {rest})", e.message);
            e.pointer = at;
            e
        })
        .collect();
    ApiError::Validation(located)
}

/// Imports a discharge-summary Bundle for a patient: authorised as a document write (a caller
/// without access gets the 404 of `POST /v1/patients/{id}/documents` before any mapping error),
/// mapped, validated, stored. A Bundle with an identifier already imported by the same caller
/// answers the first document again; the same identifier with other content is a 422.
pub async fn import(
    state: &std::sync::Arc<crate::state::AppState>,
    ctx: crate::context::Context,
    patient: crate::ids::PatientId,
    bundle: Value,
    path: String,
) -> Result<crate::domain::documents::Written, ApiError> {
    use crate::access::Resource;
    use crate::authorize::{Want, authorise};
    use crate::domain::documents::{self, Idempotency};

    let event = crate::audit::Event::new(&ctx, "document.create");
    let written = crate::domain::write(state, event, 201, move |tx, st, ev| {
        let mapped = match map(&bundle) {
            Ok(mapped) => mapped,
            Err(e) => {
                let want = Want::write(Resource::Document).of_type("discharge-summary");
                authorise(tx, st, &ctx.caller, &patient, want, ev)?;
                return Err(e);
            }
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, mapped.identifier.as_bytes());
        let key = format!("fhir-bundle:{}", crate::crypto::keyfile::hex(digest.as_ref()));
        let idem = Idempotency::new(&ctx.caller, &key, "POST", &path, &mapped.input)?;
        documents::create(tx, st, &ctx.caller, &patient, &mapped.input, Some(&idem), ev).map_err(|e| match e {
            ApiError::Validation(list) if list.iter().any(|f| f.pointer == "/header/Idempotency-Key") => {
                ApiError::field("Bundle.identifier", "a Bundle with this identifier was imported with other content")
            }
            other => locate(other, &mapped.sections),
        })
    })
    .await?;
    state.notify_change();
    Ok(written)
}
