//! The rules every operation shares, applied once to the generated document: the server, the
//! bearer requirement, and the problem+json answers that the extractors, the authentication and
//! the framework give on any route (so a handler's annotation lists only what is its own).

use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response, Schema};

use crate::api::problem::PROBLEM_JSON;

/// Operations anyone may call without a token.
const PUBLIC: &[&str] = &["/healthz"];

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
        let mut server = Server::new("http://127.0.0.1:8080");
        server.description = Some("The default local service (`carepath serve`)".to_owned());
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

        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = PUBLIC.contains(&path.as_str());
            for operation in operations(item) {
                complete(operation, public);
            }
        }
        inline_flattened(openapi);
        drop_unused_schemas(openapi);
    }
}

/// `#[serde(flatten)]` becomes an `allOf` of the flattened type and the outer fields. When the
/// flattened type denies unknown fields (`additionalProperties: false`), that `allOf` would
/// forbid the outer fields too: no value could match it. Each such part is inlined as a copy
/// that leaves unknown fields to the outer schema (the type itself keeps its rule where it is
/// used on its own).
fn inline_flattened(openapi: &mut OpenApi) {
    let Some(components) = openapi.components.as_mut() else { return };
    let originals = components.schemas.clone();
    for schema in components.schemas.values_mut() {
        let RefOr::T(Schema::AllOf(all_of)) = schema else { continue };
        for item in &mut all_of.items {
            let RefOr::Ref(reference) = item else { continue };
            let name = reference.ref_location.trim_start_matches("#/components/schemas/");
            if let Some(RefOr::T(Schema::Object(object))) = originals.get(name) {
                let mut object = object.clone();
                object.additional_properties = None;
                *item = RefOr::T(Schema::Object(object));
            }
        }
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
fn complete(operation: &mut Operation, public: bool) {
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
        shared.extend(["401", "403", "503"]);
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
        responses.entry(status.to_owned()).or_insert_with(|| RefOr::T(problem(status)));
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        if response.description.is_empty() {
            response.description =
                problem_description(status).unwrap_or_else(|| success_description(status)).to_owned();
        }
    }
}

fn problem(status: &str) -> Response {
    let mut response = Response::new(problem_description(status).unwrap_or("A problem"));
    response.content.insert(PROBLEM_JSON.to_owned(), RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))));
    response
}
