//! Service clients over HTTP: registration (an organisation's admin), the token endpoint
//! (client credentials with a signed assertion) and `/.well-known/smart-configuration`, which
//! tells SMART Backend Services clients how to use it. Thin handlers around
//! `crate::domain::service_clients`.

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::service_clients::ASSERTION_ALGS;
use crate::context::Context;
use crate::domain::service_clients::{self, ServiceClient, ServiceClientInput, TokenRequest, TokenResponse};
use crate::edge::json::ApiJson;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// The token endpoint's path.
pub const TOKEN_PATH: &str = "/v1/auth/token";

/// This server's origin: `--public-url`, else the request's scheme and host. Assertions name the
/// token endpoint under it as their `aud`; set `--public-url` in production, so that the
/// expected audience does not follow a client-sent `Host`.
fn origin(req: &HttpRequest) -> String {
    let configured = req.app_data::<web::Data<AppState>>().and_then(|s| s.settings.public_url.clone());
    match configured {
        Some(origin) => origin.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

/// The token endpoint's URL, as assertions must name it in `aud`.
pub fn token_endpoint(req: &HttpRequest) -> String {
    format!("{}{TOKEN_PATH}", origin(req))
}

/// Register a service client of the organisation (its admin, or the operator's): a vendor's
/// system with its public key (JWKS or PEM), the role its tokens carry and the scopes it may
/// ask for. It then obtains tokens at `POST /v1/auth/token`.
#[utoipa::path(post, path = "/v1/organizations/{id}/service-clients", tag = "directory",
    request_body = ServiceClientInput, security(("bearer" = [])),
    responses(
        (status = 201, body = ServiceClient, description = "The client, with its client_id"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn register_client(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    ApiJson(input): ApiJson<ServiceClientInput>,
) -> Result<HttpResponse, ApiError> {
    let client = service_clients::register(&state, ctx, id.into_inner().into(), input).await?;
    Ok(HttpResponse::Created().json(client))
}

/// The token endpoint (OAuth 2.0 client credentials, RFC 6749 4.4, with a client assertion,
/// RFC 7523): a form with `grant_type=client_credentials`,
/// `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`,
/// `client_assertion` (a JWT the client signed: `iss` = `sub` = its client id, `aud` = this
/// endpoint's URL, `exp` at most five minutes away, a `jti` never used before) and optionally
/// `scope`. Answers a bearer token valid for five minutes.
#[utoipa::path(post, path = "/v1/auth/token", tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse, description = "A token for the client"),
        (status = 401, body = Problem, content_type = "application/problem+json",
            description = "invalid_client: unknown client, bad signature, wrong aud, expired or replayed assertion"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json",
            description = "unsupported_grant_type, a wrong client_assertion_type or invalid_scope"),
    ))]
pub async fn token(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let form = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !form.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(ApiError::UnsupportedMediaType(
            "send the token request as application/x-www-form-urlencoded".into(),
        ));
    }
    let request: TokenRequest =
        serde_urlencoded::from_bytes(&body).map_err(|e| ApiError::BadRequest(format!("malformed form: {e}")))?;
    let request_id =
        req.extensions().get::<crate::edge::request_id::RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let answer = service_clients::token(&state, request, token_endpoint(&req), request_id).await?;
    // RFC 6749 section 5.1: tokens are not cached by anyone on the way.
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(answer))
}

/// `/.well-known/smart-configuration` (SMART App Launch 2.x, Backend Services).
#[derive(Debug, Serialize, ToSchema)]
pub struct SmartConfiguration {
    /// Where to trade a signed assertion for a token.
    pub token_endpoint: String,
    /// `private_key_jwt`.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// The algorithms an assertion may be signed with.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// `client_credentials`.
    pub grant_types_supported: Vec<&'static str>,
    /// The system scopes a client may be registered for.
    pub scopes_supported: Vec<&'static str>,
    /// SMART capabilities.
    pub capabilities: Vec<&'static str>,
}

/// How a SMART Backend Services client obtains tokens here: the token endpoint, client
/// authentication by signed assertion (`private_key_jwt`) and its algorithms, the scopes.
#[utoipa::path(get, path = "/.well-known/smart-configuration", tag = "auth",
    responses((status = 200, body = SmartConfiguration, description = "The SMART configuration")))]
pub async fn smart_configuration(req: HttpRequest) -> HttpResponse {
    HttpResponse::Ok().json(SmartConfiguration {
        token_endpoint: token_endpoint(&req),
        token_endpoint_auth_methods_supported: vec!["private_key_jwt"],
        token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS.to_vec(),
        grant_types_supported: vec!["client_credentials"],
        scopes_supported: vec!["system/*.rs", "system/*.read", "system/*.cruds", "system/*.write"],
        capabilities: vec!["client-confidential-asymmetric", "permission-v1", "permission-v2"],
    })
}
