//! Input the API document calls invalid is refused through the HTTP stack with a 422 naming the
//! field, never accepted and never a 5xx: the gaps the contract run (`tests/contract/run`) found.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::test::{TestRequest, init_service};
use common::{TestApp, auth, send};
use serde_json::{Value, json};

fn pointers(body: &Value) -> Vec<String> {
    body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn a_patient_with_an_unknown_field_is_refused_naming_it() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let operator_org = t.state.settings.operator_org.clone();
    let clinic = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "clinic", "kind": "clinic"})),
    )
    .await;
    let clinic = clinic.id();
    assert_ne!(clinic, operator_org);
    let physician = t.token("physician", &clinic);
    let body = json!({
        "name": "山田 花子", "birth_date": "1939-04-01", "sex": "female", "managing_organization": clinic,
        "nickname": "Hana", "address": {"city": "新見市"}
    });
    let res =
        send(&app, TestRequest::post().uri("/v1/patients").insert_header(auth(&physician)).set_json(body.clone()))
            .await;
    let problem = res.problem(422);
    assert_eq!(pointers(problem), ["/nickname"], "{problem}");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("nickname"));

    let mut known = body;
    known.as_object_mut().unwrap().remove("nickname");
    let res = send(&app, TestRequest::post().uri("/v1/patients").insert_header(auth(&physician)).set_json(known)).await;
    assert_eq!(res.status, 201, "{}", res.body);
}

#[actix_web::test]
async fn a_batch_with_malformed_operations_is_refused_whole() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let operations = json!([
        {"op": "create", "patient_id": "p", "type": "care-path", "schema_version": "1.1.0", "content": 5,
         "idempotency_key": ""},
        {"op": "update", "document_id": "d", "if_match": "W/\"1\"", "schema_version": "1.1.0", "content": {},
         "idempotency_key": "k"}
    ]);
    let res = send(
        &app,
        TestRequest::post()
            .uri("/v1/batch")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"atomic": false, "operations": operations})),
    )
    .await;
    let mut found = pointers(res.problem(422));
    found.sort();
    assert_eq!(found, ["/operations/0/content", "/operations/0/idempotency_key", "/operations/1/if_match"]);
}

#[actix_web::test]
async fn a_review_comment_of_nothing_but_a_byte_order_mark_is_blank() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let office = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "audit office", "kind": "municipality"})),
    )
    .await;
    let auditor = t.token("auditor", &office.id());
    // The schema's pattern asks for one character outside ECMAScript's `\s`, which has U+FEFF.
    let res = send(
        &app,
        TestRequest::post()
            .uri("/v1/audit-events/1/review")
            .insert_header(auth(&auditor))
            .set_json(json!({"comment": "\u{FEFF}"})),
    )
    .await;
    assert_eq!(pointers(res.problem(422)), ["/comment"]);
}
