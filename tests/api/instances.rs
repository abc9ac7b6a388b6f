//! Several instances on one database (issue 29): each has its own committer, and their batches
//! must not deadlock one another. Three instances write documents and read them (each read an
//! audit event of its own batch) at once; no request may fail, every acknowledged write is there
//! once, and the chain verifies. On SQLite the three share one file (one writer at a time by its
//! lock); the deadlock this guards against was PostgreSQL's.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::test::{TestRequest, init_service};
use common::{TestApp, auth, send};
use serde_json::json;

#[actix_web::test]
async fn three_instances_write_and_read_at_once_without_a_failure() {
    let t = TestApp::new();
    let apps = [
        init_service(carepath::startup::app(t.state.clone())).await,
        init_service(carepath::startup::app(carepath::state::AppState::open(t.state.settings.clone()).unwrap())).await,
        init_service(carepath::startup::app(carepath::state::AppState::open(t.state.settings.clone()).unwrap())).await,
    ];
    let org = send(
        &apps[0],
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
    let dr = t.token("physician", &org);
    let patient = send(
        &apps[1],
        TestRequest::post().uri("/v1/patients").insert_header(auth(&dr)).set_json(json!({
            "name": "山田 花子", "birth_date": "1939-04-01", "sex": "female", "managing_organization": org
        })),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let doc =
        json!({"type": "care-path", "schema_version": "1.0.0", "content": {"care_level": "pending", "diagnoses": []}});
    // Writes and reads interleaved on every instance, so that batches hold both in both orders.
    let request = |i: usize| {
        let (app, dr, patient, doc) = (&apps[i % 3], &dr, &patient, &doc);
        async move {
            let req = if i.is_multiple_of(2) {
                TestRequest::post().uri(&format!("/v1/patients/{patient}/documents")).set_json(doc.clone())
            } else {
                TestRequest::get().uri(&format!("/v1/patients/{patient}"))
            };
            (i.is_multiple_of(2), send(app, req.insert_header(auth(dr))).await.status.as_u16())
        }
    };
    let mut created = 0;
    for wave in 0..5 {
        let answers = futures_util::future::join_all((0..180).map(|i| request(wave * 180 + i))).await;
        for (write, status) in answers {
            assert_eq!(status, if write { 201 } else { 200 }, "no request fails when instances commit at once");
            created += usize::from(write);
        }
    }
    let listed = send(
        &apps[2],
        TestRequest::get().uri(&format!("/v1/patients/{patient}/documents?limit=500")).insert_header(auth(&dr)),
    )
    .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), created, "every acknowledged write, once");
    let auditor = t.token("auditor", &org);
    for app in &apps {
        let v = send(app, TestRequest::get().uri("/v1/audit-events/verify").insert_header(auth(&auditor))).await;
        assert_eq!(v.body["ok"], true, "{}", v.body);
    }
}

/// Issue 29: the chain's verification while writers commit. It read the head, then the events,
/// and events committed in between made it say the log was cut off; in one snapshot it agrees
/// with itself whatever commits meanwhile.
#[actix_web::test]
async fn the_chain_verifies_while_writers_commit() {
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
    let dr = t.token("physician", &org);
    let auditor = t.token("auditor", &org);
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
    let doc =
        json!({"type": "care-path", "schema_version": "1.0.0", "content": {"care_level": "pending", "diagnoses": []}});
    let request = |i: usize| {
        let (app, dr, auditor, patient, doc) = (&app, &dr, &auditor, &patient, &doc);
        async move {
            if i.is_multiple_of(8) {
                let v = send(app, TestRequest::get().uri("/v1/audit-events/verify").insert_header(auth(auditor))).await;
                Some(v.body)
            } else {
                let req = TestRequest::post().uri(&format!("/v1/patients/{patient}/documents")).set_json(doc.clone());
                assert_eq!(send(app, req.insert_header(auth(dr))).await.status, 201);
                None
            }
        }
    };
    for wave in 0..4 {
        for verdict in
            futures_util::future::join_all((0..160).map(|i| request(wave * 160 + i))).await.into_iter().flatten()
        {
            assert_eq!(verdict["ok"], true, "verified while writing: {verdict}");
        }
    }
}

/// Issue 29: an ended session is refused by every instance, not only the one that ended it. Each
/// checks tokens in memory; the endings are in the database, and each instance reads them every
/// second (`startup`'s background tasks, started here by building the second instance's server).
#[actix_web::test]
async fn a_session_ended_on_one_instance_is_refused_by_another_within_seconds() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let a = init_service(carepath::startup::app(t.state.clone())).await;
    let other = carepath::state::AppState::open(t.state.settings.clone()).unwrap();
    let _background = carepath::startup::Application::build(other.clone()).unwrap();
    let b = init_service(carepath::startup::app(other)).await;
    let org = send(
        &a,
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
    let token = |sub: &str| {
        carepath::auth::issue_local_token(&t.state.settings.data_dir, sub, "nurse".parse().unwrap(), &org, 600).unwrap()
    };
    let (signed_out, ended_by_admin, colleague) = (token("ns-1"), token("ns-2"), token("ns-3"));
    let status = |app, token: String| async move {
        send(app, TestRequest::get().uri("/v1/patients").insert_header(auth(&token))).await.status.as_u16()
    };
    for tok in [&signed_out, &ended_by_admin, &colleague] {
        assert_eq!(status(&b, tok.clone()).await, 200, "known on B before any ending");
    }

    // On A: a console session signed out, one user's sessions ended by the admin.
    let cookie = common::console_sign_in(&a, &signed_out).await;
    let console = |app, cookie: String| async move {
        send(app, TestRequest::get().uri("/console/patients").insert_header(("cookie", cookie))).await.status.as_u16()
    };
    assert_eq!(console(&b, cookie.clone()).await, 200, "B answers A's session");
    let page = send(&a, TestRequest::get().uri("/console/patients").insert_header(("cookie", cookie.clone()))).await;
    let page = String::from_utf8_lossy(&page.raw).into_owned();
    let field = "name=\"csrf\" value=\"";
    let csrf = page[page.find(field).expect("a sign-out form") + field.len()..].split('"').next().unwrap().to_owned();
    let out = TestRequest::post()
        .uri("/console/logout")
        .insert_header(("cookie", cookie.clone()))
        .set_form([("csrf", csrf.as_str())]);
    assert_eq!(send(&a, out).await.status, 303);
    let admin =
        carepath::auth::issue_local_token(&t.state.settings.data_dir, "adm", "admin".parse().unwrap(), &org, 600)
            .unwrap();
    let end = TestRequest::post()
        .uri(&format!("/v1/organizations/{org}/sessions/end"))
        .insert_header(auth(&admin))
        .set_json(json!({"sub": "ns-2"}));
    assert_eq!(send(&a, end).await.status, 204);
    assert_ne!(console(&a, cookie.clone()).await, 200, "signed out on A");

    let started = std::time::Instant::now();
    while console(&b, cookie.clone()).await == 200 || status(&b, ended_by_admin.clone()).await != 401 {
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "B still accepts a session A ended");
        // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status(&b, signed_out).await, 200, "signing out ends the console session, not the token");
    assert_eq!(status(&b, colleague).await, 200, "only the ended ones");
}
