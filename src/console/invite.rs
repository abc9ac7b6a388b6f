//! Taking up an invitation in the console: the page the admin's link opens (`/console/invite?
//! code=…`) sets the password; the next shows the authenticator's QR code (inline SVG, no
//! script) and takes its first code; the last shows the recovery codes, once. The same pages
//! serve a second-factor reset's code.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::i18n::Lang;
use super::session::{check_nonce, nonce_form, request_id, with_nonce};
use super::{ConsoleError, PageResult, Ui, html};
use crate::domain::accounts;
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/invite").get(invite_page).post(set_password))
        .service(web::resource("/invite/factor").post(confirm_factor));
}

#[derive(Template)]
#[template(path = "console/invite.html")]
struct InvitePage {
    ui: Ui,
    invite_code: String,
    failed: Option<String>,
}

#[derive(Template)]
#[template(path = "console/enrol.html")]
struct EnrolPage {
    ui: Ui,
    invite_code: String,
    login: String,
    secret: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "console/enrolled.html")]
struct EnrolledPage {
    ui: Ui,
    login: String,
    recovery_codes: Vec<String>,
}

#[derive(Deserialize)]
struct CodeQuery {
    #[serde(default)]
    code: String,
}

fn invite_form(req: &HttpRequest, state: &AppState, code: &str, failed: Option<String>) -> HttpResponse {
    let (nonce, csrf) = nonce_form(state);
    let ui = Ui::anonymous(Lang::of(req), csrf, "/console/invite");
    let status = if failed.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = InvitePage { ui, invite_code: code.to_owned(), failed };
    with_nonce(state, html(status, &page), &nonce)
}

async fn invite_page(req: HttpRequest, state: web::Data<AppState>, query: web::Query<CodeQuery>) -> HttpResponse {
    invite_form(&req, &state, &query.code, None)
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

/// Step one: the password; answers the enrolment page.
async fn set_password(req: HttpRequest, state: web::Data<AppState>, form: web::Form<PasswordForm>) -> PageResult {
    let lang = Lang::of(&req);
    check_nonce(&req, &state, &form.csrf)?;
    if form.password != form.password_again {
        return Ok(invite_form(&req, &state, &form.code, Some("the two passwords differ".into())));
    }
    let st = state.clone().into_inner();
    let pending = match accounts::accept_invite(&st, &form.code, &form.password, &request_id(&req)).await {
        Ok(pending) => pending,
        Err(ApiError::Validation(errors)) => {
            let why = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; ");
            return Ok(invite_form(&req, &state, &form.code, Some(why)));
        }
        Err(e) => return Err(ConsoleError::new(e, lang)),
    };
    let (nonce, csrf) = nonce_form(&state);
    // The SVG document without its XML declaration, to sit inline in the page.
    let svg = pending.qr_svg.find("<svg").map_or(String::new(), |at| pending.qr_svg[at..].to_owned());
    let page = EnrolPage {
        ui: Ui::anonymous(lang, csrf, "/console/invite"),
        invite_code: form.code.clone(),
        login: pending.login,
        secret: pending.secret_base32,
        qr_svg: svg,
    };
    Ok(with_nonce(&state, html(StatusCode::OK, &page), &nonce))
}

#[derive(Deserialize)]
struct FactorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    otp: String,
}

/// Step two: the authenticator's first code; answers the recovery codes.
async fn confirm_factor(req: HttpRequest, state: web::Data<AppState>, form: web::Form<FactorForm>) -> PageResult {
    let lang = Lang::of(&req);
    check_nonce(&req, &state, &form.csrf)?;
    let st = state.into_inner();
    let done = accounts::confirm_factor(&st, &form.code, &form.otp, &request_id(&req))
        .await
        .map_err(|e| ConsoleError::new(e, lang))?;
    let page = EnrolledPage {
        ui: Ui::anonymous(lang, String::new(), "/console/login"),
        login: done.login,
        recovery_codes: done.recovery_codes,
    };
    Ok(html(StatusCode::OK, &page))
}
