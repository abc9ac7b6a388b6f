//! `GET /metrics`: Prometheus text by route pattern and status, never an id; on a separate
//! address when asked; and log lines without colour codes when stderr is not a terminal.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::test::{TestRequest, init_service};
use common::{TestApp, auth, send};
use serde_json::json;

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern_and_never_name_an_id() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "clinic", "kind": "clinic"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let physician = t.token("physician", &org);
    let missing = uuid::Uuid::new_v4().to_string();
    let res =
        send(&app, TestRequest::get().uri(&format!("/v1/documents/{missing}")).insert_header(auth(&physician))).await;
    assert_eq!(res.status, 404);
    send(&app, TestRequest::get().uri("/no/such/place/4711")).await;
    carepath::metrics::committer_batch(3);
    carepath::metrics::committer_queue_depth(2);

    // Issue 26, item 19: on the API's address only the operator's admin reads them.
    send(&app, TestRequest::get().uri("/metrics")).await.problem(401);
    send(&app, TestRequest::get().uri("/metrics").insert_header(auth(&physician))).await.problem(403);
    send(&app, TestRequest::get().uri("/metrics").insert_header(auth(&t.token("admin", &org)))).await.problem(403);
    let res = send(&app, TestRequest::get().uri("/metrics").insert_header(auth(&t.operator()))).await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    let text = String::from_utf8(res.raw).unwrap();
    for needle in [
        r#"carepath_http_requests_total{method="GET",route="/v1/documents/{id}",status="404"} "#,
        r#"carepath_http_requests_total{method="POST",route="/v1/organizations",status="201"} "#,
        r#"carepath_http_requests_total{method="GET",route="unmatched",status="404"} "#,
        r#"carepath_http_request_duration_seconds_bucket{method="GET",route="/v1/documents/{id}",le="0.1"} "#,
        r#"carepath_db_pool_connections{state="in_use"} "#,
        "carepath_db_pool_wait_seconds_count ",
        "carepath_audit_events_since_checkpoint ",
        // Gauges are process-wide and other tests run beside this one: their names, not values.
        "carepath_changes_long_poll_waiters ",
        "carepath_committer_queue_depth ",
        "carepath_committer_batch_size_sum ",
        "carepath_keys_rewrap_pending ",
        "carepath_http_unauthenticated_total ",
    ] {
        assert!(text.contains(needle), "no {needle} in\n{text}");
    }
    // In the labels (values are numbers, and other tests' sums may hold any digits).
    let labels: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once('{'))
        .filter_map(|(_, rest)| rest.split_once('}'))
        .map(|(labels, _)| labels)
        .collect();
    for secret in [missing.as_str(), org.as_str(), "4711", "physician"] {
        assert!(!labels.iter().any(|l| l.contains(secret)), "the metrics name {secret}");
    }
    // Every audit event is unsigned so far (no checkpoint yet).
    let unsigned: i64 =
        text.lines().find_map(|l| l.strip_prefix("carepath_audit_events_since_checkpoint ")).unwrap().parse().unwrap();
    assert!(unsigned >= 2, "{unsigned}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    Some((status, response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned()))
}

#[test]
fn metrics_on_their_own_address_and_logs_to_a_file_without_colour() {
    let db = common::TestDb::new();
    let (port, metrics_port) = (free_port(), free_port());
    let log = db.dir.path().join("carepath.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carepath"));
    cmd.arg("serve").arg("--data-dir").arg(db.dir.path().join("data")).args([
        "--bind",
        &format!("127.0.0.1:{port}"),
        "--metrics-bind",
        &format!("127.0.0.1:{metrics_port}"),
    ]);
    if let Some(url) = db.settings().database_url {
        cmd.env("CAREPATH_DATABASE_URL", url);
    }
    let child = cmd
        .env("CAREPATH_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(port, "/healthz").is_none_or(|(s, _)| s != 200) {
        assert!(Instant::now() < deadline, "carepath did not start");
        // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, body) = get(metrics_port, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains(r#"carepath_http_requests_total{method="GET",route="/healthz",status="200"}"#), "{body}");
    assert_eq!(get(port, "/metrics").unwrap().0, 404, "not on the API's address when it has its own");
    assert!(Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap().success());
    let mut child = child;
    assert!(child.wait().unwrap().success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("carepath is serving"), "{text}");
    assert!(!text.contains('\u{1b}'), "colour codes in a log file: {text:?}");
}
