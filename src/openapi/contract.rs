//! The rules every operation shares, applied once to the generated document: the server, the
//! bearer requirement, and the problem+json answers that the extractors, the authentication and
//! the framework give on any route (so a handler's annotation lists only what is its own).

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::openapi::example::Example;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response, Schema};

use crate::edge::problem::PROBLEM_JSON;

use crate::fhir::FHIR_JSON;

/// Operations anyone may call without a token.
/// (`/metrics` needs the operator's admin on the API's address; on `--metrics-bind` it needs no
/// token, but that listener is not this API.)
const PUBLIC: &[&str] = &["/healthz", "/v1/fhir/metadata", "/v1/auth/token", "/.well-known/smart-configuration"];
/// The FHIR server's scope: its errors are OperationOutcomes (`application/fhir+json`).
const FHIR_SCOPE: &str = "/v1/fhir/";

/// What each problem status means on this API, used where an annotation gives no description.
fn problem_description(status: &str) -> Option<&'static str> {
    Some(match status {
        "400" => "The body is not well-formed JSON, or a header is malformed",
        "401" => {
            "No bearer token, or one that is malformed, expired, not yet valid or from an untrusted issuer \
             (`WWW-Authenticate: Bearer`)"
        }
        "403" => "The caller's role may not do this, or the caller's organisation is not in the directory",
        "404" => "No such resource, or none that the caller has a relationship to (the two are indistinguishable)",
        "405" => "The path exists but not with this method",
        "409" => "The request conflicts with the resource's state",
        "410" => "The resource was erased or deleted",
        "412" => "`If-Match` does not name the current version; `current` holds the current version",
        "413" => "The request body is over the configured size limit",
        "415" => "The body is not sent as `application/json` (or `application/*+json`)",
        "422" => "The request failed validation: `errors` lists every failing field by JSON Pointer",
        "428" => "`If-Match` is required",
        "429" => {
            "A per-caller limit (requests per minute of the caller or its organisation, open long-polls) refused the request; `Retry-After` gives the seconds to wait"
        }
        "503" => "The database is unavailable; retry later",
        _ => return None,
    })
}

fn success_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "204" => "No content",
        _ => "Answer",
    }
}

pub struct Contract;

impl utoipa::Modify for Contract {
    fn modify(&self, openapi: &mut OpenApi) {
        // Relative: Swagger UI's "Try it out" and generated clients resolve it against wherever
        // the document was fetched from (localhost, another port, a deployment behind a proxy).
        let mut server = Server::new("/");
        server.description = Some("The service this document was fetched from".to_owned());
        openapi.servers = Some(vec![server]);

        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        scheme.description = Some(
            "A JWT signed ES256 or EdDSA with claims `sub`, `org`, `role`, `iss`, `aud`, `exp` \
             (`carepath token` prints one for the local issuer)"
                .to_owned(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));

        let (document_examples, types) = super::documents::describe(openapi);
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = PUBLIC.contains(&path.as_str());
            let gone = GONE.iter().any(|prefix| path.starts_with(prefix));
            for operation in operations(item) {
                if gone {
                    add_problem(operation, "410");
                }
                complete(operation, public, path.starts_with(FHIR_SCOPE));
                let examples = match operation.operation_id.as_deref() {
                    Some("create_document" | "put_document") => document_examples.clone(),
                    Some(id) => super::examples::request(id).into_iter().map(|e| ("example".to_owned(), e)).collect(),
                    None => BTreeMap::new(),
                };
                add_examples(operation, examples);
                if let Some(rule) = operation.operation_id.as_deref().and_then(state_rule) {
                    describe_422(operation, rule);
                }
                no_null_parameters(operation);
                if operation.operation_id.as_deref() == Some("list_documents") {
                    set_param_enum(operation, "type", &types);
                }
            }
        }
        close_type_lists(openapi, &types);
        inline_flattened(openapi);
        super::clients::name_batch_operations(openapi);
        super::clients::describe_event_stream(openapi);
        drop_unused_schemas(openapi);
    }
}

/// The rules of an operation that JSON Schema cannot say (they depend on stored state or on
/// today), each a 422 naming the field.
fn state_rule(operation_id: &str) -> Option<&'static str> {
    Some(match operation_id {
        "create_patient" => "`birth_date` is in the future, or `managing_organization` is not in the directory",
        "create_practitioner" | "put_practitioner" => "`organization` is not in the directory",
        "put_care_team" => {
            "a member's `organization` or `practitioner` is not in the directory, the practitioner works for \
             another organisation, or `until` is before `since`"
        }
        "create_consent" => {
            "an organisation is not in the directory, `period.end` is before `period.start`, or `obtained_by` is \
             `proxy` without `proxy`"
        }
        "create_document" => "the `Idempotency-Key` was used before for a different request",
        "put_document" => {
            "the document's type would change, `schema_version` would move back, a withheld restricted field is \
             set, or the `Idempotency-Key` was used before for a different request"
        }
        "post_batch" => {
            "an idempotency key repeats, or (atomic) an operation fails as its single request would (for \
             example content invalid against its type's schema)"
        }
        _ => return None,
    })
}

fn describe_422(operation: &mut Operation, rule: &str) {
    let text = format!("{} Also when {rule}.", problem_description("422").unwrap_or_default());
    let mut response = problem("422", false);
    response.description = text;
    operation.responses.responses.insert("422".to_owned(), RefOr::T(response));
}

/// A parameter is absent or has a value: `null` is no value of a header or a query string.
fn no_null_parameters(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else { continue };
        if let Some(schema) = parameter.schema.as_mut() {
            edit_schema(schema, |v| {
                if let Some(Value::Array(types)) = v.get_mut("type") {
                    types.retain(|t| t != "null");
                    if types.len() == 1 {
                        v["type"] = types[0].clone();
                    }
                }
            });
        }
    }
}

/// Paths whose resource can have been erased or deleted: 410 Gone.
const GONE: &[&str] = &["/v1/patients/{id}", "/v1/documents/{id}", "/v1/batch"];

fn add_problem(operation: &mut Operation, status: &str) {
    operation.responses.responses.entry(status.to_owned()).or_insert_with(|| RefOr::T(problem(status, false)));
}

/// Request examples on an operation's JSON body.
fn add_examples(operation: &mut Operation, examples: BTreeMap<String, Value>) {
    let Some(RefOr::T(body)) = operation.request_body.as_mut() else { return };
    let Some(RefOr::T(content)) = body.content.get_mut("application/json") else { return };
    for (name, value) in examples {
        let mut example = Example::new();
        example.value = Some(value);
        content.examples.insert(name, RefOr::T(example));
    }
}

/// Edits a schema through its JSON form (the model has no setter for some keywords).
fn edit_schema(schema: &mut RefOr<Schema>, edit: impl FnOnce(&mut Value)) {
    let Ok(mut value) = serde_json::to_value(&*schema) else { return };
    edit(&mut value);
    if let Ok(edited) = serde_json::from_value(value) {
        *schema = edited;
    }
}

/// A query parameter that takes one of `values` (the registered document types).
fn set_param_enum(operation: &mut Operation, name: &str, values: &[String]) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else { continue };
        if parameter.name == name
            && let Some(schema) = parameter.schema.as_mut()
        {
            edit_schema(schema, |v| v["enum"] = values.iter().map(|t| Value::String(t.clone())).collect());
        }
    }
}

/// What the derive cannot say of untagged enum variants, and the registered types: a
/// consent's lists of document types take registered types only, its list of organisations
/// names one at least; an operation's `if_match` text is an ETag or `*`.
fn close_type_lists(openapi: &mut OpenApi, types: &[String]) {
    let Some(components) = openapi.components.as_mut() else { return };
    if let Some(schema) = components.schemas.get_mut("ConsentInput") {
        edit_schema(schema, |v| {
            for field in ["permitted_types", "denied_types"] {
                if let Some(items) = v.pointer_mut(&format!("/properties/{field}/items")) {
                    *items = serde_json::json!({"type": "string", "enum": types});
                }
            }
        });
    }
    if let Some(schema) = components.schemas.get_mut("ConsentOrganizations") {
        edit_schema(schema, |v| {
            for variant in v["oneOf"].as_array_mut().into_iter().flatten() {
                if variant["type"] == "array" {
                    variant["minItems"] = 1.into();
                }
            }
        });
    }
    if let Some(schema) = components.schemas.get_mut("Operation") {
        // `deny_unknown_fields` holds for each kind of operation.
        edit_schema(schema, |v| {
            for variant in v["oneOf"].as_array_mut().into_iter().flatten() {
                variant["additionalProperties"] = false.into();
            }
        });
    }
    if let Some(schema) = components.schemas.get_mut("IfMatchInput") {
        edit_schema(schema, |v| {
            for variant in v["oneOf"].as_array_mut().into_iter().flatten() {
                if variant["type"] == "string" {
                    variant["pattern"] = r#"^(\*|"[0-9]{1,9}")$"#.into();
                }
            }
        });
    }
}

/// `#[serde(flatten)]` becomes an `allOf` of the flattened type and the outer fields. When the
/// flattened type denies unknown fields (`additionalProperties: false`), that `allOf` would
/// forbid the outer fields too: no value could match it. Such an `allOf`, wherever it is (a
/// generic page inlines its items), becomes one object with every part's fields that is closed
/// as the flattened part was: what the outer type reads or writes, and nothing else.
fn inline_flattened(openapi: &mut OpenApi) {
    let Some(components) = openapi.components.as_mut() else { return };
    let closed: BTreeMap<String, Value> = components
        .schemas
        .iter()
        .filter_map(|(name, schema)| {
            let value = serde_json::to_value(schema).ok()?;
            (value.get("additionalProperties") == Some(&Value::Bool(false)))
                .then(|| (format!("#/components/schemas/{name}"), value))
        })
        .collect();
    for schema in components.schemas.values_mut() {
        edit_schema(schema, |value| merge_closed(value, &closed));
    }
}

fn merge_closed(value: &mut Value, closed: &BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(|v| merge_closed(v, closed));
            let Some(Value::Array(parts)) = map.get("allOf") else { return };
            let refs: Vec<Option<&Value>> =
                parts.iter().map(|p| p.get("$ref").and_then(Value::as_str).and_then(|r| closed.get(r))).collect();
            if refs.iter().all(Option::is_none) {
                return;
            }
            let mut properties = serde_json::Map::new();
            let mut required = Vec::new();
            for (part, referenced) in parts.iter().zip(&refs) {
                let part = referenced.unwrap_or(part);
                if let Some(Value::Object(p)) = part.get("properties") {
                    properties.extend(p.clone());
                }
                if let Some(Value::Array(r)) = part.get("required") {
                    required.extend(r.iter().cloned());
                }
            }
            let description = parts.iter().rev().find_map(|p| p.get("description")).cloned();
            map.remove("allOf");
            map.insert("type".into(), "object".into());
            map.insert("properties".into(), Value::Object(properties));
            map.insert("required".into(), Value::Array(required));
            map.insert("additionalProperties".into(), Value::Bool(false));
            if let Some(description) = description {
                map.entry("description").or_insert(description);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| merge_closed(v, closed)),
        _ => {}
    }
}

/// Removes component schemas that nothing refers to (a generic `Page<T>` is inlined, leaving `T`
/// registered but unused), until none is left.
fn drop_unused_schemas(openapi: &mut OpenApi) {
    loop {
        let text = serde_json::to_string(&*openapi).unwrap_or_default();
        let Some(components) = openapi.components.as_mut() else { return };
        let before = components.schemas.len();
        components.schemas.retain(|name, _| text.contains(&format!("\"#/components/schemas/{name}\"")));
        if components.schemas.len() == before {
            return;
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
}

/// Adds the shared answers an operation can give and a description to every answer.
fn complete(operation: &mut Operation, public: bool, fhir: bool) {
    let params = operation.parameters.as_deref().unwrap_or_default();
    let has_path = params.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
    let has_query = params.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    let has_body = operation.request_body.is_some();

    let mut shared: Vec<&str> = Vec::new();
    if public {
        // An empty requirement: explicitly no authentication.
        operation.security = Some(vec![SecurityRequirement::default()]);
        let request = Response::new("A request the HTTP framework cannot parse (malformed request line or headers)");
        operation.responses.responses.entry("4XX".to_owned()).or_insert(RefOr::T(request));
    } else {
        operation.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
        shared.extend(["401", "403", "429", "503"]);
    }
    if has_path {
        shared.push("404");
    }
    if has_query {
        shared.push("422");
    }
    if has_body {
        shared.extend(["400", "413", "415", "422"]);
    }
    let responses = &mut operation.responses.responses;
    for status in shared {
        responses.entry(status.to_owned()).or_insert_with(|| RefOr::T(problem(status, fhir)));
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        if response.description.is_empty() {
            response.description =
                problem_description(status).unwrap_or_else(|| success_description(status)).to_owned();
        }
    }
}

/// A shared error answer: problem+json, or under the FHIR scope an OperationOutcome (and, for
/// 503, problem+json too: the request time-out answers before the FHIR edge sees it).
fn problem(status: &str, fhir: bool) -> Response {
    let mut response = Response::new(problem_description(status).unwrap_or("A problem"));
    if fhir {
        let outcome = utoipa::openapi::ObjectBuilder::new().description(Some("A FHIR OperationOutcome")).build();
        response.content.insert(FHIR_JSON.to_owned(), RefOr::T(Content::new(Some(Schema::Object(outcome)))));
        if status != "503" {
            return response;
        }
    }
    response.content.insert(PROBLEM_JSON.to_owned(), RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))));
    response
}
