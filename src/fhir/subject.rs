//! Whose document is this? A document Bundle names its patient (`Composition.subject`, a Patient
//! entry); filing it under another patient is a patient-safety error, so the Bundle's patient is
//! compared with the one it is posted to, field by field, before anything is stored. A Bundle
//! without its patient is refused too: "no patient named" must not mean "any patient".

use serde_json::Value;

use super::inbound::{COMPOSITION, Entries};
use super::people::{INSURANCE_MEMBER_ID, INSURED_PERSON, REPRESENTATION, gender};
use crate::domain::identity::Identity;
use crate::domain::patients::Patient;
use crate::error::FieldError;

/// Names compare without their spaces (half- or full-width) and ignoring ASCII case.
fn normal(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

/// The text of a HumanName: `text`, else family and given joined.
fn name_text(name: &Value) -> Option<String> {
    if let Some(text) = name["text"].as_str() {
        return Some(normal(text));
    }
    let family = name["family"].as_str().unwrap_or_default();
    let given: String = name["given"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let joined = normal(&format!("{family}{given}"));
    (!joined.is_empty()).then_some(joined)
}

fn representation(name: &Value) -> Option<&str> {
    name["extension"].as_array()?.iter().find(|e| e["url"] == REPRESENTATION)?["valueCode"].as_str()
}

/// The differences between the Bundle's patient and `target`, each located at the Bundle's
/// field; empty when they are the same person by every field both sides hold. Name, birth date
/// and sex are required of the Bundle; identifiers are compared where both sides have them.
pub fn mismatches(entries: &Entries<'_>, target: &Patient) -> Vec<FieldError> {
    let subject = format!("{COMPOSITION}.subject");
    let composition = entries.list.first().map_or(&Value::Null, |e| &e["resource"]);
    let (i, patient) = if composition["resourceType"] == "Composition" {
        let Some(reference) = composition["subject"]["reference"].as_str() else {
            return vec![FieldError::new(subject, "a document Bundle must name its patient (a Patient reference)")];
        };
        let Some(found) = entries.resolve(reference).filter(|(_, r)| r["resourceType"] == "Patient") else {
            return vec![FieldError::new(subject, format!("{reference} is not a Patient in the Bundle"))];
        };
        found
    } else {
        // A collection (clinical information) has no Composition: its Patient entry says whose.
        let found = entries.list.iter().enumerate().find(|(_, e)| e["resource"]["resourceType"] == "Patient");
        let Some((i, e)) = found else {
            return vec![FieldError::new("Bundle.entry", "the Bundle must hold the Patient it is about")];
        };
        (i, &e["resource"])
    };
    let at = format!("Bundle.entry[{i}].resource");
    let mut out = Vec::new();
    let mut differs = |field: &str, what: &str| {
        out.push(FieldError::new(format!("{at}.{field}"), format!("{what} differs from the patient's record")));
    };
    compare_names(patient, &target.identity, &mut differs);
    match patient["birthDate"].as_str() {
        Some(day) if day == target.identity.birth_date => {}
        Some(_) => differs("birthDate", "the birth date"),
        None => differs("birthDate", "the birth date (missing)"),
    }
    match patient["gender"].as_str() {
        Some(g) if gender(target.identity.sex).as_deref() == Some(g) => {}
        Some(_) => differs("gender", "the sex"),
        None => differs("gender", "the sex (missing)"),
    }
    compare_identifiers(patient, target, &mut differs);
    out
}

fn compare_names(patient: &Value, ours: &Identity, differs: &mut impl FnMut(&str, &str)) {
    let names = patient["name"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut kanji = None;
    let mut kana = None;
    for name in names {
        match representation(name) {
            Some("SYL") => kana = kana.or_else(|| name_text(name)),
            _ => kanji = kanji.or_else(|| name_text(name)),
        }
    }
    match kanji {
        Some(n) if n == normal(&ours.name) => {}
        Some(_) => differs("name", "the name"),
        None if kana.is_none() => differs("name", "the name (missing)"),
        None => {}
    }
    if let (Some(n), Some(k)) = (kana, &ours.name_kana)
        && n != normal(k)
    {
        differs("name", "the name in kana");
    }
}

fn compare_identifiers(patient: &Value, target: &Patient, differs: &mut impl FnMut(&str, &str)) {
    let ours = &target.identity;
    for id in patient["identifier"].as_array().into_iter().flatten() {
        let (Some(system), Some(value)) = (id["system"].as_str(), id["value"].as_str()) else { continue };
        let same = if system.ends_with("/sid/patient") {
            Some(value == target.id)
        } else if system.ends_with("/sid/ltc-insured-number") {
            ours.ltc_insured_number.as_ref().map(|n| digits(value) == digits(n))
        } else if system == INSURED_PERSON || system == INSURANCE_MEMBER_ID {
            // `insurer:symbol:number[:branch]`: the symbol is often left off cards, so insurer and
            // number decide (digits compared as digits: EHRs write full-width ones too).
            ours.health_insurance.as_ref().map(|hi| {
                let parts: Vec<&str> = value.split(':').collect();
                let number = if system == INSURANCE_MEMBER_ID { parts.get(2) } else { parts.last() };
                parts.first().map(|p| digits(p)) == Some(digits(&hi.insurer_number))
                    && number.map(|n| normal(&halfwidth(n))) == Some(normal(&halfwidth(&hi.number)))
            })
        } else {
            None
        };
        if same == Some(false) {
            differs("identifier", &format!("the identifier {system}"));
        }
    }
}

/// Full-width digits and letters (０-９, Ａ-Ｚ) as ASCII.
fn halfwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            c => c,
        })
        .collect()
}

fn digits(s: &str) -> String {
    halfwidth(s).chars().filter(char::is_ascii_digit).collect()
}
