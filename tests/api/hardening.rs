//! Issue 11, items 3, 6 and 9: bounded and sealed break-glass reasons, erasure that leaves no
//! plaintext, grants and idempotency keys of the full caller, private database files, and
//! problem+json for oversized heads. Through the HTTP stack, on either backend.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{TestApp, World, auth, hanako, send};
use serde_json::{Value, json};

const NAME: &str = "消去 対象子NAMEMARK";
const CONTACT: &str = "連携CONTACTMARK 医師";
const REASON: &str = "救急搬送REASONMARK、意識レベル低下のため既往歴を確認";

fn token(t: &TestApp, sub: &str, role: &str, org: &str) -> String {
    carepath::auth::issue_local_token(&t.state.settings.data_dir, sub, role.parse().unwrap(), org, 600).unwrap()
}

fn document() -> Value {
    json!({"type": "care-path", "schema_version": "1.0.0", "content": {
        "care_level": "care_1", "diagnoses": [],
        "team_contacts": [{"name": CONTACT, "organization": "クリニック", "role": "physician", "phone": "0867-72-1111"}]
    }})
}

/// A clinic managing a patient (with a care team and a document) and an emergency hospital.
async fn world<S, B>(t: &TestApp, app: &S) -> (String, String, String, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut patient = hanako();
    patient["name"] = json!(NAME);
    patient["care_level"] = json!("support_2");
    let doc = document();
    let w = World::new(t, app)
        .org("clinic", "clinic")
        .org("救急病院", "hospital")
        .patient(patient)
        .member("clinic", "physician", "2020-01-01")
        .document(doc["type"].as_str().unwrap(), doc["schema_version"].as_str().unwrap(), doc["content"].clone())
        .build()
        .await;
    (w.org("clinic"), w.org("救急病院"), w.patient.clone(), w.document())
}

#[actix_web::test]
async fn break_glass_reasons_are_bounded_stored_once_sealed_and_opened_for_auditors() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, er, _patient, doc) = world(&t, &app).await;
    let doctor = token(&t, "er-doctor", "physician", &er);
    let read = |reason: &str| {
        TestRequest::get()
            .uri(&format!("/v1/documents/{doc}"))
            .insert_header(auth(&doctor))
            .insert_header(("x-break-glass", reason.to_owned()))
    };
    let long = "救急搬送のため確認".repeat(60);
    for bad in
        [long.as_str(), "aaaaaaaaaaaaaaaa", "ab ab ab ab ab ab", "救急搬送\tのため既往歴を確認する", "          "]
    {
        let res = send(&app, read(bad)).await;
        assert_eq!(res.problem(422)["errors"][0]["pointer"], "/header/X-Break-Glass", "{bad:?}: {}", res.body);
    }
    // Surrounding spaces are trimmed; exactly 500 characters pass.
    let max: String = "救急搬送のため確認".chars().cycle().take(500).collect();
    assert_eq!(send(&app, read(&format!("  {max}  "))).await.status, 200);
    let other = token(&t, "er-doctor-2", "physician", &er);
    let opened = send(
        &app,
        TestRequest::get()
            .uri(&format!("/v1/documents/{doc}"))
            .insert_header(auth(&other))
            .insert_header(("x-break-glass", REASON)),
    )
    .await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    for _ in 0..3 {
        let res = send(&app, TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&other))).await;
        assert_eq!(res.status, 200);
    }
    // Stored once, sealed: the text is nowhere in the database; events reference the grant.
    assert!(!common::raw_database_text(&t).contains("REASONMARK"), "the reason is readable at rest");
    let mut conn = t.state.pool.get().unwrap();
    let filter = carepath::db::audit::AuditFilter { break_glass: Some(true), ..Default::default() };
    let rows = carepath::db::audit::AuditRow::list(&mut conn, &filter, 100).unwrap();
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows.iter().all(|r| r.break_glass_reason.as_deref().is_some_and(|g| g.starts_with("grant:"))));
    drop(conn);
    // An auditor reads the reason, opened from the grant.
    let auditor = t.token("auditor", &clinic);
    let listed = send(
        &app,
        TestRequest::get().uri("/v1/audit-events?break_glass=true&actor=er-doctor-2").insert_header(auth(&auditor)),
    )
    .await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{}", listed.body);
    assert!(items.iter().all(|e| e["break_glass_reason"] == REASON), "{}", listed.body);
}

/// Issue 22 item 9: a browser's `fetch` cannot send raw UTF-8 in a header, so a Japanese reason
/// travels percent-encoded after `UTF-8''` (RFC 8187); the auditor reads it decoded.
#[actix_web::test]
async fn a_percent_encoded_japanese_break_glass_reason_is_decoded() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, er, _patient, doc) = world(&t, &app).await;
    let reason = "救急搬送、意識レベル低下のため服薬歴を確認";
    assert!(reason.chars().count() >= 10);
    let encoded: String = reason.bytes().map(|b| format!("%{b:02X}")).collect();
    let nurse = token(&t, "er-nurse", "nurse", &er);
    let read = |value: String| {
        TestRequest::get()
            .uri(&format!("/v1/documents/{doc}"))
            .insert_header(auth(&nurse))
            .insert_header(("x-break-glass", value))
    };
    // Malformed encodings are refused at the header, and open nothing.
    for bad in ["UTF-8''%E6%95", "UTF-8''%zz%E6%95%91%E6%80%A5%E6%90%AC%E9%80%81"] {
        let res = send(&app, read(bad.to_owned())).await;
        assert_eq!(res.problem(422)["errors"][0]["pointer"], "/header/X-Break-Glass", "{bad}: {}", res.body);
    }
    let opened = send(&app, read(format!("UTF-8''{encoded}"))).await;
    assert_eq!(opened.status, 200, "{}", opened.body);

    let auditor = t.token("auditor", &clinic);
    let listed = send(
        &app,
        TestRequest::get().uri("/v1/audit-events?break_glass=true&actor=er-nurse").insert_header(auth(&auditor)),
    )
    .await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", listed.body);
    assert_eq!(items[0]["break_glass_reason"], reason, "{}", listed.body);
}

#[actix_web::test]
async fn break_glass_grants_belong_to_the_full_caller() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (_clinic, er, _patient, doc) = world(&t, &app).await;
    // The same subject at the same organisation under another role does not inherit the grant.
    let as_physician = token(&t, "er-1", "physician", &er);
    let as_nurse = token(&t, "er-1", "nurse", &er);
    let read = |tok: &str| TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(tok));
    assert_eq!(send(&app, read(&as_physician).insert_header(("x-break-glass", REASON))).await.status, 200);
    assert_eq!(send(&app, read(&as_physician)).await.status, 200);
    send(&app, read(&as_nurse)).await.problem(404);
}

#[actix_web::test]
async fn idempotency_keys_belong_to_the_full_caller() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, _er, patient, _doc) = world(&t, &app).await;
    // The same subject at the same organisation under another role: its own request, not a
    // replay of the physician's.
    let post = |tok: &str| {
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/documents"))
            .insert_header(auth(tok))
            .insert_header(("idempotency-key", "same-key-1"))
            .set_json(document())
    };
    let first = send(&app, post(&token(&t, "dr-x", "physician", &clinic))).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let second = send(&app, post(&token(&t, "dr-x", "nurse", &clinic))).await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_ne!(first.body["id"], second.body["id"], "another role's key was replayed");
}

#[actix_web::test]
async fn erasure_leaves_nothing_readable_and_the_record_answers_410() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, er, patient, doc) = world(&t, &app).await;
    let physician = t.token("physician", &clinic);
    let doctor = token(&t, "er-doctor", "physician", &er);
    let res = send(
        &app,
        TestRequest::get()
            .uri(&format!("/v1/documents/{doc}"))
            .insert_header(auth(&doctor))
            .insert_header(("x-break-glass", REASON)),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let consent = json!({"status": "active", "organizations": [er], "purposes": ["treatment"],
        "period": {"start": "2020-01-01"}, "obtained_by": "proxy", "proxy": {"name": "PROXYMARK 太郎", "relation": "eldest_son"}});
    let res = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents"))
            .insert_header(auth(&physician))
            .set_json(consent),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let feed = || TestRequest::get().uri("/v1/changes").insert_header(auth(&physician));
    assert_eq!(send(&app, feed()).await.body["changes"].as_array().unwrap().len(), 1);

    let res = send(
        &app,
        TestRequest::delete()
            .uri(&format!("/v1/patients/{patient}"))
            .insert_header(auth(&t.operator()))
            .set_json(json!({"reason": "本人の申出による削除"})),
    )
    .await;
    assert_eq!(res.status, 204, "{}", res.body);

    // Only that an erasure happened remains.
    let raw = common::raw_database_text(&t);
    for (what, text) in [
        ("name", "NAMEMARK"),
        ("care level", "support_2"),
        ("unsealed document field", "CONTACTMARK"),
        ("break-glass reason", "REASONMARK"),
        ("consent proxy", "PROXYMARK"),
    ] {
        assert!(!raw.contains(text), "the {what} is still readable in the database");
    }
    // The care team, the documents and the feed entries answer 410 or are gone.
    let team = TestRequest::get().uri(&format!("/v1/patients/{patient}/care-team")).insert_header(auth(&physician));
    send(&app, team).await.problem(410);
    send(&app, TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&physician)))
        .await
        .problem(410);
    let page = send(&app, feed()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["changes"], json!([]), "an erased patient's change is still listed");
    assert!(page.body["next_cursor"].as_str().unwrap().parse::<i64>().unwrap() >= 1, "the sequence keeps its place");
}

#[actix_web::test]
async fn database_files_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, _er, _patient, _doc) = world(&t, &app).await;
    let _ = (&app, &clinic);
    if t.db.is_postgres() {
        return t.db.skip(
            "database_files_are_private_to_the_owner",
            "PostgreSQL's files are the server's, not in the data directory",
        );
    }
    let mut seen = 0;
    for entry in std::fs::read_dir(&t.state.settings.data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("carepath.db") {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is {mode:o}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 2, "the database and its WAL");
}

#[actix_web::test]
async fn oversized_request_headers_get_a_problem() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let res = send(
        &app,
        TestRequest::get()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .insert_header(("x-filler", "a".repeat(40 * 1024))),
    )
    .await;
    res.problem(431);
    // Under the limit, the same request is served.
    let res = send(&app, TestRequest::get().uri("/v1/organizations").insert_header(auth(&t.operator()))).await;
    assert_eq!(res.status, 200, "{}", res.body);
}
