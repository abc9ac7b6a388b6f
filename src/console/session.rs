//! The console's session cookie (issue 30): a random 256-bit id, opaque to the browser, whose
//! server-side row (`domain::console_sessions`) names the caller. It is HttpOnly,
//! SameSite=Strict, `Path=/console`, and Secure unless `--console-secure-cookie false` (never
//! decided by a client-sent `X-Forwarded-Proto`). Every form carries a CSRF token: an HMAC,
//! under the keyring's index key, of the session's id (or, on the sign-in and invitation forms,
//! of a random pre-session nonce kept in a cookie of its own).

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};

use super::i18n::{CookieValue, Lang};
use super::{ConsoleError, see_other};
use crate::context::Context;
use crate::domain::console_sessions::{self, How};
use crate::error::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "cp_session";
/// The pre-session nonce of the sign-in and invitation forms.
pub(super) const LOGIN_COOKIE: &str = "cp_login";
/// Characters of a session id: 32 bytes in base64url without padding.
const ID_LEN: usize = 43;

/// Opens a console session for `ctx.caller`, already authenticated by `how` (the OpenID
/// Connect callback, a pasted token), ending by `ends_by` (Unix seconds: a token's `exp`) at the
/// latest, and returns the cookie's id; the face answers the browser with [`signed_in`]. The
/// session is a server-side row like an account's (audited `session.start`), ends by the same
/// time-outs, sign-out and revocations, and maps to the same `Caller`. Refuses (403) an
/// organisation not in the directory, as every request would: both ways in check it here.
pub(super) async fn open(
    state: &Arc<AppState>,
    ctx: Context,
    how: How,
    ends_by: Option<i64>,
) -> Result<String, ApiError> {
    let caller = &ctx.caller;
    let operator = caller.role == crate::auth::Role::Admin && caller.org == state.settings.operator_org;
    if !operator && !state.organization_known(&caller.org).await? {
        return Err(ApiError::Forbidden("your organisation is not in the directory".into()));
    }
    console_sessions::start(state, ctx, how, ends_by).await
}

/// [`open`], answered with 303 to `/console/` and the session cookie.
pub(super) async fn start_until(
    state: &Arc<AppState>,
    ctx: Context,
    how: How,
    ends_by: Option<i64>,
) -> Result<HttpResponse, ApiError> {
    let cookie_id = open(state, ctx, how, ends_by).await?;
    Ok(signed_in(state, see_other("/console/"), &cookie_id))
}

/// Adds the session cookie (and drops the sign-in nonce) to `res`.
pub(super) fn signed_in(state: &AppState, mut res: HttpResponse, cookie_id: &str) -> HttpResponse {
    let secure = secure_cookies(state);
    let max_age = i64::try_from(state.settings.sessions.console_absolute_secs).unwrap_or(43_200);
    for value in [cookie(SESSION_COOKIE, cookie_id, max_age, secure), cookie(LOGIN_COOKIE, "", 0, secure)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            res.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    res
}

/// The session id of the request's cookie, if it has the shape of one (so junk never reaches
/// the database).
pub fn session_id_of(req: &HttpRequest) -> Option<String> {
    req.cookie_value(SESSION_COOKIE)
        .filter(|t| t.len() == ID_LEN && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)))
}

/// The CSRF token of a session: bound to its id, unforgeable without the keyring.
pub fn csrf_for(state: &AppState, session_id: &str) -> String {
    state.keys().blind_index("console_csrf", session_id)
}

fn forged(lang: Lang) -> ConsoleError {
    ConsoleError::new(ApiError::Forbidden("the form's CSRF token is missing or wrong".into()), lang)
}

/// Refuses (403) a form whose CSRF token is not the session's.
pub fn check_csrf(req: &HttpRequest, given: &str) -> Result<(), ConsoleError> {
    let lang = Lang::of(req);
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| forged(lang))?;
    let id = session_id_of(req).ok_or_else(|| forged(lang))?;
    if same(&csrf_for(state, &id), given) { Ok(()) } else { Err(forged(lang)) }
}

/// A fresh pre-session nonce and its CSRF token, for a form shown before there is a session.
pub(super) fn nonce_form(state: &AppState) -> (String, String) {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let csrf = state.keys().blind_index("console_login", &nonce);
    (nonce, csrf)
}

/// Refuses (403) a pre-session form whose CSRF token is not its nonce cookie's.
pub(super) fn check_nonce(req: &HttpRequest, state: &AppState, given: &str) -> Result<(), ConsoleError> {
    let nonce = req.cookie_value(LOGIN_COOKIE).unwrap_or_default();
    if nonce.is_empty() || !same(&state.keys().blind_index("console_login", &nonce), given) {
        return Err(forged(Lang::of(req)));
    }
    Ok(())
}

/// Sets the nonce cookie on a pre-session form's page.
pub(super) fn with_nonce(state: &AppState, mut res: HttpResponse, nonce: &str) -> HttpResponse {
    if let Ok(value) = HeaderValue::from_str(&cookie(LOGIN_COOKIE, nonce, 1800, secure_cookies(state))) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    res
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

/// Back to the sign-in page, forgetting the session (it ended, or never was).
pub fn back_to_sign_in(session_ended: bool) -> HttpResponse {
    let mut res = see_other(if session_ended { "/console/login?again=1" } else { "/console/login" });
    if let Ok(value) = HeaderValue::from_str(&cookie(SESSION_COOKIE, "", 0, false)) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    res
}

/// The request's id, for the audit events of pages without a signed-in caller.
pub(super) fn request_id(req: &HttpRequest) -> String {
    req.extensions().get::<crate::edge::request_id::RequestId>().map(|r| r.0.clone()).unwrap_or_default()
}

#[derive(serde::Deserialize)]
pub(super) struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// Ends the session at once (here, and on every instance within a second).
pub(super) async fn sign_out(
    req: HttpRequest,
    console: super::Console,
    state: web::Data<AppState>,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_csrf(&req, &form.csrf)?;
    if let Some(id) = session_id_of(&req) {
        let lang = console.ui.lang;
        console_sessions::end(&state.into_inner(), console.ctx, &id).await.map_err(|e| ConsoleError::new(e, lang))?;
    }
    Ok(back_to_sign_in(false))
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
    }
}
