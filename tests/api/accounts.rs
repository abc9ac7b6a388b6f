//! Issue 30, accounts: invite → password → TOTP enrolment → sign-in with both → a server-side
//! session that the console takes (and the API does not), ended at once by sign-out, revocation
//! and a factor reset, and by the idle and absolute time-outs (the test moves the clock). Bad
//! input gets a clear answer, is audited where it is a security event, and lets nobody in.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{Resp, TestApp, auth, send};
use serde_json::{Value, json};

const PASSWORD: &str = "visiting nurse 2026 spring";

fn text(res: &Resp) -> String {
    String::from_utf8_lossy(&res.raw).into_owned()
}

fn set_cookie(res: &Resp, name: &str) -> Option<String> {
    res.headers
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

/// The value of the first `name="NAME" value="…"` (or `data-testid="NAME">…<`) in a page.
fn field(page: &str, marker: &str) -> String {
    let at = page.find(marker).unwrap_or_else(|| panic!("no {marker} in {page}")) + marker.len();
    page[at..].split(['"', '<']).next().unwrap().to_owned()
}

struct World {
    t: TestApp,
    clinic: String,
    other: String,
    city: String,
    nurse: String,
}

impl World {
    fn admin(&self) -> String {
        self.t.token("admin", &self.clinic)
    }
    fn now(&self) -> u64 {
        self.t.state.clock.unix_secs()
    }
    fn advance(&self, secs: i64) {
        self.t.state.clock.advance(time::Duration::seconds(secs));
    }
    fn token_of(&self, sub: &str, role: &str, org: &str) -> String {
        carepath::auth::issue_local_token(&self.t.state.settings.data_dir, sub, role.parse().unwrap(), org, 3600)
            .unwrap()
    }
}

async fn call<S, B>(app: &S, method: &str, uri: &str, token: &str, body: Option<Value>) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let req = match method {
        "GET" => TestRequest::get(),
        "DELETE" => TestRequest::delete(),
        _ => TestRequest::post(),
    }
    .uri(uri)
    .insert_header(auth(token));
    send(app, if let Some(b) = body { req.set_json(b) } else { req }).await
}

async fn world<S, B>(t: TestApp, app: &S) -> World
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let op = t.operator();
    let mut ids = Vec::new();
    for (name, kind) in [("clinic", "clinic"), ("other clinic", "clinic"), ("city", "municipality")] {
        let res = call(app, "POST", "/v1/organizations", &op, Some(json!({"name": name, "kind": kind}))).await;
        assert_eq!(res.status, 201, "{}", res.body);
        ids.push(res.id());
    }
    let body = json!({"name": "佐藤 看護師", "profession": "nurse", "organization": ids[0]});
    let res = call(app, "POST", "/v1/practitioners", &op, Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    World { t, clinic: ids[0].clone(), other: ids[1].clone(), city: ids[2].clone(), nurse: res.id() }
}

/// A form page's nonce cookie and CSRF token.
async fn form_of<S, B>(app: &S, uri: &str) -> (String, String, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let page = send(app, TestRequest::get().uri(uri)).await;
    assert_eq!(page.status, 200, "{}", text(&page));
    let nonce = set_cookie(&page, "cp_login").expect("a nonce cookie");
    (nonce, field(&text(&page), "name=\"csrf\" value=\""), text(&page))
}

async fn post_form<S, B>(app: &S, uri: &str, cookie: &str, form: &[(&str, &str)]) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    send(app, TestRequest::post().uri(uri).insert_header(("cookie", cookie.to_owned())).set_form(form)).await
}

/// Sets the password on the invitation's page; answers the enrolment page.
async fn accept<S, B>(app: &S, code: &str, password: &str) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let (nonce, csrf, page) = form_of(app, &format!("/console/invite?code={code}")).await;
    assert!(page.contains(code), "the link's code fills the form");
    let form = [("csrf", csrf.as_str()), ("code", code), ("password", password), ("password_again", password)];
    post_form(app, "/console/invite", &nonce, &form).await
}

/// The authenticator's secret, as the enrolment page shows it for typing in.
fn secret_of(page: &Resp) -> Vec<u8> {
    let b32 = field(&text(page), "data-testid=\"secret\">");
    totp_rs::Secret::try_from_base32(&b32).unwrap().as_ref().to_vec()
}

fn code_at(secret: &[u8], now: u64) -> String {
    carepath::auth::totp::code_at(secret, now).unwrap()
}

/// Takes the enrolment's second step; answers the recovery codes page.
async fn confirm<S, B>(app: &S, code: &str, otp: &str) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let (nonce, csrf, _) = form_of(app, "/console/invite").await;
    post_form(app, "/console/invite/factor", &nonce, &[("csrf", &csrf), ("code", code), ("otp", otp)]).await
}

async fn sign_in<S, B>(app: &S, login: &str, password: &str, code: &str) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let (nonce, csrf, _) = form_of(app, "/console/login").await;
    let form = [("csrf", csrf.as_str()), ("login", login), ("password", password), ("code", code)];
    post_form(app, "/console/login", &nonce, &form).await
}

/// Whether the session cookie opens a console page (200), or sends back to sign-in (303).
async fn page_with<S, B>(app: &S, cookie: &str) -> u16
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let res = send(app, TestRequest::get().uri("/console/patients").insert_header(("cookie", cookie.to_owned()))).await;
    if res.status == 303 {
        // An ended session is sent back to sign in and told why (`again`).
        assert_eq!(res.header("location"), Some("/console/login?again=1"));
    }
    res.status.as_u16()
}

/// An invited, enrolled nurse: (account id, TOTP secret, recovery codes). The clock is moved on
/// a step, so the enrolment's code is not the next sign-in's.
async fn enrolled<S, B>(w: &World, app: &S, login: &str) -> (String, Vec<u8>, Vec<String>)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let body = json!({"login": login, "role": "nurse", "organization": w.clinic, "practitioner_id": w.nurse});
    let invited = call(app, "POST", "/v1/accounts", &w.admin(), Some(body)).await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let code = invited.body["invite_code"].as_str().unwrap().to_owned();
    let page = accept(app, &code, PASSWORD).await;
    assert_eq!(page.status, 200, "{}", text(&page));
    assert!(text(&page).contains("<svg"), "the QR code is inline SVG");
    let secret = secret_of(&page);
    let done = confirm(app, &code, &code_at(&secret, w.now())).await;
    assert_eq!(done.status, 200, "{}", text(&done));
    let page = text(&done);
    let codes: Vec<String> =
        page.split("<li><code>").skip(1).map(|s| s.split('<').next().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10, "{page}");
    w.advance(30);
    (invited.id(), secret, codes)
}

async fn audit_count<S, B>(w: &World, app: &S, action: &str) -> usize
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let auditor = w.token_of("audit-1", "auditor", &w.city);
    let res = call(app, "GET", &format!("/v1/audit-events?action={action}&limit=1000"), &auditor, None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["items"].as_array().unwrap().len()
}

#[actix_web::test]
async fn invite_enrol_sign_in_and_sign_out() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let body = json!({"login": "sato", "role": "nurse", "organization": w.clinic, "practitioner_id": w.nurse});
    let invited = call(&app, "POST", "/v1/accounts", &w.admin(), Some(body.clone())).await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let code = invited.body["invite_code"].as_str().unwrap().to_owned();
    // Only an admin of the organisation invites; a login is taken once.
    let nurse_token = w.token_of(&w.nurse, "nurse", &w.clinic);
    call(&app, "POST", "/v1/accounts", &nurse_token, Some(body.clone())).await.problem(403);
    call(&app, "POST", "/v1/accounts", &w.t.token("admin", &w.other), Some(body.clone())).await.problem(403);
    call(&app, "POST", "/v1/accounts", &w.admin(), Some(body)).await.problem(409);

    // Too short, too common: refused with the reason, and nothing is set.
    let short = accept(&app, &code, "short").await;
    assert_eq!(short.status, 422);
    assert!(text(&short).contains("at least 12 characters"), "{}", text(&short));
    let common = accept(&app, &code, "qwerty123456").await;
    assert_eq!(common.status, 422);
    assert!(text(&common).contains("most common"), "{}", text(&common));
    let page = accept(&app, &code, PASSWORD).await;
    assert_eq!(page.status, 200, "{}", text(&page));
    let secret = secret_of(&page);
    // A wrong first code does not enrol; the right one does, and spends the invitation.
    let wrong = confirm(&app, &code, "000000").await;
    assert_eq!(wrong.status, 422, "{}", text(&wrong));
    let done = confirm(&app, &code, &code_at(&secret, w.now())).await;
    assert_eq!(done.status, 200, "{}", text(&done));
    assert_eq!(accept(&app, &code, PASSWORD).await.status, 404, "an invitation works once");

    // The enrolment's code is spent: signing in with it again is a replay.
    let replay = sign_in(&app, "sato", PASSWORD, &code_at(&secret, w.now())).await;
    assert_eq!(replay.status, 401, "{}", text(&replay));
    w.advance(30);
    let res = sign_in(&app, "sato", PASSWORD, &code_at(&secret, w.now())).await;
    assert_eq!(res.status, 303, "{}", text(&res));
    let cookie = set_cookie(&res, "cp_session").unwrap();
    let raw =
        res.headers.get_all("set-cookie").map(|v| v.to_str().unwrap()).find(|c| c.starts_with("cp_session=")).unwrap();
    assert!(raw.contains("HttpOnly") && raw.contains("SameSite=Strict") && raw.contains("Secure"), "{raw}");
    assert_eq!(cookie.len(), "cp_session=".len() + 43, "an opaque 256-bit id: {cookie}");
    // The same code again, a second later: a replay, refused.
    let again = sign_in(&app, "sato", PASSWORD, &code_at(&secret, w.now())).await;
    assert_eq!(again.status, 401);

    // The console takes the session as the nurse; the API does not take the cookie.
    assert_eq!(page_with(&app, &cookie).await, 200);
    let home = send(&app, TestRequest::get().uri("/console/").insert_header(("cookie", cookie.clone()))).await;
    assert!(text(&home).contains("佐藤 看護師"), "the session acts as the practitioner");
    let api = send(&app, TestRequest::get().uri("/v1/patients").insert_header(("cookie", cookie.clone()))).await;
    api.problem(401);
    // Nothing secret is stored in clear: no password, no TOTP secret, no session id.
    let raw_db = common::raw_database_text(&w.t);
    assert!(!raw_db.contains(PASSWORD) && !raw_db.contains(&cookie["cp_session=".len()..]));
    assert!(!raw_db.contains(&carepath::auth::totp::base32(&secret)));

    // Sign-out ends it at once.
    let csrf = field(&text(&home), "name=\"csrf\" value=\"");
    let out = post_form(&app, "/console/logout", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(page_with(&app, &cookie).await, 303);
    assert_eq!(audit_count(&w, &app, "account.sign_in").await, 1);
    assert_eq!(audit_count(&w, &app, "session.end").await, 1);
}

#[actix_web::test]
async fn failures_lock_with_back_off_and_unknown_logins_get_the_same_answer() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let (account, secret, _) = enrolled(&w, &app, "sato").await;
    let unknown = sign_in(&app, "nobody", PASSWORD, "123456").await;
    assert_eq!(unknown.status, 401);
    let answer = |res: &Resp| field(&text(res), "data-testid=\"error\">");
    for _ in 0..5 {
        let res = sign_in(&app, "sato", "wrong password here", &code_at(&secret, w.now())).await;
        assert_eq!(res.status, 401);
        assert_eq!(answer(&res), answer(&unknown), "the same answer whether the account exists or not");
    }
    // Locked: even the right password and code are refused, with the same answer.
    let locked = sign_in(&app, "sato", PASSWORD, &code_at(&secret, w.now())).await;
    assert_eq!((locked.status.as_u16(), answer(&locked)), (401, answer(&unknown)));
    assert_eq!(audit_count(&w, &app, "account.locked").await, 1);
    assert_eq!(audit_count(&w, &app, "account.sign_in_failed").await, 7, "unknown, five wrong, one locked");
    let list = call(&app, "GET", &format!("/v1/organizations/{}/accounts", w.clinic), &w.admin(), None).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["items"][0]["id"], account);
    assert!(list.body["items"][0]["locked_until"].is_string(), "{}", list.body);
    // After the lock, one more failure locks again for twice as long.
    w.advance(31);
    assert_eq!(sign_in(&app, "sato", "wrong again, sorry", &code_at(&secret, w.now())).await.status, 401);
    w.advance(31);
    assert_eq!(sign_in(&app, "sato", PASSWORD, &code_at(&secret, w.now())).await.status, 401, "60 s now");
    w.advance(30);
    let res = sign_in(&app, "sato", PASSWORD, &code_at(&secret, w.now())).await;
    assert_eq!(res.status, 303, "{}", text(&res));
    assert_eq!(audit_count(&w, &app, "account.locked").await, 2);
}

#[actix_web::test]
async fn an_expired_invitation_is_refused_and_audited() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let body = json!({"login": "late", "role": "nurse", "organization": w.clinic, "practitioner_id": w.nurse});
    let invited = call(&app, "POST", "/v1/accounts", &w.admin(), Some(body)).await;
    let code = invited.body["invite_code"].as_str().unwrap().to_owned();
    w.advance(72 * 3600 + 1);
    let res = accept(&app, &code, PASSWORD).await;
    assert_eq!(res.status, 410, "{}", text(&res));
    assert!(text(&res).contains("期限が切れた"), "{}", text(&res));
    assert_eq!(accept(&app, "not-a-code", PASSWORD).await.status, 404);
    assert_eq!(audit_count(&w, &app, "account.invite_refused").await, 2);
}

#[actix_web::test]
async fn a_recovery_code_works_once() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let (_, _, codes) = enrolled(&w, &app, "sato").await;
    let res = sign_in(&app, "sato", PASSWORD, &codes[0].to_uppercase()).await;
    assert_eq!(res.status, 200, "{}", text(&res));
    assert!(text(&res).contains("data-testid=\"recovery-left\""), "{}", text(&res));
    assert!(text(&res).contains(": 9"));
    let cookie = set_cookie(&res, "cp_session").unwrap();
    assert_eq!(page_with(&app, &cookie).await, 200);
    assert_eq!(sign_in(&app, "sato", PASSWORD, &codes[0]).await.status, 401, "used");
    assert_eq!(sign_in(&app, "sato", "a wrong password!", &codes[1]).await.status, 401, "and the password counts");
}

#[actix_web::test]
async fn an_admin_reset_ends_every_session_and_the_person_is_told() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let (account, secret, codes) = enrolled(&w, &app, "sato").await;
    let res = sign_in(&app, "sato", PASSWORD, &code_at(&secret, w.now())).await;
    let first = set_cookie(&res, "cp_session").unwrap();
    let res = sign_in(&app, "sato", PASSWORD, &codes[0]).await;
    let second = set_cookie(&res, "cp_session").unwrap();
    // Another organisation's admin sees no such account.
    let stranger = w.t.token("admin", &w.other);
    call(&app, "POST", &format!("/v1/accounts/{account}/reset-factor"), &stranger, None).await.problem(404);
    let reset = call(&app, "POST", &format!("/v1/accounts/{account}/reset-factor"), &w.admin(), None).await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(reset.body["sessions_ended"], 2);
    assert_eq!((page_with(&app, &first).await, page_with(&app, &second).await), (303, 303));
    w.advance(30);
    assert_eq!(sign_in(&app, "sato", PASSWORD, &code_at(&secret, w.now())).await.status, 401, "the old factor is gone");
    assert_eq!(sign_in(&app, "sato", PASSWORD, &codes[1]).await.status, 401, "and the recovery codes");
    let code = reset.body["invite_code"].as_str().unwrap().to_owned();
    let page = accept(&app, &code, "a new password for spring").await;
    let secret = secret_of(&page);
    assert_eq!(confirm(&app, &code, &code_at(&secret, w.now())).await.status, 200);
    w.advance(30);
    let res = sign_in(&app, "sato", "a new password for spring", &code_at(&secret, w.now())).await;
    assert_eq!(res.status, 200, "{}", text(&res));
    assert!(text(&res).contains("data-testid=\"notice\""), "told of the reset: {}", text(&res));
    w.advance(30);
    let res = sign_in(&app, "sato", "a new password for spring", &code_at(&secret, w.now())).await;
    assert_eq!(res.status, 303, "told once");
    assert_eq!(audit_count(&w, &app, "account.reset_factor").await, 2, "the reset, and the stranger's refusal");
}

#[actix_web::test]
async fn sessions_are_listed_and_revoked_by_the_person_and_the_admin() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let (account, secret, codes) = enrolled(&w, &app, "sato").await;
    let first = set_cookie(&sign_in(&app, "sato", PASSWORD, &code_at(&secret, w.now())).await, "cp_session").unwrap();
    w.advance(1);
    let second = set_cookie(&sign_in(&app, "sato", PASSWORD, &codes[0]).await, "cp_session").unwrap();
    let me = w.token_of(&w.nurse, "nurse", &w.clinic);
    let mine = call(&app, "GET", "/v1/me/sessions", &me, None).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let items = mine.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert!(!mine.raw.windows(43).any(|win| first.as_bytes().ends_with(win)), "the cookie id is never listed");
    // The person revokes the newer one (listed first); it ends at once, the other stays.
    let newest = items[0]["id"].as_str().unwrap();
    let res = call(&app, "DELETE", &format!("/v1/sessions/{newest}"), &me, None).await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert_eq!((page_with(&app, &first).await, page_with(&app, &second).await), (200, 303));
    // Nobody else may; the admin may.
    let listed = call(&app, "GET", &format!("/v1/accounts/{account}/sessions"), &w.admin(), None).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "{}", listed.body);
    let left = listed.body["items"][0]["id"].as_str().unwrap().to_owned();
    let stranger = w.token_of("dr-x", "physician", &w.other);
    call(&app, "DELETE", &format!("/v1/sessions/{left}"), &stranger, None).await.problem(404);
    call(&app, "GET", &format!("/v1/accounts/{account}/sessions"), &me, None).await.problem(404);
    assert_eq!(call(&app, "DELETE", &format!("/v1/sessions/{left}"), &w.admin(), None).await.status, 204);
    assert_eq!(page_with(&app, &first).await, 303);
    assert_eq!(audit_count(&w, &app, "session.revoke").await, 3, "two revocations and a refusal");
}

#[actix_web::test]
async fn sessions_end_when_idle_and_at_the_absolute_time_out() {
    let t = TestApp::with(|s| s.sessions.console_absolute_secs = 3000);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let (_, secret, _) = enrolled(&w, &app, "sato").await;
    let idle = set_cookie(&sign_in(&app, "sato", PASSWORD, &code_at(&secret, w.now())).await, "cp_session").unwrap();
    w.advance(30);
    let busy = set_cookie(&sign_in(&app, "sato", PASSWORD, &code_at(&secret, w.now())).await, "cp_session").unwrap();
    for _ in 0..2 {
        w.advance(1000);
        assert_eq!(page_with(&app, &busy).await, 200, "used within the idle limit");
    }
    assert_eq!(page_with(&app, &idle).await, 303, "idle for more than 1800 s");
    w.advance(1000);
    assert_eq!(page_with(&app, &busy).await, 303, "3000 s after sign-in, however busy");
}
