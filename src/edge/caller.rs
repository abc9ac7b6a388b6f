//! The request extractor for [`Caller`]: a handler that takes a `Caller` runs only for a request
//! with a valid bearer token, from an organisation in the directory.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::audit::Event;
use crate::auth::{Caller, Role, SessionCaller};
use crate::context::Context;
use crate::edge::request_id::RequestId;
use crate::error::ApiError;
use crate::state::AppState;

/// Bounds `X-Purpose`, which ends up in the audit log.
const MAX_PURPOSE_LEN: usize = 256;

const X_PURPOSE: &str = "x-purpose";

/// A handler that takes a `Caller` is authenticated: without a valid bearer token the request
/// ends in 401 before the handler runs.
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let verified = caller_from_request(req).inspect_err(counted);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let refused = Refused::of(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("the application state is not registered"))?;
            let caller = match verified? {
                Verified::Caller(caller) => caller,
                // A key the issuer published since its keys were last fetched: fetched once
                // (at most once a minute per issuer), off the async workers.
                Verified::Refresh { token, purpose } => {
                    let st = state.clone();
                    let mut caller = web::block(move || st.auth.verify_after_refresh(&token))
                        .await
                        .map_err(|_| ApiError::internal("the key refresh did not finish"))?
                        .map_err(unauthorized)
                        .inspect_err(counted)?;
                    caller.purpose = purpose.or(caller.purpose);
                    caller
                }
            };
            // Counted once the token is verified, so nobody can spend another caller's allowance.
            state.limits.admit(&caller.sub, &caller.org)?;
            // The operator's admin acts before any organisation exists; everyone else must
            // belong to one in the directory (a positive cache keeps this off the database).
            let operator = caller.role == Role::Admin && caller.org == state.settings.operator_org;
            if !operator && !state.organization_known(&caller.org).await? {
                let error = ApiError::Forbidden("your organisation is not in the directory".into());
                refused.record(&state, caller, &error).await?;
                return Err(error);
            }
            Ok(caller)
        })
    }
}

/// Action of the event recorded when a verified token names an organisation not in the
/// directory: the token is genuine (a trusted issuer signed it), so the actor is known and the
/// refusal belongs in the audit log, with the route it tried.
pub const UNKNOWN_ORGANIZATION: &str = "caller.unknown_organization";

/// Longest path id taken as a patient id into the event: ids are UUIDs (36 characters), and the
/// bound keeps a caller from writing kilobytes of path into the append-only log.
const MAX_PATH_ID: usize = 64;

/// What an audit event about a request refused before its handler needs from the request.
struct Refused {
    request_id: String,
    /// `METHOD /route/{pattern}`: bounded by the route table, unlike the raw path.
    route: String,
    /// The patient the path names, on `/v1/patients/{id}…` routes.
    patient: Option<String>,
}

impl Refused {
    fn of(req: &HttpRequest) -> Self {
        let pattern = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        let patient = (pattern.starts_with("/v1/patients/{id}"))
            .then(|| req.match_info().get("id"))
            .flatten()
            .filter(|id| id.len() <= MAX_PATH_ID)
            .map(str::to_owned);
        Self {
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default(),
            route: format!("{} {pattern}", req.method()),
            patient,
        }
    }

    /// Records the refusal (outcome `denied`) through the committer.
    async fn record(self, state: &web::Data<AppState>, caller: Caller, error: &ApiError) -> Result<(), ApiError> {
        let ctx = Context { caller, request_id: self.request_id, break_glass: None };
        let mut event = Event::new(&ctx, UNKNOWN_ORGANIZATION).resource("route", &self.route);
        event.patient_id = self.patient;
        state.committer.record(event, "denied", error.status()).await
    }
}

/// A verified caller, or a token to verify again after one fetch of its issuer's keys.
enum Verified {
    Caller(Caller),
    Refresh { token: String, purpose: Option<String> },
}

fn counted(e: &ApiError) {
    if matches!(e, ApiError::Unauthorized(_)) {
        crate::telemetry::count_unauthenticated();
    }
}

fn unauthorized(e: crate::auth::AuthError) -> ApiError {
    tracing::debug!(reason = %e, "bearer token rejected");
    ApiError::Unauthorized(e.to_string())
}

fn caller_from_request(req: &HttpRequest) -> Result<Verified, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("the application state is not registered"))?;
    let purpose = purpose_header(req)?;
    // A console request's caller comes from its server-side session (the console's guard put
    // it there, having dropped any Authorization header); every other request's from its token.
    let session = req.extensions().get::<SessionCaller>().map(|s| s.0.clone());
    let mut caller = match session {
        Some(caller) => caller,
        None => {
            let token = bearer_token(req).map_err(|m| ApiError::Unauthorized(m.to_owned()))?;
            match state.auth.verify(token) {
                Ok(caller) => caller,
                Err(e) if state.auth.may_refresh_for(token, &e) => {
                    return Ok(Verified::Refresh { token: token.to_owned(), purpose });
                }
                Err(e) => return Err(unauthorized(e)),
            }
        }
    };
    if let Some(purpose) = purpose {
        caller.purpose = Some(purpose);
    }
    Ok(Verified::Caller(caller))
}

fn bearer_token(req: &HttpRequest) -> Result<&str, &'static str> {
    let mut values = req.headers().get_all(AUTHORIZATION);
    let value = values.next().ok_or("missing Authorization header")?;
    if values.next().is_some() {
        return Err("more than one Authorization header");
    }
    let value = value.to_str().map_err(|_| "malformed Authorization header")?;
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err("Authorization scheme must be Bearer");
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err("empty bearer token");
    }
    if token.contains(char::is_whitespace) {
        return Err("malformed bearer token");
    }
    Ok(token)
}

fn purpose_header(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(X_PURPOSE) else {
        return Ok(None);
    };
    let invalid = |m: &str| ApiError::field("/header/x-purpose", m);
    // UTF-8 rather than visible ASCII only: purposes are often written in Japanese.
    let text = std::str::from_utf8(value.as_bytes()).map_err(|_| invalid("must be UTF-8 text"))?.trim();
    if text.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if text.chars().count() > MAX_PURPOSE_LEN || text.chars().any(char::is_control) {
        return Err(invalid("must be one line of at most 256 characters"));
    }
    Ok(Some(text.to_owned()))
}
