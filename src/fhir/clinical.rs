//! Condition, MedicationStatement and AllergyIntolerance, derived from the lists a document
//! holds (diagnoses, medical history, infections, medications, allergies). Each gets an id of its
//! own made from the document's id and its place in the list, so the same fact keeps its id.

use serde_json::{Map, Value, json};

use super::{derived_id, meta, ours, reference, writer};
use crate::domain::documents::Document;

/// ICD-10 as FHIR names it (the Japanese MEDIS edition uses the same codes).
pub const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";
/// YJ code (個別医薬品コード), as JP Core names it.
pub const YJ: &str = "urn:oid:1.2.392.100495.20.1.73";
const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
const ALLERGY_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";

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

fn items<'a>(doc: &'a Document, member: &str) -> impl Iterator<Item = (usize, &'a Map<String, Value>)> {
    doc.content.get(member).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object).enumerate()
}

fn s<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

fn clinical_status(system: &str, code: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code }] })
}

fn code(icd10: Option<&str>, text: Option<&str>) -> Value {
    let mut c = json!({});
    if let Some(icd) = icd10 {
        c["coding"] = json!([{ "system": ICD10, "code": icd }]);
    }
    if let Some(t) = text {
        c["text"] = json!(t);
    }
    c
}

fn condition(doc: &Document, id: String, status: &str, category: &str, code: Value) -> Value {
    json!({
        "resourceType": "Condition",
        "id": id,
        "meta": meta(Some("JP_Condition"), None, false),
        "clinicalStatus": clinical_status(CONDITION_CLINICAL, status),
        "category": [{ "coding": [{ "system": CONDITION_CATEGORY, "code": category }] }],
        "code": code,
        "subject": reference("Patient", &doc.patient_id),
        "recorder": writer(&doc.updated_by),
    })
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
        let mut r = condition(
            doc,
            derived_id(&doc.id, &format!("dx{i}")),
            "active",
            category,
            code(s(d, "icd10_code"), s(d, "name")),
        );
        if let Some(onset) = s(d, "onset_date") {
            r["onsetDateTime"] = json!(onset);
        }
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
            code(s(h, "icd10_code"), s(h, "condition")),
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
            code(s(f, "icd10_code"), s(f, "name")),
        );
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
        let r = condition(
            doc,
            derived_id(&doc.id, "cod"),
            "resolved",
            "encounter-diagnosis",
            code(s(c, "icd10_code"), s(c, "name")),
        );
        out.push(Derived { member: "cause_of_death", resource: r });
    }
}

fn medications(doc: &Document, out: &mut Vec<Derived>) {
    for member in ["medications", "medications_at_discharge"] {
        for (i, m) in items(doc, member) {
            let mut concept = json!({ "text": s(m, "name") });
            if let Some(yj) = s(m, "yj_code") {
                concept["coding"] = json!([{ "system": YJ, "code": yj }]);
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

fn allergies(doc: &Document, out: &mut Vec<Derived>) {
    for (i, a) in items(doc, "allergies") {
        let mut r = json!({
            "resourceType": "AllergyIntolerance",
            "id": derived_id(&doc.id, &format!("alg{i}")),
            "meta": meta(Some("JP_AllergyIntolerance"), None, false),
            "clinicalStatus": clinical_status(ALLERGY_CLINICAL, "active"),
            "code": { "text": s(a, "substance") },
            "patient": reference("Patient", &doc.patient_id),
            "recorder": writer(&doc.updated_by),
        });
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

/// Everything derived from one document, in content order.
pub fn derived(doc: &Document) -> Vec<Derived> {
    let mut out = Vec::new();
    if doc.deleted {
        return out;
    }
    conditions(doc, &mut out);
    medications(doc, &mut out);
    allergies(doc, &mut out);
    out
}
