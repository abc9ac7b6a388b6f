//! The regional directory through the HTTP stack, and the framework errors on a JSON endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::test::{TestRequest, init_service};
use common::{TestApp, auth, send};
use serde_json::json;

#[actix_web::test]
async fn organizations_round_trip_and_page() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let mut ids = Vec::new();
    for (name, kind) in [
        ("新見クリニック", "clinic"),
        ("まなび訪問看護ステーション", "visiting_nurse_station"),
        ("ひだまり居宅介護支援", "care_management_office"),
    ] {
        let res = send(
            &app,
            TestRequest::post().uri("/v1/organizations").insert_header(auth(&op)).set_json(json!({
                "name": name, "kind": kind, "phone": "0867-72-0000",
                "address": {"postal_code": "718-0003", "prefecture": "岡山県", "city": "新見市"}
            })),
        )
        .await;
        assert_eq!(res.status, 201, "{}", res.body);
        let id = res.id();
        assert_eq!(res.header("location").unwrap(), format!("/v1/organizations/{id}"));
        ids.push(id);
    }
    let one =
        send(&app, TestRequest::get().uri(&format!("/v1/organizations/{}", ids[0])).insert_header(auth(&op))).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["name"], "新見クリニック");
    assert_eq!(one.body["address"]["city"], "新見市");

    // Any member of an existing organisation reads the directory.
    let nurse = t.token("nurse", &ids[1]);
    let stations =
        send(&app, TestRequest::get().uri("/v1/organizations?kind=visiting_nurse_station").insert_header(auth(&nurse)))
            .await;
    assert_eq!(stations.status, 200);
    assert_eq!(stations.body["items"].as_array().unwrap().len(), 1);

    // Paging: three pages of one, then nothing more.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let res = send(
            &app,
            TestRequest::get().uri(&format!("/v1/organizations?limit=1{cursor}")).insert_header(auth(&nurse)),
        )
        .await;
        let items = res.body["items"].as_array().unwrap();
        seen.extend(items.iter().map(crate::common::id));
        match res.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    ids.sort();
    assert_eq!(seen, ids);

    let put = send(
        &app,
        TestRequest::put()
            .uri(&format!("/v1/organizations/{}", ids[0]))
            .insert_header(auth(&op))
            .set_json(json!({"name": "改名クリニック", "kind": "clinic"})),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["name"], "改名クリニック");
    send(&app, TestRequest::get().uri("/v1/organizations/nope").insert_header(auth(&op))).await.problem(404);
    send(&app, TestRequest::get().uri("/v1/organizations?limit=0").insert_header(auth(&op))).await.problem(422);
}

#[actix_web::test]
async fn only_admin_writes_and_unknown_organisations_are_refused() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "A", "kind": "clinic"})),
    )
    .await;
    let org = org.body["id"].as_str().unwrap();
    let physician = t.token("physician", org);
    send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&physician))
            .set_json(json!({"name": "B", "kind": "clinic"})),
    )
    .await
    .problem(403);
    // A token naming an organisation that is not in the directory gets nothing.
    let stranger = t.token("physician", "no-such-org");
    send(&app, TestRequest::get().uri("/v1/organizations").insert_header(auth(&stranger))).await.problem(403);
    // An admin of a real organisation is not the operator: it may not register organisations
    // (issue 11 item 2; this test used to expect 201 here).
    let local_admin = t.token("admin", org);
    send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&local_admin))
            .set_json(json!({"name": "C", "kind": "pharmacy"})),
    )
    .await
    .problem(403);
}

/// Issue 11 item 2: clinic C's admin can no longer rename clinic A, move A's practitioner to C,
/// or register practitioners into A; A's admin still manages A's own entries. Every refusal is
/// an audit event with outcome `denied`.
#[actix_web::test]
async fn a_local_admin_manages_only_its_own_organisation_and_practitioners() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let mut orgs = Vec::new();
    for name in ["A", "C"] {
        let res = send(
            &app,
            TestRequest::post()
                .uri("/v1/organizations")
                .insert_header(auth(&op))
                .set_json(json!({"name": name, "kind": "clinic"})),
        )
        .await;
        assert_eq!(res.status, 201, "{}", res.body);
        orgs.push(res.id());
    }
    let (a, c) = (orgs[0].clone(), orgs[1].clone());
    let doctor = |org: &str| json!({"name": "佐藤 一郎", "profession": "physician", "organization": org});
    let res =
        send(&app, TestRequest::post().uri("/v1/practitioners").insert_header(auth(&op)).set_json(doctor(&a))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let practitioner = res.id();
    let org_uri = format!("/v1/organizations/{a}");
    let practitioner_uri = format!("/v1/practitioners/{practitioner}");

    let c_admin = t.token("admin", &c);
    let rename = json!({"name": "乗っ取られたクリニック", "kind": "clinic"});
    send(&app, TestRequest::put().uri(&org_uri).insert_header(auth(&c_admin)).set_json(rename.clone()))
        .await
        .problem(403);
    send(&app, TestRequest::put().uri(&practitioner_uri).insert_header(auth(&c_admin)).set_json(doctor(&c)))
        .await
        .problem(403);
    send(&app, TestRequest::post().uri("/v1/practitioners").insert_header(auth(&c_admin)).set_json(doctor(&a)))
        .await
        .problem(403);
    let a_now = send(&app, TestRequest::get().uri(&org_uri).insert_header(auth(&c_admin))).await;
    assert_eq!(a_now.body["name"], "A");
    let p_now = send(&app, TestRequest::get().uri(&practitioner_uri).insert_header(auth(&c_admin))).await;
    assert_eq!(p_now.body["organization"], a.as_str());

    // A's own admin manages A and its practitioners, but moves no one to C.
    let a_admin = t.token("admin", &a);
    let res = send(
        &app,
        TestRequest::put()
            .uri(&org_uri)
            .insert_header(auth(&a_admin))
            .set_json(json!({"name": "A 改名", "kind": "clinic"})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res =
        send(&app, TestRequest::post().uri("/v1/practitioners").insert_header(auth(&a_admin)).set_json(doctor(&a)))
            .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let res =
        send(&app, TestRequest::put().uri(&practitioner_uri).insert_header(auth(&a_admin)).set_json(doctor(&a))).await;
    assert_eq!(res.status, 200, "{}", res.body);
    send(&app, TestRequest::put().uri(&practitioner_uri).insert_header(auth(&a_admin)).set_json(doctor(&c)))
        .await
        .problem(403);
    // The operator's admin moves practitioners between organisations.
    let res = send(&app, TestRequest::put().uri(&practitioner_uri).insert_header(auth(&op)).set_json(doctor(&c))).await;
    assert_eq!(res.status, 200, "{}", res.body);

    // Every refusal is in the audit log, denied with 403, by whom it was tried.
    let auditor = t.token("auditor", &a);
    let events = send(&app, TestRequest::get().uri("/v1/audit-events?limit=1000").insert_header(auth(&auditor))).await;
    assert_eq!(events.status, 200, "{}", events.body);
    let denied: Vec<(&str, &str)> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "denied")
        .inspect(|e| assert_eq!(e["status"], 403, "{e}"))
        .map(|e| (e["action"].as_str().unwrap(), e["actor_org"].as_str().unwrap()))
        .collect();
    assert_eq!(
        denied,
        [
            ("organization.update", c.as_str()),
            ("practitioner.update", c.as_str()),
            ("practitioner.create", c.as_str()),
            ("practitioner.update", a.as_str()),
        ]
    );
}

#[actix_web::test]
async fn bad_bodies_get_problems_naming_the_field() {
    let t = TestApp::with(|s| s.body_limit = 2048);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let post = || TestRequest::post().uri("/v1/organizations").insert_header(auth(&op));

    let res = send(&app, post().set_json(json!({"name": "", "kind": "clinic", "phone": "call me"}))).await;
    let errors = res.problem(422)["errors"].as_array().unwrap().clone();
    let pointers: Vec<&str> = errors.iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/name", "/phone"]);

    let res = send(&app, post().set_json(json!({"name": "X", "kind": "spaceport"}))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/kind");
    let res = send(&app, post().set_json(json!({"kind": "clinic"}))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/name");
    let res = send(&app, post().set_json(json!({"name": "X", "kind": "clinic", "colour": "red"}))).await;
    res.problem(422);

    // Malformed JSON, wrong content type, too large, invalid UTF-8, too deep.
    send(&app, post().insert_header(("content-type", "application/json")).set_payload("{\"name\": "))
        .await
        .problem(400);
    send(&app, post().insert_header(("content-type", "text/plain")).set_payload("{}")).await.problem(415);
    send(&app, post().set_payload("{}")).await.problem(415);
    let big = json!({"name": "x".repeat(4096), "kind": "clinic"});
    send(&app, post().set_json(big)).await.problem(413);
    send(
        &app,
        post().insert_header(("content-type", "application/json")).set_payload(&b"{\"name\": \"\xff\xfe\"}"[..]),
    )
    .await
    .problem(400);
    // Nesting where a string belongs is refused at the first bracket, naming the field.
    let deep = format!("{{\"name\": {}{}, \"kind\": \"clinic\"}}", "[".repeat(500), "]".repeat(500));
    let res = send(&app, post().insert_header(("content-type", "application/json")).set_payload(deep)).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/name");
}

#[actix_web::test]
async fn practitioners_belong_to_existing_organisations() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let org = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&op))
            .set_json(json!({"name": "A", "kind": "clinic"})),
    )
    .await;
    let org = org.id();

    let res = send(
        &app,
        TestRequest::post()
            .uri("/v1/practitioners")
            .insert_header(auth(&op))
            .set_json(json!({"name": "佐藤 一郎", "profession": "physician", "organization": "missing"})),
    )
    .await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/organization");
    let res = send(
        &app,
        TestRequest::post()
            .uri("/v1/practitioners")
            .insert_header(auth(&op))
            .set_json(json!({"name": "佐藤 一郎", "profession": "wizard", "organization": org})),
    )
    .await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/profession");

    for (name, profession) in [("佐藤 一郎", "physician"), ("鈴木 看護", "nurse")] {
        let res = send(
            &app,
            TestRequest::post()
                .uri("/v1/practitioners")
                .insert_header(auth(&op))
                .set_json(json!({"name": name, "profession": profession, "organization": org})),
        )
        .await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let nurse = t.token("nurse", &org);
    let res = send(
        &app,
        TestRequest::get()
            .uri(&format!("/v1/practitioners?organization={org}&profession=physician"))
            .insert_header(auth(&nurse)),
    )
    .await;
    let items = res.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "佐藤 一郎");
    let id = items[0]["id"].as_str().unwrap();
    let one = send(&app, TestRequest::get().uri(&format!("/v1/practitioners/{id}")).insert_header(auth(&nurse))).await;
    assert_eq!(one.body["profession"], "physician");
}

/// Issue 26, item 17: an organisation's admin keeps its kind (the operator's to set) and cannot
/// take another organisation's name; the operator changes kinds, and no one duplicates a name.
#[actix_web::test]
async fn kind_is_the_operators_and_names_are_unique() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let mut orgs = Vec::new();
    for name in ["新見クリニック", "高梁クリニック"] {
        let body = json!({"name": name, "kind": "clinic"});
        let res =
            send(&app, TestRequest::post().uri("/v1/organizations").insert_header(auth(&op)).set_json(body)).await;
        assert_eq!(res.status, 201, "{}", res.body);
        orgs.push(res.id());
    }
    let uri = format!("/v1/organizations/{}", orgs[1]);
    let own_admin = t.token("admin", &orgs[1]);
    let put =
        |token: &str, body: serde_json::Value| TestRequest::put().uri(&uri).insert_header(auth(token)).set_json(body);
    let res = send(&app, put(&own_admin, json!({"name": "新見クリニック", "kind": "clinic"}))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/name");
    let res = send(&app, put(&own_admin, json!({"name": "高梁クリニック", "kind": "consultation_desk"}))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/kind");
    // Creating a second organisation of the same name is refused as well, even for the operator.
    let dup = json!({"name": "新見クリニック", "kind": "pharmacy"});
    let res = send(&app, TestRequest::post().uri("/v1/organizations").insert_header(auth(&op)).set_json(dup)).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/name");
    send(&app, put(&op, json!({"name": "新見クリニック", "kind": "clinic"}))).await.problem(422);
    // Its own admin renames it to a free name and keeps its kind; the operator changes the kind.
    let res = send(&app, put(&own_admin, json!({"name": "高梁中央クリニック", "kind": "clinic"}))).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = send(&app, put(&op, json!({"name": "高梁中央クリニック", "kind": "consultation_desk"}))).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let now = send(&app, TestRequest::get().uri(&uri).insert_header(auth(&own_admin))).await;
    assert_eq!(
        (now.body["name"].as_str(), now.body["kind"].as_str()),
        (Some("高梁中央クリニック"), Some("consultation_desk"))
    );
}
