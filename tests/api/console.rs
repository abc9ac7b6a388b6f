//! The web console through the HTTP stack, on either backend: the session cookie's flags, CSRF
//! refusals, the Content-Security-Policy on every console response, and a patient's page as one
//! audited read of the record, decided as the same API request is. The pages themselves are
//! walked in a real browser by tests/console/run.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{Resp, TestApp, auth, call, hanako, send};
use serde_json::{Value, json};

fn text(res: &Resp) -> String {
    String::from_utf8_lossy(&res.raw).into_owned()
}

/// The value of the first `name="csrf"` field of a page.
fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_owned()
}

fn set_cookies(res: &Resp) -> Vec<String> {
    res.headers.get_all("set-cookie").map(|v| v.to_str().unwrap().to_owned()).collect()
}

/// A clinic with a physician's patient, an unrelated clinic, and the city's auditor.
struct World {
    sessions: std::cell::RefCell<std::collections::HashMap<String, String>>,
    t: TestApp,
    clinic: String,
    other: String,
    city: String,
    patient: String,
}

impl World {
    fn token(&self, sub: &str, role: &str, org: &str) -> String {
        carepath::auth::issue_local_token(&self.t.state.settings.data_dir, sub, role.parse().unwrap(), org, 600)
            .unwrap()
    }
    fn doctor(&self) -> String {
        self.token("dr-1", "physician", &self.clinic)
    }
    /// The cookie of a console session for a token's caller, signed in through the form once
    /// per token.
    async fn session<S, B>(&self, app: &S, token: &str) -> (&'static str, String)
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let known = self.sessions.borrow().get(token).cloned();
        let cookie = match known {
            Some(cookie) => cookie,
            None => {
                let cookie = common::console_sign_in(app, token).await;
                self.sessions.borrow_mut().insert(token.to_owned(), cookie.clone());
                cookie
            }
        };
        ("cookie", cookie)
    }
}

async fn world<S, B>(t: TestApp, app: &S) -> World
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut w = World {
        sessions: Default::default(),
        t,
        clinic: String::new(),
        other: String::new(),
        city: String::new(),
        patient: String::new(),
    };
    let built = common::World::new(&w.t, app)
        .org("clinic", "clinic")
        .org("other clinic", "clinic")
        .org("city", "municipality")
        .build()
        .await;
    (w.clinic, w.other, w.city) = (built.org("clinic"), built.org("other clinic"), built.org("city"));
    let mut patient = hanako();
    patient["managing_organization"] = json!(w.clinic);
    w.patient = common::World::new(&w.t, app).patient(patient).author(w.doctor()).build().await.patient;
    w
}

#[actix_web::test]
async fn the_servers_address_leads_to_the_console_and_signed_out_to_its_sign_in() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let root = send(&app, TestRequest::get().uri("/")).await;
    assert_eq!(root.status, 303);
    assert_eq!(root.headers.get("location").unwrap(), "/console/");
    let console = send(&app, TestRequest::get().uri("/console/")).await;
    assert_eq!(console.status, 303, "signed out: {}", text(&console));
    assert!(console.headers.get("location").unwrap().to_str().unwrap().starts_with("/console/login"));
}

#[actix_web::test]
async fn token_sign_in_keeps_a_server_side_session_in_a_strict_http_only_cookie() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let form = send(&app, TestRequest::get().uri("/console/login")).await;
    assert_eq!(form.status, 200);
    let nonce = set_cookies(&form).into_iter().find(|c| c.starts_with("cp_login=")).expect("a sign-in nonce");
    let nonce = nonce.split(';').next().unwrap().to_owned();
    let csrf = csrf_of(&text(&form));

    let token = w.doctor();
    let sign_in = |forwarded: Option<&str>| {
        let mut req = TestRequest::post()
            .uri("/console/login")
            .insert_header(("cookie", nonce.clone()))
            .set_form([("token", token.as_str()), ("csrf", csrf.as_str())]);
        if let Some(proto) = forwarded {
            req = req.insert_header(("x-forwarded-proto", proto));
        }
        req
    };
    let res = send(&app, sign_in(None)).await;
    assert_eq!(res.status, 303, "{}", text(&res));
    assert_eq!(res.header("location"), Some("/console/"));
    let cookie = set_cookies(&res).into_iter().find(|c| c.starts_with("cp_session=")).unwrap();
    assert!(!cookie.contains(&token), "the cookie holds an opaque id, not the token: {cookie}");
    assert_eq!(cookie.split(';').next().unwrap().len(), "cp_session=".len() + 43, "{cookie}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    // Issue 26, item 21a: Secure by setting (default on), not by the request's scheme.
    assert!(cookie.ends_with("; Secure"), "Secure even over plain HTTP: {cookie}");
    // Max-Age is the absolute time-out; the session itself ends with the token's `exp` too.
    let max_age: i64 = cookie.split("Max-Age=").nth(1).unwrap().split(';').next().unwrap().parse().unwrap();
    assert!((1..=43_200).contains(&max_age), "{cookie}");
    let session_cookie = cookie.split(';').next().unwrap().to_owned();

    let tls = send(&app, sign_in(Some("http"))).await;
    let cookie = set_cookies(&tls).into_iter().find(|c| c.starts_with("cp_session=")).unwrap();
    assert!(cookie.ends_with("; Secure"), "a client-sent X-Forwarded-Proto changes nothing: {cookie}");

    // A forged token is refused exactly as the API refuses it, and no session is set.
    let bad = TestRequest::post()
        .uri("/console/login")
        .insert_header(("cookie", nonce.clone()))
        .set_form([("token", "e30.e30.e30"), ("csrf", csrf.as_str())]);
    let bad = send(&app, bad).await;
    assert_eq!(bad.status, 401);
    assert!(set_cookies(&bad).iter().all(|c| !c.starts_with("cp_session=")));

    // The session reaches pages; without it, the console sends the browser to sign in.
    let home = send(&app, TestRequest::get().uri("/console/patients").insert_header(("cookie", session_cookie))).await;
    assert_eq!(home.status, 200);
    assert!(text(&home).contains("山田 花子"));
    // Where people sign in with accounts (the default), a pasted token signs nobody in.
    let plain = TestApp::new();
    let app2 = init_service(carepath::startup::app(plain.state.clone())).await;
    let form = send(&app2, TestRequest::get().uri("/console/login")).await;
    assert!(!text(&form).contains("name=\"token\""), "no token form");
    let nonce2 = set_cookies(&form).into_iter().find(|c| c.starts_with("cp_login=")).unwrap();
    let req = TestRequest::post()
        .uri("/console/login")
        .insert_header(("cookie", nonce2.split(';').next().unwrap().to_owned()))
        .set_form([("token", plain.operator().as_str()), ("csrf", csrf_of(&text(&form)).as_str())]);
    let refused = send(&app2, req).await;
    assert_eq!(refused.status, 401);
    assert!(set_cookies(&refused).iter().all(|c| !c.starts_with("cp_session=")));
    let anonymous = send(&app, TestRequest::get().uri("/console/patients")).await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.header("location"), Some("/console/login"));
    // The console ignores an Authorization header: it authenticates by its cookie only.
    let header_only = send(&app, TestRequest::get().uri("/console/patients").insert_header(auth(&token))).await;
    assert_eq!(header_only.status, 303);
}

#[actix_web::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let token = w.doctor();
    let session = w.session(&app, &token).await;
    let page = send(&app, TestRequest::get().uri("/console/sheets").insert_header(session.clone())).await;
    let csrf = csrf_of(&text(&page));
    let sheet = |csrf: &str| {
        TestRequest::post().uri("/console/sheets").insert_header(session.clone()).set_form([
            ("csrf", csrf),
            ("patient_id", w.patient.as_str()),
            ("to_organization", w.clinic.as_str()),
            ("category", "report"),
            ("urgency", "routine"),
            ("body", "経過報告です"),
        ])
    };
    for forged in ["", "0000", &csrf[1..]] {
        let res = send(&app, sheet(forged)).await;
        assert_eq!(res.status, 403, "csrf {forged:?}: {}", text(&res));
        assert!(res.header("content-type").unwrap().starts_with("text/html"));
    }
    // Another session's token does not fit this session.
    let other = w.token("dr-2", "physician", &w.clinic);
    let other_page =
        send(&app, TestRequest::get().uri("/console/sheets").insert_header(w.session(&app, &other).await)).await;
    let res = send(&app, sheet(&csrf_of(&text(&other_page)))).await;
    assert_eq!(res.status, 403);
    let res = send(&app, sheet(&csrf)).await;
    assert_eq!(res.status, 303, "{}", text(&res));
    assert!(res.header("location").unwrap().starts_with("/console/sheets/"));

    // Sign-in and sign-out are forms too.
    let no_nonce =
        TestRequest::post().uri("/console/login").set_form([("token", token.as_str()), ("csrf", csrf.as_str())]);
    assert_eq!(send(&app, no_nonce).await.status, 403);
    let out = TestRequest::post().uri("/console/logout").insert_header(session.clone()).set_form([("csrf", "x")]);
    assert_eq!(send(&app, out).await.status, 403);
    let out = TestRequest::post().uri("/console/logout").insert_header(session.clone()).set_form([("csrf", &csrf)]);
    let out = send(&app, out).await;
    assert_eq!(out.status, 303);
    assert!(set_cookies(&out).iter().any(|c| c.starts_with("cp_session=;") && c.contains("Max-Age=0")));
}

#[actix_web::test]
async fn a_sheets_deadline_is_a_day_and_a_time_in_the_region_and_a_refusal_keeps_the_text() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let session = w.session(&app, &w.doctor()).await;
    let page = send(&app, TestRequest::get().uri("/console/sheets").insert_header(session.clone())).await;
    let page = text(&page);
    assert!(page.contains("type=\"date\"") && page.contains("type=\"time\""), "{page}");
    let csrf = csrf_of(&page);
    let today = w.t.state.calendar.today();
    let next_year = format!("{}-01-05", today.year() + 1);
    let sheet = |day: &str, time: &str| {
        TestRequest::post().uri("/console/sheets").insert_header(session.clone()).set_form([
            ("csrf", csrf.as_str()),
            ("patient_id", w.patient.as_str()),
            ("to_organization", w.clinic.as_str()),
            ("category", "question"),
            ("urgency", "soon"),
            ("body", "退院後の服薬について相談です"),
            ("reply_by_date", day),
            ("reply_by_time", time),
        ])
    };
    // A day in the past: 422, the page in Japanese naming the field, the text kept.
    let refused = send(&app, sheet("2020-01-01", "09:00")).await;
    assert_eq!(refused.status, 422);
    let body = text(&refused);
    assert!(body.contains("回答期限: 未来の日時を入力してください"), "{body}");
    assert!(body.contains("退院後の服薬について相談です") && body.contains("value=\"2020-01-01\""), "{body}");
    let en = send(&app, sheet("2020-01-01", "9:00").uri("/console/sheets?lang=en")).await;
    assert!(text(&en).contains("Reply by: must be in the future"), "{}", text(&en));
    let bad_time = send(&app, sheet(&next_year, "25:00")).await;
    assert_eq!(bad_time.status, 422);
    assert!(text(&bad_time).contains("時刻を正しく入力してください"));

    // 08:30 in Tokyo is 23:30 UTC the day before; the sheet page says it as written.
    let sent = send(&app, sheet(&next_year, "08:30")).await;
    assert_eq!(sent.status, 303, "{}", text(&sent));
    let id = sent.header("location").unwrap().rsplit('/').next().unwrap().to_owned();
    let api = call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &w.doctor(), None).await;
    assert_eq!(api.body["reply_by"], json!(format!("{}-01-04T23:30:00.000000Z", today.year() + 1)), "{}", api.body);
    let shown = send(&app, TestRequest::get().uri(&format!("/console/sheets/{id}")).insert_header(session)).await;
    let shown = text(&shown);
    assert!(shown.contains(&format!("{}年1月5日", today.year() + 1)) && shown.contains("08:30"), "{shown}");
    assert!(!shown.contains("T23:30:00"), "no UTC instant on the page: {shown}");
}

#[actix_web::test]
async fn every_console_response_carries_a_strict_content_security_policy() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let token = w.doctor();
    let uris = [
        ("/console/login", None),
        ("/console/patients", Some(&token)),
        (&*format!("/console/patients/{}", w.patient), Some(&token)),
        ("/console/patients/no-such-patient", Some(&token)),
        ("/console/sheets", Some(&token)),
        ("/console/vacancies", Some(&token)),
        ("/console/assets/console.css", None),
        ("/console/assets/console.js", None),
        ("/console/patients", None),
    ];
    for (uri, token) in uris {
        let mut req = TestRequest::get().uri(uri);
        if let Some(token) = token {
            req = req.insert_header(w.session(&app, token).await);
        }
        let res = send(&app, req).await;
        assert!([200, 303, 404].contains(&res.status.as_u16()), "{uri}: {}", res.status);
        let csp = res.header("content-security-policy").unwrap_or_else(|| panic!("{uri}: no CSP"));
        assert_eq!(csp, carepath::console::CSP);
        for directive in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"] {
            assert!(csp.contains(directive), "{uri}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval") && !csp.contains("http"));
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
        if res.header("content-type").is_some_and(|c| c.starts_with("text/html")) {
            let page = text(&res);
            assert!(!page.contains("<script>") && !page.contains(" style=") && !page.contains(" onclick="), "{uri}");
        }
    }
    let missing = send(
        &app,
        TestRequest::get().uri("/console/patients/no-such-patient").insert_header(w.session(&app, &token).await),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert!(missing.header("content-type").unwrap().starts_with("text/html"), "console errors are pages");
}

/// (action, outcome, patient, actor) of the events after `after`, for `patient`.
async fn events_since<S, B>(app: &S, w: &World, after: i64) -> Vec<(String, String, String, String, i64)>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let auditor = w.token("auditor-1", "auditor", &w.city);
    let uri = format!("/v1/audit-events?patient_id={}&cursor={after}", w.patient);
    let res = call(app, "GET", &uri, &auditor, None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (s("action"), s("outcome"), s("patient_id"), s("actor_sub"), e["seq"].as_i64().unwrap())
        })
        .collect()
}

#[actix_web::test]
async fn a_console_page_view_is_one_audited_read_decided_like_the_api_request() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let last = |events: &[(String, String, String, String, i64)]| events.last().map_or(0, |e| e.4);
    let start = last(&events_since(&app, &w, 0).await);

    // Allowed: the patient's own doctor.
    let token = w.doctor();
    let res = call(&app, "GET", &format!("/v1/patients/{}", w.patient), &token, None).await;
    assert_eq!(res.status, 200);
    let by_api = events_since(&app, &w, start).await;
    let mark = last(&by_api);
    let res = send(
        &app,
        TestRequest::get()
            .uri(&format!("/console/patients/{}", w.patient))
            .insert_header(w.session(&app, &token).await),
    )
    .await;
    assert_eq!(res.status, 200, "{}", text(&res));
    let by_console = events_since(&app, &w, mark).await;
    let strip = |e: &(String, String, String, String, i64)| (e.0.clone(), e.1.clone(), e.2.clone(), e.3.clone());
    assert_eq!(
        by_api.iter().map(strip).collect::<Vec<_>>(),
        [("patient.read".into(), "allowed".into(), w.patient.clone(), "dr-1".into())]
    );
    // The page shows more than the patient (its care path, history, team, consents) in one read
    // of the record: one event of its own action, decided as the API's patient read is.
    let record =
        |e: &(String, String, String, String, i64)| ("patient.read".to_owned(), e.1.clone(), e.2.clone(), e.3.clone());
    assert_eq!(by_console.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["patient.record"], "{by_console:?}");
    assert_eq!(record(&by_console[0]), strip(&by_api[0]), "the page's read is decided as the API's read");

    // Denied: a physician of an unrelated clinic, through the API and through the console.
    let outsider = w.token("dr-x", "physician", &w.other);
    let res = call(&app, "GET", &format!("/v1/patients/{}", w.patient), &outsider, None).await;
    let api_status = res.status;
    let denied_api = events_since(&app, &w, last(&by_console)).await;
    assert_eq!(denied_api.len(), 1, "{denied_api:?}");
    let mark = last(&denied_api);
    let res = send(
        &app,
        TestRequest::get()
            .uri(&format!("/console/patients/{}", w.patient))
            .insert_header(w.session(&app, &outsider).await),
    )
    .await;
    assert_eq!(res.status, api_status, "the console refuses as the API does");
    let denied_console = events_since(&app, &w, mark).await;
    assert_eq!(denied_console.len(), 1, "{denied_console:?}");
    assert_eq!(record(&denied_console[0]), strip(&denied_api[0]));
    assert_eq!(denied_console[0].0, "patient.record");
    assert_ne!(denied_console[0].1, "allowed");
}

/// Whether the session cookie still opens the console (200, else 303), and the token the API
/// (200, else 401).
async fn opens<S, B>(app: &S, cookie: &str, token: &str) -> (u16, u16)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let page =
        send(app, TestRequest::get().uri("/console/patients").insert_header(("cookie", cookie.to_owned()))).await;
    let api = send(app, TestRequest::get().uri("/v1/patients").insert_header(auth(token))).await;
    if api.status == 401 {
        assert_eq!(api.problem(401)["detail"], "the session has ended; sign in again");
    }
    (page.status.as_u16(), api.status.as_u16())
}

/// Sign-out ends the console session at once (issue 30: the session is server-side, so the
/// token it was started from is another matter, and lives on as a bearer token).
#[actix_web::test]
async fn sign_out_ends_the_session_at_once() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let token = w.doctor();
    let cookie = common::console_sign_in(&app, &token).await;
    assert_eq!(opens(&app, &cookie, &token).await, (200, 200));
    let page = send(&app, TestRequest::get().uri("/console/patients").insert_header(("cookie", cookie.clone()))).await;
    let out = TestRequest::post()
        .uri("/console/logout")
        .insert_header(("cookie", cookie.clone()))
        .set_form([("csrf", csrf_of(&text(&page)))]);
    assert_eq!(send(&app, out).await.status, 303);
    assert_eq!(opens(&app, &cookie, &token).await, (303, 200), "the old cookie opens nothing");
    let again = common::console_sign_in(&app, &token).await;
    assert_ne!(again, cookie);
    assert_eq!(opens(&app, &again, &token).await, (200, 200));
}

/// Issue 26, item 12: an organisation's admin ends a user's sessions; others' admins may not.
#[actix_web::test]
async fn an_admin_ends_a_users_sessions() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let token = w.doctor();
    let cookie = common::console_sign_in(&app, &token).await;
    let colleague = w.token("dr-2", "physician", &w.clinic);
    let colleague_cookie = common::console_sign_in(&app, &colleague).await;
    let end = |admin: &str, org: &str, body: Value| {
        TestRequest::post()
            .uri(&format!("/v1/organizations/{org}/sessions/end"))
            .insert_header(auth(admin))
            .set_json(body)
    };
    let other_admin = w.token("admin-x", "admin", &w.other);
    send(&app, end(&other_admin, &w.clinic, json!({"sub": "dr-1"}))).await.problem(403);
    send(&app, end(&w.token("dr-3", "physician", &w.clinic), &w.clinic, json!({"sub": "dr-1"}))).await.problem(403);
    assert_eq!(opens(&app, &cookie, &token).await, (200, 200));
    let admin = w.token("admin-1", "admin", &w.clinic);
    let res = send(&app, end(&admin, &w.clinic, json!({"sub": ""}))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/sub");
    let res = send(&app, end(&admin, &w.clinic, json!({"sub": "dr-1", "x": 1}))).await;
    res.problem(422);
    let res = send(&app, end(&admin, &w.clinic, json!({"sub": "dr-1"}))).await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert_eq!(opens(&app, &cookie, &token).await, (303, 401), "the console session and the token end");
    assert_eq!(opens(&app, &colleague_cookie, &colleague).await, (200, 200), "only that user");
    // The operator's admin may do it for any organisation.
    let res = send(&app, end(&w.t.operator(), &w.clinic, json!({"sub": "dr-2"}))).await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert_eq!(opens(&app, &colleague_cookie, &colleague).await, (303, 401));
}

/// Issue 26, item 12: a console session idle longer than `--console-idle-secs` ends.
#[actix_web::test]
async fn an_idle_console_session_ends() {
    let t = TestApp::with(|s| {
        s.sessions.console_idle_secs = 1;
        s.sessions.console_token_sign_in = true;
    });
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let res = call(&app, "POST", "/v1/organizations", &op, Some(json!({"name": "clinic", "kind": "clinic"}))).await;
    let clinic = res.id();
    let token = carepath::auth::issue_local_token(
        &t.state.settings.data_dir,
        "dr-1",
        "physician".parse().unwrap(),
        &clinic,
        600,
    )
    .unwrap();
    let cookie = common::console_sign_in(&app, &token).await;
    assert_eq!(opens(&app, &cookie, &token).await, (200, 200));
    t.state.clock.advance(time::Duration::seconds(3));
    assert_eq!(opens(&app, &cookie, &token).await, (303, 200), "the session ends; the token is no session");
}
/// Issue 26, item 21a: the setting turns `Secure` off (plain-HTTP development), whatever the
/// client says about its scheme.
#[actix_web::test]
async fn the_secure_flag_follows_the_setting_only() {
    let t = TestApp::with(|s| s.sessions.console_secure_cookie = false);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let form = send(&app, TestRequest::get().uri("/console/login").insert_header(("x-forwarded-proto", "https"))).await;
    let nonce = set_cookies(&form).into_iter().find(|c| c.starts_with("cp_login=")).unwrap();
    assert!(!nonce.contains("Secure"), "{nonce}");
    let lang =
        send(&app, TestRequest::get().uri("/console/login?lang=en").insert_header(("x-forwarded-proto", "https")))
            .await;
    assert!(set_cookies(&lang).iter().all(|c| !c.contains("Secure")));
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let lang = send(&app, TestRequest::get().uri("/console/login?lang=en")).await;
    assert!(set_cookies(&lang).iter().all(|c| c.ends_with("; Secure")), "{:?}", set_cookies(&lang));
}

/// Issue 26, item 12: sign-outs and admins' endings are kept in the database, so a restart
/// (a new application state on the same database) does not bring their sessions back.
#[actix_web::test]
async fn ended_sessions_stay_ended_after_a_restart() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let signed_out = w.doctor();
    let cookie = common::console_sign_in(&app, &signed_out).await;
    let page = send(&app, TestRequest::get().uri("/console/patients").insert_header(("cookie", cookie.clone()))).await;
    let out = TestRequest::post()
        .uri("/console/logout")
        .insert_header(("cookie", cookie.clone()))
        .set_form([("csrf", csrf_of(&text(&page)))]);
    assert_eq!(send(&app, out).await.status, 303);
    let colleague = w.token("dr-2", "physician", &w.clinic);
    let admin = w.token("admin-1", "admin", &w.clinic);
    let end = TestRequest::post()
        .uri(&format!("/v1/organizations/{}/sessions/end", w.clinic))
        .insert_header(auth(&admin))
        .set_json(json!({"sub": "dr-2"}));
    assert_eq!(send(&app, end).await.status, 204);
    let untouched = w.token("nurse-1", "nurse", &w.clinic);

    let restarted = carepath::state::AppState::open(w.t.state.settings.clone()).unwrap();
    let app = init_service(carepath::startup::app(restarted)).await;
    assert_eq!(opens(&app, &cookie, &signed_out).await, (303, 200));
    let res = send(&app, TestRequest::get().uri("/v1/patients").insert_header(auth(&colleague))).await;
    assert_eq!(res.status, 401);
    let res = send(&app, TestRequest::get().uri("/v1/patients").insert_header(auth(&untouched))).await;
    assert_eq!(res.status, 200, "{}", res.body);
}
