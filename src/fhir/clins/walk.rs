//! The walk over a JP-CLINS Composition: every section in order, nested ones under 構造情報
//! (300) included, each kept as sent (code, title, narrative, entry references), and every entry
//! it references filed once as an item of the member its resource type and section say.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::{Errors, Kind, items, known_section, party};
use crate::fhir::inbound::{COMPOSITION, Entries, MAX_REFERENCES, MAX_SECTIONS, text_of};

/// Sections nest at most this deep (the guides use two levels).
const MAX_DEPTH: usize = 4;

pub(super) struct Walk<'a> {
    entries: &'a Entries<'a>,
    kind: &'static Kind,
    pub errors: Errors,
    pub content: Map<String, Value>,
    /// Content pointer (`/diagnoses/2`) → the FHIRPath it came from, to locate schema errors.
    pub located: Vec<(String, String)>,
    sections: usize,
    references: usize,
    filed: HashSet<usize>,
}

impl<'a> Walk<'a> {
    pub fn new(entries: &'a Entries<'a>, kind: &'static Kind, errors: Errors) -> Self {
        Self {
            entries,
            kind,
            errors,
            content: Map::new(),
            located: Vec::new(),
            sections: 0,
            references: 0,
            filed: HashSet::new(),
        }
    }

    pub fn composition(&mut self, composition: &Value) {
        let mut out = Vec::new();
        for (i, s) in composition["section"].as_array().into_iter().flatten().enumerate() {
            if let Some(v) = self.section(s, format!("{COMPOSITION}.section[{i}]"), 0) {
                out.push(v);
            }
        }
        if !out.is_empty() {
            self.located.push(("/sections".into(), format!("{COMPOSITION}.section")));
            self.content.insert("sections".into(), Value::Array(out));
        }
    }

    fn section(&mut self, s: &Value, at: String, depth: usize) -> Option<Value> {
        self.sections += 1;
        if self.sections > MAX_SECTIONS || depth > MAX_DEPTH || self.errors.full() {
            if self.sections == MAX_SECTIONS + 1 || depth == MAX_DEPTH + 1 {
                self.errors.add(at, format!("at most {MAX_SECTIONS} sections in all, nested at most {MAX_DEPTH} deep"));
            }
            return None;
        }
        let coding = super::coding(&s["code"], "/document-section");
        let code = coding.and_then(|c| c["code"].as_str());
        let title = s["title"].as_str().or_else(|| coding.and_then(|c| c["display"].as_str())).or(code);
        let Some(title) = title.filter(|t| !t.trim().is_empty()) else {
            self.errors.add(
                format!("{at}.code"),
                "the guide gives every section a code of http://jpfhir.jp/fhir/clins/CodeSystem/document-section and a title",
            );
            return None;
        };
        let mut out = Map::new();
        out.insert("title".into(), json!(title));
        let code = code.unwrap_or_default();
        if !code.is_empty() {
            out.insert("code".into(), json!(code));
            items::put_str(&mut out, "system", &coding.map_or(Value::Null, |c| c["system"].clone()));
            // A code we do not know is kept as narrative, never refused.
            out.insert("known".into(), json!(known_section(code)));
        }
        let text = text_of(s["text"]["div"].as_str().unwrap_or_default());
        if !text.is_empty() {
            out.insert("text".into(), json!(text));
            self.narrative(code, &text);
        }
        items::put_str(&mut out, "empty_reason", &s["emptyReason"]["coding"][0]["code"]);
        let refs: Vec<&Value> = s["entry"].as_array().into_iter().flatten().collect();
        if !refs.is_empty() {
            let mut kept = Vec::new();
            for (j, r) in refs.iter().enumerate() {
                self.references += 1;
                if self.references > MAX_REFERENCES {
                    if self.references == MAX_REFERENCES + 1 {
                        self.errors
                            .add(format!("{at}.entry"), format!("at most {MAX_REFERENCES} entry references in all"));
                    }
                    break;
                }
                let Some(reference) = r["reference"].as_str() else {
                    self.errors.add(format!("{at}.entry[{j}]"), "an entry reference needs its reference");
                    continue;
                };
                kept.push(json!(reference));
                match self.entries.resolve(reference) {
                    Some((i, resource)) => self.file(code, i, resource),
                    None => self.errors.add(
                        format!("{at}.entry[{j}]"),
                        format!(
                            "{reference} is not in the Bundle: the guide has every referenced resource as an entry"
                        ),
                    ),
                }
            }
            out.insert("entries".into(), Value::Array(kept));
        }
        let mut nested = Vec::new();
        for (k, sub) in s["section"].as_array().into_iter().flatten().enumerate() {
            if let Some(v) = self.section(sub, format!("{at}.section[{k}]"), depth + 1) {
                nested.push(v);
            }
        }
        if !nested.is_empty() {
            out.insert("sections".into(), Value::Array(nested));
        }
        Some(Value::Object(out))
    }

    /// Sections whose narrative is a member of its own (when no entry filled it).
    fn narrative(&mut self, code: &str, text: &str) {
        let member = match (code, self.kind.doc_type) {
            ("550", _) => "family_history",
            ("330", _) => "clinical_course",
            ("333", "discharge-summary") => "course_in_hospital",
            ("333", _) => "clinical_course",
            ("220", _) => "remarks",
            ("950", _) => "referral_purpose",
            ("312", "discharge-summary") => "reason_for_admission",
            ("422", "patient-summary") => "plan_summary",
            _ => return,
        };
        if let Some(Value::String(before)) = self.content.get_mut(member) {
            before.push('\n');
            before.push_str(text);
        } else {
            self.content.insert(member.into(), json!(text));
        }
    }

    fn push(&mut self, member: &str, item: Value, i: usize) {
        let list = self.content.entry(member.to_owned()).or_insert_with(|| json!([]));
        if let Value::Array(list) = list {
            self.located.push((format!("/{member}/{}", list.len()), format!("Bundle.entry[{i}].resource")));
            list.push(item);
        }
    }

    /// Files the entry `i` referenced from section `code`, once however often it is referenced.
    fn file(&mut self, code: &str, i: usize, r: &Value) {
        let kind = r["resourceType"].as_str().unwrap_or_default();
        if matches!((code, kind), ("920" | "910", "Organization" | "Practitioner" | "PractitionerRole")) {
            let member = if code == "920" { "sender" } else { "addressee" };
            party::add(&mut self.content, member, r, self.entries);
            return;
        }
        if !self.filed.insert(i) {
            return;
        }
        let at = format!("Bundle.entry[{i}].resource");
        let full = self.entries.list[i]["fullUrl"].as_str();
        let discharge = self.kind.doc_type == "discharge-summary";
        match (kind, code) {
            ("Condition", "520") => self.push("infections", items::infection(r, code, full), i),
            ("Condition", _) => self.push("diagnoses", items::condition(r, code, full), i),
            ("AllergyIntolerance", _) => self.push("allergies", items::allergy(r, code, full), i),
            ("MedicationRequest" | "MedicationStatement", "444") if discharge => {
                self.push("medications_at_discharge", items::medication(r, code, full), i);
            }
            ("MedicationRequest" | "MedicationStatement", _) => {
                self.push("medications", items::medication(r, code, full), i);
            }
            ("Observation", "520") => self.push("infection_results", items::observation(r, code, full), i),
            ("Observation", _) => self.push("observations", items::observation(r, code, full), i),
            ("DocumentReference", _) => {
                for a in items::attachments(r, code, full, &at, &mut self.errors) {
                    self.push("attachments", a, i);
                }
            }
            ("Encounter", "950") => {
                let why: Vec<&str> = r["reasonCode"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["text"].as_str().or_else(|| c["coding"][0]["display"].as_str()))
                    .collect();
                if !why.is_empty() && !self.content.contains_key("referral_purpose") {
                    self.content.insert("referral_purpose".into(), json!(why.join("\n")));
                }
                self.push("other_entries", items::other(r, code, full), i);
            }
            ("CarePlan", "422") => {
                let text = r["description"]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| r["text"]["div"].as_str().map(text_of).filter(|t| !t.is_empty()));
                if let Some(text) = text.filter(|_| self.kind.doc_type == "patient-summary") {
                    self.narrative("422", &text);
                }
                self.push("other_entries", items::other(r, code, full), i);
            }
            _ => self.push("other_entries", items::other(r, code, full), i),
        }
    }
}

/// What the document type needs beyond the sections: the sender from the Composition's author
/// when no 920 section named one, the dates, and a discharge summary's required members.
pub(super) fn finish(
    kind: &Kind,
    composition: &Value,
    entries: &Entries<'_>,
    content: &mut Map<String, Value>,
    errors: &mut Errors,
) {
    if !content.contains_key("sender") {
        let refs =
            composition["author"].as_array().into_iter().flatten().chain(std::iter::once(&composition["custodian"]));
        for r in refs {
            if let Some((_, resource)) = r["reference"].as_str().and_then(|x| entries.resolve(x)) {
                party::add(content, "sender", resource, entries);
            }
        }
    }
    let encounter = composition["encounter"]["reference"].as_str().and_then(|r| entries.resolve(r)).map(|(_, e)| e);
    let period = encounter.map_or(&Value::Null, |e| &e["period"]);
    let event = &composition["event"][0]["period"];
    match kind.doc_type {
        "referral-letter" => {
            if !content.contains_key("sender") {
                errors.add(
                    format!("{COMPOSITION}.section"),
                    "the guide names the referring organisation and doctor in section 920 (紹介元情報)",
                );
            }
            let issued = event["start"].as_str().or(composition["date"].as_str());
            if let Some(day) = issued {
                content.insert("issued_on".into(), json!(day));
            }
        }
        "discharge-summary" => {
            let name = content.get("sender").and_then(|s| s["organization"]["name"].as_str()).map(str::to_owned);
            match name {
                Some(name) => {
                    let mut hospital = json!({ "name": name });
                    if let Some(d) = content.get("sender").and_then(|s| s["organization"]["department"].as_str()) {
                        hospital["department"] = json!(d);
                    }
                    content.insert("hospital".into(), hospital);
                }
                None => errors.add(
                    format!("{COMPOSITION}.author"),
                    "the guide names the discharging hospital as an author or custodian Organization with a name",
                ),
            }
            if let Some(name) =
                content.get("sender").and_then(|s| s["practitioner"]["name"].as_str()).map(str::to_owned)
            {
                content.insert("attending_physician".into(), json!({ "name": name }));
            }
            for (member, end) in [("admission_date", "start"), ("discharge_date", "end")] {
                let day = period[end].as_str().or(event[end].as_str()).map(|d| d.chars().take(10).collect::<String>());
                match day.filter(|d| d.len() == 10) {
                    Some(d) => {
                        content.insert(member.into(), json!(d));
                    }
                    None => errors.add(
                        format!("{COMPOSITION}.encounter"),
                        format!("the guide gives the hospital stay as the Encounter's period ({end}: a full date)"),
                    ),
                }
            }
            content.entry("diagnoses").or_insert_with(|| json!([]));
        }
        _ => {}
    }
}
