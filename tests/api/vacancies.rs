//! The short-stay vacancy board through the HTTP stack: publishing with If-Match, search across
//! a date range with needs, who may publish, staleness, and the live stream over a real socket.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actix_web::test::{TestRequest, init_service};
use common::{TestApp, auth, send};
use serde_json::{Value, json};

fn day(t: &TestApp, offset: i64) -> String {
    carepath::clock::format_day(t.state.calendar.today() + time::Duration::days(offset))
}

/// A posting of `days` days from today with `free` beds each (day `i` takes `free(i)`).
fn posting(t: &TestApp, days: i64, free: impl Fn(i64) -> u16, accepts: &[&str]) -> Value {
    let days: Vec<Value> = (0..days)
        .map(|i| {
            json!({"date": day(t, i), "beds": [{"room": "shared", "sex": "female", "free": free(i)},
                                                {"room": "private", "sex": "any", "free": 0}],
                   "accepts": accepts})
        })
        .collect();
    json!({"days": days, "contact": {"name": "生活相談員", "phone": "0235-22-0000"}, "notes": "送迎は市内のみ"})
}

async fn facility<S, B>(app: &S, t: &TestApp, name: &str, kind: &str, postal: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let res = send(
        app,
        TestRequest::post().uri("/v1/organizations").insert_header(auth(&t.operator())).set_json(json!({
            "name": name, "kind": kind, "address": {"postal_code": postal, "city": "鶴岡市"}
        })),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.id()
}

fn put(org: &str, service: &str, token: &str, body: &Value) -> TestRequest {
    TestRequest::put()
        .uri(&format!("/v1/organizations/{org}/vacancies/{service}"))
        .insert_header(auth(token))
        .set_json(body)
}

#[actix_web::test]
async fn a_facility_publishes_versions_with_if_match_and_every_publish_is_audited() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let home = facility(&app, &t, "特養 鶴岡荘", "care_facility", "997-0035").await;
    let staff = t.token("care_worker", &home);
    let body = posting(&t, 3, |_| 2, &["suction", "insulin"]);

    let first = send(&app, put(&home, "daily_living", &staff, &body)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("etag"), Some("\"1\""));
    assert_eq!(first.body["days"].as_array().unwrap().len(), 3);
    assert_eq!(first.body["days"][0]["beds_free"], 2);
    assert_eq!(first.body["stale"], false);

    // Anyone of the region reads it.
    let city = facility(&app, &t, "鶴岡市", "municipality", "997-8601").await;
    let reader = t.token("care_manager", &city);
    let read = send(
        &app,
        TestRequest::get()
            .uri(&format!("/v1/organizations/{home}/vacancies/daily_living"))
            .insert_header(auth(&reader)),
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["contact"]["phone"], "0235-22-0000");

    // It exists now: a new version needs If-Match, a stale one gets 412 with the current.
    send(&app, put(&home, "daily_living", &staff, &body)).await.problem(428);
    let second = send(&app, put(&home, "daily_living", &staff, &body).insert_header(("If-Match", "\"1\""))).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.header("etag"), Some("\"2\""));
    let stale = send(&app, put(&home, "daily_living", &staff, &body).insert_header(("If-Match", "\"1\""))).await;
    assert_eq!(stale.problem(412)["current"]["version"], 2);
    // If-Match on a posting that does not exist yet.
    send(&app, put(&home, "medical_care", &staff, &body).insert_header(("If-Match", "*"))).await.problem(412);

    // Days in the past, a day twice, an unknown need: each named.
    let mut bad = posting(&t, 2, |_| 1, &["suction"]);
    bad["days"][0]["date"] = json!(day(&t, -1));
    bad["days"][1]["date"] = json!(day(&t, 5));
    bad["days"][1]["accepts"] = json!(["suction", "suction"]);
    let refused = send(&app, put(&home, "daily_living", &staff, &bad).insert_header(("If-Match", "*"))).await;
    let pointers: Vec<&str> =
        refused.problem(422)["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/days/0/date", "/days/1/accepts/1"]);
    bad["days"][1]["accepts"] = json!(["karaoke"]);
    let unknown = send(&app, put(&home, "daily_living", &staff, &bad).insert_header(("If-Match", "*"))).await;
    assert!(unknown.problem(422)["errors"][0]["pointer"].as_str().unwrap().starts_with("/days/1/accepts"));

    // A pharmacy runs no short stays; an unknown service is no resource.
    let pharmacy = facility(&app, &t, "調剤薬局", "pharmacy", "997-0001").await;
    let pharmacist = t.token("pharmacist", &pharmacy);
    let wrong = send(&app, put(&pharmacy, "daily_living", &pharmacist, &body)).await;
    assert_eq!(wrong.problem(422)["errors"][0]["pointer"], "/path/id");
    send(&app, put(&home, "karaoke", &staff, &body)).await.problem(404);

    // Every publish, refusals included, is in the audit log with who and which board.
    let auditor = t.token("auditor", &city);
    let log =
        send(&app, TestRequest::get().uri("/v1/audit-events?action=vacancy.publish").insert_header(auth(&auditor)))
            .await;
    assert_eq!(log.status, 200, "{}", log.body);
    let events = log.body["items"].as_array().unwrap();
    let mine: Vec<&Value> =
        events.iter().filter(|e| e["resource_id"] == json!(format!("{home}/daily_living"))).collect();
    assert_eq!(mine.len(), 5, "{events:#?}");
    assert_eq!(mine.iter().filter(|e| e["outcome"] == "allowed").count(), 2);
    assert!(mine.iter().all(|e| e["actor_org"] == json!(home)));
}

#[actix_web::test]
async fn search_finds_beds_free_every_day_with_every_need_nearest_first() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let a = facility(&app, &t, "A 特養", "care_facility", "997-0035").await;
    let b = facility(&app, &t, "B 老健", "care_facility", "997-0036").await;
    let c = facility(&app, &t, "C 病院", "hospital", "997-0811").await;
    let all = ["suction", "insulin", "tube_feeding"];
    for (org, body) in [
        (&a, posting(&t, 5, |_| 1, &all)),
        (&b, posting(&t, 5, |i| if i == 2 { 0 } else { 3 }, &all)),
        (&c, posting(&t, 5, |_| 2, &["suction"])),
    ] {
        let staff = t.token("nurse", org);
        assert_eq!(send(&app, put(org, "daily_living", &staff, &body)).await.status, 201);
    }
    let reader = t.token("care_manager", &c);
    let search = |query: String| {
        let req = TestRequest::get().uri(&format!("/v1/vacancies?{query}")).insert_header(auth(&reader));
        let app = &app;
        async move { send(app, req).await }
    };
    let names = |res: &common::Resp| -> Vec<String> {
        res.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["facility"]["name"].as_str().unwrap().to_owned())
            .collect()
    };

    // Every day of the range, every need.
    let res = search(format!("from={}&to={}&accepts=suction,insulin", day(&t, 0), day(&t, 4))).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(names(&res), ["A 特養"]);
    assert_eq!(res.body["items"][0]["days"].as_array().unwrap().len(), 5);
    assert_eq!(res.body["items"][0]["stale"], false);
    assert!(res.body["items"][0]["confirmed_at"].is_string());

    // B has no bed on day 2; C takes suction only.
    let res = search(format!("from={}&to={}&accepts=suction&near=997-0811", day(&t, 0), day(&t, 4))).await;
    assert_eq!(names(&res), ["C 病院", "A 特養"]);
    let res = search(format!("from={}&to={}&near=997-0036", day(&t, 3), day(&t, 4))).await;
    assert_eq!(names(&res), ["B 老健", "A 特養", "C 病院"]);
    assert_eq!(res.body["items"][0]["days"][0]["date"], day(&t, 3));

    // Defaults: today only. Another service: nothing. Beyond the posted days: nothing.
    assert_eq!(names(&search(String::new()).await).len(), 3);
    assert!(names(&search("service=medical_care".into()).await).is_empty());
    assert!(names(&search(format!("from={}&to={}", day(&t, 4), day(&t, 5))).await).is_empty());

    // Bad input is named.
    for (query, pointer) in [
        (format!("from={}", day(&t, -1)), "/query/from"),
        (format!("from={}&to={}", day(&t, 2), day(&t, 1)), "/query/to"),
        (format!("to={}", day(&t, 200)), "/query/to"),
        ("service=karaoke".to_owned(), "/query/service"),
        ("accepts=suction,karaoke".to_owned(), "/query/accepts"),
        ("near=tokyo".to_owned(), "/query/near"),
        ("from=2026-02-30".to_owned(), "/query/from"),
    ] {
        let res = search(query.clone()).await;
        assert_eq!(res.problem(422)["errors"][0]["pointer"], pointer, "{query}");
    }
}

#[actix_web::test]
async fn only_the_facilitys_own_staff_or_the_operator_publish() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let a = facility(&app, &t, "A 特養", "care_facility", "997-0035").await;
    let b = facility(&app, &t, "B 特養", "care_facility", "997-0036").await;
    let body = posting(&t, 2, |_| 1, &[]);
    assert_eq!(send(&app, put(&a, "daily_living", &t.token("admin", &a), &body)).await.status, 201);

    // Another facility's staff, even its admin, and an auditor of the facility itself: refused.
    for token in [t.token("care_worker", &b), t.token("admin", &b), t.token("auditor", &a)] {
        send(&app, put(&a, "daily_living", &token, &body).insert_header(("If-Match", "*"))).await.problem(403);
        let confirm = TestRequest::post()
            .uri(&format!("/v1/organizations/{a}/vacancies/daily_living/confirm"))
            .insert_header(auth(&token));
        send(&app, confirm).await.problem(403);
        // Refused before anything is looked up: a board that does not exist gets the same answer.
        send(&app, put(&a, "medical_care", &token, &body)).await.problem(403);
    }
    let read = send(
        &app,
        TestRequest::get()
            .uri(&format!("/v1/organizations/{a}/vacancies/daily_living"))
            .insert_header(auth(&t.token("nurse", &b))),
    )
    .await;
    assert_eq!(read.header("etag"), Some("\"1\""), "the refused writes changed nothing");

    // The operator's admin publishes for any facility.
    let op = send(&app, put(&a, "daily_living", &t.operator(), &body).insert_header(("If-Match", "\"1\""))).await;
    assert_eq!(op.status, 200, "{}", op.body);
    assert_eq!(op.header("etag"), Some("\"2\""));
}

#[actix_web::test]
async fn a_posting_not_confirmed_in_time_is_stale_until_confirmed() {
    let t = TestApp::with(|s| s.vacancy_stale_secs = 3);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let a = facility(&app, &t, "A 特養", "care_facility", "997-0035").await;
    let staff = t.token("care_worker", &a);
    let published = send(&app, put(&a, "daily_living", &staff, &posting(&t, 2, |_| 1, &[]))).await;
    assert_eq!(published.body["stale"], false, "{}", published.body);
    let reader = t.token("care_manager", &a);
    let search = || TestRequest::get().uri("/v1/vacancies").insert_header(auth(&reader));
    let fresh = send(&app, search()).await;
    assert_eq!(fresh.body["items"][0]["stale"], false);
    assert_eq!(fresh.body["stale_after_secs"], 3);

    t.state.clock.advance(time::Duration::seconds(4));
    let old = send(&app, search()).await;
    assert_eq!(old.body["items"][0]["stale"], true, "{}", old.body);

    // One call confirms it unchanged: fresh again, same version; a stale ETag is refused.
    let uri = format!("/v1/organizations/{a}/vacancies/daily_living/confirm");
    let wrong = TestRequest::post().uri(&uri).insert_header(auth(&staff)).insert_header(("If-Match", "\"7\""));
    send(&app, wrong).await.problem(412);
    let confirmed =
        send(&app, TestRequest::post().uri(&uri).insert_header(auth(&staff)).insert_header(("If-Match", "\"1\"")))
            .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(confirmed.body["stale"], false);
    assert_eq!(confirmed.header("etag"), Some("\"1\""));
    assert!(confirmed.body["confirmed_at"].as_str() > published.body["confirmed_at"].as_str());
    assert_eq!(send(&app, search()).await.body["items"][0]["stale"], false);

    // Pollers see both changes, in order.
    let feed = send(&app, TestRequest::get().uri("/v1/vacancies/changes?since=0").insert_header(auth(&reader))).await;
    let ops: Vec<&str> = feed.body["changes"].as_array().unwrap().iter().map(|c| c["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["published", "confirmed"]);
    assert_eq!(feed.body["has_more"], false);
}

/// What a stream sent: its blocks (events, comments), as they arrived.
struct Block {
    at: Instant,
    text: String,
}

impl Block {
    fn field(&self, name: &str) -> Option<&str> {
        self.text.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
    }
}

/// Follows the stream over a real socket (plain HTTP/1.1, chunked), passing on each block until
/// `events` change events have come, then hanging up.
fn follow(port: u16, token: String, last_event_id: Option<i64>, events: usize) -> mpsc::Receiver<Block> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let resume = last_event_id.map(|id| format!("Last-Event-ID: {id}\r\n")).unwrap_or_default();
        write!(
            socket,
            "GET /v1/vacancies/stream HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\
             Authorization: Bearer {token}\r\n{resume}\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(socket);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
        }
        let mut pending = String::new();
        let mut seen = 0;
        while seen < events {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let size = usize::from_str_radix(line.trim(), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            pending.push_str(std::str::from_utf8(&chunk[..size]).unwrap());
            while let Some(end) = pending.find("\n\n") {
                let text: String = pending.drain(..end + 2).collect();
                if text.contains("event: vacancy") {
                    seen += 1;
                }
                if tx.send(Block { at: Instant::now(), text: text.trim_end().to_owned() }).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// The next block of a stream, without blocking the test's runtime.
async fn next(rx: &mpsc::Receiver<Block>) -> Block {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match rx.try_recv() {
            Ok(block) => return block,
            Err(mpsc::TryRecvError::Empty) if Instant::now() < deadline => {
                // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
                actix_web::rt::time::sleep(Duration::from_millis(2)).await;
            }
            Err(e) => panic!("no block from the stream: {e}"),
        }
    }
}

/// The next change event, skipping heartbeats.
async fn next_event(rx: &mpsc::Receiver<Block>) -> Block {
    loop {
        let block = next(rx).await;
        if block.field("event") == Some("vacancy") {
            return block;
        }
    }
}

#[actix_web::test]
async fn the_stream_delivers_a_change_soon_after_its_commit_and_resumes_exactly() {
    let t = TestApp::with(|s| s.vacancy_heartbeat_secs = 1);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let server = carepath::startup::Application::build(t.state.clone()).unwrap();
    let port = server.port;
    let handle = server.server.handle();
    actix_web::rt::spawn(server.server);

    let a = facility(&app, &t, "A 特養", "care_facility", "997-0035").await;
    let staff = t.token("care_worker", &a);
    let reader = t.token("care_manager", &a);
    let uri = format!("/v1/organizations/{a}/vacancies/daily_living");

    // Connected (the greeting says from where) before anything is published.
    let live = follow(port, reader.clone(), None, 2);
    let hello = next(&live).await;
    assert!(hello.text.contains(": following after 0"), "{}", hello.text);

    let sent = Instant::now();
    let first = send(&app, put(&a, "daily_living", &staff, &posting(&t, 2, |_| 1, &[]))).await;
    let answered = Instant::now();
    assert_eq!(first.status, 201);
    let event = next_event(&live).await;
    let after_request = event.at.duration_since(sent);
    let after_answer = event.at.saturating_duration_since(answered);
    println!(
        "SSE: event received {:.1} ms after the publish request was sent, {:.1} ms after its answer \
         (the commit lies between)",
        after_request.as_secs_f64() * 1e3,
        after_answer.as_secs_f64() * 1e3
    );
    assert!(after_request < Duration::from_secs(2), "{after_request:?}");
    assert_eq!(event.field("id"), Some("1"));
    let data: Value = serde_json::from_str(event.field("data").unwrap()).unwrap();
    assert_eq!(
        (data["facility"].as_str(), data["op"].as_str(), data["version"].as_i64()),
        (Some(&*a), Some("published"), Some(1))
    );

    // A quiet stream says it is alive.
    let beat = next(&live).await;
    assert_eq!(beat.text, ": heartbeat");

    // The second event, then this client hangs up; three more changes while it is away.
    let confirm = format!("{uri}/confirm");
    send(&app, TestRequest::post().uri(&confirm).insert_header(auth(&staff))).await;
    let second = next_event(&live).await;
    assert_eq!(second.field("id"), Some("2"));
    for version in 1..=3 {
        let res = send(
            &app,
            put(&a, "daily_living", &staff, &posting(&t, 2, |_| 2, &["suction"]))
                .insert_header(("If-Match", format!("\"{version}\""))),
        )
        .await;
        assert_eq!(res.status, 200, "{}", res.body);
    }

    // Resumed after the last id seen: exactly the three missed, in order, then live again.
    let resumed = follow(port, reader.clone(), Some(2), 4);
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(next_event(&resumed).await.field("id").unwrap().to_owned());
    }
    assert_eq!(ids, ["3", "4", "5"]);
    send(&app, TestRequest::post().uri(&confirm).insert_header(auth(&staff))).await;
    assert_eq!(next_event(&resumed).await.field("id"), Some("6"));

    // The pollers' feed holds the same six, with the same numbers.
    let feed =
        send(&app, TestRequest::get().uri("/v1/vacancies/changes?since=2&limit=2").insert_header(auth(&reader))).await;
    let seqs: Vec<i64> = feed.body["changes"].as_array().unwrap().iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        (seqs, feed.body["next_cursor"].as_str(), feed.body["has_more"].as_bool()),
        (vec![3, 4], Some("4"), Some(true))
    );

    // A malformed Last-Event-ID is named; no token, no stream.
    let bad = send(
        &app,
        TestRequest::get()
            .uri("/v1/vacancies/stream")
            .insert_header(auth(&reader))
            .insert_header(("Last-Event-ID", "x")),
    )
    .await;
    assert_eq!(bad.problem(422)["errors"][0]["pointer"], "/header/Last-Event-ID");
    send(&app, TestRequest::get().uri("/v1/vacancies/stream")).await.problem(401);
    handle.stop(false).await;
}
