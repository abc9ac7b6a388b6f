//! Contact hours (ケアマネタイム) and "who on the team is reachable now", through the HTTP
//! stack on either backend: Asia/Tokyo weekdays across the UTC day boundary, and a holiday.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::test::{TestRequest, init_service};
use common::{TestApp, auth, send};
use serde_json::{Value, json};

fn post(uri: &str, token: &str, body: Value) -> TestRequest {
    TestRequest::post().uri(uri).insert_header(auth(token)).set_json(body)
}

fn get(uri: &str, token: &str) -> TestRequest {
    TestRequest::get().uri(uri).insert_header(auth(token))
}

#[actix_web::test]
async fn reachable_now_follows_tokyo_weekdays_and_holidays() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let org = |name: &str, kind: &str| post("/v1/organizations", &op, json!({"name": name, "kind": kind}));
    let clinic = send(&app, org("clinic", "clinic")).await.id();
    let cmo = send(&app, org("cmo", "care_management_office")).await.id();
    let doctor = send(
        &app,
        post("/v1/practitioners", &op, json!({"name": "医師 一郎", "profession": "physician", "organization": clinic})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = |sub: &str, role: &str, org: &str| {
        carepath::auth::issue_local_token(&t.state.settings.data_dir, sub, role.parse().unwrap(), org, 600).unwrap()
    };
    let dr = token(&doctor, "physician", &clinic);
    let cm = token("cm-1", "care_manager", &cmo);

    // Monday 13:00–14:00 by phone for care managers; Tuesday 08:00–10:00 by FAX for all.
    // Monday 2026-12-07 is a closure.
    let hours = json!({
        "slots": [
            {"weekday": "monday", "start": "13:00", "end": "14:00", "channel": "phone", "audience": "care_managers", "notes": "受付に一声"},
            {"weekday": "tuesday", "start": "08:00", "end": "10:00", "channel": "fax", "audience": "all"}
        ],
        "exceptions": [{"date": "2026-12-07", "note": "学会のため休診"}]
    });
    let put = |token: &str, body: Value| {
        TestRequest::put()
            .uri(&format!("/v1/practitioners/{doctor}/contact-hours"))
            .insert_header(auth(token))
            .set_json(body)
    };
    // Only the practitioner or its organisation's admin publishes.
    send(&app, put(&cm, hours.clone())).await.problem(403);
    let res = send(&app, put(&dr, hours.clone())).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["slots"][0]["weekday"], "monday");
    // A slot ending before it starts, a bad day: 422 naming them.
    let bad = json!({"slots": [{"weekday": "monday", "start": "14:00", "end": "13:00", "channel": "phone", "audience": "all"}],
        "exceptions": [{"date": "2026-02-30"}]});
    let problem = send(&app, put(&dr, bad)).await;
    let pointers: Vec<&str> =
        problem.problem(422)["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/slots/0/end", "/exceptions/0/date"]);

    // The region's list.
    let listed = send(&app, get("/v1/contact-hours?weekday=tuesday", &cm)).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["items"][0]["practitioner_name"], "医師 一郎");
    assert_eq!(listed.body["items"][0]["channel"], "fax");
    let listed = send(&app, get(&format!("/v1/contact-hours?organization={cmo}"), &cm)).await;
    assert_eq!(listed.body["items"], json!([]));

    // A patient of the clinic with the office on its team.
    let patient = send(
        &app,
        post(
            "/v1/patients",
            &dr,
            json!({"name": "山田 花子", "birth_date": "1939-04-01", "sex": "female", "managing_organization": clinic}),
        ),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team = json!({"members": [{"organization": cmo, "role": "care_manager", "since": "2026-01-01"}]});
    let res = send(
        &app,
        TestRequest::put().uri(&format!("/v1/patients/{patient}/care-team")).insert_header(auth(&dr)).set_json(team),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let reachable = |at: &str, token: &str| get(&format!("/v1/patients/{patient}/care-team/reachable?at={at}"), token);

    // Monday 2026-11-30 13:30 in Tokyo (04:30 UTC): the phone slot is open for a care manager.
    let now = send(&app, reachable("2026-11-30T04:30:00Z", &cm)).await;
    assert_eq!(now.status, 200, "{}", now.body);
    assert_eq!(now.body["now"][0]["practitioner_id"], doctor.as_str(), "{}", now.body);
    assert_eq!(now.body["now"][0]["opening"]["channel"], "phone");
    assert_eq!(now.body["now"][0]["opening"]["end"], "2026-11-30T05:00:00.000000Z");
    // The same moment for a nurse: that slot is for care managers only; next is Tuesday's FAX.
    let nurse_view = send(&app, reachable("2026-11-30T04:30:00Z", &dr)).await;
    assert_eq!(nurse_view.body["now"], json!([]), "{}", nurse_view.body);
    assert_eq!(nurse_view.body["later"][0]["opening"]["start"], "2026-11-30T23:00:00.000000Z");

    // 23:30 UTC on Monday is Tuesday 08:30 in Tokyo: the FAX slot is open.
    let boundary = send(&app, reachable("2026-11-30T23:30:00Z", &cm)).await;
    assert_eq!(boundary.body["now"][0]["opening"]["channel"], "fax", "{}", boundary.body);
    // 14:30 UTC on Monday is Monday 23:30 in Tokyo: closed; next is Tuesday 08:00 Tokyo.
    let late = send(&app, reachable("2026-11-30T14:30:00Z", &cm)).await;
    assert_eq!(late.body["now"], json!([]), "{}", late.body);
    assert_eq!(late.body["later"][0]["opening"]["start"], "2026-11-30T23:00:00.000000Z");

    // Monday 2026-12-07 is closed: at 13:30 Tokyo nobody; next is Tuesday 08:00 Tokyo.
    let holiday = send(&app, reachable("2026-12-07T04:30:00Z", &cm)).await;
    assert_eq!(holiday.body["now"], json!([]), "{}", holiday.body);
    assert_eq!(holiday.body["later"][0]["opening"]["start"], "2026-12-07T23:00:00.000000Z");

    // Outsiders learn nothing about the patient's team.
    let stranger_org = send(&app, org("other", "clinic")).await.id();
    let stranger = token("dr-x", "physician", &stranger_org);
    send(&app, reachable("2026-11-30T04:30:00Z", &stranger)).await.problem(404);
    send(&app, reachable("monday", &cm)).await.problem(422);
}

/// Issue 26, item 11: a token naming the practitioner as `sub` from another organisation (any
/// issuer may mint any `sub`) does not publish its hours; its own organisation's token does.
#[actix_web::test]
async fn contact_hours_need_the_practitioners_own_organisation() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let org = |name: &str, kind: &str| post("/v1/organizations", &op, json!({"name": name, "kind": kind}));
    let clinic = send(&app, org("clinic", "clinic")).await.id();
    let other = send(&app, org("other", "pharmacy")).await.id();
    let doctor = send(
        &app,
        post("/v1/practitioners", &op, json!({"name": "医師 一郎", "profession": "physician", "organization": clinic})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = |role: &str, org: &str| {
        carepath::auth::issue_local_token(&t.state.settings.data_dir, &doctor, role.parse().unwrap(), org, 600).unwrap()
    };
    let hours = json!({"slots": [{"weekday": "monday", "start": "13:00", "end": "14:00", "channel": "phone", "audience": "all"}]});
    let put = |token: &str| {
        TestRequest::put()
            .uri(&format!("/v1/practitioners/{doctor}/contact-hours"))
            .insert_header(auth(token))
            .set_json(hours.clone())
    };
    for (role, org) in [("physician", &other), ("care_worker", &other), ("pharmacist", &other)] {
        send(&app, put(&token(role, org))).await.problem(403);
    }
    let res = send(&app, put(&token("physician", &clinic))).await;
    assert_eq!(res.status, 200, "{}", res.body);
}
