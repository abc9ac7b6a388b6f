//! Sign in and out. The session cookie holds the bearer token itself (so it grants no more than
//! the token, and ends when the token expires); it is HttpOnly, SameSite=Strict, and Secure
//! unless `--console-secure-cookie false` (never decided by a client-sent `X-Forwarded-Proto`).
//! Sign-in starts a server-side session for the token; sign-out, an admin, or idle time ends
//! it, and the token is then refused here and as an API bearer token (`auth::Authenticator`).
//! Every form carries a CSRF token: an HMAC, under the keyring's index key, of the session's
//! token (or, on the sign-in form, of a random pre-session nonce).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use base64::Engine;
use serde::Deserialize;

use super::i18n::{CookieValue, Lang};
use super::{ConsoleError, PageResult, Ui, html, see_other};
use crate::auth::Role;
use crate::db::sessions::EndedTokenRow;
use crate::error::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "cp_session";
const LOGIN_COOKIE: &str = "cp_login";
/// Longest token kept in a cookie: browsers cap a cookie near 4 KiB.
const MAX_TOKEN: usize = 3800;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/login").get(sign_in_page).post(sign_in))
        .service(web::resource("/logout").post(sign_out));
}

/// A user the sign-in page offers in demo mode (`serve --demo`).
#[derive(Debug, Clone)]
pub struct DemoUser {
    /// What the button says, e.g. "訪問看護師 佐藤".
    pub label: String,
    pub role: Role,
    /// A token for this user, minted by the demo region.
    pub token: String,
}

/// The demo region's people (`serve --demo` only), each with a fresh token: the sign-in page
/// offers them as buttons. The page is public, so outside demo mode it offers nobody.
pub fn demo_users(state: &AppState) -> Vec<DemoUser> {
    if !state.settings.demo.enabled {
        return Vec::new();
    }
    const DEMO_SESSION_SECS: u64 = 8 * 3600;
    crate::demo::users(&state.settings.data_dir)
        .into_iter()
        // The operator's admin acts across every organisation: never a click away on a public
        // page (its token is printed on the server's terminal instead).
        .filter(|u| u.organization != state.settings.operator_org)
        .filter_map(|u| {
            let token = crate::auth::issue_local_token(
                &state.settings.data_dir,
                &u.sub,
                u.role,
                &u.organization,
                DEMO_SESSION_SECS,
            )
            .ok()?;
            let label = format!("{} ({}, {})", u.name, u.role.as_str(), u.organization_name);
            Some(DemoUser { label, role: u.role, token })
        })
        .collect()
}

/// The session's token, if the request has a cookie that could be one (JWT characters only, so
/// it cannot smuggle anything into the `Authorization` header).
pub fn token_of(req: &HttpRequest) -> Option<String> {
    req.cookie_value(SESSION_COOKIE).filter(|t| {
        !t.is_empty() && t.len() <= MAX_TOKEN && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    })
}

/// The CSRF token of a session: bound to its bearer token, unforgeable without the keyring.
pub fn csrf_for(state: &AppState, token: &str) -> String {
    state.keys().blind_index("console_csrf", token)
}

/// Refuses (403) a form whose CSRF token is not the session's.
pub fn check_csrf(req: &HttpRequest, given: &str) -> Result<(), ConsoleError> {
    let lang = Lang::of(req);
    let refuse = || ConsoleError::new(ApiError::Forbidden("the form's CSRF token is missing or wrong".into()), lang);
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(refuse)?;
    let token = token_of(req).ok_or_else(refuse)?;
    if same(&csrf_for(state, &token), given) { Ok(()) } else { Err(refuse()) }
}

/// Equal in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/console; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

pub fn lang_cookie(lang: Lang, secure: bool) -> String {
    cookie(super::i18n::LANG_COOKIE, lang.code(), 365 * 24 * 3600, secure)
}

/// Whether the console's cookies are `Secure`: a setting, not the request's (client-sent) scheme.
pub fn secure_cookies(state: &AppState) -> bool {
    state.settings.sessions.console_secure_cookie
}

/// Seconds until the token's `exp` (already verified; read again only to size the cookie).
fn seconds_left(token: &str) -> i64 {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let exp = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|claims| claims.get("exp").and_then(serde_json::Value::as_i64));
    // `exp` is checked on the wall clock (jsonwebtoken), so the cookie lives by it too.
    let now = crate::clock::Clock::system().now().unix_timestamp();
    exp.map_or(3600, |exp| (exp - now).clamp(0, 12 * 3600))
}

/// Back to the sign-in page, forgetting the session (it expired, or never was).
pub fn back_to_sign_in() -> HttpResponse {
    let mut res = see_other("/console/login");
    if let Ok(value) = HeaderValue::from_str(&cookie(SESSION_COOKIE, "", 0, false)) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    res
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct SignIn {
    ui: Ui,
    demo: Vec<DemoUser>,
    failed: Option<String>,
}

fn sign_in_form(req: &HttpRequest, state: &AppState, failed: Option<String>) -> HttpResponse {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let ui = Ui {
        lang: Lang::of(req),
        csrf: state.keys().blind_index("console_login", &nonce),
        user: String::new(),
        org: String::new(),
        role: None,
        path: "/console/login".into(),
    };
    let status =
        if failed.is_some() { actix_web::http::StatusCode::UNAUTHORIZED } else { actix_web::http::StatusCode::OK };
    let mut res = html(status, &SignIn { ui, demo: demo_users(state), failed });
    if let Ok(value) = HeaderValue::from_str(&cookie(LOGIN_COOKIE, &nonce, 1800, secure_cookies(state))) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    res
}

async fn sign_in_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    sign_in_form(&req, &state, None)
}

#[derive(Deserialize)]
struct SignInForm {
    token: String,
    #[serde(default)]
    csrf: String,
}

/// Checks the token exactly as the API checks a bearer token, and that its organisation is in
/// the directory, then keeps it in the session cookie.
async fn sign_in(req: HttpRequest, state: web::Data<AppState>, form: web::Form<SignInForm>) -> PageResult {
    let lang = Lang::of(&req);
    let nonce = req.cookie_value(LOGIN_COOKIE).unwrap_or_default();
    if nonce.is_empty() || !same(&state.keys().blind_index("console_login", &nonce), &form.csrf) {
        return Err(ConsoleError::new(ApiError::Forbidden("the form's CSRF token is missing or wrong".into()), lang));
    }
    let token = form.token.trim();
    let caller = match state.auth.begin_session(token) {
        Ok(caller) if token.len() <= MAX_TOKEN => caller,
        Ok(_) => return Ok(sign_in_form(&req, &state, Some("token too large".into()))),
        Err(e) => return Ok(sign_in_form(&req, &state, Some(e.to_string()))),
    };
    let operator = caller.role == Role::Admin && caller.org == state.settings.operator_org;
    if !operator && !state.organization_known(&caller.org).await.map_err(|e| ConsoleError::new(e, lang))? {
        return Ok(sign_in_form(&req, &state, Some("your organisation is not in the directory".into())));
    }
    let mut res = see_other("/console/");
    let secure = secure_cookies(&state);
    let session = cookie(SESSION_COOKIE, token, seconds_left(token), secure);
    for value in [session, cookie(LOGIN_COOKIE, "", 0, secure)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            res.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(res)
}

#[derive(Deserialize)]
struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// Ends the session: its token is refused from now on, in the console and as a bearer token.
async fn sign_out(req: HttpRequest, state: web::Data<AppState>, form: web::Form<SignOutForm>) -> PageResult {
    check_csrf(&req, &form.csrf)?;
    if let Some((digest, exp)) = token_of(&req).and_then(|token| state.auth.end_session(&token)) {
        // Kept, so that a restart does not revive the token; refused from now on either way.
        let row = EndedTokenRow { digest, expires_at: i64::try_from(exp).unwrap_or(i64::MAX) };
        crate::db::run(&state.pool, move |conn| Ok(row.insert(conn)?))
            .await
            .map_err(|e| ConsoleError::new(e, Lang::of(&req)))?;
    }
    Ok(back_to_sign_in())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_and_cookie_shape() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        let c = cookie(SESSION_COOKIE, "t", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.ends_with("; Secure"));
        assert!(!cookie(SESSION_COOKIE, "t", 60, false).contains("Secure"));
        assert_eq!(seconds_left("not-a-jwt"), 3600);
    }
}
