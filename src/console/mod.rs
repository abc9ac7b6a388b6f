//! The web console at `/console`: server-rendered pages for care managers, nurses and auditors.
//!
//! The console is a second face of the API, not a second API: the session cookie carries the id
//! of a server-side session, the guard turns it into the session's `Caller` (the one a bearer
//! token with those claims makes), and the pages take the same `Context` extractor and call the same domain functions as the JSON handlers. A
//! console request is therefore authenticated, rate-limited, authorised and audited exactly as the
//! same request through the API. Routes are HTML, not API, so they are not in the OpenAPI document.

mod auditor;
mod care_plans;
mod careform;
mod charts;
mod form_errors;
mod format;
mod hours;
mod i18n;
mod invite;
mod morning;
mod names;
mod oidc;
mod patients;
mod received;
mod reports;
pub mod residents;
pub mod session;
mod sheets;
mod sign_in;
mod vacancies;
mod words;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;

use crate::auth::Role;
use crate::context::Context;
use crate::error::ApiError;

pub use i18n::Lang;
pub use names::Names;
pub use sign_in::{DemoUser, demo_users};

/// Every console response carries this policy: only the binary's own CSS and JS, no inline
/// script or style, no framing, forms posting back here only.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// The console's routes, under `/console`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .wrap(from_fn(guard))
            .service(web::resource("").get(home))
            .service(web::resource("/").get(home))
            .service(web::resource("/assets/console.css").get(|| async { asset(CSS, "text/css; charset=utf-8") }))
            .service(web::resource("/assets/console.js").get(|| async { asset(JS, "text/javascript; charset=utf-8") }))
            .configure(oidc::routes)
            .configure(sign_in::routes)
            .configure(invite::routes)
            .configure(patients::routes)
            .configure(received::routes)
            .configure(care_plans::routes)
            .configure(sheets::routes)
            .configure(hours::routes)
            .configure(auditor::routes)
            .configure(vacancies::routes)
            .configure(reports::routes),
    );
    cfg.configure(residents::routes);
}

fn asset(body: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

/// Looks up the request's session and puts its caller where the API's extractor looks for it
/// (`auth::SessionCaller`), and adds the security headers to whatever the page answers. An
/// `Authorization` header the browser sent itself is dropped: the console authenticates by its
/// cookie only.
async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    req.headers_mut().remove(header::AUTHORIZATION);
    req.headers_mut().remove("x-break-glass");
    if let Some(id) = session::session_id_of(req.request())
        && let Some(state) = req.app_data::<web::Data<crate::state::AppState>>().cloned()
        && let Some(caller) = crate::domain::console_sessions::resolve(&state.into_inner(), &id).await?
    {
        req.extensions_mut().insert(crate::auth::SessionCaller(caller));
    }
    let chosen = i18n::Lang::from_query(req.query_string());
    let secure = req.app_data::<web::Data<crate::state::AppState>>().is_none_or(|s| session::secure_cookies(s));
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    secure_headers(headers);
    if let Some(lang) = chosen
        && let Ok(value) = HeaderValue::from_str(&session::lang_cookie(lang, secure))
    {
        headers.append(header::SET_COOKIE, value);
    }
    Ok(res)
}

/// The policy and the other security headers of every console page (the residents' too).
pub(crate) fn secure_headers(headers: &mut header::HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// What every page template needs: the language, the form token and who is signed in.
pub struct Ui {
    pub lang: Lang,
    /// The CSRF token of this session, for every form.
    pub csrf: String,
    /// `sub` of the signed-in caller (empty on the sign-in page).
    pub user: String,
    pub org: String,
    pub role: Option<Role>,
    /// The path of this page, for the language switch.
    pub path: String,
    /// The region's calendar, for instants and dates (absent before sign-in: nothing is shown).
    pub cal: Option<crate::calendar::Calendar>,
}

impl Ui {
    /// The `Ui` of a page shown before anyone is signed in.
    pub fn anonymous(lang: Lang, csrf: String, path: &str) -> Self {
        Self { lang, csrf, user: String::new(), org: String::new(), role: None, path: path.to_owned(), cal: None }
    }

    /// A stored instant in the region's time zone, as people write it (`12月2日(水) 08:30`).
    pub fn at(&self, stamp: &str) -> String {
        match &self.cal {
            Some(cal) => format::stamp(cal, self.lang, stamp),
            None => stamp.to_owned(),
        }
    }

    /// A slot from `start` to `end`: the end without its day when both fall on the same one.
    pub fn span(&self, start: &str, end: &str) -> String {
        let (from, to) = (self.at(start), self.at(end));
        match (from.rsplit_once(' '), to.rsplit_once(' ')) {
            (Some((day, _)), Some((same, time))) if day == same => format!("{from}–{time}"),
            _ => format!("{from} – {to}"),
        }
    }

    /// A stored `YYYY-MM-DD` birth date with its era and the age today.
    pub fn birth(&self, day: &str) -> String {
        match &self.cal {
            Some(cal) => format::birth_text(self.lang, day, cal.today()),
            None => day.to_owned(),
        }
    }

    pub fn t(&self, key: &str) -> &'static str {
        i18n::label(self.lang, key)
    }

    /// A coded value of `kind` as people say it (`care_5` is 要介護5): never the wire word.
    pub fn say<'a>(&self, kind: &str, wire: &'a str) -> &'a str {
        words::say(self.lang, kind, wire)
    }

    /// [`Ui::say`] of an enum value.
    pub fn say_of<T: serde::Serialize>(&self, kind: &str, value: &T) -> String {
        words::say(self.lang, kind, &wire(value)).to_owned()
    }

    /// A stored `YYYY-MM-DD` day as people write it (`12月9日(水)`); other text as it is.
    pub fn date(&self, day: &str) -> String {
        match (&self.cal, crate::clock::parse_day(day)) {
            (Some(cal), Some(d)) => format::day(self.lang, d, cal.today().year()),
            _ => day.to_owned(),
        }
    }

    pub fn is_auditor(&self) -> bool {
        self.role == Some(Role::Auditor)
    }

    /// The analyst's pages are the reports (the programme office sees no patient).
    pub fn is_analyst(&self) -> bool {
        self.role == Some(Role::Analyst)
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    /// The other language's code and name, for the switch in the header.
    pub fn other_lang(&self) -> (&'static str, &'static str) {
        match self.lang {
            Lang::Ja => ("en", "English"),
            Lang::En => ("ja", "日本語"),
        }
    }
}

/// A signed-in console request: the API's own `Context`, and the page's `Ui`.
pub struct Console {
    pub ctx: Context,
    pub ui: Ui,
}

impl FromRequest for Console {
    type Error = ConsoleError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let lang = Lang::of(req);
        let session_id = session::session_id_of(req);
        let path = req.path().to_owned();
        let ctx = Context::from_request(req, payload);
        let state = req.app_data::<web::Data<crate::state::AppState>>().cloned();
        Box::pin(async move {
            let ctx = ctx.await.map_err(|e| {
                let ended = session_id.is_some() && matches!(e, ApiError::Unauthorized(_));
                ConsoleError { session_ended: ended, ..ConsoleError::new(e, lang) }
            })?;
            let state = state.ok_or_else(|| ConsoleError::new(ApiError::internal("no application state"), lang))?;
            let csrf = session_id.as_deref().map(|t| session::csrf_for(&state, t)).unwrap_or_default();
            let state = state.into_inner();
            let (sub, org) = (ctx.caller.sub.clone(), ctx.caller.org.clone());
            let names = Names::of(&state, &ctx, [org.clone()], [sub.clone()]).await;
            let ui = Ui {
                lang,
                csrf,
                user: names.get(&sub).to_owned(),
                org: names.get(&org).to_owned(),
                role: Some(ctx.caller.role),
                path,
                cal: Some(state.calendar.clone()),
            };
            Ok(Console { ctx, ui })
        })
    }
}

/// An error on a console page: the API's error, shown as a page in the caller's language (a
/// missing or expired session goes back to the sign-in page instead).
#[derive(Debug)]
pub struct ConsoleError {
    pub error: ApiError,
    pub lang: Lang,
    /// The request came with a session that has ended (idle, revoked): the sign-in page says
    /// so, and that what was being typed is kept as a draft.
    pub session_ended: bool,
}

impl ConsoleError {
    pub fn new(error: ApiError, lang: Lang) -> Self {
        Self { error, lang, session_ended: false }
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    ui: Ui,
    status: u16,
    detail: &'a str,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if matches!(self.error, ApiError::Unauthorized(_)) {
            return session::back_to_sign_in(self.session_ended);
        }
        if self.error.status() >= 500 {
            // Logged as the API logs it; the page says no more than the problem would.
            let _logged = self.error.error_response();
        }
        let detail = form_errors::page_message(self.lang, &self.error);
        let ui = Ui {
            lang: self.lang,
            csrf: String::new(),
            user: String::new(),
            org: String::new(),
            role: None,
            path: "/console/".into(),
            cal: None,
        };
        let page = ErrorPage { ui, status: self.error.status(), detail: &detail };
        let mut res = html(self.status_code(), &page);
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }
}

/// A rendered template as the response body.
pub fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => {
            HttpResponse::build(status).insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8")).body(body)
        }
        Err(e) => ApiError::internal(format!("console template: {e}")).error_response(),
    }
}

/// The console's answer type: a page, or an error page.
pub type PageResult = Result<HttpResponse, ConsoleError>;

/// A page rendered with 200.
pub fn ok(page: &impl Template) -> PageResult {
    Ok(html(StatusCode::OK, page))
}

/// After a form: back to a page (303, so the browser follows with GET).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_owned())).finish()
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct Home {
    ui: Ui,
}

/// The auditor's start is the audit page; a clinician's is the morning page; others (the
/// administrator) get the plain links.
async fn home(state: web::Data<crate::state::AppState>, console: Console) -> PageResult {
    if console.ui.is_auditor() {
        return Ok(see_other("/console/audit"));
    }
    if console.ui.is_analyst() {
        return Ok(see_other("/console/reports/indicators"));
    }
    if morning::serves(&console.ctx) {
        return morning::page(&state.into_inner(), console).await;
    }
    ok(&Home { ui: console.ui })
}

/// An enum's wire word (its serde name), e.g. `care_2` or `nurse`: for a link or a form value,
/// or for [`Ui::say`] to turn into the page's word; never shown as it is.
pub fn wire<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
