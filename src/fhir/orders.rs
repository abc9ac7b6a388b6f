//! MedicationRequest and Observation, derived from what a JP-CLINS document kept: prescriptions
//! (sent as MedicationRequest, so returned as one, with the dosage as it was sent) and
//! observations (lab results with their JLAC codes and units, findings, infection results).

use serde_json::{Map, Value, json};

use super::derived::{Derived, codings, items, s};
use super::{derived_id, meta, reference};
use crate::domain::documents::Document;

const RP_NUMBER: &str = "urn:oid:1.2.392.100495.20.3.81";
const ORDER_IN_RP: &str = "urn:oid:1.2.392.100495.20.3.82";
/// MERIT-9 units (JP Core's system for dispensed quantities).
const MERIT9: &str = "urn:oid:1.2.392.100495.20.2.101";

/// A prescription kept from a JP-CLINS document, as the MedicationRequest it came as.
pub(super) fn medication_request(
    doc: &Document,
    member: &str,
    i: usize,
    m: &Map<String, Value>,
    concept: Value,
) -> Value {
    let prefix = if member == "medications" { "rx" } else { "drx" };
    let mut r = json!({
        "resourceType": "MedicationRequest",
        "id": derived_id(&doc.id, &format!("{prefix}{i}")),
        "meta": meta(Some("JP_MedicationRequest"), None, false),
        "status": s(m, "status").unwrap_or("active"),
        "intent": s(m, "intent").unwrap_or("order"),
        "medicationCodeableConcept": concept,
        "subject": reference("Patient", &doc.patient_id),
        // JP Core names a prescription's line by its Rp number and its order within the Rp.
        "identifier": [
            { "system": RP_NUMBER, "value": s(m, "rp_number").unwrap_or("1") },
            { "system": ORDER_IN_RP, "value": (i + 1).to_string() },
        ],
    });
    if let Some(on) = s(m, "authored_on") {
        r["authoredOn"] = json!(on);
    }
    let dosage = m.get("dosage").and_then(Value::as_object);
    // The dosage exactly as sent when it was kept; else what the item says of it.
    let sent = dosage.and_then(|d| s(d, "fhir")).and_then(|t| serde_json::from_str::<Value>(t).ok());
    match (sent, dosage) {
        (Some(v @ Value::Array(_)), _) => r["dosageInstruction"] = v,
        (_, Some(d)) => {
            let mut one = json!({});
            if let Some(t) = s(d, "text") {
                one["text"] = json!(t);
            }
            if let Some(t) = d.get("timing") {
                one["timing"] = json!({ "code": { "coding": [t] } });
            }
            if let Some(t) = d.get("route") {
                one["route"] = json!({ "coding": [t] });
            }
            r["dosageInstruction"] = json!([one]);
        }
        _ => {}
    }
    if let Some(d) = m.get("dispense").and_then(Value::as_object) {
        let mut dispense = json!({});
        if let Some(q) = d.get("quantity").filter(|q| q.is_number()) {
            dispense["quantity"] = json!({ "value": q, "unit": d.get("unit") });
            // The unit's MERIT-9 code, when the dose was sent in the same unit with one.
            let code = dosage.filter(|x| x.get("dose_unit") == d.get("unit")).and_then(|x| s(x, "dose_unit_code"));
            if let Some(code) = code {
                dispense["quantity"]["system"] = json!(MERIT9);
                dispense["quantity"]["code"] = json!(code);
            }
        }
        if let Some(days) = d.get("days").filter(|q| q.is_number()) {
            dispense["expectedSupplyDuration"] =
                json!({ "value": days, "unit": "日", "system": "http://unitsofmeasure.org", "code": "d" });
        }
        r["dispenseRequest"] = dispense;
    }
    if let Some(n) = s(m, "notes") {
        r["note"] = json!([{ "text": n }]);
    }
    r
}

fn observation(doc: &Document, id: String, o: &Map<String, Value>) -> Value {
    let mut code = json!({ "text": s(o, "name") });
    let all = codings(o, None);
    if !all.is_empty() {
        code["coding"] = json!(all);
    }
    let mut r = json!({
        "resourceType": "Observation",
        "id": id,
        "meta": meta(Some("JP_Observation_Common"), None, false),
        "status": s(o, "status").unwrap_or("final"),
        "code": code,
        "subject": reference("Patient", &doc.patient_id),
    });
    if let Some(c) = s(o, "category") {
        r["category"] = json!([{ "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": c
        }] }]);
    }
    if let Some(e) = s(o, "effective") {
        r["effectiveDateTime"] = json!(e);
    }
    if let Some(q) = o.get("value_quantity") {
        r["valueQuantity"] = q.clone();
    } else if let Some(c) = o.get("value_code") {
        r["valueCodeableConcept"] = json!({ "coding": [c] });
    } else if let Some(v) = s(o, "value_string") {
        r["valueString"] = json!(v);
    }
    if let Some(list) = o.get("interpretation").and_then(Value::as_array) {
        r["interpretation"] = Value::Array(list.iter().map(|c| json!({ "coding": [c] })).collect());
    }
    if let Some(t) = s(o, "reference_range") {
        r["referenceRange"] = json!([{ "text": t }]);
    }
    if let Some(n) = s(o, "notes") {
        r["note"] = json!([{ "text": n }]);
    }
    r
}

/// The observations and infection results a document kept.
pub(super) fn observations(doc: &Document, out: &mut Vec<Derived>) {
    for (member, prefix) in [("observations", "obs"), ("infection_results", "iobs")] {
        for (i, o) in items(doc, member) {
            let r = observation(doc, derived_id(&doc.id, &format!("{prefix}{i}")), o);
            out.push(Derived {
                member: if prefix == "obs" { "observations" } else { "infection_results" },
                resource: r,
            });
        }
    }
}
