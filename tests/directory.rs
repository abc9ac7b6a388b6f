//! The regional directory through the HTTP stack, and the framework errors on a JSON endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

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
        let id = res.body["id"].as_str().unwrap().to_owned();
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
        seen.extend(items.iter().map(|o| o["id"].as_str().unwrap().to_owned()));
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
    // An admin of a real organisation is not the operator, but may still manage the directory.
    let local_admin = t.token("admin", org);
    let res = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&local_admin))
            .set_json(json!({"name": "C", "kind": "pharmacy"})),
    )
    .await;
    assert_eq!(res.status, 201);
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
    let org = org.body["id"].as_str().unwrap().to_owned();

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
