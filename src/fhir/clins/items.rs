//! One item from one entry: the inverse of what the guides' profiles hold, keeping every coding
//! as sent (a system we do not know is kept, not dropped), dates as precise as they were sent,
//! and the section and `fullUrl` the item came from.

use base64::Engine;
use serde_json::{Map, Value, json};

use super::{Errors, MEDIS_DISEASE, coding};
use crate::fhir::systems::{ICD10, ICD10_JP, YJ, YJ_JP};

/// Codings kept per concept (the schema's cap).
const MAX_CODINGS: usize = 20;

/// Keeps the profiles the sender claimed (of the Bundle and, for a document, its Composition), at
/// most ten, under `profiles`.
pub(super) fn put_profiles(o: &mut Map<String, Value>, claimed: &[&Value]) {
    let profiles: Vec<Value> =
        claimed.iter().filter_map(|p| p.as_array()).flatten().filter(|p| p.is_string()).take(10).cloned().collect();
    if !profiles.is_empty() {
        o.insert("profiles".into(), Value::Array(profiles));
    }
}

pub(super) fn put_str(o: &mut Map<String, Value>, key: &str, v: &Value) {
    if let Some(s) = v.as_str().filter(|s| !s.is_empty()) {
        o.insert(key.to_owned(), json!(s));
    }
}

fn put_num(o: &mut Map<String, Value>, key: &str, v: &Value) {
    if v.is_number() {
        o.insert(key.to_owned(), v.clone());
    }
}

/// One coding as kept: system, code, display, version.
fn one(c: &Value) -> Option<Value> {
    c["code"].as_str()?;
    let mut o = Map::new();
    for k in ["system", "code", "display", "version"] {
        put_str(&mut o, k, &c[k]);
    }
    Some(Value::Object(o))
}

fn codes(concept: &Value) -> Vec<Value> {
    concept["coding"].as_array().into_iter().flatten().filter_map(one).take(MAX_CODINGS).collect()
}

/// The concept's text, else its first display, else its first code.
fn name(concept: &Value) -> Option<String> {
    concept["text"]
        .as_str()
        .or_else(|| concept["coding"].as_array()?.iter().find_map(|c| c["display"].as_str()))
        .or_else(|| concept["coding"][0]["code"].as_str())
        .map(str::to_owned)
}

fn status(concept: &Value) -> &Value {
    &concept["coding"][0]["code"]
}

fn notes(r: &Value) -> Option<String> {
    let all: Vec<&str> = r["note"].as_array().into_iter().flatten().filter_map(|n| n["text"].as_str()).collect();
    (!all.is_empty()).then(|| all.join("\n"))
}

fn start(o: &mut Map<String, Value>, r: &Value, code: &str, full: Option<&str>) {
    if !code.is_empty() {
        o.insert("section".into(), json!(code));
    }
    if let Some(f) = full {
        o.insert("fhir_id".into(), json!(f));
    }
    if let Some(n) = notes(r) {
        o.insert("notes".into(), json!(n));
    }
}

fn icd10(concept: &Value) -> Option<&str> {
    let c = coding(concept, ICD10_JP).or_else(|| coding(concept, ICD10))?;
    c["code"].as_str().filter(|code| {
        let b = code.as_bytes();
        b.len() >= 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit()
    })
}

/// A full calendar day at the start of a FHIR date or dateTime, when it has one.
fn day(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    (s.len() >= 10).then(|| s[..10].to_owned())
}

fn coded_condition(r: &Value, o: &mut Map<String, Value>) {
    let code = &r["code"];
    o.insert("name".into(), json!(name(code).unwrap_or_else(|| "（病名なし）".into())));
    let all = codes(code);
    if !all.is_empty() {
        o.insert("codes".into(), Value::Array(all));
    }
    if let Some(medis) = coding(code, MEDIS_DISEASE) {
        put_str(o, "medis_code", &medis["code"]);
    }
    if let Some(icd) = icd10(code) {
        o.insert("icd10_code".into(), json!(icd));
    }
    put_str(o, "onset", &r["onsetDateTime"]);
    put_str(o, "clinical_status", status(&r["clinicalStatus"]));
    put_str(o, "verification_status", status(&r["verificationStatus"]));
}

/// A Condition: a diagnosis, complaint, present illness or past illness.
pub(super) fn condition(r: &Value, section: &str, full: Option<&str>) -> Value {
    let mut o = Map::new();
    start(&mut o, r, section, full);
    coded_condition(r, &mut o);
    // Prefix and suffix modifiers (左, 急性, …) sit as extensions on `code`.
    let mut modifiers = Vec::new();
    for e in r["code"]["extension"].as_array().into_iter().flatten() {
        let url = e["url"].as_str().unwrap_or_default();
        let position = if url.ends_with("SuffixModifier") { "suffix" } else { "prefix" };
        for c in e["valueCodeableConcept"]["coding"].as_array().into_iter().flatten().take(MAX_CODINGS) {
            if let Some(Value::Object(mut m)) = one(c) {
                m.remove("version");
                m.insert("position".into(), json!(position));
                modifiers.push(Value::Object(m));
            }
        }
    }
    if !modifiers.is_empty() {
        o.insert("modifiers".into(), Value::Array(modifiers));
    }
    if let Some(d) = day(&r["onsetDateTime"]) {
        o.insert("onset_date".into(), json!(d));
    }
    put_str(&mut o, "abatement", &r["abatementDateTime"]);
    put_str(&mut o, "recorded_date", &r["recordedDate"]);
    put_str(&mut o, "category", &r["category"][0]["coding"][0]["code"]);
    Value::Object(o)
}

/// A Condition of the infections section (感染症情報).
pub(super) fn infection(r: &Value, section: &str, full: Option<&str>) -> Value {
    let mut o = Map::new();
    start(&mut o, r, section, full);
    if let Some(n) = o.remove("notes") {
        o.insert("precautions".into(), n);
    }
    coded_condition(r, &mut o);
    let ours = match r["clinicalStatus"]["coding"][0]["code"].as_str() {
        Some("active" | "recurrence" | "relapse") => "active",
        Some("inactive" | "remission" | "resolved") => "resolved",
        _ => "unknown",
    };
    o.insert("status".into(), json!(ours));
    if let Some(d) = day(&r["onsetDateTime"]) {
        o.insert("detected_on".into(), json!(d));
    }
    Value::Object(o)
}

/// An AllergyIntolerance, its JFAGY (or any) codes kept.
pub(super) fn allergy(r: &Value, section: &str, full: Option<&str>) -> Value {
    let mut o = Map::new();
    start(&mut o, r, section, full);
    o.insert("substance".into(), json!(name(&r["code"]).unwrap_or_else(|| "（物質不明）".into())));
    let all = codes(&r["code"]);
    if !all.is_empty() {
        o.insert("codes".into(), Value::Array(all));
    }
    let category = match r["category"][0].as_str() {
        Some("medication") => Some("drug"),
        Some("food") => Some("food"),
        Some("environment") => Some("environmental"),
        Some(_) => Some("other"),
        None => None,
    };
    if let Some(c) = category {
        o.insert("category".into(), json!(c));
    }
    for (k, v) in [("type", &r["type"]), ("criticality", &r["criticality"])] {
        put_str(&mut o, k, v);
    }
    put_str(&mut o, "clinical_status", status(&r["clinicalStatus"]));
    put_str(&mut o, "verification_status", status(&r["verificationStatus"]));
    put_str(&mut o, "onset", &r["onsetDateTime"]);
    put_str(&mut o, "recorded_date", &r["recordedDate"]);
    let reaction = &r["reaction"][0];
    if let Some(text) = reaction["manifestation"].as_array().into_iter().flatten().find_map(name) {
        o.insert("reaction".into(), json!(text));
    }
    put_str(&mut o, "severity", &reaction["severity"]);
    Value::Object(o)
}

fn dosage(d: &Value) -> Value {
    let mut o = Map::new();
    put_str(&mut o, "text", &d["text"]);
    for (k, v) in [("timing", &d["timing"]["code"]), ("route", &d["route"]), ("method", &d["method"])] {
        if let Some(c) = v["coding"].get(0).and_then(one) {
            o.insert(k.into(), c);
        }
    }
    let rate = &d["doseAndRate"][0];
    put_num(&mut o, "dose_value", &rate["doseQuantity"]["value"]);
    put_str(&mut o, "dose_unit", &rate["doseQuantity"]["unit"]);
    put_str(&mut o, "dose_unit_code", &rate["doseQuantity"]["code"]);
    put_num(&mut o, "daily_dose_value", &rate["rateRatio"]["numerator"]["value"]);
    put_str(&mut o, "daily_dose_unit", &rate["rateRatio"]["numerator"]["unit"]);
    let bounds = &d["timing"]["repeat"]["boundsDuration"];
    if bounds["code"] == "d" || bounds["unit"] == "日" {
        put_num(&mut o, "duration_days", &bounds["value"]);
    }
    if let Some(b) = d["asNeededBoolean"].as_bool() {
        o.insert("as_needed".into(), json!(b));
    }
    Value::Object(o)
}

/// A MedicationRequest (a prescription) or MedicationStatement, its YJ, HOT (or any) codes and
/// the JP dosage structure kept; the dosage as sent is kept whole too.
pub(super) fn medication(r: &Value, section: &str, full: Option<&str>) -> Value {
    let mut o = Map::new();
    start(&mut o, r, section, full);
    let m = &r["medicationCodeableConcept"];
    o.insert("name".into(), json!(name(m).unwrap_or_else(|| "（薬剤名なし）".into())));
    let all = codes(m);
    if !all.is_empty() {
        o.insert("codes".into(), Value::Array(all));
    }
    let yj = coding(m, YJ_JP).or_else(|| coding(m, YJ)).and_then(|c| c["code"].as_str());
    if let Some(yj) = yj.filter(|c| c.len() == 12 && c.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())) {
        o.insert("yj_code".into(), json!(yj));
    }
    let hot = m["coding"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["system"].as_str().is_some_and(|s| s.contains("master-HOT")));
    if let Some(h) = hot {
        put_str(&mut o, "hot_code", &h["code"]);
    }
    let request = r["resourceType"] == "MedicationRequest";
    o.insert("request".into(), json!(request));
    put_str(&mut o, "status", &r["status"]);
    put_str(&mut o, "intent", &r["intent"]);
    put_str(&mut o, "authored_on", &r["authoredOn"]);
    let instructions = if request { &r["dosageInstruction"] } else { &r["dosage"] };
    if let Some(first) = instructions.get(0) {
        let mut d = dosage(first);
        d["fhir"] = json!(instructions.to_string());
        if let Some(text) = d["text"].as_str().or_else(|| d["timing"]["display"].as_str()) {
            o.insert("frequency".into(), json!(text));
        }
        if let (Some(v), Some(u)) = (d["dose_value"].as_f64(), d["dose_unit"].as_str()) {
            o.insert("dose".into(), json!(format!("{v}{u}")));
        }
        o.insert("dosage".into(), d);
    }
    let dispense = &r["dispenseRequest"];
    if dispense.is_object() {
        let mut d = Map::new();
        put_num(&mut d, "quantity", &dispense["quantity"]["value"]);
        put_str(&mut d, "unit", &dispense["quantity"]["unit"]);
        put_num(&mut d, "days", &dispense["expectedSupplyDuration"]["value"]);
        if !d.is_empty() {
            o.insert("dispense".into(), Value::Object(d));
        }
    }
    let rp = r["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["system"].as_str().is_some_and(|s| s.contains("rpNumber")));
    if let Some(rp) = rp {
        put_str(&mut o, "rp_number", &rp["value"]);
    }
    Value::Object(o)
}

/// An Observation: a lab result with its JLAC code and unit, a vital sign, a finding.
pub(super) fn observation(r: &Value, section: &str, full: Option<&str>) -> Value {
    let mut o = Map::new();
    start(&mut o, r, section, full);
    o.insert("name".into(), json!(name(&r["code"]).unwrap_or_else(|| "（項目名なし）".into())));
    let all = codes(&r["code"]);
    if !all.is_empty() {
        o.insert("codes".into(), Value::Array(all));
    }
    put_str(&mut o, "category", &r["category"][0]["coding"][0]["code"]);
    put_str(&mut o, "status", &r["status"]);
    let effective = r["effectiveDateTime"].as_str().or(r["effectivePeriod"]["start"].as_str());
    if let Some(e) = effective {
        o.insert("effective".into(), json!(e));
    }
    let q = &r["valueQuantity"];
    if q.is_object() {
        let mut v = Map::new();
        put_num(&mut v, "value", &q["value"]);
        for k in ["unit", "system", "code", "comparator"] {
            put_str(&mut v, k, &q[k]);
        }
        o.insert("value_quantity".into(), Value::Object(v));
    }
    put_str(&mut o, "value_string", &r["valueString"]);
    if let Some(c) = r["valueCodeableConcept"]["coding"].get(0).and_then(one) {
        o.insert("value_code".into(), c);
    } else {
        put_str(&mut o, "value_string", &r["valueCodeableConcept"]["text"]);
    }
    let interpretation: Vec<Value> = r["interpretation"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["coding"].get(0).and_then(one))
        .take(10)
        .collect();
    if !interpretation.is_empty() {
        o.insert("interpretation".into(), Value::Array(interpretation));
    }
    let range = &r["referenceRange"][0];
    let text = range["text"].as_str().map(str::to_owned).or_else(|| {
        let (low, high) = (&range["low"]["value"], &range["high"]["value"]);
        (low.is_number() || high.is_number()).then(|| format!("{low}-{high}").replace("null", ""))
    });
    if let Some(t) = text {
        o.insert("reference_range".into(), json!(t));
    }
    Value::Object(o)
}

/// Each attachment of a DocumentReference (a PDF of the clinical course, a referral letter's
/// scan): its data checked as base64 and fingerprinted; it is stored sealed with the document.
pub(super) fn attachments(r: &Value, section: &str, full: Option<&str>, at: &str, errors: &mut Errors) -> Vec<Value> {
    let mut out = Vec::new();
    for (k, c) in r["content"].as_array().into_iter().flatten().enumerate() {
        let a = &c["attachment"];
        let mut o = Map::new();
        if !section.is_empty() {
            o.insert("section".into(), json!(section));
        }
        if let Some(f) = full {
            o.insert("fhir_id".into(), json!(f));
        }
        let Some(kind) = a["contentType"].as_str() else {
            errors.add(
                format!("{at}.content[{k}].attachment.contentType"),
                "the guide gives every attachment its contentType (application/pdf)",
            );
            continue;
        };
        o.insert("content_type".into(), json!(kind));
        let title = a["title"].as_str().or(r["description"].as_str());
        o.insert("title".into(), json!(title.unwrap_or("添付文書")));
        put_str(&mut o, "description", &r["description"]);
        put_str(&mut o, "url", &a["url"]);
        put_str(&mut o, "creation", &a["creation"]);
        if let Some(t) = r["type"]["coding"].get(0).and_then(one) {
            o.insert("type".into(), t);
        }
        if let Some(data) = a["data"].as_str() {
            match base64::engine::general_purpose::STANDARD.decode(data.trim()) {
                Ok(bytes) => {
                    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
                    o.insert("size".into(), json!(bytes.len()));
                    o.insert("sha256".into(), json!(crate::crypto::keyfile::hex(digest.as_ref())));
                    o.insert("data".into(), json!(data.trim()));
                }
                Err(_) => {
                    errors.add(format!("{at}.content[{k}].attachment.data"), "attachment data must be base64");
                    continue;
                }
            }
        }
        out.push(Value::Object(o));
    }
    out
}

/// An entry carepath has no item shape for, kept as sent.
pub(super) fn other(r: &Value, section: &str, full: Option<&str>) -> Value {
    let mut o = Map::new();
    o.insert("resource_type".into(), json!(r["resourceType"].as_str().unwrap_or("Resource")));
    if !section.is_empty() {
        o.insert("section".into(), json!(section));
    }
    if let Some(f) = full {
        o.insert("fhir_id".into(), json!(f));
    }
    o.insert("json".into(), json!(r.to_string()));
    Value::Object(o)
}
