//! Condition, MedicationStatement and AllergyIntolerance, derived from the lists a document
//! holds (diagnoses, medical history, infections, medications, allergies). Each gets an id of its
//! own made from the document's id and its place in the list, so the same fact keeps its id.

use serde_json::{Map, Value, json};

use super::derived::{Derived, codings, items, s};
use super::systems::{ICD10_JP, YJ_JP};
use super::{derived_id, meta, ours, reference, writer};
use crate::domain::documents::Document;

/// The extensions JP Core puts MEDIS modifiers in.
const PREFIX_MODIFIER: &str =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Condition_DiseasePrefixModifier";
const SUFFIX_MODIFIER: &str =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Condition_DiseaseSuffixModifier";
const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
const ALLERGY_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";

fn clinical_status(system: &str, code: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code }] })
}

/// A diagnosis' CodeableConcept: every code kept (MEDIS, ICD-10 in JP's system, any other), the
/// MEDIS modifiers as JP Core's extensions, the name as text.
fn code_of(o: &Map<String, Value>, name_key: &str) -> Value {
    let mut c = json!({});
    let all = codings(o, s(o, "icd10_code").map(|icd| (ICD10_JP, icd)));
    if !all.is_empty() {
        c["coding"] = json!(all);
    }
    let modifiers: Vec<Value> = o
        .get("modifiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| {
            let url = if m["position"] == "suffix" { SUFFIX_MODIFIER } else { PREFIX_MODIFIER };
            let mut coding = json!({ "code": m["code"] });
            for k in ["system", "display"] {
                if m[k].is_string() {
                    coding[k] = m[k].clone();
                }
            }
            json!({ "url": url, "valueCodeableConcept": { "coding": [coding] } })
        })
        .collect();
    if !modifiers.is_empty() {
        c["extension"] = json!(modifiers);
    }
    if let Some(t) = s(o, name_key) {
        c["text"] = json!(t);
    }
    c
}

/// What a kept item says of itself beside the defaults: its statuses, category and a partial onset.
fn as_sent(r: &mut Value, o: &Map<String, Value>) {
    if let Some(st) = s(o, "clinical_status") {
        r["clinicalStatus"] = clinical_status(CONDITION_CLINICAL, st);
    }
    if let Some(v) = s(o, "verification_status") {
        r["verificationStatus"] = clinical_status("http://terminology.hl7.org/CodeSystem/condition-ver-status", v);
    }
    if let Some(c) = s(o, "category") {
        r["category"] = json!([{ "coding": [{ "system": CONDITION_CATEGORY, "code": c }] }]);
    }
    if let Some(on) = s(o, "onset").or(s(o, "onset_date")) {
        r["onsetDateTime"] = json!(on);
    }
    if let Some(on) = s(o, "abatement") {
        r["abatementDateTime"] = json!(on);
    }
}

fn condition(doc: &Document, id: String, status: &str, category: &str, code: Value) -> Value {
    super::object([
        ("resourceType", json!("Condition")),
        ("id", Value::String(id)),
        ("meta", meta(Some("JP_Condition"), None, false)),
        ("clinicalStatus", clinical_status(CONDITION_CLINICAL, status)),
        ("category", json!([{ "coding": [{ "system": CONDITION_CATEGORY, "code": category }] }])),
        ("code", code),
        ("subject", reference("Patient", &doc.patient_id)),
        ("recorder", writer(&doc.updated_by)),
    ])
}

/// The FHIR clinical status of one of our infection statuses.
fn infection_status(status: Option<&str>) -> &'static str {
    match status {
        Some("resolved") => "resolved",
        _ => "active",
    }
}

fn conditions(doc: &Document, out: &mut Vec<Derived>) {
    // A care path lists what the patient lives with; other documents what they were seen for.
    let category = if doc.doc_type == "care-path" { "problem-list-item" } else { "encounter-diagnosis" };
    for (i, d) in items(doc, "diagnoses") {
        let mut r = condition(doc, derived_id(&doc.id, &format!("dx{i}")), "active", category, code_of(d, "name"));
        as_sent(&mut r, d);
        if d.get("primary").and_then(Value::as_bool) == Some(true) {
            r["extension"] = json!([{ "url": format!("{}/StructureDefinition/primary-diagnosis", super::OURS), "valueBoolean": true }]);
        }
        if let Some(n) = s(d, "notes") {
            r["note"] = json!([{ "text": n }]);
        }
        out.push(Derived { member: "diagnoses", resource: r });
    }
    for (i, h) in items(doc, "medical_history") {
        let mut r = condition(
            doc,
            derived_id(&doc.id, &format!("hx{i}")),
            "resolved",
            "problem-list-item",
            code_of(h, "condition"),
        );
        if let Some(year) = h.get("year").and_then(Value::as_i64) {
            r["onsetDateTime"] = json!(format!("{year:04}"));
        }
        out.push(Derived { member: "medical_history", resource: r });
    }
    for (i, f) in items(doc, "infections") {
        let mut r = condition(
            doc,
            derived_id(&doc.id, &format!("inf{i}")),
            infection_status(s(f, "status")),
            "problem-list-item",
            code_of(f, "name"),
        );
        as_sent(&mut r, f);
        r["extension"] = json!([{
            "url": format!("{}/StructureDefinition/infection-status", super::OURS),
            "valueCoding": ours("infection-status", s(f, "status").unwrap_or("unknown")),
        }]);
        if let Some(on) = s(f, "detected_on") {
            r["onsetDateTime"] = json!(on);
        }
        if let Some(p) = s(f, "precautions") {
            r["note"] = json!([{ "text": p }]);
        }
        out.push(Derived { member: "infections", resource: r });
    }
    if let Some(c) = doc.content.get("cause_of_death").and_then(Value::as_object) {
        let r = condition(doc, derived_id(&doc.id, "cod"), "resolved", "encounter-diagnosis", code_of(c, "name"));
        out.push(Derived { member: "cause_of_death", resource: r });
    }
}

fn medications(doc: &Document, out: &mut Vec<Derived>) {
    for member in ["medications", "medications_at_discharge"] {
        for (i, m) in items(doc, member) {
            let mut concept = json!({ "text": s(m, "name") });
            let all = codings(m, s(m, "yj_code").map(|yj| (YJ_JP, yj)));
            if !all.is_empty() {
                concept["coding"] = json!(all);
            }
            if m.get("request").and_then(Value::as_bool) == Some(true) {
                out.push(Derived {
                    member: if member == "medications" { "medications" } else { "medications_at_discharge" },
                    resource: super::orders::medication_request(doc, member, i, m, concept),
                });
                continue;
            }
            let mut dosage = json!({
                "text": format!("{} {}", s(m, "dose").unwrap_or(""), s(m, "frequency").unwrap_or("")).trim(),
                "route": { "coding": [ours("route", s(m, "route").unwrap_or("other"))] },
            });
            if let Some(f) = s(m, "frequency") {
                dosage["patientInstruction"] = json!(f);
            }
            if let Some(d) = s(m, "dose") {
                dosage["doseAndRate"] = json!([{ "type": { "text": d } }]);
            }
            let prefix = if member == "medications" { "med" } else { "dmed" };
            let mut r = json!({
                "resourceType": "MedicationStatement",
                "id": derived_id(&doc.id, &format!("{prefix}{i}")),
                "meta": meta(Some("JP_MedicationStatement"), None, false),
                "status": "active",
                "medicationCodeableConcept": concept,
                "subject": reference("Patient", &doc.patient_id),
                "dateAsserted": doc.updated_at,
                "dosage": [dosage],
            });
            if let Some(start) = s(m, "start_date") {
                r["effectivePeriod"] = json!({ "start": start });
            }
            if let Some(n) = s(m, "notes") {
                r["note"] = json!([{ "text": n }]);
            }
            if let Some(p) = s(m, "prescriber") {
                r["informationSource"] = json!({ "display": p });
            }
            out.push(Derived {
                member: if member == "medications" { "medications" } else { "medications_at_discharge" },
                resource: r,
            });
        }
    }
}

fn allergy_category(ours: Option<&str>) -> Option<&'static str> {
    match ours {
        Some("drug") => Some("medication"),
        Some("food") => Some("food"),
        Some("environmental") => Some("environment"),
        _ => None,
    }
}

/// JP Core's allergy code system; JP Core 1.1 fixes `code.coding.system` to it.
const JP_ALLERGY_CODE: &str = "http://jpfhir.jp/fhir/Common/CodeSystem/allergyintolerance-code";

/// The profile an allergy may claim: JP Core's, unless it keeps codes of another system (JFAGY,
/// as JP-CLINS sends them), which JP Core 1.1 does not allow; then none rather than a false one.
fn allergy_profile(a: &Map<String, Value>) -> Option<&'static str> {
    let codes = a.get("codes").and_then(Value::as_array);
    let foreign = codes.into_iter().flatten().any(|c| c["system"] != JP_ALLERGY_CODE);
    (!foreign).then_some("JP_AllergyIntolerance")
}

fn allergy_code(a: &Map<String, Value>) -> Value {
    let mut c = json!({ "text": s(a, "substance") });
    let all = codings(a, None);
    if !all.is_empty() {
        c["coding"] = json!(all);
    }
    c
}

fn allergies(doc: &Document, out: &mut Vec<Derived>) {
    for (i, a) in items(doc, "allergies") {
        let mut r = json!({
            "resourceType": "AllergyIntolerance",
            "id": derived_id(&doc.id, &format!("alg{i}")),
            "clinicalStatus": clinical_status(ALLERGY_CLINICAL, "active"),
            "code": allergy_code(a),
            "patient": reference("Patient", &doc.patient_id),
            "recorder": writer(&doc.updated_by),
        });
        // No profile claimed, no `meta`: an empty one is invalid FHIR.
        if let Some(profile) = allergy_profile(a) {
            r["meta"] = meta(Some(profile), None, false);
        }
        if let Some(c) = allergy_category(s(a, "category")) {
            r["category"] = json!([c]);
        }
        if let Some(text) = s(a, "reaction") {
            let mut reaction = json!({ "manifestation": [{ "text": text }] });
            if let Some(sev @ ("mild" | "moderate" | "severe")) = s(a, "severity") {
                reaction["severity"] = json!(sev);
            }
            r["reaction"] = json!([reaction]);
        }
        out.push(Derived { member: "allergies", resource: r });
    }
}

/// What is derived from one document that may be of resource type `kind` (a generator makes
/// one or two types: the medications both statements and requests), in content order; nothing
/// for a type no document list makes.
pub fn derived_of(doc: &Document, kind: &str) -> Vec<Derived> {
    let mut out = Vec::new();
    if doc.deleted {
        return out;
    }
    match kind {
        "Condition" => conditions(doc, &mut out),
        "MedicationStatement" | "MedicationRequest" => medications(doc, &mut out),
        "AllergyIntolerance" => allergies(doc, &mut out),
        "Observation" => super::orders::observations(doc, &mut out),
        _ => {}
    }
    out
}

/// Everything derived from one document, in content order.
pub fn derived(doc: &Document) -> Vec<Derived> {
    let mut out = Vec::new();
    if doc.deleted {
        return out;
    }
    conditions(doc, &mut out);
    medications(doc, &mut out);
    allergies(doc, &mut out);
    super::orders::observations(doc, &mut out);
    out
}
