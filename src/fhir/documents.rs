//! Composition and DocumentReference for the documents that are not care paths: discharge
//! summaries, visiting-nursing reports, contact sheets, end-of-life records.

use base64::Engine;
use serde_json::{Value, json};

use super::derived::Derived;
use super::{OURS, meta, ours, reference, writer, xhtml};
use crate::domain::documents::Document;

const LOINC: &str = "http://loinc.org";
const EMPTY_REASON: &str = "http://terminology.hl7.org/CodeSystem/list-empty-reason";

/// LOINC document type and Japanese title of each of our types.
pub fn type_of(doc_type: &str) -> (Option<(&'static str, &'static str)>, &'static str) {
    match doc_type {
        "discharge-summary" => (Some(("18842-5", "Discharge summary")), "退院時サマリー"),
        "referral-letter" => (Some(("57133-1", "Referral note")), "診療情報提供書"),
        "patient-summary" => (Some(("56447-6", "Plan of care note")), "患者サマリー"),
        "visiting-nursing-report" => (Some(("34746-8", "Nurse Note")), "訪問看護報告書"),
        "contact-sheet" => (Some(("11488-4", "Consult note")), "連絡票"),
        "care-path" => (Some(("18776-5", "Plan of care note")), "地域連携パス"),
        "end-of-life-record" => (None, "看取りの記録"),
        "clinical-information" => (None, "臨床情報"),
        _ => (None, "文書"),
    }
}

fn doc_type_concept(doc_type: &str) -> Value {
    let (loinc, title) = type_of(doc_type);
    let mut codings = vec![ours("document-type", doc_type)];
    if let Some((code, display)) = loinc {
        codings.insert(0, json!({ "system": LOINC, "code": code, "display": display }));
        // JP-CLINS names its three document types by the same codes in a system of its own.
        if matches!(doc_type, "discharge-summary" | "referral-letter" | "patient-summary") {
            codings.insert(0, json!({ "system": super::clins::DOC_TYPECODES, "code": code, "display": title }));
        }
    }
    json!({ "coding": codings, "text": title })
}

/// A content member as narrative text: strings as they are, anything else as compact JSON.
pub fn member_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The Bundle a JP-CLINS document came in is served whole by `Composition/{id}/$document`, not
/// repeated in every view of the document.
const SERVED_WHOLE: &str = "source_bundle";

/// What an attachments member says in narrative: titles and sizes, not the bytes.
fn attachments_text(v: &Value) -> String {
    let lines: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            format!(
                "{} ({}, {} bytes)",
                a["title"].as_str().unwrap_or("添付"),
                a["content_type"].as_str().unwrap_or("?"),
                a["size"].as_u64().unwrap_or(0)
            )
        })
        .collect();
    lines.join("\n")
}

/// The document as a Composition: one section per content member (its code is the member's
/// name), the resources derived from a member as that section's entries, and one empty section
/// with reason `withheld` for each member withheld from the reader.
pub fn composition(doc: &Document, derived: &[Derived]) -> Value {
    let mut sections: Vec<Value> = Vec::new();
    for (key, value) in doc.content.as_object().into_iter().flatten() {
        if key == SERVED_WHOLE {
            continue;
        }
        let text = if key == "attachments" { attachments_text(value) } else { member_text(value) };
        let mut section = json!({
            "title": key,
            "code": { "coding": [ours("document-section", key)] },
            "text": { "status": "generated", "div": xhtml(&text) },
        });
        let entries: Vec<Value> = derived.iter().filter(|d| d.member == key).map(Derived::reference).collect();
        if !entries.is_empty() {
            section["entry"] = json!(entries);
        }
        sections.push(section);
    }
    for pointer in &doc.withheld {
        sections.push(json!({
            "title": pointer,
            "code": { "coding": [ours("document-section", pointer.trim_start_matches('/'))] },
            "text": { "status": "generated", "div": xhtml("この項目は閲覧権限がないため表示されません (withheld)") },
            "emptyReason": { "coding": [{ "system": EMPTY_REASON, "code": "withheld" }] },
        }));
    }
    let (_, title) = type_of(&doc.doc_type);
    let mut r = json!({
        "resourceType": "Composition",
        "id": doc.id,
        "meta": meta(None, Some(&doc.updated_at), !doc.withheld.is_empty()),
        "identifier": { "system": format!("{OURS}/sid/document"), "value": format!("{}/{}", doc.id, doc.version) },
        "status": if doc.deleted { "entered-in-error" } else { "final" },
        "type": doc_type_concept(&doc.doc_type),
        "subject": reference("Patient", &doc.patient_id),
        "date": doc.updated_at,
        "author": [writer(&doc.updated_by)],
        "title": title,
    });
    if doc.doc_type == "discharge-summary" {
        let c = &doc.content;
        if let (Some(start), Some(end)) = (c.get("admission_date"), c.get("discharge_date")) {
            r["event"] = json!([{ "period": { "start": start, "end": end } }]);
        }
    }
    if !sections.is_empty() {
        r["section"] = json!(sections);
    }
    r
}

/// The document as a DocumentReference: the content as the caller reads it (withheld members
/// absent), attached as JSON, and where our API serves it.
pub fn document_reference(doc: &Document) -> Value {
    let mut content = doc.content.clone();
    if let Some(o) = content.as_object_mut() {
        o.remove(SERVED_WHOLE);
    }
    let data = base64::engine::general_purpose::STANDARD.encode(content.to_string());
    let mut r = json!({
        "resourceType": "DocumentReference",
        "id": doc.id,
        "meta": meta(None, Some(&doc.updated_at), !doc.withheld.is_empty()),
        "masterIdentifier": { "system": format!("{OURS}/sid/document"), "value": format!("{}/{}", doc.id, doc.version) },
        "status": if doc.deleted { "entered-in-error" } else { "current" },
        "type": doc_type_concept(&doc.doc_type),
        "subject": reference("Patient", &doc.patient_id),
        "date": doc.updated_at,
        "author": [writer(&doc.updated_by)],
        "description": format!("{} {} (schema {})", doc.doc_type, doc.id, doc.schema_version),
        "content": [{
            "attachment": {
                "contentType": "application/json",
                "url": format!("/v1/documents/{}", doc.id),
                "data": data,
                "title": type_of(&doc.doc_type).1,
                "creation": doc.created_at,
            },
            "format": { "system": format!("{OURS}/CodeSystem/schema"), "code": format!("{}/{}", doc.doc_type, doc.schema_version) },
        }],
        "context": { "related": [reference("Composition", &doc.id)] },
    });
    // Each attached document (a PDF a JP-CLINS document carried) as a content of its own.
    for a in doc.content.get("attachments").and_then(Value::as_array).into_iter().flatten() {
        let mut attachment = json!({ "contentType": a["content_type"], "title": a["title"] });
        for (ours, theirs) in [("data", "data"), ("url", "url"), ("creation", "creation")] {
            if a[ours].is_string() {
                attachment[theirs] = a[ours].clone();
            }
        }
        if let Some(size) = a["size"].as_u64() {
            attachment["size"] = json!(size);
        }
        if let Some(content) = r["content"].as_array_mut() {
            content.push(json!({ "attachment": attachment }));
        }
    }
    r
}
