//! Issue 11 item 7: every refused request that names a patient or a protected resource is an
//! audit event with outcome `denied`, whichever check refused it; 401s are counted instead.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::test::{TestRequest, init_service};
use common::{TestApp, World, auth, send};
use serde_json::{Value, json};

/// The events of `action` (every event for `""`), as an auditor of `org` lists them.
async fn events<S, B>(app: &S, t: &TestApp, org: &str, action: &str) -> Vec<Value>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let auditor = t.token("auditor", org);
    let filter = if action.is_empty() { String::new() } else { format!("&action={action}") };
    let res = send(
        app,
        TestRequest::get().uri(&format!("/v1/audit-events?limit=1000{filter}")).insert_header(auth(&auditor)),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["items"].as_array().unwrap().clone()
}

/// Asserts exactly one event of `action`, denied with 403, by `role` of `org`.
async fn one_denial<S, B>(app: &S, t: &TestApp, org: &str, action: &str, role: &str) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let found: Vec<Value> = events(app, t, org, action).await.into_iter().filter(|e| e["actor_role"] == role).collect();
    assert_eq!(found.len(), 1, "{action}: {found:?}");
    let event = found.into_iter().next().unwrap();
    assert_eq!(event["outcome"], "denied", "{action}: {event}");
    assert_eq!(event["status"], 403, "{action}: {event}");
    assert_eq!(event["actor_org"], org, "{action}: {event}");
    event
}

/// The operator registers one clinic; its id.
async fn clinic<S, B>(app: &S, t: &TestApp) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    World::new(t, app).org("新見クリニック", "clinic").build().await.org("新見クリニック")
}

#[actix_web::test]
async fn refused_audit_routes_are_audit_events() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&app, &t).await;
    let nurse = t.token("nurse", &org);
    for uri in ["/v1/audit-events", "/v1/audit-events/verify", "/v1/audit-events/export"] {
        send(&app, TestRequest::get().uri(uri).insert_header(auth(&nurse))).await.problem(403);
    }
    send(
        &app,
        TestRequest::post()
            .uri("/v1/audit-events/1/review")
            .insert_header(auth(&nurse))
            .set_json(json!({"comment": "looks fine"})),
    )
    .await
    .problem(403);
    for action in ["audit.read", "audit.verify", "audit.export", "audit.review"] {
        one_denial(&app, &t, &org, action, "nurse").await;
    }
}

#[actix_web::test]
async fn refused_patient_listing_search_and_registration_are_audit_events() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&app, &t).await;
    let auditor = t.token("auditor", &org);
    send(&app, TestRequest::get().uri("/v1/patients").insert_header(auth(&auditor))).await.problem(403);
    send(&app, TestRequest::get().uri("/v1/patients?ltc_insured_number=1234567890").insert_header(auth(&auditor)))
        .await
        .problem(403);
    let nurse = t.token("nurse", &org);
    send(
        &app,
        TestRequest::post().uri("/v1/patients").insert_header(auth(&nurse)).set_json(json!({
            "name": "山田 花子", "birth_date": "1939-04-01", "sex": "female", "managing_organization": org
        })),
    )
    .await
    .problem(403);
    for action in ["patient.list", "patient.search"] {
        let event = one_denial(&app, &t, &org, action, "auditor").await;
        assert_eq!(event["patient_id"], Value::Null);
    }
    let event = one_denial(&app, &t, &org, "patient.create", "nurse").await;
    assert_eq!(event["patient_id"], Value::Null, "a refused registration names no patient");
}

#[actix_web::test]
async fn refused_directory_writes_are_audit_events() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&app, &t).await;
    let physician = t.token("physician", &org);
    send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&physician))
            .set_json(json!({"name": "B", "kind": "clinic"})),
    )
    .await
    .problem(403);
    send(
        &app,
        TestRequest::put()
            .uri(&format!("/v1/organizations/{org}"))
            .insert_header(auth(&physician))
            .set_json(json!({"name": "B", "kind": "clinic"})),
    )
    .await
    .problem(403);
    send(
        &app,
        TestRequest::post()
            .uri("/v1/practitioners")
            .insert_header(auth(&physician))
            .set_json(json!({"name": "佐藤 一郎", "profession": "physician", "organization": org})),
    )
    .await
    .problem(403);
    one_denial(&app, &t, &org, "organization.create", "physician").await;
    let update = one_denial(&app, &t, &org, "organization.update", "physician").await;
    assert_eq!(update["resource_id"], org.as_str());
    one_denial(&app, &t, &org, "practitioner.create", "physician").await;
}

#[actix_web::test]
async fn tokens_of_organisations_outside_the_directory_are_audit_events() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&app, &t).await;
    let stranger = t.token("physician", "no-such-org");
    let patient = "00000000-0000-0000-0000-000000000001";
    let res =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}")).insert_header(auth(&stranger))).await;
    assert_eq!(res.problem(403)["detail"], "your organisation is not in the directory");
    send(&app, TestRequest::get().uri("/v1/audit-events").insert_header(auth(&stranger))).await.problem(403);

    let found = events(&app, &t, &org, "caller.unknown_organization").await;
    let seen: Vec<(&str, &str, &Value)> = found
        .iter()
        .inspect(|e| {
            assert_eq!((e["outcome"].as_str(), e["status"].as_i64()), (Some("denied"), Some(403)), "{e}");
            assert_eq!((e["actor_org"].as_str(), e["actor_role"].as_str()), (Some("no-such-org"), Some("physician")));
        })
        .map(|e| (e["resource_type"].as_str().unwrap(), e["resource_id"].as_str().unwrap(), &e["patient_id"]))
        .collect();
    assert_eq!(
        seen,
        [("route", "GET /v1/patients/{id}", &json!(patient)), ("route", "GET /v1/audit-events", &Value::Null),]
    );
}

#[actix_web::test]
async fn unauthenticated_requests_are_counted_not_audited() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&app, &t).await;
    let before_events = events(&app, &t, &org, "").await.len();
    let before = carepath::telemetry::unauthenticated_count();
    send(&app, TestRequest::get().uri("/v1/patients")).await.problem(401);
    send(&app, TestRequest::get().uri("/v1/audit-events").insert_header(auth("not-a-token"))).await.problem(401);
    // Other tests of this binary run alongside and may count too: at least these two.
    assert!(carepath::telemetry::unauthenticated_count() >= before + 2);
    // Only the auditor's own two queries were added to the log.
    assert_eq!(events(&app, &t, &org, "").await.len(), before_events + 1);
}
