//! Per-caller limits: request rates by subject and by organisation (429 + `Retry-After`), a
//! caller's share of its organisation's rate, open long-polls per caller, open vacancy streams,
//! the committer's queue (503), the request time-out, and PostgreSQL's statement time-out.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, call_service, init_service};
use common::{TestApp, World, auth, send};
use serde_json::json;

async fn clinic<S, B>(t: &TestApp, app: &S) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    World::new(t, app).org("clinic", "clinic").build().await.org("clinic")
}

fn list(token: &str) -> TestRequest {
    TestRequest::get().uri("/v1/organizations").insert_header(auth(token))
}

#[actix_web::test]
async fn a_caller_over_its_rate_gets_429_with_retry_after_and_others_carry_on() {
    let t = TestApp::with(|s| s.rate_limit_per_minute = 3);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&t, &app).await;
    let nurse = t.token("nurse", &org);
    for _ in 0..3 {
        assert_eq!(send(&app, list(&nurse)).await.status, 200);
    }
    let refused = send(&app, list(&nurse)).await;
    refused.problem(429);
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "one request comes back every 20 s: {retry}");
    let physician = t.token("physician", &org);
    assert_eq!(send(&app, list(&physician)).await.status, 200, "another caller has its own allowance");
    let metrics =
        String::from_utf8(send(&app, TestRequest::get().uri("/metrics").insert_header(auth(&t.operator()))).await.raw)
            .unwrap();
    assert!(metrics.contains(r#"carepath_http_rate_limited_total{limit="subject"}"#), "{metrics}");
    assert!(metrics.contains(r#"route="/v1/organizations",status="429"}"#), "{metrics}");
}

#[actix_web::test]
async fn an_organisation_shares_one_allowance_and_zero_turns_limits_off() {
    let t = TestApp::with(|s| {
        s.org_rate_limit_per_minute = 4;
        s.caller_share_percent = 100;
    });
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&t, &app).await;
    let (a, b) = (t.token("nurse", &org), t.token("physician", &org));
    // The operator's organisation created the clinic; the clinic's own allowance is untouched.
    for token in [&a, &b, &a, &b] {
        assert_eq!(send(&app, list(token)).await.status, 200);
    }
    let refused = send(&app, list(&b)).await;
    assert!(refused.problem(429)["detail"].as_str().unwrap().contains("organisation"));

    let t = TestApp::with(|s| {
        s.rate_limit_per_minute = 0;
        s.org_rate_limit_per_minute = 0;
    });
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&t, &app).await;
    let nurse = t.token("nurse", &org);
    for _ in 0..50 {
        assert_eq!(send(&app, list(&nurse)).await.status, 200);
    }
}

#[actix_web::test]
async fn a_caller_holds_a_bounded_number_of_long_polls() {
    let t = TestApp::with(|s| s.max_long_polls_per_caller = 1);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&t, &app).await;
    let nurse = t.token("nurse", &org);
    let poll = |wait: u32| TestRequest::get().uri(&format!("/v1/changes?wait={wait}")).insert_header(auth(&nurse));
    let (first, second) = tokio::join!(send(&app, poll(2)), send(&app, poll(2)));
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 429], "{} / {}", first.body, second.body);
    let refused = if first.status == 429 { &first } else { &second };
    assert!(refused.problem(429)["detail"].as_str().unwrap().contains("long-poll"));
    assert_eq!(send(&app, poll(0)).await.status, 200, "an answer at once is no long-poll");
    assert_eq!(send(&app, poll(1)).await.status, 200, "the place is free again");
}

#[actix_web::test]
async fn a_request_over_the_time_out_gets_503() {
    let t = TestApp::with(|s| s.request_timeout_secs = 1);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&t, &app).await;
    let nurse = t.token("nurse", &org);
    let req = TestRequest::get().uri("/v1/changes?wait=3").insert_header(auth(&nurse)).to_request();
    // The time-out answers as an error, which the server renders as problem+json.
    let error = actix_web::test::try_call_service(&app, req).await.err().expect("timed out");
    let res = error.error_response();
    assert_eq!(res.status(), 503);
    let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("longer than 1 s"), "{problem}");
}

#[actix_web::test]
async fn postgresql_connections_carry_the_statement_time_out() {
    let t = TestApp::with(|s| s.db_statement_timeout_secs = 2);
    if !t.db.is_postgres() {
        return t.db.skip(
            "postgresql_connections_carry_the_statement_time_out",
            "SQLite has no statement time-out; its write-lock wait is fixed at 10 s",
        );
    }
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement_timeout: String,
    }
    use diesel::RunQueryDsl;
    let mut conn = t.state.pool.get().unwrap();
    let row: Setting = diesel::sql_query("SHOW statement_timeout").get_result(&mut *conn).unwrap();
    assert_eq!(row.statement_timeout, "2s");
    let err = diesel::sql_query("SELECT pg_sleep(3)").execute(&mut *conn).unwrap_err().to_string();
    assert!(err.contains("statement timeout"), "{err}");
}

#[actix_web::test]
async fn one_caller_may_use_only_its_share_of_the_organisations_rate() {
    let t = TestApp::with(|s| {
        s.org_rate_limit_per_minute = 4;
        s.caller_share_percent = 50;
    });
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&t, &app).await;
    let (runaway, colleague) = (t.token("nurse", &org), t.token("physician", &org));
    for _ in 0..2 {
        assert_eq!(send(&app, list(&runaway)).await.status, 200);
    }
    let refused = send(&app, list(&runaway)).await;
    assert!(refused.problem(429)["detail"].as_str().unwrap().contains("share"), "{}", refused.body);
    assert!(refused.header("retry-after").is_some());
    for _ in 0..2 {
        assert_eq!(send(&app, list(&colleague)).await.status, 200, "the rest of the allowance is left for others");
    }
}

#[actix_web::test]
async fn vacancy_streams_are_bounded_per_caller_organisation_and_server() {
    let t = TestApp::with(|s| {
        s.max_streams_per_caller = 2;
        s.max_streams_per_org = 3;
        s.max_streams = 4;
    });
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&t, &app).await;
    let other = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "station", "kind": "visiting_nurse_station"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stream = |token: &str| TestRequest::get().uri("/v1/vacancies/stream").insert_header(auth(token)).to_request();
    // A refused stream is a problem; an accepted one is endless, so only its status is read.
    macro_rules! refused {
        ($token:expr, $says:expr) => {
            let res = call_service(&app, stream($token)).await;
            assert_eq!(res.status(), 429, "a stream beyond the bound was opened");
            assert_eq!(res.headers().get("retry-after").unwrap(), "5");
            let body: serde_json::Value = serde_json::from_slice(&actix_web::test::read_body(res).await).unwrap();
            assert!(body["detail"].as_str().unwrap().contains($says), "{body}");
        };
    }
    let (nurse, physician, therapist) =
        (t.token("nurse", &org), t.token("physician", &org), t.token("therapist", &org));
    let mut open = Vec::new();
    for _ in 0..2 {
        let res = call_service(&app, stream(&nurse)).await;
        assert_eq!(res.status(), 200);
        open.push(res);
    }
    refused!(&nurse, "this caller");
    open.push(call_service(&app, stream(&physician)).await);
    refused!(&therapist, "your organisation");
    let (a, b) = (t.token("nurse", &other), t.token("physician", &other));
    open.push(call_service(&app, stream(&a)).await);
    assert!(open.iter().all(|r| r.status() == 200));
    refused!(&b, "the server");
    // A stream that closes gives its place back.
    drop(open.remove(0));
    let again = call_service(&app, stream(&nurse)).await;
    assert_eq!(again.status(), 200);
}

#[actix_web::test]
async fn a_full_committer_queue_answers_503_with_retry_after() {
    let t = TestApp::with(|s| s.committer_queue_max = 1);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&t, &app).await;
    let _ = org;
    // Hold the one writer until released, then take the one place in its queue.
    let (started, mut running) = tokio::sync::mpsc::unbounded_channel();
    let (release, held) = std::sync::mpsc::channel::<()>();
    let state = t.state.clone();
    let hold = actix_web::rt::spawn(async move {
        let work = move |_: &mut carepath::db::DbConn| {
            let _ = started.send(());
            let _ = held.recv();
            Ok(())
        };
        state.committer.run(work).await
    });
    running.recv().await.unwrap();
    // One poll submits the job (it waits behind the held one): the queue is full.
    let mut queued = Box::pin(t.state.committer.run(|_| Ok(())));
    assert!(tokio::time::timeout(Duration::ZERO, &mut queued).await.is_err());
    let create = || {
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "pharmacy", "kind": "pharmacy"}))
    };
    let refused = send(&app, create()).await;
    refused.problem(503);
    assert_eq!(refused.header("retry-after"), Some("1"));
    release.send(()).unwrap();
    hold.await.unwrap().unwrap();
    queued.await.unwrap();
    assert_eq!(send(&app, create()).await.status, 201, "room again once the queue drains");
}
