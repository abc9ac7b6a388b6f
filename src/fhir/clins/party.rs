//! The sender (紹介元, 920, or the Composition's author) and the addressee (紹介先, 910): the
//! organisation with its 保険医療機関番号 and department, and the doctor with kanji and kana.

use serde_json::{Map, Value, json};

use super::items::put_str;
use crate::fhir::inbound::Entries;
use crate::fhir::people::REPRESENTATION;

fn ext<'a>(r: &'a Value, tail: &str) -> Option<&'a Value> {
    r["extension"].as_array()?.iter().find(|e| e["url"].as_str().is_some_and(|u| u.ends_with(tail)))
}

fn organization(r: &Value) -> Value {
    let mut o = Map::new();
    put_str(&mut o, "name", &r["name"]);
    let code = r["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["system"].as_str().is_some_and(|s| s.ends_with("insurance-medical-institution-no")));
    if let Some(c) = code {
        put_str(&mut o, "institution_code", &c["value"]);
    }
    if let Some(p) = ext(r, "JP_Organization_PrefectureNo") {
        put_str(&mut o, "prefecture_code", &p["valueCoding"]["code"]);
    }
    if let Some(d) = ext(r, "_Department") {
        let concept = &d["valueCodeableConcept"];
        let text = concept["text"].as_str().or(concept["coding"][0]["display"].as_str());
        if let Some(t) = text {
            o.insert("department".into(), json!(t));
        }
        if let Some(c) = concept["coding"][0]["code"].as_str() {
            let mut coding = json!({ "code": c });
            for k in ["system", "display"] {
                if let Some(v) = concept["coding"][0][k].as_str() {
                    coding[k] = json!(v);
                }
            }
            o.insert("department_code".into(), coding);
        }
    }
    put_str(&mut o, "phone", &r["telecom"][0]["value"]);
    put_str(&mut o, "address", &r["address"][0]["text"]);
    put_str(&mut o, "postal_code", &r["address"][0]["postalCode"]);
    Value::Object(o)
}

fn name_text(n: &Value) -> Option<String> {
    if let Some(t) = n["text"].as_str() {
        return Some(t.to_owned());
    }
    let family = n["family"].as_str()?;
    let given: Vec<&str> = n["given"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    Some(format!("{family} {}", given.join(" ")).trim().to_owned())
}

fn practitioner(r: &Value) -> Value {
    let mut o = Map::new();
    for n in r["name"].as_array().into_iter().flatten() {
        let kana = n["extension"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["url"] == REPRESENTATION && e["valueCode"] == "SYL");
        let key = if kana { "name_kana" } else { "name" };
        if !o.contains_key(key)
            && let Some(t) = name_text(n)
        {
            o.insert(key.into(), json!(t));
        }
    }
    let ids: Vec<Value> = r["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let value = i["value"].as_str()?;
            let mut id = json!({ "value": value });
            if let Some(s) = i["system"].as_str() {
                id["system"] = json!(s);
            }
            Some(id)
        })
        .take(10)
        .collect();
    if !ids.is_empty() {
        o.insert("identifiers".into(), Value::Array(ids));
    }
    Value::Object(o)
}

/// Adds what `r` says about the party `member` (`sender`, `addressee`): the first organisation
/// and the first doctor named win.
pub(super) fn add(content: &mut Map<String, Value>, member: &str, r: &Value, entries: &Entries<'_>) {
    let party = content.entry(member.to_owned()).or_insert_with(|| json!({}));
    let mut put = |key: &str, v: Value| {
        if party.get(key).is_none() && v.as_object().is_some_and(|o| !o.is_empty()) {
            party[key] = v;
        }
    };
    match r["resourceType"].as_str() {
        Some("Organization") => put("organization", organization(r)),
        Some("Practitioner") => put("practitioner", practitioner(r)),
        Some("PractitionerRole") => {
            for (key, field) in [("practitioner", "practitioner"), ("organization", "organization")] {
                let found = r[field]["reference"].as_str().and_then(|x| entries.resolve(x)).map(|(_, v)| v);
                if let Some(found) = found {
                    let v = if key == "practitioner" { practitioner(found) } else { organization(found) };
                    put(key, v);
                }
            }
        }
        _ => {}
    }
    if content.get(member).and_then(Value::as_object).is_some_and(Map::is_empty) {
        content.remove(member);
    }
}
