//! The sign-in page: an account's login, password and code (TOTP or a recovery code). Pasting a
//! bearer token is offered only for development and scripts (`--console-token-sign-in`) and
//! under `serve --demo`, whose page also offers one button per demo person (loopback only).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::i18n::Lang;
use super::session::{check_nonce, nonce_form, request_id, signed_in, start_until, with_nonce};
use super::{ConsoleError, PageResult, Ui, html, see_other};
use crate::auth::Role;
use crate::context::Context;
use crate::domain::accounts::{self, SignInInput};
use crate::domain::console_sessions::How;
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/login").get(sign_in_page).post(sign_in))
        .service(web::resource("/logout").post(super::session::sign_out));
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

/// Whether a pasted token signs in here: only where tokens are the development tool they are.
fn tokens_allowed(state: &AppState) -> bool {
    state.settings.sessions.console_token_sign_in || state.settings.demo.enabled
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct SignIn {
    ui: Ui,
    demo: Vec<DemoUser>,
    tokens: bool,
    failed: Option<String>,
    /// Back here because the session ended: say so, and that a draft was kept.
    again: bool,
}

fn sign_in_form(req: &HttpRequest, state: &AppState, failed: Option<String>) -> HttpResponse {
    let (nonce, csrf) = nonce_form(state);
    let ui = Ui::anonymous(Lang::of(req), csrf, "/console/login");
    let status = if failed.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    let again = form_urlencoded::parse(req.query_string().as_bytes()).any(|(k, v)| k == "again" && v == "1");
    let page = SignIn { ui, demo: demo_users(state), tokens: tokens_allowed(state), failed, again };
    with_nonce(state, html(status, &page), &nonce)
}

async fn sign_in_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    sign_in_form(&req, &state, None)
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    /// A pasted bearer token, where offered.
    #[serde(default)]
    token: Option<String>,
}

#[derive(Template)]
#[template(path = "console/signed_in.html")]
struct Notice {
    ui: Ui,
    factor_reset_at: Option<String>,
    recovery_codes_left: Option<i64>,
}

/// Signs in with an account (or a token, where offered) and starts the server-side session.
async fn sign_in(req: HttpRequest, state: web::Data<AppState>, form: web::Form<SignInForm>) -> PageResult {
    let lang = Lang::of(&req);
    check_nonce(&req, &state, &form.csrf)?;
    let state = state.into_inner();
    if let Some(token) = form.token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        return token_sign_in(&req, &state, token).await;
    }
    let input = SignInInput { login: form.login.clone(), password: form.password.clone(), code: form.code.clone() };
    let signed = match accounts::sign_in(&state, input, &request_id(&req)).await {
        Ok(signed) => signed,
        Err(ApiError::Unauthorized(why)) => return Ok(sign_in_form(&req, &state, Some(why))),
        Err(e) => return Err(ConsoleError::new(e, lang)),
    };
    if signed.factor_reset_at.is_none() && signed.recovery_codes_left.is_none() {
        return Ok(signed_in(&state, see_other("/console/"), &signed.cookie_id));
    }
    // Something to tell first: an admin reset the second factor, or a recovery code was used.
    let ui = Ui::anonymous(lang, String::new(), "/console/");
    let page = Notice {
        ui,
        factor_reset_at: signed.factor_reset_at.map(accounts::rfc3339),
        recovery_codes_left: signed.recovery_codes_left,
    };
    Ok(signed_in(&state, html(StatusCode::OK, &page), &signed.cookie_id))
}

/// A pasted token, checked exactly as the API checks a bearer token: the session ends at the
/// token's `exp` at the latest.
async fn token_sign_in(req: &HttpRequest, state: &std::sync::Arc<AppState>, token: &str) -> PageResult {
    if !tokens_allowed(state) {
        return Ok(sign_in_form(req, state, Some("sign-in by token is not offered here; use your account".into())));
    }
    let (caller, exp) = match state.auth.verify_with_exp(token) {
        Ok(verified) => verified,
        Err(e) => {
            let why = format!("{}: {e}", super::i18n::label(Lang::of(req), "bad_token"));
            return Ok(sign_in_form(req, state, Some(why)));
        }
    };
    let ctx = Context { caller, request_id: request_id(req), break_glass: None };
    match start_until(state, ctx, How::Token, i64::try_from(exp).ok()).await {
        Ok(res) => Ok(res),
        Err(ApiError::Forbidden(why)) => Ok(sign_in_form(req, state, Some(why))),
        Err(e) => Err(ConsoleError::new(e, Lang::of(req))),
    }
}
