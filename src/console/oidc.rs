//! Console sign-in through the region's OpenID Connect provider: the authorization code flow
//! with PKCE (S256), `state` and `nonce`. `start` sends the browser to the provider with a fresh
//! state, nonce and code challenge, keeping them (and the verifier) in a short-lived HttpOnly
//! cookie sealed by an HMAC under the keyring's index key, so any instance can finish the
//! sign-in. `callback` checks the state, exchanges the code at the provider's token endpoint (off
//! the async workers), verifies the ID token (signature by the provider's keys, `iss`, `aud`,
//! `exp`, `nonce`), maps its claims by the trust file's rules, then starts a console session
//! ([`start_console_session`]). Every refusal is a page, and audited (`console.oidc`).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::i18n::{CookieValue, Lang};
use super::session::secure_cookies;
use super::{ConsoleError, PageResult};
use crate::audit::Event;
use crate::auth::{Caller, Role};
use crate::context::Context;
use crate::domain::console_sessions::How;
use crate::error::ApiError;
use crate::state::AppState;

const FLOW_COOKIE: &str = "cp_oidc";
/// Seconds a sign-in may take at the provider.
const FLOW_SECS: u64 = 600;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/oidc/start").get(start)).service(web::resource("/oidc/callback").get(callback));
}

/// What the flow cookie keeps between `start` and `callback`.
#[derive(Serialize, Deserialize)]
struct Flow {
    iss: String,
    state: String,
    nonce: String,
    verifier: String,
    exp: u64,
}

fn random() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| ApiError::internal("no randomness"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn seal(state: &AppState, flow: &Flow) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(flow).unwrap_or_default());
    format!("{payload}.{}", state.keys().blind_index("console_oidc", &payload))
}

fn open(state: &AppState, cookie: &str) -> Option<Flow> {
    let (payload, mac) = cookie.split_once('.')?;
    let expected = state.keys().blind_index("console_oidc", payload);
    if expected.len() != mac.len() || expected.bytes().zip(mac.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) != 0 {
        return None;
    }
    let flow: Flow = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (flow.exp > state.clock.unix_secs()).then_some(flow)
}

fn cookie(name: &str, value: &str, path: &str, max_age: u64, same_site: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}")
}

fn with_cookie(mut res: HttpResponse, value: &str) -> HttpResponse {
    if let Ok(value) = HeaderValue::from_str(value) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    res
}

#[derive(Deserialize)]
struct StartQuery {
    #[serde(default)]
    issuer: Option<String>,
}

/// Sends the browser to the provider (the first with a console client, or `?issuer=`).
async fn start(req: HttpRequest, state: web::Data<AppState>, query: web::Query<StartQuery>) -> PageResult {
    let lang = Lang::of(&req);
    let fail = |e: ApiError| ConsoleError::new(e, lang);
    let issuer = match query.into_inner().issuer {
        Some(issuer) => issuer,
        None => state.auth.console_providers().into_iter().next().map(|(iss, _)| iss).ok_or_else(|| {
            fail(ApiError::NotFound("no identity provider is set up for the console (trust file, console)".into()))
        })?,
    };
    let st = state.clone();
    let iss = issuer.clone();
    let provider =
        web::block(move || st.auth.console_provider(&iss)).await.map_err(|_| fail(ApiError::internal("blocked")))?;
    let Some((client, metadata)) = provider else {
        let why = "the identity provider cannot be reached, or is not set up for the console; try again later";
        return Err(fail(ApiError::ServiceUnavailable(why.into())));
    };
    let Some(authorize) = metadata.authorization_endpoint else {
        return Err(fail(ApiError::ServiceUnavailable("the provider names no authorization_endpoint".into())));
    };
    let flow = Flow {
        iss: issuer,
        state: random().map_err(fail)?,
        nonce: random().map_err(fail)?,
        verifier: random().map_err(fail)?,
        exp: state.clock.unix_secs() + FLOW_SECS,
    };
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, flow.verifier.as_bytes()));
    let scope = client.scope.clone().unwrap_or_else(|| "openid".into());
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", &client.redirect_uri)
        .append_pair("scope", &scope)
        .append_pair("state", &flow.state)
        .append_pair("nonce", &flow.nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let sep = if authorize.contains('?') { '&' } else { '?' };
    let res = HttpResponse::SeeOther().insert_header((header::LOCATION, format!("{authorize}{sep}{query}"))).finish();
    // SameSite=Lax: the provider's redirect back is a cross-site navigation, which a Strict
    // cookie would not come back with; the cookie is HttpOnly, sealed, and lives ten minutes.
    let value = cookie(FLOW_COOKIE, &seal(&state, &flow), "/console/oidc", FLOW_SECS, "Lax", secure_cookies(&state));
    Ok(with_cookie(res, &value))
}

#[derive(Deserialize)]
struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// Where the provider sends the browser back: finish the sign-in, or say why not.
async fn callback(req: HttpRequest, state: web::Data<AppState>, query: web::Query<CallbackQuery>) -> PageResult {
    let lang = Lang::of(&req);
    let request_id =
        req.extensions().get::<crate::edge::request_id::RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let flow = req.cookie_value(FLOW_COOKIE).and_then(|c| open(&state, &c));
    let issuer = flow.as_ref().map_or_else(|| "unknown".to_owned(), |f| f.iss.clone());
    match finish(&state, flow, query.into_inner()).await {
        Ok(caller) => {
            let ctx = Context { caller, request_id: request_id.clone(), break_glass: None };
            let res = start_console_session(&state.clone().into_inner(), ctx)
                .await
                .map_err(|e| ConsoleError::new(e, lang))?;
            let clear = cookie(FLOW_COOKIE, "", "/console/oidc", 0, "Lax", secure_cookies(&state));
            Ok(with_cookie(res, &clear))
        }
        Err(error) => {
            // Shown as a page that says why (a 401 would send the browser back to the sign-in
            // page without a word): the sign-in was refused, not merely unauthenticated.
            let error = match error {
                ApiError::Unauthorized(why) => ApiError::Forbidden(why),
                other => other,
            };
            // A security event: who tried is unknown (or unproven), the provider is named.
            let caller =
                Caller { sub: "anonymous".into(), org: "unknown".into(), role: Role::CareWorker, purpose: None };
            let mut event = Event::new(&Context { caller, request_id, break_glass: None }, "console.oidc")
                .resource("issuer", &crate::crypto::keyfile::printable(&issuer));
            event.actor_role = "none".into();
            state.committer.record(event, "denied", error.status()).await.map_err(|e| ConsoleError::new(e, lang))?;
            Err(ConsoleError::new(error, lang))
        }
    }
}

/// The checks of the callback, in order; the caller the ID token maps to.
async fn finish(state: &web::Data<AppState>, flow: Option<Flow>, query: CallbackQuery) -> Result<Caller, ApiError> {
    let Some(flow) = flow else {
        return Err(ApiError::BadRequest("this sign-in expired or was not started here; sign in again".into()));
    };
    if let Some(error) = query.error {
        let why = query.error_description.unwrap_or_default();
        let message = format!("the identity provider refused: {} {}", printable(&error), printable(&why));
        return Err(ApiError::Unauthorized(message));
    }
    let same = query.state.as_deref().is_some_and(|s| s.len() == flow.state.len() && s == flow.state);
    if !same {
        return Err(ApiError::BadRequest("the sign-in's state does not match; sign in again".into()));
    }
    let code = query
        .code
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or_else(|| ApiError::BadRequest("the provider sent no authorization code".into()))?;
    let st = state.clone();
    web::block(move || exchange(&st, &flow, &code)).await.map_err(|_| ApiError::internal("blocked"))?
}

/// Blocking: the code exchange (with the PKCE verifier) and the ID token's checks.
fn exchange(state: &AppState, flow: &Flow, code: &str) -> Result<Caller, ApiError> {
    let unavailable =
        || ApiError::ServiceUnavailable("the identity provider cannot be reached; try again later".into());
    let (client, metadata) = state.auth.console_provider(&flow.iss).ok_or_else(unavailable)?;
    let endpoint = metadata.token_endpoint.ok_or_else(unavailable)?;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("client_id", client.client_id.as_str()),
        ("code_verifier", flow.verifier.as_str()),
    ];
    if let Some(secret) = &client.client_secret {
        form.push(("client_secret", secret.as_str()));
    }
    let (status, body) = crate::auth::post_form(&endpoint, &form).map_err(|e| {
        tracing::warn!(error = %e, "OpenID Connect code exchange failed");
        unavailable()
    })?;
    let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|_| {
        ApiError::Unauthorized(format!("the provider's token endpoint answered HTTP {status} without JSON"))
    })?;
    if status != 200 {
        let error = answer.error.unwrap_or_else(|| format!("HTTP {status}"));
        let why = answer.error_description.unwrap_or_default();
        // A PKCE mismatch, a reused or expired code: `invalid_grant`.
        return Err(ApiError::Unauthorized(format!(
            "the provider refused the code: {} {}",
            printable(&error),
            printable(&why)
        )));
    }
    let id_token = answer.id_token.ok_or_else(|| ApiError::Unauthorized("the provider answered no id_token".into()))?;
    state
        .auth
        .verify_id_token(&flow.iss, &id_token, &flow.nonce)
        .map_err(|e| ApiError::Unauthorized(format!("the ID token was refused: {e}")))
}

fn printable(s: &str) -> String {
    crate::crypto::keyfile::printable(s)
}

/// Starts the console session of a caller the provider vouched for: a server-side session like
/// an account's (`session::open`, which also refuses an organisation not in the directory), kept
/// as signed in through the provider.
pub async fn start_console_session(state: &Arc<AppState>, ctx: Context) -> Result<HttpResponse, ApiError> {
    let cookie_id = super::session::open(state, ctx, How::Oidc, None).await?;
    // A page that moves on by itself rather than a redirect: the callback was reached from the
    // provider's site, and a SameSite=Strict cookie set in a cross-site redirect chain is not
    // sent on its next hop; a same-site navigation from this page does carry it.
    let page = "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url=/console/\">\
                <title>carepath</title><p><a href=\"/console/\" id=\"continue\">/console/</a></p>";
    let res = HttpResponse::build(StatusCode::OK).content_type("text/html; charset=utf-8").body(page);
    Ok(super::session::signed_in(state, res, &cookie_id))
}
