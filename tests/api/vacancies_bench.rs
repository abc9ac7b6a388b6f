//! A benchmark of the vacancy board, ignored by default: 200 facilities × 60 days, search latency
//! (p50/p99) over real HTTP, and the stream's fan-out to 500 connected clients.
//!
//! `cargo test --release --test vacancies_bench -- --ignored --nocapture` (add
//! `CAREPATH_TEST_DATABASE_URL=postgres://...` for PostgreSQL). Figures go to stdout.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark fails loudly")]

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actix_web::test::{TestRequest, init_service};
use common::{TestApp, auth, send};
use serde_json::{Value, json};

const FACILITIES: usize = 200;
const DAYS: i64 = 60;
const SEARCHES: usize = 500;
const CLIENTS: usize = 500;
const ROUNDS: usize = 5;
const NEEDS: [&str; 6] = ["suction", "insulin", "tube_feeding", "home_oxygen", "urinary_catheter", "dementia_bpsd"];

/// A small deterministic generator: the same world every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

/// One keep-alive HTTP/1.1 connection for sequential GETs: (status, body).
struct Client(BufReader<TcpStream>);

impl Client {
    fn get(&mut self, path: &str, token: &str) -> (u16, String) {
        write!(self.0.get_mut(), "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n")
            .unwrap();
        let mut line = String::new();
        self.0.read_line(&mut line).unwrap();
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut length = 0;
        loop {
            line.clear();
            self.0.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.0.read_exact(&mut body).unwrap();
        (status, String::from_utf8(body).unwrap())
    }
}

/// A stream client: signals when connected, then the arrival time of each event id.
fn subscriber(port: u16, token: String, ready: mpsc::Sender<()>, got: mpsc::Sender<(i64, Instant)>, rounds: usize) {
    std::thread::spawn(move || {
        let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        write!(socket, "GET /v1/vacancies/stream HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n")
            .unwrap();
        let mut reader = BufReader::new(socket);
        let mut line = String::new();
        let mut seen = 0;
        let mut said_ready = false;
        while seen < rounds {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if !said_ready && line.starts_with(": following") {
                said_ready = true;
                ready.send(()).unwrap();
            }
            if let Some(id) = line.strip_prefix("id: ") {
                got.send((id.trim().parse().unwrap(), Instant::now())).unwrap();
                seen += 1;
            }
        }
    });
}

#[actix_web::test]
#[ignore = "a benchmark: run with --ignored --nocapture"]
async fn vacancy_board_benchmark() {
    let t = TestApp::with(|s| {
        s.workers = Some(2);
        s.db_pool_size = 8;
    });
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let server = carepath::startup::Application::build(t.state.clone()).unwrap();
    let port = server.port;
    let handle = server.server.handle();
    actix_web::rt::spawn(server.server);
    let backend = if t.db.is_postgres() { "PostgreSQL" } else { "SQLite" };
    let today = t.state.calendar.today();
    let day = |i: i64| carepath::clock::format_day(today + time::Duration::days(i));

    // The world: 200 facilities, each a 60-day posting; beds 0–3 a day, a random set of needs.
    let mut rng = Lcg(20261127);
    let started = Instant::now();
    let mut facilities = Vec::new();
    for i in 0..FACILITIES {
        let postal = format!("997-{:04}", rng.next(10_000));
        let res = send(
            &app,
            TestRequest::post().uri("/v1/organizations").insert_header(auth(&t.operator())).set_json(json!({
                "name": format!("施設 {i:03}"), "kind": "care_facility", "address": {"postal_code": postal}
            })),
        )
        .await;
        let id = res.id();
        let accepts: Vec<&str> = NEEDS.iter().copied().filter(|_| rng.next(2) == 0).collect();
        let days: Vec<Value> = (0..DAYS)
            .map(|d| {
                json!({"date": day(d), "beds": [{"room": "shared", "sex": "any", "free": rng.next(4)}], "accepts": accepts})
            })
            .collect();
        let staff = t.token("care_worker", &id);
        let body = json!({"days": days, "contact": {"phone": "0235-22-0000"}});
        let put = TestRequest::put().uri(&format!("/v1/organizations/{id}/vacancies/daily_living"));
        assert_eq!(send(&app, put.insert_header(auth(&staff)).set_json(body)).await.status, 201);
        facilities.push((id, staff));
    }
    println!("{backend}: published {FACILITIES} × {DAYS} days in {:.1} s", started.elapsed().as_secs_f64());

    // Search: 7-day ranges at random starts, 0–2 needs, over one keep-alive connection.
    let reader = t.token("care_manager", &facilities[0].0);
    let mut queries = Vec::new();
    for _ in 0..SEARCHES {
        let from = rng.next((DAYS - 7) as u64) as i64;
        let needs: Vec<&str> = (0..rng.next(3)).map(|_| NEEDS[rng.next(NEEDS.len() as u64) as usize]).collect();
        queries.push(format!(
            "/v1/vacancies?from={}&to={}&accepts={}&near=997-0035",
            day(from),
            day(from + 6),
            needs.join(",")
        ));
    }
    let token = reader.clone();
    let (timings, hits) = actix_web::rt::task::spawn_blocking(move || {
        let mut client = Client(BufReader::new(TcpStream::connect(("127.0.0.1", port)).unwrap()));
        let mut timings = Vec::new();
        let mut hits = 0;
        for q in &queries {
            let start = Instant::now();
            let (status, body) = client.get(q, &token);
            timings.push(start.elapsed());
            assert_eq!(status, 200, "{body}");
            hits += serde_json::from_str::<Value>(&body).unwrap()["items"].as_array().unwrap().len();
        }
        (timings, hits)
    })
    .await
    .unwrap();
    let mut sorted = timings.clone();
    sorted.sort();
    println!(
        "{backend}: search ({SEARCHES} × 7-day range, 0–2 needs, {:.1} hits on average): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        hits as f64 / SEARCHES as f64,
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        percentile(&sorted, 1.0)
    );

    // Fan-out: 500 connected streams; each of 5 publishes must reach every one.
    let (ready_tx, ready_rx) = mpsc::channel();
    let (got_tx, got_rx) = mpsc::channel();
    for _ in 0..CLIENTS {
        subscriber(port, reader.clone(), ready_tx.clone(), got_tx.clone(), ROUNDS);
    }
    let connect_start = Instant::now();
    for _ in 0..CLIENTS {
        while ready_rx.try_recv().is_err() {
            // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
            actix_web::rt::time::sleep(Duration::from_millis(1)).await;
            assert!(connect_start.elapsed() < Duration::from_secs(60), "streams did not connect");
        }
    }
    println!("{backend}: {CLIENTS} streams connected in {:.2} s", connect_start.elapsed().as_secs_f64());
    let (id, staff) = &facilities[1];
    let mut latencies = Vec::new();
    let mut all_in = Vec::new();
    for _ in 0..ROUNDS {
        let confirm = TestRequest::post().uri(&format!("/v1/organizations/{id}/vacancies/daily_living/confirm"));
        let sent = Instant::now();
        assert_eq!(send(&app, confirm.insert_header(auth(staff))).await.status, 200);
        let mut last = sent;
        for _ in 0..CLIENTS {
            let deadline = Instant::now() + Duration::from_secs(30);
            let (_, at) = loop {
                match got_rx.try_recv() {
                    Ok(x) => break x,
                    Err(_) if Instant::now() < deadline => actix_web::rt::time::sleep(Duration::from_micros(200)).await,
                    Err(e) => panic!("an event did not arrive: {e}"),
                }
            };
            latencies.push(at.duration_since(sent));
            last = last.max(at);
        }
        all_in.push(last.duration_since(sent));
    }
    latencies.sort();
    all_in.sort();
    println!(
        "{backend}: fan-out to {CLIENTS} streams ({ROUNDS} changes): delivery after the confirm request was sent \
         p50 {:.1} ms, p99 {:.1} ms; last client reached after {:.1} ms (median of rounds), {:.1} ms (worst)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&all_in, 0.5),
        percentile(&all_in, 1.0)
    );
    handle.stop(false).await;
}
