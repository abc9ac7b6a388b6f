//! What the schemas' descriptions do not say as a form would: labels where the description is
//! prose for developers (`主病名であればtrue`), and the unit a number is measured in (the field
//! name says it, `height_cm`; the reader should see `152 cm`).

use crate::console::Lang;

/// (property, 日本語, English): the label of a property wherever it appears, before its
/// description is read.
const LABELS: &[(&str, &str, &str)] = &[
    ("primary", "主病名", "Main diagnosis"),
    ("known", "既知のセクション", "Known section"),
    ("certification", "認定区分", "Certification"),
    ("plan_kind", "計画区分", "Kind of plan"),
    ("insured", "保険対象", "Insured"),
    ("fhir", "元のdosageInstruction", "dosageInstruction as sent"),
];

/// The label the table gives `key`, if it gives one.
pub fn label(lang: Lang, key: &str) -> Option<&'static str> {
    LABELS.iter().find(|(k, _, _)| *k == key).map(|(_, ja, en)| match lang {
        Lang::Ja => *ja,
        Lang::En => *en,
    })
}

/// (name ending, unit): a number's unit from its field's name.
const UNITS: &[(&str, &str)] = &[
    ("_cm", "cm"),
    ("_kg", "kg"),
    ("_mmhg", "mmHg"),
    ("_bpm", "回/分"),
    ("_percent", "%"),
    ("_mg_dl", "mg/dL"),
    ("temperature_c", "℃"),
    ("respiratory_rate", "回/分"),
];

/// The unit of a number stored under `key`, if its name says one.
pub fn unit(key: &str) -> Option<&'static str> {
    UNITS.iter().find(|(end, _)| key.ends_with(end)).map(|(_, unit)| *unit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use serde_json::Value;

    use super::super::Form;
    use super::*;

    /// Every property of every document type's schema, as (type, version, pointer).
    fn properties(node: &Value, pointer: String, out: &mut Vec<String>) {
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (key, child) in props {
                let p = format!("{pointer}/{key}");
                out.push(p.clone());
                properties(child, p, out);
            }
        }
        if let Some(items) = node.get("items") {
            properties(items, format!("{pointer}/0"), out);
        }
    }

    #[test]
    fn every_label_a_form_shows_is_a_label_not_a_sentence() {
        let registry = crate::schemas::Registry::load(None).unwrap();
        let mut checked = 0;
        for (path, text) in crate::schemas::EMBEDDED {
            let Some((doc_type, file)) = path.split_once('/') else { continue };
            let Some(version) = file.strip_suffix(".json") else { continue };
            let Some(form) = Form::new(&registry, doc_type, version, Lang::Ja) else { continue };
            let mut pointers = Vec::new();
            properties(&serde_json::from_str(text).unwrap(), String::new(), &mut pointers);
            for pointer in pointers {
                let label = form.path_label(&pointer);
                let last = label.rsplit(" › ").next().unwrap();
                assert!(
                    !last.contains("true") && !last.contains("false") && !last.contains("であれば"),
                    "{doc_type} {version} {pointer}: the label '{last}' is prose"
                );
                assert!(last.chars().count() <= 30, "{doc_type} {pointer}: the label '{last}' is a sentence");
                assert!(
                    !last.is_ascii() || last.chars().all(|c| c.is_ascii_uppercase() || !c.is_alphabetic()),
                    "{doc_type} {pointer}: '{last}' has no Japanese label"
                );
                checked += 1;
            }
        }
        assert!(checked > 300, "only {checked} labels checked");
    }

    #[test]
    fn units_follow_the_field_name() {
        assert_eq!(unit("height_cm"), Some("cm"));
        assert_eq!(unit("systolic_mmhg"), Some("mmHg"));
        assert_eq!(unit("name"), None);
    }
}
