//! In: the national documents of the 電子カルテ情報共有サービス (JP-CLINS), FHIR R4 `document`
//! Bundles shaped by the JAMI working group's guides on JP Core: 診療情報提供書 (eReferral,
//! doc-typecodes `57133-1`), 退院時サマリー (eDischargeSummary, `18842-5`) and the patient
//! summary (ePCS, `56447-6`). Each becomes a carepath document of its own type
//! (`referral-letter`, `discharge-summary` 1.1.0, `patient-summary`) kept whole: the Bundle
//! exactly as received (sealed, restricted), the sender and addressee, every section as sent
//! (nested under 構造情報 300, unknown codes kept as narrative), and every entry as an item that
//! keeps its codes and systems (MEDIS, ICD-10, JFAGY, YJ, HOT, JLAC, any other), partial dates
//! and all. Entries carepath has no item shape for are kept as sent (`other_entries`).
//!
//! The walk is linear and capped as `inbound`'s is (entries, sections, references, errors), and
//! what cannot be filed is a 422 located FHIRPath-style with what the guide expects.

mod collection;
mod items;
mod party;
mod walk;

pub mod document;

use serde_json::{Map, Value, json};

use super::inbound::{COMPOSITION, Entries, MAX_ERRORS, Mapped};
use crate::domain::documents::DocumentInput;
use crate::error::{ApiError, FieldError};

/// The document types of JP-CLINS (`Composition.type`).
pub const DOC_TYPECODES: &str = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";
/// JP-CLINS' section codes (the eReferral guide's own system, older, says the same codes).
pub const SECTION_SYSTEM: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";
/// JP-CLINS' Bundle identifier: `医療機関番号^年^ID`.
pub const BUNDLE_IDENTIFIER: &str = "http://jpfhir.jp/fhir/clins/bundle-identifier";
/// MEDIS 病名管理番号 and its modifiers (修飾語管理番号).
pub const MEDIS_DISEASE: &str = "http://medis.or.jp/CodeSystem/master-disease-keyNumber";
pub const MEDIS_MODIFIER: &str = "http://medis.or.jp/CodeSystem/master-disease-modKeyNumber";

/// One JP-CLINS document type and the carepath type it is kept as.
#[derive(Debug)]
pub struct Kind {
    pub code: &'static str,
    pub doc_type: &'static str,
    pub version: &'static str,
    pub title: &'static str,
}

/// The document types taken.
pub const KINDS: &[Kind] = &[
    Kind { code: "57133-1", doc_type: "referral-letter", version: "1.0.0", title: "診療情報提供書" },
    Kind { code: "18842-5", doc_type: "discharge-summary", version: "1.1.0", title: "退院時サマリー" },
    Kind { code: "56447-6", doc_type: "patient-summary", version: "1.0.0", title: "患者サマリー" },
];

/// Every section code of the JP-CLINS code system (v1.4.0); another code is kept as narrative.
const KNOWN_SECTIONS: &[&str] = &[
    "200", "210", "220", "230", "300", "312", "322", "324", "330", "333", "340", "342", "344", "352", "360", "370",
    "410", "420", "422", "424", "430", "432", "444", "510", "520", "530", "550", "610", "612", "614", "620", "623",
    "640", "713", "720", "730", "740", "810", "830", "910", "920", "950",
];

/// The first coding of `concept` whose system ends with `system`.
pub(crate) fn coding<'a>(concept: &'a Value, system: &str) -> Option<&'a Value> {
    concept["coding"].as_array()?.iter().find(|c| c["system"].as_str().is_some_and(|s| s.ends_with(system)))
}

/// Whether `bundle` is a JP-CLINS document, and of which kind: read off the first entry's
/// `Composition.type` alone (a `collection` without a Composition is clinical information), so it is cheap enough to decide before the caller is admitted.
/// `Err` names a doc-typecodes type this server does not take.
pub fn detect(bundle: &Value) -> Result<Option<&'static Kind>, ApiError> {
    let composition = &bundle["entry"][0]["resource"];
    // A collection of clinical information has no Composition to name a type: it is one itself.
    if bundle["type"] == "collection" && composition["resourceType"] != "Composition" {
        return Ok(Some(&collection::KIND));
    }
    // Our own Compositions name the JP-CLINS type too; our own type system says they are ours.
    if coding(&composition["type"], "/CodeSystem/document-type").is_some() {
        return Ok(None);
    }
    let Some(c) = coding(&composition["type"], "/doc-typecodes") else { return Ok(None) };
    let code = c["code"].as_str().unwrap_or_default();
    match KINDS.iter().find(|k| k.code == code) {
        Some(kind) => Ok(Some(kind)),
        None => Err(ApiError::field(
            format!("{COMPOSITION}.type"),
            format!(
                "doc-typecodes {code:?} is not a document type this server takes: 57133-1 (診療情報提供書), 18842-5 (退院時サマリー), 56447-6 (患者サマリー)"
            ),
        )),
    }
}

/// Errors, capped at [`MAX_ERRORS`].
pub(crate) struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn add(&mut self, at: impl Into<String>, message: impl Into<String>) {
        if self.0.len() < MAX_ERRORS {
            self.0.push(FieldError { pointer: at.into(), message: message.into() });
        }
    }

    pub fn full(&self) -> bool {
        self.0.len() >= MAX_ERRORS
    }
}

/// The Bundle's identifier as the guide writes it, or why not.
fn identifier(bundle: &Value, errors: &mut Errors) -> (String, Option<String>) {
    let system = bundle["identifier"]["system"].as_str();
    let Some(value) = bundle["identifier"]["value"].as_str().filter(|v| !v.is_empty()) else {
        errors.add("Bundle.identifier", "the guide requires Bundle.identifier (bundle-identifier: 医療機関番号^年^ID): imports are idempotent on it");
        return (String::new(), None);
    };
    if system == Some(BUNDLE_IDENTIFIER) {
        let parts: Vec<&str> = value.splitn(3, '^').collect();
        let shaped = parts.len() == 3
            && parts[0].len() == 10
            && parts[0].bytes().all(|b| b.is_ascii_digit())
            && parts[1].len() == 4
            && parts[1].bytes().all(|b| b.is_ascii_digit())
            && !parts[2].is_empty();
        if !shaped {
            errors.add(
                "Bundle.identifier.value",
                "the guide's bundle-identifier is 医療機関番号 (10 digits) ^ year (4 digits) ^ document id",
            );
        }
    }
    (format!("{}|{value}", system.unwrap_or_default()), Some(value.to_owned()))
}

fn source(bundle: &Value, composition: &Value, kind: &Kind, id: Option<String>) -> Value {
    let mut s = Map::new();
    s.insert("format".into(), json!("jp-clins"));
    s.insert("bundle_type".into(), json!("document"));
    s.insert("bundle_identifier".into(), json!(id));
    items::put_str(&mut s, "bundle_identifier_system", &bundle["identifier"]["system"]);
    items::put_profiles(&mut s, &[&bundle["meta"]["profile"], &composition["meta"]["profile"]]);
    s.insert("doc_type_code".into(), json!(kind.code));
    if let Some(c) = composition["category"][0]["coding"][0]["code"].as_str() {
        s.insert("category_code".into(), json!(c));
    }
    items::put_str(&mut s, "composition_identifier", &composition["identifier"]["value"]);
    let version = composition["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["url"].as_str().is_some_and(|u| u.ends_with("versionNumber")));
    if let Some(v) = version {
        items::put_str(&mut s, "version_number", &v["valueString"]);
    }
    items::put_str(&mut s, "title", &composition["title"]);
    items::put_str(&mut s, "date", &composition["date"]);
    items::put_str(&mut s, "timestamp", &bundle["timestamp"]);
    items::put_str(&mut s, "event_start", &composition["event"][0]["period"]["start"]);
    items::put_str(&mut s, "event_end", &composition["event"][0]["period"]["end"]);
    Value::Object(s)
}

/// Maps a JP-CLINS document Bundle (`raw` is its text exactly as received) to the document
/// it is kept as, or every reason it cannot be, each located FHIRPath-style.
pub fn map(bundle: &Value, raw: &str, entries: &Entries<'_>, kind: &'static Kind) -> Result<Mapped, ApiError> {
    if std::ptr::eq(kind, &collection::KIND) {
        return collection::map(bundle, raw, entries);
    }
    let mut errors = Errors(Vec::new());
    if bundle["type"] != "document" {
        errors.add("Bundle.type", "a JP-CLINS document Bundle has type document");
    }
    let (key, id) = identifier(bundle, &mut errors);
    let composition = &entries.list[0]["resource"];
    let mut walk = walk::Walk::new(entries, kind, errors);
    walk.composition(composition);
    let walk::Walk { mut content, located, mut errors, .. } = walk;
    content.insert("source".into(), source(bundle, composition, kind, id));
    content.insert("source_bundle".into(), Value::String(raw.to_owned()));
    walk::finish(kind, composition, entries, &mut content, &mut errors);
    if !errors.0.is_empty() {
        return Err(ApiError::Validation(errors.0));
    }
    let input = DocumentInput {
        doc_type: kind.doc_type.into(),
        schema_version: kind.version.into(),
        content: Value::Object(content),
    };
    Ok(Mapped { input, identifier: key, sections: located })
}

/// Whether the section code is one of JP-CLINS'.
pub(crate) fn known_section(code: &str) -> bool {
    KNOWN_SECTIONS.contains(&code)
}

/// The notice a received document leaves in its addressee's inbox, when it names one.
pub fn notice<'a>(
    input: &'a DocumentInput,
    document_id: &str,
    patient_id: &'a str,
) -> Option<crate::domain::coordination::notice::Notice<'a>> {
    use crate::domain::coordination::Category;
    let c = &input.content;
    let to_name = c["addressee"]["organization"]["name"].as_str()?;
    let kind = KINDS.iter().find(|k| k.doc_type == input.doc_type)?;
    let from = &c["sender"];
    let sender = [&from["organization"]["name"], &from["organization"]["department"], &from["practitioner"]["name"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let mut body = format!("{}が届きました（{sender} → {to_name}）。", kind.title);
    if let Some(purpose) = c["referral_purpose"].as_str() {
        body.push_str(&format!("\n紹介目的: {purpose}"));
    }
    body.push_str(&format!("\n文書: /v1/documents/{document_id}"));
    let body: String = body.chars().take(4000).collect();
    let category = match input.doc_type.as_str() {
        "discharge-summary" => Category::Discharge,
        "referral-letter" => Category::Request,
        _ => Category::Report,
    };
    Some(crate::domain::coordination::notice::Notice { patient_id, to_name, category, body })
}
