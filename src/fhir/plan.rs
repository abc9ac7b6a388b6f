//! CarePlan from a care path (地域連携パス): the current one active, earlier ones completed.

use serde_json::{Value, json};

use super::derived::Derived;
use super::{meta, ours, reference, writer};
use crate::domain::documents::Document;

/// The id of the care path that counts now: the most recently changed live one.
pub fn current_care_path(documents: &[Document]) -> Option<&str> {
    documents
        .iter()
        .filter(|d| d.doc_type == "care-path" && !d.deleted)
        .max_by(|a, b| a.updated_at.cmp(&b.updated_at).then(a.id.cmp(&b.id)))
        .map(|d| d.id.as_str())
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The care path as a CarePlan: conditions it addresses, medications and allergies as supporting
/// information, services and home procedures as activities, the care team, and the rest of the
/// content as notes (one per member, `member: value`).
pub fn care_plan(doc: &Document, current: bool, derived: &[Derived], with_team: bool) -> Value {
    let c = &doc.content;
    let addresses: Vec<Value> =
        derived.iter().filter(|d| matches!(d.member, "diagnoses" | "infections")).map(Derived::reference).collect();
    let supporting: Vec<Value> =
        derived.iter().filter(|d| !matches!(d.member, "diagnoses" | "infections")).map(Derived::reference).collect();
    let mut activities = Vec::new();
    for s in c.get("services_in_use").and_then(Value::as_array).into_iter().flatten() {
        let description = [s.get("service"), s.get("provider"), s.get("frequency")]
            .into_iter()
            .filter_map(text)
            .collect::<Vec<_>>()
            .join(" / ");
        activities.push(json!({ "detail": {
            "code": { "coding": [ours("activity", "service")], "text": text(s.get("service")) },
            "status": "in-progress",
            "description": description,
        }}));
    }
    for p in c.get("home_procedures").and_then(Value::as_array).into_iter().flatten() {
        let kind = p.get("kind").and_then(Value::as_str).unwrap_or("other");
        let mut detail = json!({
            "code": { "coding": [ours("home-procedure", kind)] },
            "status": "in-progress",
        });
        if let Some(d) = text(p.get("detail")) {
            detail["description"] = json!(d);
        }
        activities.push(json!({ "detail": detail }));
    }
    let mapped = [
        "diagnoses",
        "medical_history",
        "infections",
        "medications",
        "allergies",
        "services_in_use",
        "home_procedures",
    ];
    let notes: Vec<Value> = c
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !mapped.contains(&k.as_str()))
        .filter_map(|(k, v)| text(Some(v)).map(|t| json!({ "text": format!("{k}: {t}") })))
        .collect();
    let mut r = json!({
        "resourceType": "CarePlan",
        "id": doc.id,
        "meta": meta(None, Some(&doc.updated_at), !doc.withheld.is_empty()),
        "identifier": [{ "system": format!("{}/sid/document", super::OURS), "value": doc.id }],
        "status": if doc.deleted { "revoked" } else if current { "active" } else { "completed" },
        "intent": "plan",
        "category": [{ "coding": [ours("document-type", "care-path")] }],
        "title": "地域連携パス",
        "subject": reference("Patient", &doc.patient_id),
        "created": doc.created_at,
        "author": writer(&doc.created_by),
    });
    if let Some(period) = c.get("certification_period") {
        r["period"] = json!({ "start": period.get("start"), "end": period.get("end") });
    }
    if with_team {
        r["careTeam"] = json!([reference("CareTeam", &doc.patient_id)]);
    }
    for (key, list) in
        [("addresses", addresses), ("supportingInfo", supporting), ("activity", activities), ("note", notes)]
    {
        if !list.is_empty() {
            r[key] = json!(list);
        }
    }
    r
}
