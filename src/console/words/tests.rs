#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use super::*;
use crate::auth::Role;
use crate::domain::consents::ObtainedBy;
use crate::domain::consents::log::ConsentStatus;
use crate::domain::coordination::hours::{Audience, Channel, Weekday};
use crate::domain::coordination::{Category, State, Urgency};
use crate::domain::directory::OrganizationKind;
use crate::domain::identity::{CareLevel, Sex};
use crate::domain::vacancies::{BedSex, CareNeed, RoomType, ShortStayService};

fn wire<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).unwrap().as_str().unwrap().to_owned()
}

fn missing<T: serde::Serialize>(kind: &str, all: &[T]) -> Vec<String> {
    all.iter().map(wire).filter(|w| !knows(kind, w)).map(|w| format!("{kind}: {w}")).collect()
}

#[test]
fn every_value_of_the_domains_coded_enums_has_a_word() {
    let sexes = [Sex::Male, Sex::Female, Sex::Other, Sex::Unknown];
    let statuses = [ConsentStatus::Active, ConsentStatus::Revoked];
    let gaps: Vec<String> = [
        missing("role", Role::ALL),
        missing("care_level", CareLevel::ALL),
        missing("sex", &sexes),
        missing("bed_sex", BedSex::ALL),
        missing("service", ShortStayService::ALL),
        missing("care_need", CareNeed::ALL),
        missing("room_type", RoomType::ALL),
        missing("obtained_by", ObtainedBy::ALL),
        missing("consent_status", &statuses),
        missing("sheet_category", Category::ALL),
        missing("urgency", Urgency::ALL),
        missing("sheet_state", State::ALL),
        missing("weekday", Weekday::ALL),
        missing("channel", Channel::ALL),
        missing("audience", Audience::ALL),
        missing("org_kind", OrganizationKind::ALL),
    ]
    .concat();
    assert!(gaps.is_empty(), "no word for {gaps:?}");
}

/// Every `enum` of every embedded schema. Codes of digits (the care-plan exchange's `1`/`2`,
/// `21`…) are the forms' own codes, shown beside their meaning, not words.
fn schema_enums(node: &serde_json::Value, out: &mut Vec<String>) {
    match node {
        serde_json::Value::Object(map) => {
            if let Some(values) = map.get("enum").and_then(|v| v.as_array()) {
                out.extend(values.iter().filter_map(|v| v.as_str()).map(str::to_owned));
            }
            map.values().for_each(|v| schema_enums(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| schema_enums(v, out)),
        _ => {}
    }
}

#[test]
fn every_value_a_schema_enumerates_has_a_word() {
    let mut values = Vec::new();
    for (_, text) in crate::schemas::EMBEDDED {
        schema_enums(&serde_json::from_str(text).unwrap(), &mut values);
    }
    values.retain(|v| !v.chars().all(|c| c.is_ascii_digit()));
    assert!(values.len() > 100, "the schemas' enums were not found");
    let gaps: Vec<&String> = values.iter().filter(|v| !knows("", v)).collect();
    assert!(gaps.is_empty(), "no word for {gaps:?}");
}

/// The actions the code records: every `"resource.verb"` literal of the crate's source whose
/// resource is one the audit log names. A new action without a word fails here.
#[test]
fn every_audit_action_the_code_records_has_a_word() {
    let prefixes: Vec<&str> = of_kind("audit_action").filter_map(|a| a.split('.').next()).collect();
    let mut actions = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("words/actions.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for literal in text.split('"').skip(1).step_by(2) {
                    let dotted = literal.split('.').count() >= 2
                        && literal
                            .split('.')
                            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
                    if dotted && literal.split('.').next().is_some_and(|p| prefixes.contains(&p)) {
                        actions.push(literal.to_owned());
                    }
                }
            }
        }
    }
    assert!(actions.iter().any(|a| a == "document.read"), "no action found in the source");
    let gaps: Vec<&String> = actions.iter().filter(|a| !knows("audit_action", a)).collect();
    assert!(gaps.is_empty(), "no word for the audit actions {gaps:?}");
}

#[test]
fn the_table_has_each_word_once_in_both_languages() {
    let mut keys: Vec<(&str, &str)> = all().map(|w| (w.0, w.1)).collect();
    let before = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(before, keys.len(), "a (kind, word) appears twice");
    for w in all() {
        assert!(!w.2.is_empty() && !w.3.is_empty(), "{w:?}");
        assert!(!w.2.contains('_') && !w.3.contains('_'), "a wire word as its own word: {w:?}");
    }
}

#[test]
fn a_kinds_own_word_comes_before_the_shared_one() {
    assert_eq!(say(Lang::Ja, "infection.status", "active"), "感染あり");
    assert_eq!(say(Lang::Ja, "consent_status", "active"), "有効");
    assert_eq!(say(Lang::Ja, "care_level", "care_5"), "要介護5");
    assert_eq!(say(Lang::En, "adl", "partial_assistance"), "Partial assistance");
    assert_eq!(say(Lang::Ja, "audit_action", "document.read"), "記録の閲覧");
    assert_eq!(say(Lang::Ja, "role", "no_such_role"), "no_such_role");
}
