//! `GET /v1/fhir/metadata`: the CapabilityStatement, made from the tables the routes are made
//! from (`TYPES`, `OPERATIONS`), so it says exactly what answers.

use serde_json::{Value, json};

use super::{CREATES, Create, Level, OPERATIONS, TYPES, Type};

/// The token endpoint's path (service clients, SMART Backend Services), under the server's origin.
pub const TOKEN_PATH: &str = "/v1/auth/token";

/// The formats served; XML is not (it answers 406).
pub const FORMATS: &[&str] = &["application/fhir+json", "json"];

fn resource(t: &Type) -> Value {
    let mut interactions = vec![json!({"code": "read"})];
    if t.vread {
        interactions.push(json!({"code": "vread"}));
    }
    if t.searchable() {
        interactions.push(json!({"code": "search-type"}));
    }
    let mut r = json!({
        "type": t.name,
        "interaction": interactions,
        "versioning": if t.vread { "versioned" } else { "no-version" },
        "readHistory": false,
        "updateCreate": false,
        "conditionalRead": "not-supported",
    });
    if let Some(p) = t.profile {
        r["supportedProfile"] = json!([format!("{}/{p}", crate::fhir::JP_CORE)]);
    }
    if t.searchable() {
        r["searchParam"] =
            t.search.iter().map(|p| json!({"name": p.name, "type": p.kind.as_str(), "documentation": p.doc})).collect();
        let mut doc = String::from(
            "One patient a search (`patient=`, required); `_count` (at most 200), `_summary=count|data|false`, `_elements`; \
             unknown parameters are ignored unless `Prefer: handling=strict` (then 400)",
        );
        if !t.sorts.is_empty() {
            doc.push_str(&format!("; `_sort` by {}", t.sorts.join(", ")));
        }
        r["documentation"] = json!(doc);
    }
    let ops: Vec<Value> = OPERATIONS
        .iter()
        .filter(|o| matches!(o.level, Level::Type(n) | Level::Instance(n) if n == t.name))
        .map(|o| json!({"name": o.name, "definition": o.definition}))
        .collect();
    if !ops.is_empty() {
        r["operation"] = json!(ops);
    }
    r
}

/// A type that only takes a post (`create`): no read, no versions, no search.
fn create_only(c: &Create) -> Value {
    json!({
        "type": c.name,
        "interaction": [{"code": "create", "documentation": c.doc}],
        "versioning": "no-version",
        "readHistory": false,
        "updateCreate": false,
        "conditionalCreate": false,
        "conditionalRead": "not-supported",
    })
}

/// Bearer JWTs from a trusted issuer, or from the token endpoint (SMART Backend Services:
/// client credentials with a signed assertion), which the oauth-uris extension names.
fn security(base: &str) -> Value {
    let origin = base.strip_suffix("/v1/fhir").unwrap_or(base);
    json!({
        "cors": false,
        "description": "Every request carries `Authorization: Bearer <JWT>` from an issuer the server trusts, \
                        or from the token endpoint (SMART Backend Services, private_key_jwt; see \
                        /.well-known/smart-configuration); the same access rule, consent and audit as the \
                        JSON API apply to every read, search and export",
        "service": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
            "code": "SMART-on-FHIR"}], "text": "Bearer JWT; SMART Backend Services"}],
        "extension": [{
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
            "extension": [{"url": "token", "valueUri": format!("{origin}{TOKEN_PATH}")}],
        }],
    })
}

/// The CapabilityStatement of the server at `base` (…`/v1/fhir`), dated `date` (YYYY-MM-DD).
pub fn statement(base: &str, date: &str) -> Value {
    let system_ops: Vec<Value> = OPERATIONS
        .iter()
        .filter(|o| o.level == Level::System)
        .map(|o| json!({"name": o.name, "definition": o.definition}))
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "id": "carepath",
        "url": format!("{base}/metadata"),
        "version": env!("CARGO_PKG_VERSION"),
        "name": "Carepath",
        "title": "carepath FHIR server",
        "status": "active",
        "experimental": false,
        "date": date,
        "publisher": "carepath",
        "description": "A FHIR R4 view of the regional care-path record: read, search one patient at a time, \
                        JP-CLINS Bundles in (POST Bundle), Patient/$everything and Bulk Data export (system, patient and group level). JSON only.",
        "kind": "instance",
        "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        "software": {"name": "carepath", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "carepath", "url": base},
        "fhirVersion": "4.0.1",
        "format": FORMATS,
        "rest": [{
            "mode": "server",
            "security": security(base),
            "resource": TYPES.iter().map(resource).chain(CREATES.iter().map(create_only)).collect::<Vec<_>>(),
            "operation": system_ops,
        }],
    })
}
