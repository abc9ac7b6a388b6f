//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes.
//! `carepath openapi` prints it; `openapi/openapi.json` is that output, checked by a test.

use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::api;
use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(title = "carepath", description = "Regional care-pathway record service: one shared, consent-governed record per patient for the doctors, nurses, care managers and pharmacists of home care."),
    paths(api::health::healthz),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags((name = "health", description = "Liveness and readiness")),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The spec as committed in `openapi/openapi.json` (pretty, with a final newline).
pub fn spec_json() -> String {
    let mut json = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
