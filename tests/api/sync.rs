//! The change feed and batch upload through the HTTP stack, on either backend.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use std::cell::Cell;
use std::collections::HashSet;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{Resp, TestApp, auth, send};
use serde_json::{Value, json};

/// A clinic managing two patients; a visiting-nurse station on the first one's care team, with
/// the patient's consent to share with the care team.
struct World {
    t: TestApp,
    station: String,
    patient: String,
    other: String,
    physician: String,
    nurse: String,
}

fn day(offset: i64) -> String {
    carepath::clock::format_day(time::OffsetDateTime::now_utc().date() + time::Duration::days(offset))
}

fn content(level: &str) -> Value {
    json!({"care_level": level, "diagnoses": []})
}

async fn world<S, B>(app: &S, t: TestApp) -> World
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let op = t.operator();
    let org = |name: &str, kind: &str| {
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&op))
            .set_json(json!({"name": name, "kind": kind}))
    };
    let clinic = send(app, org("clinic", "clinic")).await.id();
    let station = send(app, org("station", "visiting_nurse_station")).await.id();
    let physician = t.token("physician", &clinic);
    let nurse = t.token("nurse", &station);
    let mut patients = Vec::new();
    for name in ["山田 花子", "佐藤 一郎"] {
        let body = json!({"name": name, "birth_date": "1939-04-01", "sex": "female", "managing_organization": clinic});
        let res =
            send(app, TestRequest::post().uri("/v1/patients").insert_header(auth(&physician)).set_json(body)).await;
        patients.push(res.id());
    }
    let (patient, other) = (patients[0].clone(), patients[1].clone());
    let w = World { t, station, patient, other, physician, nurse };
    assert_eq!(set_team(app, &w, &w.patient, None).await.status, 200);
    assert_eq!(grant_consent(app, &w, &w.patient).await.status, 201);
    w
}

async fn set_team<S, B>(app: &S, w: &World, patient: &str, until: Option<String>) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let members = json!([{"organization": w.station, "role": "nurse", "since": day(-30), "until": until}]);
    let req = TestRequest::put()
        .uri(&format!("/v1/patients/{patient}/care-team"))
        .insert_header(auth(&w.physician))
        .set_json(json!({ "members": members }));
    send(app, req).await
}

async fn grant_consent<S, B>(app: &S, w: &World, patient: &str) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let consent = json!({"status": "active", "organizations": "care_team", "purposes": ["treatment"],
        "period": {"start": day(-30)}, "obtained_by": "signed_form"});
    let req = TestRequest::post()
        .uri(&format!("/v1/patients/{patient}/consents"))
        .insert_header(auth(&w.physician))
        .set_json(consent);
    send(app, req).await
}

fn create(w: &World, patient: &str, level: &str) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/v1/patients/{patient}/documents"))
        .insert_header(auth(&w.physician))
        .set_json(json!({"type": "care-path", "schema_version": "1.0.0", "content": content(level)}))
}

fn update(w: &World, id: &str, version: i64, level: &str) -> TestRequest {
    TestRequest::put()
        .uri(&format!("/v1/documents/{id}"))
        .insert_header(auth(&w.physician))
        .insert_header(("if-match", format!("\"{version}\"")))
        .set_json(json!({"type": "care-path", "schema_version": "1.0.0", "content": content(level)}))
}

fn feed(token: &str, query: &str) -> TestRequest {
    TestRequest::get().uri(&format!("/v1/changes?{query}")).insert_header(auth(token))
}

fn batch(token: &str, atomic: bool, operations: Value) -> TestRequest {
    TestRequest::post()
        .uri("/v1/batch")
        .insert_header(auth(token))
        .set_json(json!({"atomic": atomic, "operations": operations}))
}

/// Follows the feed from `since` to its end; every change seen, and the final cursor.
async fn drain<S, B>(app: &S, token: &str, since: &str, limit: u32) -> (Vec<Value>, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (mut all, mut cursor) = (Vec::new(), since.to_owned());
    loop {
        let page = send(app, feed(token, &format!("since={cursor}&limit={limit}"))).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let changes = page.body["changes"].as_array().unwrap().clone();
        cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
        let more = page.body["has_more"].as_bool().unwrap();
        let empty = changes.is_empty();
        all.extend(changes);
        if empty && !more {
            return (all, cursor);
        }
    }
}

fn keys(changes: &[Value]) -> Vec<(String, i64)> {
    changes.iter().map(|c| (c["document_id"].as_str().unwrap().to_owned(), c["version"].as_i64().unwrap())).collect()
}

#[actix_web::test]
async fn the_feed_lists_changes_in_order_and_checks_its_parameters() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let a = send(&app, create(&w, &w.patient, "care_1")).await.id();
    let b = send(&app, create(&w, &w.other, "care_2")).await.id();
    assert_eq!(send(&app, update(&w, &a, 1, "care_3")).await.status, 200);
    let del = TestRequest::delete().uri(&format!("/v1/documents/{b}")).insert_header(auth(&w.physician));
    assert_eq!(send(&app, del).await.status, 200);

    let first = send(&app, feed(&w.physician, "limit=2")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("cache-control"), Some("no-store"));
    assert_eq!(first.body["has_more"], true);
    let (rest, _) = drain(&app, &w.physician, first.body["next_cursor"].as_str().unwrap(), 2).await;
    let mut all = first.body["changes"].as_array().unwrap().clone();
    all.extend(rest);
    let ops: Vec<(&str, &str, i64)> = all
        .iter()
        .map(|c| (c["document_id"].as_str().unwrap(), c["op"].as_str().unwrap(), c["version"].as_i64().unwrap()))
        .collect();
    assert_eq!(ops, [(&*a, "created", 1), (&*b, "created", 1), (&*a, "updated", 2), (&*b, "deleted", 2)]);
    let seqs: Vec<i64> = all.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "{seqs:?}");
    for field in ["patient_id", "type", "at"] {
        assert!(all[0][field].is_string(), "{field}: {}", all[0]);
    }
    assert_eq!(all[1]["patient_id"], w.other);

    for (query, pointer) in [
        ("since=abc", "/query/since"),
        ("since=-1", "/query/since"),
        ("limit=0", "/query/limit"),
        ("limit=1001", "/query/limit"),
        ("wait=61", "/query/wait"),
    ] {
        let res = send(&app, feed(&w.physician, query)).await;
        assert_eq!(res.problem(422)["errors"][0]["pointer"], pointer, "{query}");
    }
    // The operator's administrator may not read documents at all: 403, not an empty feed.
    send(&app, feed(&w.t.operator(), "")).await.problem(403);
}

#[actix_web::test]
async fn concurrent_writers_neither_skip_nor_repeat_a_change() {
    let t = TestApp::with(|s| s.db_pool_size = 8);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let (writers, per_writer) = (4, 10);
    let finished = Cell::new(0);
    let writer = |n: usize| {
        let (app, w, finished) = (&app, &w, &finished);
        async move {
            let mut written = Vec::new();
            for i in 0..per_writer {
                let patient = if (n + i).is_multiple_of(2) { &w.patient } else { &w.other };
                let res = send(app, create(w, patient, "care_1")).await;
                assert_eq!(res.status, 201, "{}", res.body);
                let id = res.id();
                let res = send(app, update(w, &id, 1, "care_2")).await;
                assert_eq!(res.status, 200, "{}", res.body);
                written.extend([(id.clone(), 1), (id, 2)]);
            }
            finished.set(finished.get() + 1);
            written
        }
    };
    let reader = async {
        let (mut seen, mut cursor, mut pages, mut while_writing) = (Vec::new(), "0".to_owned(), 0, 0);
        loop {
            let done = finished.get() == writers;
            let page = send(&app, feed(&w.physician, &format!("since={cursor}&limit=3"))).await;
            assert_eq!(page.status, 200, "{}", page.body);
            pages += 1;
            let changes = page.body["changes"].as_array().unwrap().clone();
            cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
            let caught_up = changes.is_empty() && page.body["has_more"] == false;
            if !done {
                while_writing += changes.len();
            }
            seen.extend(changes);
            if caught_up && done {
                return (seen, pages, while_writing);
            }
            if caught_up {
                // Paces a caught-up reader (each poll is an audited read): it waits for nothing,
                // and the test's outcome does not depend on how long this is.
                actix_web::rt::time::sleep(Duration::from_millis(2)).await;
            }
        }
    };
    let (w0, w1, w2, w3, (seen, pages, while_writing)) =
        tokio::join!(writer(0), writer(1), writer(2), writer(3), reader);
    let expected: HashSet<(String, i64)> = [w0, w1, w2, w3].into_iter().flatten().collect();
    assert_eq!(expected.len(), writers * per_writer * 2);

    let followed = keys(&seen);
    let unique: HashSet<(String, i64)> = followed.iter().cloned().collect();
    assert_eq!(unique.len(), followed.len(), "a change was repeated");
    assert_eq!(unique, expected, "a change was skipped");
    let seqs: Vec<i64> = seen.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "not in sequence order: {seqs:?}");
    let (full, _) = drain(&app, &w.physician, "0", 1000).await;
    assert_eq!(keys(&full), followed, "the followed feed differs from a full scan");
    println!("followed {} changes in {pages} pages, {while_writing} of them while the writers wrote", followed.len());
    // SQLite serialises the reader's audit write with the writers, so there it may run mostly after them.
    if w.t.db.is_postgres() {
        assert!(while_writing > 0, "the reader never ran beside the writers");
    }
}

/// The mechanism behind the no-skip guarantee: a second writer gets its sequence number only
/// after the first writer's transaction has committed (on PostgreSQL the counter row's lock, on
/// SQLite the write lock), so a number can never become visible before a smaller one.
#[actix_web::test]
async fn a_sequence_number_is_given_out_only_after_the_previous_commit() {
    use carepath::db::{self, documents::next_seq};
    let t = TestApp::new();
    let (pool_a, pool_b) = (t.state.pool.clone(), t.state.pool.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    let first = std::thread::spawn(move || {
        let mut conn = pool_a.get().unwrap();
        db::write_tx(&mut conn, |c| {
            let seq = next_seq(c)?;
            tx.send(()).unwrap();
            // Holds the transaction open while the second writer asks for its number: there is
            // nothing to observe of a writer blocked inside the database, so only time lets it
            // get as far as waiting (if it got no further, the test would pass without proving).
            std::thread::sleep(Duration::from_millis(300));
            Ok::<_, diesel::result::Error>((seq, Instant::now()))
        })
        .unwrap()
    });
    rx.recv().unwrap();
    let second = std::thread::spawn(move || {
        let mut conn = pool_b.get().unwrap();
        db::write_tx(&mut conn, |c| Ok::<_, diesel::result::Error>((next_seq(c)?, Instant::now()))).unwrap()
    });
    let ((seq_a, a_done), (seq_b, b_got)) = (first.join().unwrap(), second.join().unwrap());
    assert_eq!(seq_b, seq_a + 1);
    assert!(b_got >= a_done, "the second writer got its number before the first committed");
}

#[actix_web::test]
async fn ending_care_team_membership_or_revoking_consent_hides_changes() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let mine = send(&app, create(&w, &w.patient, "care_1")).await.id();
    let _not_shared = send(&app, create(&w, &w.other, "care_1")).await;
    let (seen, cursor) = drain(&app, &w.nurse, "0", 100).await;
    assert_eq!(keys(&seen), [(mine.clone(), 1)], "the station sees its patient only");

    // The membership ended yesterday: from the next request on, nothing of this patient.
    assert_eq!(set_team(&app, &w, &w.patient, Some(day(-1))).await.status, 200);
    assert_eq!(send(&app, update(&w, &mine, 1, "care_2")).await.status, 200);
    let (after, end) = drain(&app, &w.nurse, &cursor, 100).await;
    assert_eq!(after, Vec::<Value>::new());
    assert!(end.parse::<i64>().unwrap() > cursor.parse::<i64>().unwrap(), "hidden changes are passed over");
    assert_eq!(drain(&app, &w.nurse, "0", 100).await.0, Vec::<Value>::new());

    // Back on the team, then the patient withdraws consent.
    assert_eq!(set_team(&app, &w, &w.patient, None).await.status, 200);
    assert_eq!(drain(&app, &w.nurse, "0", 100).await.0.len(), 2);
    let consents = send(
        &app,
        TestRequest::get().uri(&format!("/v1/patients/{}/consents", w.patient)).insert_header(auth(&w.physician)),
    )
    .await;
    let cid = consents.body["items"][0]["id"].as_str().unwrap();
    let revoke = TestRequest::post()
        .uri(&format!("/v1/patients/{}/consents/{cid}/revoke", w.patient))
        .insert_header(auth(&w.physician))
        .set_json(json!({"reason": "家族の希望により撤回"}));
    assert_eq!(send(&app, revoke).await.status, 200);
    assert_eq!(drain(&app, &w.nurse, "0", 100).await.0, Vec::<Value>::new());
    assert_eq!(drain(&app, &w.physician, "0", 100).await.0.len(), 3, "the managing clinic still sees all");
}

/// Waits until `n` long-polls of the app are open, so that a write after this is one they wait
/// for (an observable count, not a guess at how long parking takes).
async fn parked(t: &TestApp, n: usize) {
    let start = Instant::now();
    while t.state.limits.long_polls() < n {
        assert!(start.elapsed() < Duration::from_secs(20), "the long-poll never parked");
        tokio::task::yield_now().await;
    }
}

#[actix_web::test]
async fn a_long_poll_wakes_on_a_commit() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let (_, cursor) = drain(&app, &w.nurse, "0", 100).await;
    let start = Instant::now();
    let poll = async {
        let res = send(&app, feed(&w.nurse, &format!("since={cursor}&wait=10"))).await;
        (res, Instant::now())
    };
    let write = async {
        parked(&w.t, 1).await;
        let res = send(&app, create(&w, &w.patient, "care_4")).await;
        (res, Instant::now())
    };
    let ((polled, seen_at), (written, acked_at)) = tokio::join!(poll, write);
    assert_eq!(polled.status, 200, "{}", polled.body);
    assert_eq!(polled.body["changes"][0]["document_id"], written.body["id"]);
    let waited = seen_at - start;
    assert!(waited < Duration::from_secs(5), "the poll waited {waited:?}");
    println!("long-poll answered {:?} after the write was acknowledged", seen_at.saturating_duration_since(acked_at));

    // A change the caller may not see wakes the poll, which looks, passes it over and waits on.
    let (_, cursor) = drain(&app, &w.nurse, "0", 100).await;
    let start = Instant::now();
    let poll = send(&app, feed(&w.nurse, &format!("since={cursor}&wait=1")));
    let hidden = async {
        parked(&w.t, 1).await;
        send(&app, create(&w, &w.other, "care_1")).await
    };
    let (polled, _) = tokio::join!(poll, hidden);
    assert!(start.elapsed() >= Duration::from_secs(1), "answered before the wait ran out");
    assert_eq!(polled.body["changes"], json!([]));
    assert!(polled.body["next_cursor"].as_str().unwrap().parse::<i64>().unwrap() > cursor.parse::<i64>().unwrap());
}

#[actix_web::test]
async fn a_long_poll_sees_a_commit_made_by_another_instance() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    // A second carepath process on the same database: its commits do not tick this one's channel.
    let other_state = carepath::state::AppState::open(t.state.settings.clone()).unwrap();
    let other = init_service(carepath::startup::app(other_state)).await;
    let w = world(&app, t).await;
    let (_, cursor) = drain(&app, &w.nurse, "0", 100).await;
    let start = Instant::now();
    let poll = send(&app, feed(&w.nurse, &format!("since={cursor}&wait=20")));
    let write = async {
        parked(&w.t, 1).await;
        send(&other, create(&w, &w.patient, "care_4")).await
    };
    let (polled, written) = tokio::join!(poll, write);
    assert_eq!(written.status, 201, "{}", written.body);
    assert_eq!(polled.body["changes"][0]["document_id"], written.body["id"], "{}", polled.body);
    let waited = start.elapsed();
    assert!(waited < carepath::domain::sync::RESCAN_EVERY * 5, "seen after {waited:?}, not by the periodic rescan");
}

#[actix_web::test]
async fn a_batch_answers_each_operation_on_its_own() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let doc = send(&app, create(&w, &w.patient, "care_1")).await.id();
    let ops = json!([
        {"op": "create", "patient_id": w.patient, "type": "care-path", "schema_version": "1.0.0", "content": content("care_2"), "idempotency_key": "k0"},
        {"op": "update", "document_id": doc, "if_match": "\"1\"", "schema_version": "1.0.0", "content": content("care_3"), "idempotency_key": "k1"},
        {"op": "update", "document_id": doc, "if_match": 1, "schema_version": "1.0.0", "content": content("care_4"), "idempotency_key": "k2"},
        {"op": "create", "patient_id": w.patient, "type": "care-path", "schema_version": "1.0.0", "content": content("care_9"), "idempotency_key": "k3"},
        {"op": "update", "document_id": "no-such-document", "if_match": 1, "schema_version": "1.0.0", "content": content("care_1"), "idempotency_key": "k4"},
    ]);
    let res = send(&app, batch(&w.physician, false, ops)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let results = res.body["results"].as_array().unwrap();
    let statuses: Vec<i64> = results.iter().map(|r| r["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, [201, 200, 412, 422, 404]);
    assert_eq!(results[0]["document"]["content"]["care_level"], "care_2");
    assert_eq!(results[1]["document"]["version"], 2);
    let stale = &results[2]["problem"];
    assert_eq!(stale["status"], 412);
    assert_eq!(stale["current"]["version"], 2);
    assert_eq!(stale["current"]["content"]["care_level"], "care_3", "the current version, to merge with");
    assert_eq!(results[3]["problem"]["errors"][0]["pointer"], "/operations/3/content/care_level");
    assert!(results[4]["document"].is_null() && results[4]["problem"]["status"] == 404);

    // One audit event per operation, each with its outcome.
    let request_id = res.header("x-request-id").unwrap().to_owned();
    let mut conn = w.t.state.pool.get().unwrap();
    let events = carepath::db::audit::AuditRow::list(&mut conn, &Default::default(), 10_000).unwrap();
    let mine: Vec<(String, i32)> =
        events.into_iter().filter(|e| e.request_id == request_id).map(|e| (e.action, e.status)).collect();
    let expected = [("document.create", 201), ("document.update", 200), ("document.update", 412)]
        .into_iter()
        .chain([("document.create", 422), ("document.update", 404)]);
    assert_eq!(mine, expected.map(|(a, s)| (a.to_owned(), s)).collect::<Vec<_>>());
}

#[actix_web::test]
async fn an_atomic_batch_writes_all_or_nothing() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let doc = send(&app, create(&w, &w.patient, "care_1")).await.id();
    let (_, before) = drain(&app, &w.physician, "0", 100).await;
    let good = |key: &str| json!({"op": "create", "patient_id": w.patient, "type": "care-path", "schema_version": "1.0.0", "content": content("care_2"), "idempotency_key": key});
    let stale = json!({"op": "update", "document_id": doc, "if_match": 7, "schema_version": "1.0.0", "content": content("care_3"), "idempotency_key": "s"});
    let res = send(&app, batch(&w.physician, true, json!([good("a0"), good("a1"), stale]))).await;
    let problem = res.problem(412);
    assert!(problem["detail"].as_str().unwrap().starts_with("operation 2:"), "{problem}");
    assert_eq!(problem["current"]["version"], 1);

    let mut invalid = good("b1");
    invalid["content"]["care_level"] = json!("care_9");
    let res = send(&app, batch(&w.physician, true, json!([good("b0"), invalid]))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/operations/1/content/care_level");
    // A failure found only inside the transaction (after two writes) rolls them back too.
    let missing = json!({"op": "update", "document_id": "no-such-document", "if_match": 1, "schema_version": "1.0.0", "content": content("care_3"), "idempotency_key": "m"});
    let res = send(&app, batch(&w.physician, true, json!([good("c0"), good("c1"), missing]))).await;
    assert!(res.problem(404)["detail"].as_str().unwrap().starts_with("operation 2:"));

    let (nothing, _) = drain(&app, &w.physician, &before, 100).await;
    assert_eq!(nothing, Vec::<Value>::new(), "a failed atomic batch wrote something");
    let list = send(
        &app,
        TestRequest::get().uri(&format!("/v1/patients/{}/documents", w.patient)).insert_header(auth(&w.physician)),
    )
    .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    let update = json!({"op": "update", "document_id": doc, "if_match": "*", "type": "care-path", "schema_version": "1.0.0", "content": content("care_3"), "idempotency_key": "d2"});
    let res = send(&app, batch(&w.physician, true, json!([good("d0"), good("d1"), update]))).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let statuses: Vec<i64> =
        res.body["results"].as_array().unwrap().iter().map(|r| r["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, [201, 201, 200]);
    assert_eq!(drain(&app, &w.physician, &before, 100).await.0.len(), 3);
}

#[actix_web::test]
async fn a_retried_batch_writes_nothing_twice() {
    let t = TestApp::with(|s| s.batch_max_operations = 3);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let doc = send(&app, create(&w, &w.patient, "care_1")).await.id();
    let (_, before) = drain(&app, &w.physician, "0", 100).await;
    let ops = json!([
        {"op": "create", "patient_id": w.patient, "type": "care-path", "schema_version": "1.0.0", "content": content("care_2"), "idempotency_key": "r0"},
        {"op": "update", "document_id": doc, "if_match": 1, "schema_version": "1.0.0", "content": content("care_3"), "idempotency_key": "r1"},
    ]);
    for atomic in [false, true, false] {
        let res = send(&app, batch(&w.physician, atomic, ops.clone())).await;
        assert_eq!(res.status, 200, "{}", res.body);
        let got: Vec<(i64, Value, Value)> = res.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["status"].as_i64().unwrap(), r["document"]["id"].clone(), r["document"]["version"].clone()))
            .collect();
        assert_eq!(got[0].0, 201);
        assert_eq!((got[1].0, &got[1].1, &got[1].2), (200, &json!(doc), &json!(2)), "the first answer, replayed");
    }
    let (written, _) = drain(&app, &w.physician, &before, 100).await;
    assert_eq!(written.len(), 2, "written once: {written:?}");

    // A batch operation and the single request it stands for share one key space.
    let created = written[0]["document_id"].clone();
    let single = TestRequest::post()
        .uri(&format!("/v1/patients/{}/documents", w.patient))
        .insert_header(auth(&w.physician))
        .insert_header(("idempotency-key", "r0"))
        .set_json(json!({"type": "care-path", "schema_version": "1.0.0", "content": content("care_2")}));
    let res = send(&app, single).await;
    assert_eq!((res.status.as_u16(), &res.body["id"]), (201, &created));

    // The same key for another body, a key twice in one batch, too many operations: 422.
    let mut other = ops.clone();
    other[0]["content"] = content("care_5");
    let res = send(&app, batch(&w.physician, false, other)).await;
    assert_eq!(res.body["results"][0]["problem"]["errors"][0]["pointer"], "/operations/0/idempotency_key");
    let twice = json!([ops[0], ops[0]]);
    let res = send(&app, batch(&w.physician, false, twice)).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/operations/1/idempotency_key");
    let four = json!([ops[0], ops[1], ops[0], ops[1]]);
    assert_eq!(send(&app, batch(&w.physician, false, four)).await.problem(422)["errors"][0]["pointer"], "/operations");
    assert_eq!(drain(&app, &w.physician, &before, 100).await.0.len(), 2);
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `cargo test --release --test sync -- --ignored --nocapture`
#[actix_web::test]
#[ignore = "benchmark"]
async fn bench_commit_to_long_poll_latency() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    let (_, mut cursor) = drain(&app, &w.nurse, "0", 100).await;
    let (mut from_ack, mut from_send) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        let poll = async {
            let res = send(&app, feed(&w.nurse, &format!("since={cursor}&wait=10"))).await;
            (res, Instant::now())
        };
        let write = async {
            parked(&w.t, 1).await;
            let sent = Instant::now();
            send(&app, create(&w, &w.patient, "care_1")).await;
            (sent, Instant::now())
        };
        let ((polled, seen), (sent, acked)) = tokio::join!(poll, write);
        assert_eq!(polled.body["changes"].as_array().unwrap().len(), 1, "{}", polled.body);
        cursor = polled.body["next_cursor"].as_str().unwrap().to_owned();
        from_ack.push(seen.saturating_duration_since(acked));
        from_send.push(seen - sent);
    }
    println!(
        "long-poll, {} on {}: median {:?} from the write's acknowledgement, {:?} from sending the write (write included)",
        from_ack.len(),
        if w.t.db.is_postgres() { "PostgreSQL" } else { "SQLite" },
        median(from_ack),
        median(from_send)
    );
}

/// `cargo test --release --test sync -- --ignored --nocapture`
#[actix_web::test]
#[ignore = "benchmark"]
async fn bench_feed_paging_throughput() {
    let t = TestApp::with(|s| s.body_limit = 4 * 1024 * 1024);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&app, t).await;
    for n in 0..50u32 {
        let patient = if n.is_multiple_of(2) { &w.patient } else { &w.other };
        let ops: Vec<Value> = (0..100)
            .map(|i| json!({"op": "create", "patient_id": patient, "type": "care-path", "schema_version": "1.0.0", "content": content("care_1"), "idempotency_key": format!("b{n}-{i}")}))
            .collect();
        let res = send(&app, batch(&w.physician, true, json!(ops))).await;
        assert_eq!(res.status, 200, "{}", res.body);
    }
    for (who, token, expected) in
        [("managing clinic", &w.physician, 5000), ("station (consent, half visible)", &w.nurse, 2500)]
    {
        let start = Instant::now();
        let (all, _) = drain(&app, token, "0", 1000).await;
        let took = start.elapsed();
        assert_eq!(all.len(), expected);
        println!(
            "feed paging, {who}: 5000 changes scanned, {} returned in {took:?}: {:.0} changes/s",
            all.len(),
            all.len() as f64 / took.as_secs_f64()
        );
    }
}
