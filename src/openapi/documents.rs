//! Document bodies described per type: each shipped JSON Schema (`schemas/<type>/<version>.json`)
//! becomes a component, and `DocumentInput` becomes a `oneOf` of one variant per type and version
//! (`type` and `schema_version` fixed, `content` that version's schema), with the shipped examples
//! (`schemas/<type>/examples/`) as request examples. A generated client gets a typed body for
//! every registered type.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use utoipa::openapi::{Components, OpenApi, RefOr, Schema};

use crate::schemas::EMBEDDED;

/// Where the shipped schemas' `$id`s start.
const ID_BASE: &str = "https://carepath.example/schemas/";

/// `care-path` → `CarePath`.
fn camel(word: &str) -> String {
    word.split(['-', '_'])
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The component name of a schema file: `care-path`, `1.1.0` → `CarePath_1_1_0`.
fn component(doc_type: &str, version: &str) -> String {
    format!("{}_{}", camel(doc_type), version.replace('.', "_"))
}

/// Points every `$ref` of a shipped schema at the components: `<ID_BASE><type>/<version>.json#/$defs/X`
/// and a file's own `#/$defs/X` both become `#/components/schemas/<File>_X`.
fn rewrite_refs(value: &mut Value, own: &str) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                let (file, def) = reference.split_once("#/$defs/").unwrap_or((reference.as_str(), ""));
                let file = match file.strip_prefix(ID_BASE).and_then(|f| f.strip_suffix(".json")) {
                    Some(path) => path.split_once('/').map_or_else(|| own.to_owned(), |(t, v)| component(t, v)),
                    None => own.to_owned(),
                };
                *reference = if def.is_empty() {
                    format!("#/components/schemas/{file}")
                } else {
                    format!("#/components/schemas/{file}_{def}")
                };
            }
            for item in map.values_mut() {
                rewrite_refs(item, own);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite_refs(item, own)),
        _ => {}
    }
}

fn add(components: &mut Components, name: String, schema: Value) {
    match serde_json::from_value::<RefOr<Schema>>(schema) {
        Ok(schema) => {
            components.schemas.insert(name, schema);
        }
        Err(error) => tracing::error!(%name, %error, "a shipped schema does not fit the OpenAPI model"),
    }
}

/// The shipped schema files, parsed: (type, version, schema).
fn shipped() -> Vec<(String, String, Value)> {
    EMBEDDED
        .iter()
        .filter_map(|(path, text)| {
            let (doc_type, file) = path.split_once('/')?;
            let version = file.strip_suffix(".json").filter(|v| !v.contains('/'))?;
            let schema = serde_json::from_str(text).ok()?;
            Some((doc_type.to_owned(), version.to_owned(), schema))
        })
        .collect()
}

/// The shipped examples: (type, `<version>-<name>`, file).
const EXAMPLES: &[(&str, &str, &str)] = &[
    ("care-plan", "1.0.0-full", include_str!("../../schemas/care-plan/examples/1.0.0-full.json")),
    ("care-plan", "1.0.0-minimal", include_str!("../../schemas/care-plan/examples/1.0.0-minimal.json")),
    ("care-path", "1.0.0-full", include_str!("../../schemas/care-path/examples/1.0.0-full.json")),
    ("care-path", "1.0.0-minimal", include_str!("../../schemas/care-path/examples/1.0.0-minimal.json")),
    ("care-path", "1.1.0-full", include_str!("../../schemas/care-path/examples/1.1.0-full.json")),
    ("care-path", "1.1.0-minimal", include_str!("../../schemas/care-path/examples/1.1.0-minimal.json")),
    ("contact-sheet", "1.0.0-minimal", include_str!("../../schemas/contact-sheet/examples/1.0.0-minimal.json")),
    ("contact-sheet", "1.0.0-with-reply", include_str!("../../schemas/contact-sheet/examples/1.0.0-with-reply.json")),
    ("discharge-summary", "1.0.0-full", include_str!("../../schemas/discharge-summary/examples/1.0.0-full.json")),
    ("discharge-summary", "1.0.0-minimal", include_str!("../../schemas/discharge-summary/examples/1.0.0-minimal.json")),
    (
        "discharge-summary",
        "1.1.0-jp-clins",
        include_str!("../../schemas/discharge-summary/examples/1.1.0-jp-clins.json"),
    ),
    ("patient-summary", "1.0.0-minimal", include_str!("../../schemas/patient-summary/examples/1.0.0-minimal.json")),
    ("referral-letter", "1.0.0-minimal", include_str!("../../schemas/referral-letter/examples/1.0.0-minimal.json")),
    (
        "clinical-information",
        "1.0.0-minimal",
        include_str!("../../schemas/clinical-information/examples/1.0.0-minimal.json"),
    ),
    ("clinical-information", "1.0.0-labs", include_str!("../../schemas/clinical-information/examples/1.0.0-labs.json")),
    ("end-of-life-record", "1.0.0-home", include_str!("../../schemas/end-of-life-record/examples/1.0.0-home.json")),
    (
        "end-of-life-record",
        "1.0.0-minimal",
        include_str!("../../schemas/end-of-life-record/examples/1.0.0-minimal.json"),
    ),
    ("service-use", "1.0.0-minimal", include_str!("../../schemas/service-use/examples/1.0.0-minimal.json")),
    (
        "service-use",
        "1.0.0-planned-and-actual",
        include_str!("../../schemas/service-use/examples/1.0.0-planned-and-actual.json"),
    ),
    ("service-use", "1.1.0-with-totals", include_str!("../../schemas/service-use/examples/1.1.0-with-totals.json")),
    (
        "visiting-nursing-report",
        "1.0.0-full",
        include_str!("../../schemas/visiting-nursing-report/examples/1.0.0-full.json"),
    ),
    (
        "visiting-nursing-report",
        "1.0.0-minimal",
        include_str!("../../schemas/visiting-nursing-report/examples/1.0.0-minimal.json"),
    ),
];

/// The shipped examples by type and version.
fn examples() -> BTreeMap<(String, String), Vec<(String, Value)>> {
    let mut out: BTreeMap<(String, String), Vec<(String, Value)>> = BTreeMap::new();
    for (doc_type, file, text) in EXAMPLES {
        let Some((version, name)) = file.split_once('-') else { continue };
        let Ok(content) = serde_json::from_str(text) else { continue };
        out.entry(((*doc_type).to_owned(), version.to_owned())).or_default().push((name.to_owned(), content));
    }
    out
}

/// Registers the shipped schemas and makes `DocumentInput` a `oneOf` over them; returns the
/// request examples (name → body) for document writes, and the registered type names.
pub fn describe(openapi: &mut OpenApi) -> (BTreeMap<String, Value>, Vec<String>) {
    let components = openapi.components.get_or_insert_with(Default::default);
    let examples = examples();
    let mut variants = Vec::new();
    let mut bodies = BTreeMap::new();
    let mut types = Vec::new();
    for (doc_type, version, mut schema) in shipped() {
        let name = component(&doc_type, &version);
        rewrite_refs(&mut schema, &name);
        let Value::Object(mut map) = schema else { continue };
        map.remove("$schema");
        map.remove("$id");
        if let Some(Value::Object(defs)) = map.remove("$defs") {
            for (def, schema) in defs {
                add(components, format!("{name}_{def}"), schema);
            }
        }
        if doc_type == "common" {
            continue;
        }
        // The component's name is the generated class's: the file's title (bilingual) is
        // kept as the description's first line.
        if let Some(Value::String(title)) = map.insert("title".into(), Value::String(name.clone())) {
            let description = map.get("description").and_then(Value::as_str).unwrap_or_default();
            map.insert("description".into(), Value::String(format!("{title}. {description}")));
        }
        add(components, name.clone(), Value::Object(map));
        if !types.contains(&doc_type) {
            types.push(doc_type.clone());
        }
        let input = format!("{name}_Input");
        add(
            components,
            input.clone(),
            json!({
                "type": "object",
                "title": input,
                "description": format!("A {doc_type} document, schema version {version} (`/v1/schemas/{doc_type}/{version}`)"),
                "required": ["type", "schema_version", "content"],
                "additionalProperties": false,
                "properties": {
                    "type": {"type": "string", "enum": [doc_type]},
                    "schema_version": {"type": "string", "enum": [version]},
                    "content": {"$ref": format!("#/components/schemas/{name}")},
                },
            }),
        );
        variants.push(json!({"$ref": format!("#/components/schemas/{input}")}));
        for (example, content) in examples.get(&(doc_type.clone(), version.clone())).into_iter().flatten() {
            let body = json!({"type": doc_type, "schema_version": version, "content": content});
            bodies.insert(format!("{doc_type} {version} {example}"), body);
        }
    }
    add(
        components,
        "DocumentInput".to_owned(),
        json!({
            "description": "What a client sends to create or replace a document: a registered type, one of its \
                schema versions, and content valid against that version's schema (`/v1/schemas/{type}/{version}`). \
                A service may register more types (`/v1/schemas`); their bodies have the same three members.",
            "oneOf": variants,
        }),
    );
    (bodies, types)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_schema_survives_the_openapi_model() {
        for (doc_type, version, mut schema) in shipped() {
            let name = component(&doc_type, &version);
            rewrite_refs(&mut schema, &name);
            let Value::Object(mut map) = schema else { panic!("{name} is not an object") };
            map.remove("$schema");
            map.remove("$id");
            let defs = map.remove("$defs");
            let mut parts: Vec<Value> =
                defs.into_iter().flat_map(|d| d.as_object().cloned().unwrap_or_default().into_values()).collect();
            parts.push(Value::Object(map));
            for part in parts {
                let model: RefOr<Schema> = serde_json::from_value(part.clone()).expect("fits");
                let back = serde_json::to_value(&model).unwrap_or_default();
                assert_eq!(strip_marks(back), strip_marks(part), "{name}");
            }
        }
    }

    /// The annotations a `$ref` sibling cannot keep in the model, and nothing else.
    fn strip_marks(mut value: Value) -> Value {
        fn walk(value: &mut Value) {
            match value {
                Value::Object(map) => {
                    if map.contains_key("$ref") {
                        map.retain(|k, _| k == "$ref" || k == "description");
                    }
                    map.values_mut().for_each(walk);
                }
                Value::Array(items) => items.iter_mut().for_each(walk),
                _ => {}
            }
        }
        walk(&mut value);
        value
    }

    #[test]
    fn names() {
        assert_eq!(component("visiting-nursing-report", "1.0.0"), "VisitingNursingReport_1_0_0");
        let mut v = json!({"$ref": "https://carepath.example/schemas/common/1.0.0.json#/$defs/date"});
        rewrite_refs(&mut v, "X");
        assert_eq!(v["$ref"], "#/components/schemas/Common_1_0_0_date");
    }
}
