//! In: a FHIR `document` Bundle whose Composition is a discharge summary (退院時サマリー) becomes
//! a `discharge-summary` document. Sections are matched to the schema's members by their code
//! (`OURS/CodeSystem/document-section`, as our own Compositions carry) or their title; list
//! members are read back from the resources the section's entries reference (the inverse of
//! `clinical`), other members from the section's narrative. What cannot be mapped is a 422
//! naming it by a FHIRPath-style location (`Bundle.entry[0].resource.section[3]`).
//!
//! Mapping is linear in the Bundle: entries are indexed once, and entries, sections, references
//! and errors are capped, so a hostile Bundle costs at most a bounded, stated amount of work
//! (see `docs/fhir.md`). The import itself (authorize, match the patient, commit) is in `import`.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::systems::{ICD10, ICD10_JP, YJ, YJ_JP};
use crate::domain::documents::DocumentInput;
use crate::error::{ApiError, FieldError};

pub(crate) const COMPOSITION: &str = "Bundle.entry[0].resource";
/// Entries a Bundle may hold: a discharge summary has a few dozen; the cap keeps a hostile one cheap.
pub const MAX_ENTRIES: usize = 1000;
/// Sections a Composition may hold (a discharge summary has 23 members).
pub const MAX_SECTIONS: usize = 64;
/// References all sections together may hold.
pub const MAX_REFERENCES: usize = 2000;
/// Errors reported at most; mapping stops at the cap.
pub const MAX_ERRORS: usize = 50;
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
    /// Content pointer (`/diagnoses`, `/diagnoses/2`) → the FHIRPath of what it came from, to
    /// locate schema errors.
    pub sections: Vec<(String, String)>,
}

struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, at: impl Into<String>, message: impl Into<String>) {
        if !self.full() {
            self.0.push(FieldError { pointer: at.into(), message: message.into() });
        }
    }

    fn full(&self) -> bool {
        self.0.len() >= MAX_ERRORS
    }
}

/// The plain text of a narrative's XHTML.
pub(crate) fn text_of(div: &str) -> String {
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
            put(
                &mut o,
                "icd10_code",
                coded(&r["code"], ICD10).or_else(|| coded(&r["code"], ICD10_JP)).map(Value::from).as_ref(),
            );
            put(&mut o, "name", r["code"].get("text"));
            put(&mut o, "onset_date", day(&r["onsetDateTime"]).as_ref());
            put(&mut o, "primary", ext(r, "primary-diagnosis").and_then(|e| e.get("valueBoolean")));
            put(&mut o, "notes", r["note"].get(0).and_then(|n| n.get("text")));
        }
        ("infections", "Condition") => {
            put(&mut o, "name", r["code"].get("text"));
            put(
                &mut o,
                "icd10_code",
                coded(&r["code"], ICD10).or_else(|| coded(&r["code"], ICD10_JP)).map(Value::from).as_ref(),
            );
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
            put(&mut o, "yj_code", coded(m, YJ).or_else(|| coded(m, YJ_JP)).map(Value::from).as_ref());
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

/// The Bundle's entries, indexed once by every name a reference may use: `fullUrl`, `Type/id`,
/// and the last one and two segments of `fullUrl` (so `Patient/1` finds `urn:x:Patient/1`).
/// A name two entries share resolves to the earlier, as a scan in entry order would.
pub struct Entries<'a> {
    pub list: &'a [Value],
    by_name: HashMap<String, usize>,
}

impl<'a> Entries<'a> {
    pub fn new(list: &'a [Value]) -> Self {
        let mut by_name = HashMap::with_capacity(list.len() * 4);
        for (i, e) in list.iter().enumerate() {
            let r = &e["resource"];
            if let Some(kind) = r["resourceType"].as_str() {
                by_name.entry(format!("{kind}/{}", r["id"].as_str().unwrap_or_default())).or_insert(i);
            }
            if let Some(full) = e["fullUrl"].as_str() {
                by_name.entry(full.to_owned()).or_insert(i);
                let mut tail = full.rsplitn(3, '/');
                if let (Some(id), Some(kind)) = (tail.next(), tail.next()) {
                    by_name.entry(id.to_owned()).or_insert(i);
                    by_name.entry(format!("{kind}/{id}")).or_insert(i);
                }
            }
        }
        Self { list, by_name }
    }

    /// The resource a reference names among the entries.
    pub fn resolve(&self, reference: &str) -> Option<(usize, &'a Value)> {
        let i = *self.by_name.get(reference)?;
        Some((i, &self.list[i]["resource"]))
    }
}

/// The Bundle's entries, indexed, or a 422 when there are more than [`MAX_ENTRIES`].
pub fn entries(bundle: &Value) -> Result<Entries<'_>, ApiError> {
    let list = bundle["entry"].as_array().map(Vec::as_slice).unwrap_or_default();
    if list.len() > MAX_ENTRIES {
        return Err(ApiError::field("Bundle.entry", format!("at most {MAX_ENTRIES} entries")));
    }
    Ok(Entries::new(list))
}

/// Maps the Bundle (its `entries`), or every reason it cannot be mapped, up to [`MAX_ERRORS`].
pub fn map(bundle: &Value, entries: &Entries<'_>) -> Result<Mapped, ApiError> {
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
    let composition = entries.list.first().map_or(&Value::Null, |e| &e["resource"]);
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
    let all = composition["section"].as_array().map(Vec::as_slice).unwrap_or_default();
    let references: usize = all.iter().map(|s| s["entry"].as_array().map_or(0, Vec::len)).sum();
    if all.len() > MAX_SECTIONS || references > MAX_REFERENCES {
        let why = format!("at most {MAX_SECTIONS} sections and {MAX_REFERENCES} entry references in all");
        errors.add(format!("{COMPOSITION}.section"), why);
        return Err(ApiError::Validation(errors.0));
    }
    for (i, s) in all.iter().enumerate() {
        if errors.full() {
            break;
        }
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
                match entries.resolve(reference).map(|(_, r)| item(&member, r)) {
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
        sections.push((format!("/{member}"), at.clone()));
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
            .and_then(|r| entries.resolve(r))
            .and_then(|(_, o)| o["name"].as_str())
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
pub fn locate(error: ApiError, sections: &[(String, String)], doc_type: &str) -> ApiError {
    let ApiError::Validation(list) = error else { return error };
    let located = list
        .into_iter()
        .map(|mut e| {
            let rest = e.pointer.strip_prefix("/content").unwrap_or(&e.pointer).to_owned();
            // The longest recorded pointer that is `rest` or one of its parents.
            let at = sections
                .iter()
                .filter(|(p, _)| rest == *p || rest.starts_with(&format!("{p}/")))
                .max_by_key(|(p, _)| p.len())
                .map_or_else(|| COMPOSITION.to_owned(), |(_, at)| at.clone());
            e.message = format!("{} ({doc_type} {rest})", e.message);
            e.pointer = at;
            e
        })
        .collect();
    ApiError::Validation(located)
}
