//! Issue 29: a commit batch that the database fails to break a deadlock is run again inside the
//! committer, before anyone is answered. Committers lock in one order (`db::lock_batch`), so
//! they cannot deadlock one another; a connection of the test's own plays the other side: it
//! holds a document's row, waits for the committer to want it, then asks for the audit head the
//! committer holds. PostgreSQL fails the committer's transaction (its deadlock check runs first);
//! the request must still be answered 200, with its write there once.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::time::{Duration, Instant};

use actix_web::test::{TestRequest, init_service};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use serde_json::json;

use crate::common::{TestApp, auth, send};

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str, id: &str) -> i64 {
    diesel::sql_query(sql).bind::<Text, _>(id).get_result::<N>(conn).unwrap().n
}

fn retries() -> u64 {
    let text = carepath::metrics::render(&carepath::metrics::Scraped::default());
    let line = text.lines().find(|l| l.starts_with("carepath_committer_retries_total ")).expect("the retry counter");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[actix_web::test]
async fn a_batch_failed_for_a_deadlock_is_run_again_and_answered_once() {
    let t = TestApp::new();
    let Some(url) = t.state.settings.database_url.clone() else {
        return t.db.skip(
            "a_batch_failed_for_a_deadlock_is_run_again_and_answered_once",
            "SQLite has one writer (BEGIN IMMEDIATE) and no deadlock to break; the committer's unit test retries a contended batch",
        );
    };
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let org = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&op))
            .set_json(json!({"name": "clinic", "kind": "clinic"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dr = t.token("physician", &org);
    let patient = send(
        &app,
        TestRequest::post().uri("/v1/patients").insert_header(auth(&dr)).set_json(json!({
            "name": "山田 花子", "birth_date": "1939-04-01", "sex": "female", "managing_organization": org
        })),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let content = |level: &str| json!({"type": "care-path", "schema_version": "1.0.0", "content": {"care_level": level, "diagnoses": []}});
    let created = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/documents"))
            .insert_header(auth(&dr))
            .set_json(content("pending")),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let doc = created.id();
    let before = retries();

    // The other side takes the document's row first.
    let (doc_id, db_url) = (doc.clone(), url.clone());
    let mut other = tokio::task::spawn_blocking(move || {
        let mut c = PgConnection::establish(&db_url).unwrap();
        // The committer's session keeps the default (1 s), so its deadlock check runs first and
        // it is the transaction PostgreSQL fails.
        c.batch_execute("SET deadlock_timeout = '30s'; BEGIN").unwrap();
        diesel::sql_query("SELECT id FROM documents WHERE id = $1 FOR UPDATE")
            .bind::<Text, _>(&doc_id)
            .execute(&mut c)
            .unwrap();
        c
    })
    .await
    .unwrap();
    let closing = tokio::task::spawn_blocking(move || {
        // Once the committer waits for the row, ask for the head it holds: a cycle.
        let started = Instant::now();
        let waiting = "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
                       AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()";
        while diesel::sql_query(waiting).get_result::<N>(&mut other).unwrap().n == 0 {
            assert!(started.elapsed() < Duration::from_secs(20), "the committer never waited for the row");
            // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
            std::thread::sleep(Duration::from_millis(20));
        }
        diesel::sql_query("SELECT id FROM audit_head WHERE id = 1 FOR UPDATE").execute(&mut other).unwrap();
        other.batch_execute("COMMIT").unwrap();
    });
    let update = send(
        &app,
        TestRequest::put()
            .uri(&format!("/v1/documents/{doc}"))
            .insert_header(auth(&dr))
            .insert_header(("if-match", "\"1\""))
            .set_json(content("care_2")),
    );
    let (updated, closed) = futures_util::future::join(update, closing).await;
    closed.unwrap();
    assert_eq!(updated.status, 200, "the deadlock is no request's business: {}", updated.body);
    assert_eq!(updated.body["version"], 2);
    assert!(retries() > before, "the batch was run again");

    // Once: one version 2, one audit event of the update, one change of it in the feed.
    let mut c = PgConnection::establish(&url).unwrap();
    assert_eq!(count(&mut c, "SELECT COUNT(*) AS n FROM document_versions WHERE document_id = $1", &doc), 2);
    let events = "SELECT COUNT(*) AS n FROM audit_events WHERE action = $1";
    assert_eq!(count(&mut c, events, "document.update"), 1);
    let feed = send(&app, TestRequest::get().uri("/v1/changes?since=0&wait=0").insert_header(auth(&dr))).await;
    let changes = feed.body["changes"].as_array().unwrap();
    assert_eq!(changes.iter().filter(|c| c["document_id"] == doc.as_str() && c["version"] == 2).count(), 1);
    let auditor = t.token("auditor", &org);
    let verified = send(&app, TestRequest::get().uri("/v1/audit-events/verify").insert_header(auth(&auditor))).await;
    assert_eq!(verified.body["ok"], true, "{}", verified.body);
}
