//! Service clients (SMART Backend Services): a vendor's system (an EHR's back end syncing a
//! clinic, a bulk-export client) gets an identity of its own, registered by the organisation's
//! admin with a public key, and trades a signed assertion for a short-lived token at the token
//! endpoint. Registration and every token (refusals too) are audited; the assertion's `jti` is
//! recorded in the token's transaction, so a replay is refused even across instances.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::access::{self, DirectoryWrite};
use crate::audit::Event;
use crate::auth::service_clients::{self as assertions, JWT_BEARER};
use crate::auth::{Caller, Issue, Role};
use crate::context::Context;
use crate::db::service_clients::{ServiceClientRow, UsedAssertionRow};
use crate::domain::fields::Errors;
use crate::error::ApiError;
use crate::ids::OrganizationId;
use crate::state::AppState;

/// Seconds a token from the token endpoint is valid.
pub const TOKEN_SECS: u64 = 300;
/// The scopes a client may be registered for, SMART v2 style (`system/<type>.<rs|cruds>`, v1's
/// `.read`/`.write` too); `system/*.rs` is every resource, read and search.
fn valid_scope(scope: &str) -> bool {
    let Some(rest) = scope.strip_prefix("system/") else { return false };
    let Some((resource, access)) = rest.split_once('.') else { return false };
    let resource_ok = resource == "*" || (!resource.is_empty() && resource.chars().all(|c| c.is_ascii_alphanumeric()));
    resource_ok && ["read", "write", "*", "rs", "cruds", "cud", "r", "s"].contains(&access)
}

/// A client to register.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceClientInput {
    /// What the client is, for people reading the audit log (at most 200 characters).
    #[schema(example = "電子カルテ連携 (clinic sync)")]
    pub name: String,
    /// The role its tokens carry; the access rule decides by it as for a person.
    pub role: Role,
    /// The scopes it may ask for (`system/*.rs`, `system/Patient.read`, ...).
    #[schema(example = json!(["system/*.rs"]))]
    pub scopes: Vec<String>,
    /// Its public keys as a JWKS (`{"keys": [...]}`); or give `public_key_pem`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Value>,
    /// One PEM public key (`-----BEGIN PUBLIC KEY-----`); or give `jwks`.
    #[serde(default)]
    pub public_key_pem: Option<String>,
}

/// A registered client.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceClient {
    /// The `client_id`: the `iss` and `sub` of its assertions.
    pub client_id: String,
    /// The organisation it acts for (its tokens' `org`).
    pub organization: String,
    /// What it is.
    pub name: String,
    /// The role its tokens carry.
    pub role: Role,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
    /// When it was registered (RFC 3339, UTC).
    pub created_at: String,
}

impl From<&ServiceClientRow> for ServiceClient {
    fn from(row: &ServiceClientRow) -> Self {
        Self {
            client_id: row.id.clone(),
            organization: row.organization_id.clone(),
            name: row.name.clone(),
            role: row.role.parse().unwrap_or(Role::CareWorker),
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
            created_at: row.created_at.clone(),
        }
    }
}

/// Registers a client of `org`: its admin (or the operator's) only. Audited, refusals too.
pub async fn register(
    state: &Arc<AppState>,
    ctx: Context,
    org: OrganizationId,
    input: ServiceClientInput,
) -> Result<ServiceClient, ApiError> {
    let event = Event::new(&ctx, "service_client.register").resource("organization", org.as_str());
    let id = uuid::Uuid::new_v4().to_string();
    let now = state.clock.stamp();
    let row = super::write(state, event, 201, move |tx, st, ev| {
        access::may_write_directory(
            &ctx.caller,
            &st.settings.operator_org,
            DirectoryWrite::ReplaceOrganization { id: org.as_str() },
        )?;
        let mut errors = Errors::default();
        errors.text("/name", &input.name, 200);
        if input.scopes.is_empty() {
            errors.add("/scopes", "name at least one scope");
        }
        for (i, scope) in input.scopes.iter().enumerate() {
            if !valid_scope(scope) {
                errors.add(format!("/scopes/{i}"), "a system scope: system/<resource or *>.<rs, cruds, read or write>");
            }
        }
        let keys = assertions::registered_keys(input.jwks.as_ref(), input.public_key_pem.as_deref());
        if let Err(why) = &keys {
            let at = if input.public_key_pem.is_some() && input.jwks.is_none() { "/public_key_pem" } else { "/jwks" };
            errors.add(at, why.clone());
        }
        errors.finish()?;
        let row = ServiceClientRow {
            id: id.clone(),
            organization_id: org.as_str().to_owned(),
            name: input.name.trim().to_owned(),
            role: input.role.as_str().to_owned(),
            scopes: input.scopes.join(" "),
            public_keys: keys.unwrap_or_default(),
            created_at: now.clone(),
            created_by: ctx.caller.sub.clone(),
        };
        row.insert(tx)?;
        ev.resource_type = Some("service_client");
        ev.resource_id = Some(row.id.clone());
        Ok(row)
    })
    .await?;
    Ok(ServiceClient::from(&row))
}

/// The token request (RFC 6749 section 4.4 with RFC 7523 client authentication).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `client_credentials`.
    #[serde(default)]
    pub grant_type: String,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    #[serde(default)]
    pub client_assertion_type: String,
    /// The JWT the client signed: `iss` = `sub` = its client id, `aud` = the token endpoint,
    /// `exp` at most five minutes away, a unique `jti`.
    #[serde(default)]
    pub client_assertion: String,
    /// Space-separated scopes; default: all the client is registered for.
    #[serde(default)]
    pub scope: Option<String>,
    /// If given, must be the assertion's `iss`.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// The token answer (RFC 6749 section 5.1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The bearer token (a JWT, `iss` `carepath-issued`).
    pub access_token: String,
    /// `bearer`.
    pub token_type: &'static str,
    /// Seconds it is valid.
    pub expires_in: u64,
    /// The scopes granted.
    pub scope: String,
}

/// An event about a token request by a client that is not (yet) known to be who it says.
fn refusal_event(claimed: &str, org: &str, request_id: &str) -> Event {
    let caller = Caller {
        sub: crate::crypto::keyfile::printable(claimed),
        org: org.to_owned(),
        role: Role::CareWorker,
        purpose: Some("token".into()),
    };
    let mut event =
        Event::new(&Context { caller, request_id: request_id.to_owned(), break_glass: None }, "service_client.token");
    event.actor_role = "service_client".into();
    event
}

/// Trades a client's signed assertion for a token. `audience` is this token endpoint's URL.
/// Every refusal of a request that names a client is audited (`service_client.token`, denied).
pub async fn token(
    state: &Arc<AppState>,
    request: TokenRequest,
    audience: String,
    request_id: String,
) -> Result<TokenResponse, ApiError> {
    if request.grant_type != "client_credentials" {
        return Err(ApiError::field("/grant_type", "unsupported_grant_type: only client_credentials is supported"));
    }
    if request.client_assertion_type != JWT_BEARER {
        return Err(ApiError::field("/client_assertion_type", format!("invalid_client: must be {JWT_BEARER}")));
    }
    let claimed = assertions::claimed_client(&request.client_assertion).ok_or_else(|| {
        ApiError::Unauthorized("invalid_client: the client_assertion is not a JWT with an iss".into())
    })?;
    let refuse = |org: &str, why: String| {
        let state = state.clone();
        let event = refusal_event(&claimed, org, &request_id);
        async move {
            let error = ApiError::Unauthorized(format!("invalid_client: {why}"));
            state.committer.record(event, "denied", 401).await?;
            Err::<TokenResponse, ApiError>(error)
        }
    };
    if request.client_id.as_deref().is_some_and(|id| id != claimed) {
        return refuse("unknown", "client_id is not the assertion's iss".into()).await;
    }
    let id = claimed.clone();
    let row = crate::db::run(&state.pool, move |conn| Ok(ServiceClientRow::find(conn, &id)?)).await?;
    let Some(row) = row else {
        return refuse("unknown", "no such client".into()).await;
    };
    let now = state.clock.unix_secs();
    let leeway = state.settings.jwt_leeway_secs;
    let assertion = match assertions::verify_assertion(
        &row.public_keys,
        &row.id,
        &request.client_assertion,
        &audience,
        now,
        leeway,
    ) {
        Ok(assertion) => assertion,
        Err(why) => return refuse(&row.organization_id, why).await,
    };
    let registered: Vec<&str> = row.scopes.split_whitespace().collect();
    let scope = match request.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => registered.join(" "),
        Some(asked) => {
            if let Some(extra) = asked.split_whitespace().find(|s| !registered.contains(s)) {
                let why = format!(
                    "invalid_scope: {} is not registered for this client",
                    crate::crypto::keyfile::printable(extra)
                );
                return Err(ApiError::field("/scope", why));
            }
            asked.split_whitespace().collect::<Vec<_>>().join(" ")
        }
    };
    let role: Role = row.role.parse().map_err(|_| ApiError::internal("a service client's stored role is unknown"))?;
    let caller = Caller { sub: row.id.clone(), org: row.organization_id.clone(), role, purpose: None };
    let ctx = Context { caller: caller.clone(), request_id, break_glass: None };
    let used = UsedAssertionRow {
        client_id: row.id.clone(),
        jti: assertion.jti,
        expires_at: i64::try_from(assertion.exp).unwrap_or(i64::MAX),
    };
    let event = Event::new(&ctx, "service_client.token").resource("service_client", &row.id);
    let now_i = i64::try_from(now).unwrap_or(i64::MAX);
    super::write(state, event, 200, move |tx, _, _| {
        if used.record_once(tx, now_i)? {
            Ok(())
        } else {
            Err(ApiError::Unauthorized("invalid_client: this assertion (its jti) was used before".into()))
        }
    })
    .await?;
    let access_token = state
        .auth
        .issue(&Issue { caller: &caller, ttl_secs: TOKEN_SECS, scope: Some(&scope) })
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(TokenResponse { access_token, token_type: "bearer", expires_in: TOKEN_SECS, scope })
}
