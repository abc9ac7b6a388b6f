//! The schema registry, read-only: which document types and versions exist, and each schema.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct SchemaType {
    #[serde(rename = "type")]
    pub doc_type: String,
    /// Oldest first.
    pub versions: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SchemaList {
    pub types: Vec<SchemaType>,
}

/// List document types and their schema versions.
#[utoipa::path(get, path = "/v1/schemas", tag = "schemas", security(("bearer" = [])),
    responses((status = 200, body = SchemaList)))]
pub async fn list_schemas(state: web::Data<AppState>, _caller: Caller) -> HttpResponse {
    let types = state
        .schemas
        .types()
        .into_iter()
        .map(|(t, versions)| SchemaType { doc_type: t.to_owned(), versions })
        .collect();
    HttpResponse::Ok().json(SchemaList { types })
}

/// The JSON Schema (draft 2020-12) of one type and version.
#[utoipa::path(get, path = "/v1/schemas/{type}/{version}", tag = "schemas", security(("bearer" = [])),
    responses((status = 200, description = "The schema", body = Object, content_type = "application/schema+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_schema(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (doc_type, version) = path.into_inner();
    let entry = state
        .schemas
        .get(&doc_type, &version)
        .ok_or_else(|| ApiError::NotFound(format!("no schema {doc_type} {version}")))?;
    Ok(HttpResponse::Ok().content_type("application/schema+json").json(&entry.schema))
}
