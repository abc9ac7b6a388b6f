//! Shapes that generated clients and fuzzers read literally: each batch operation a named
//! component (a generator names an inline `oneOf` variant itself, and openapi-python-client then
//! generated its `content` twice and dropped the model), and the vacancy stream described as the
//! event stream it is rather than as one string.

use serde_json::{Value, json};
use utoipa::openapi::{OpenApi, RefOr, Schema};

/// The batch's kinds of operation: (`op`, component name).
const OPERATIONS: [(&str, &str); 2] = [("create", "BatchCreate"), ("update", "BatchUpdate")];

/// `Operation` becomes a `oneOf` of `$ref`s to `BatchCreate` and `BatchUpdate`, discriminated by
/// `op`.
pub fn name_batch_operations(openapi: &mut OpenApi) {
    let Some(components) = openapi.components.as_mut() else { return };
    let Some(operation) = components.schemas.get("Operation").and_then(|s| serde_json::to_value(s).ok()) else {
        return;
    };
    let Some(variants) = operation["oneOf"].as_array() else { return };
    let mut refs = Vec::new();
    let mut mapping = serde_json::Map::new();
    for variant in variants {
        let Some(op) = variant.pointer("/properties/op/enum/0").and_then(Value::as_str) else { return };
        let Some((_, name)) = OPERATIONS.iter().find(|(o, _)| *o == op) else { return };
        let Ok(schema) = serde_json::from_value::<RefOr<Schema>>(json!(variant)) else { return };
        components.schemas.insert((*name).to_owned(), schema);
        let target = format!("#/components/schemas/{name}");
        refs.push(json!({ "$ref": target }));
        mapping.insert(op.to_owned(), Value::String(target));
    }
    let named = json!({
        "oneOf": refs,
        "discriminator": { "propertyName": "op", "mapping": mapping },
        "description": operation["description"],
    });
    if let Ok(schema) = serde_json::from_value(named) {
        components.schemas.insert("Operation".to_owned(), schema);
    }
}

/// The vacancy stream's answer is `text/event-stream`: no JSON Schema describes its bytes, so it
/// has none (a `type: string` made fuzzers check the events as one JSON string); the example
/// shows the framing, and `x-event-data` names the schema of each event's `data`.
pub fn describe_event_stream(openapi: &mut OpenApi) {
    let Some(item) = openapi.paths.paths.get_mut("/v1/vacancies/stream") else { return };
    let Some(operation) = item.get.as_mut() else { return };
    let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200") else { return };
    let Some(RefOr::T(content)) = ok.content.get_mut("text/event-stream") else { return };
    content.schema = None;
    content.example = Some(Value::String(
        "retry: 3000\n: following after 41\n\nid: 42\nevent: vacancy\ndata: {\"seq\":42,...}\n\n: heartbeat\n\n".into(),
    ));
    let mut extensions = utoipa::openapi::extensions::Extensions::default();
    extensions.insert("x-event-data".to_owned(), json!({ "$ref": "#/components/schemas/VacancyChange" }));
    content.extensions = Some(extensions);
}
