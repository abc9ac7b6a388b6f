//! Versioned, schema-validated documents through the HTTP stack, on either backend.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{TestApp, auth, hanako, send};
use serde_json::{Value, json};

/// A clinic with a patient, and tokens for its physician and care manager.
struct World {
    t: TestApp,
    patient: String,
    physician: String,
    care_manager: String,
}

fn full_care_path() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/care-path/examples/1.0.0-full.json"))
            .unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn world<S, B>(t: TestApp, app: &S) -> World
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let built = common::World::new(&t, app).org("clinic", "clinic").patient(hanako()).build().await;
    let care_manager = t.token("care_manager", &built.org("clinic"));
    World { patient: built.patient, physician: built.author, care_manager, t }
}

fn post_doc(w: &World, body: Value) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/v1/patients/{}/documents", w.patient))
        .insert_header(auth(&w.physician))
        .set_json(body)
}

#[test]
fn every_shipped_example_validates() {
    let registry = carepath::schemas::Registry::load(None).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let mut checked = 0;
    for ty in std::fs::read_dir(&root).unwrap().flatten().filter(|e| e.path().join("examples").is_dir()) {
        for example in std::fs::read_dir(ty.path().join("examples")).unwrap().flatten() {
            let name = example.file_name().to_string_lossy().into_owned();
            let version = name.split('-').next().unwrap();
            let doc_type = ty.file_name().to_string_lossy().into_owned();
            let entry = registry.get(&doc_type, version).unwrap_or_else(|| panic!("{doc_type} {version} for {name}"));
            let content: Value = serde_json::from_str(&std::fs::read_to_string(example.path()).unwrap()).unwrap();
            assert_eq!(entry.validate(&content), vec![], "{doc_type}/examples/{name}");
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} examples");
    for ty in ["care-path", "contact-sheet", "discharge-summary", "visiting-nursing-report", "end-of-life-record"] {
        assert!(registry.has_type(ty), "{ty}");
    }
    assert!(registry.get("care-path", "1.1.0").is_some());
    for (ty, version) in [
        ("referral-letter", "1.0.0"),
        ("patient-summary", "1.0.0"),
        ("discharge-summary", "1.1.0"),
        ("clinical-information", "1.0.0"),
    ] {
        assert!(registry.get(ty, version).is_some(), "{ty} {version}");
    }
}

#[test]
fn a_broken_extra_schema_stops_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("regional-note")).unwrap();
    std::fs::write(
        dir.path().join("regional-note/1.0.0.json"),
        r#"{"$id": "https://x.example/r.json", "type": "objekt"}"#,
    )
    .unwrap();
    let err = carepath::schemas::Registry::load(Some(dir.path())).err().expect("must fail").to_string();
    assert!(err.contains("regional-note/1.0.0.json"), "{err}");
}

#[actix_web::test]
async fn create_read_update_delete_with_versions() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let res =
        send(&app, post_doc(&w, json!({"type": "care-path", "schema_version": "1.0.0", "content": full_care_path()})))
            .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.header("etag"), Some("\"1\""));
    let id = res.id();
    assert_eq!(res.header("location").unwrap(), format!("/v1/documents/{id}"));
    for field in [
        "id",
        "patient_id",
        "type",
        "schema_version",
        "version",
        "content",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    ] {
        assert!(!res.body[field].is_null(), "{field}");
    }

    let doc = |uri: String| TestRequest::get().uri(&uri).insert_header(auth(&w.physician));
    let got = send(&app, doc(format!("/v1/documents/{id}"))).await;
    assert_eq!(got.body["content"], full_care_path(), "the physician sees everything, opened");

    // The care manager's role is not cleared for restricted fields: withheld, and said so.
    let cm =
        send(&app, TestRequest::get().uri(&format!("/v1/documents/{id}")).insert_header(auth(&w.care_manager))).await;
    assert!(cm.body["content"]["infections"].is_null());
    assert!(cm.body["withheld"].as_array().unwrap().contains(&json!("/infections")));
    assert_eq!(cm.body["content"]["medications"], full_care_path()["medications"]);

    let put = |etag: Option<&str>, content: Value, version: &str| {
        let mut r = TestRequest::put()
            .uri(&format!("/v1/documents/{id}"))
            .insert_header(auth(&w.physician))
            .set_json(json!({"type": "care-path", "schema_version": version, "content": content}));
        if let Some(e) = etag {
            r = r.insert_header(("if-match", e));
        }
        r
    };
    let mut v2 = full_care_path();
    v2["care_level"] = json!("care_3");
    send(&app, put(None, v2.clone(), "1.0.0")).await.problem(428);
    let res = send(&app, put(Some("\"1\""), v2.clone(), "1.0.0")).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.header("etag"), Some("\"2\""));
    let stale = send(&app, put(Some("\"1\""), v2.clone(), "1.0.0")).await;
    let body = stale.problem(412);
    assert_eq!(body["current"]["version"], 2);
    assert_eq!(body["current"]["content"]["care_level"], "care_3");
    send(&app, put(Some("W/\"2\""), v2.clone(), "1.0.0")).await.problem(422);

    // Moving to a newer schema version of the same type is allowed; back, or to another type, is not.
    let res = send(&app, put(Some("\"2\""), v2.clone(), "1.1.0")).await;
    assert_eq!(res.status, 200, "{}", res.body);
    send(&app, put(Some("\"3\""), v2.clone(), "1.0.0")).await.problem(422);
    let other = TestRequest::put().uri(&format!("/v1/documents/{id}")).insert_header(auth(&w.physician)).insert_header(("if-match", "\"3\""))
        .set_json(json!({"type": "end-of-life-record", "schema_version": "1.0.0", "content": {"date_of_death": "2026-11-01", "place_of_death": "home"}}));
    assert_eq!(send(&app, other).await.problem(422)["errors"][0]["pointer"], "/type");

    let v1 = send(&app, doc(format!("/v1/documents/{id}/versions/1"))).await;
    assert_eq!(v1.body["content"]["care_level"], full_care_path()["care_level"]);
    send(&app, doc(format!("/v1/documents/{id}/versions/9"))).await.problem(404);

    let del =
        send(&app, TestRequest::delete().uri(&format!("/v1/documents/{id}")).insert_header(auth(&w.physician))).await;
    assert_eq!(del.status, 200, "{}", del.body);
    send(&app, doc(format!("/v1/documents/{id}"))).await.problem(410);
    let history = send(&app, doc(format!("/v1/documents/{id}/history"))).await;
    let versions: Vec<i64> =
        history.body["items"].as_array().unwrap().iter().map(|d| d["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [4, 3, 2, 1]);
    let page = send(&app, doc(format!("/v1/documents/{id}/history?limit=2&cursor=3"))).await;
    let versions: Vec<i64> =
        page.body["items"].as_array().unwrap().iter().map(|d| d["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [2, 1]);
}

#[actix_web::test]
async fn validation_reports_every_error_with_its_pointer() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let mut content = full_care_path();
    content["medications"][0].as_object_mut().unwrap().remove("dose");
    content["care_level"] = json!("care_9");
    content["diagnoses"][0]["icd10_code"] = json!("bad");
    let res =
        send(&app, post_doc(&w, json!({"type": "care-path", "schema_version": "1.0.0", "content": content}))).await;
    let body = res.problem(422);
    let pointers: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    for expected in ["/content/care_level", "/content/diagnoses/0/icd10_code", "/content/medications/0"] {
        assert!(pointers.contains(&expected), "{expected} missing from {pointers:?}");
    }
    let res = send(&app, post_doc(&w, json!({"type": "horoscope", "schema_version": "1.0.0", "content": {}}))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/type");
    let res = send(&app, post_doc(&w, json!({"type": "care-path", "schema_version": "9.9.9", "content": {}}))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/schema_version");
    // An impossible date is caught: formats are validated.
    let res = send(
        &app,
        post_doc(
            &w,
            json!({"type": "end-of-life-record", "schema_version": "1.0.0",
        "content": {"date_of_death": "2026-02-30", "place_of_death": "home"}}),
        ),
    )
    .await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/content/date_of_death");
    // Too deep for the schema layer, and too deep for the parser.
    let mut deep = json!("x");
    for _ in 0..40 {
        deep = json!([deep]);
    }
    let res =
        send(&app, post_doc(&w, json!({"type": "care-path", "schema_version": "1.0.0", "content": {"notes": deep}})))
            .await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/content");
    let very_deep = format!(
        r#"{{"type": "care-path", "schema_version": "1.0.0", "content": {{"notes": {}{}}}}}"#,
        "[".repeat(300),
        "]".repeat(300)
    );
    let req = TestRequest::post()
        .uri(&format!("/v1/patients/{}/documents", w.patient))
        .insert_header(auth(&w.physician))
        .insert_header(("content-type", "application/json"))
        .set_payload(very_deep);
    send(&app, req).await.problem(400);
    let res = send(&app, post_doc(&w, json!({"type": "care-path", "schema_version": "1.0.0", "content": {"care_level": "care_1", "diagnoses": [], "notes": "x".repeat(5000)}}))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/content/notes");
}

#[actix_web::test]
async fn exactly_one_of_two_concurrent_updates_wins() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let res = send(&app, post_doc(&w, json!({"type": "care-path", "schema_version": "1.0.0", "content": {"care_level": "care_1", "diagnoses": []}}))).await;
    let id = res.id();
    for round in 1..=5 {
        let put = |level: &str| {
            TestRequest::put().uri(&format!("/v1/documents/{id}")).insert_header(auth(&w.physician))
            .insert_header(("if-match", format!("\"{round}\"")))
            .set_json(json!({"type": "care-path", "schema_version": "1.0.0", "content": {"care_level": level, "diagnoses": []}}))
        };
        let (a, b) = tokio::join!(send(&app, put("care_2")), send(&app, put("care_3")));
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 412], "round {round}: {} / {}", a.body, b.body);
    }
    let got =
        send(&app, TestRequest::get().uri(&format!("/v1/documents/{id}")).insert_header(auth(&w.physician))).await;
    assert_eq!(got.body["version"], 6);
}

#[actix_web::test]
async fn idempotency_key_replays_and_refuses_another_body() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let body =
        json!({"type": "care-path", "schema_version": "1.0.0", "content": {"care_level": "care_1", "diagnoses": []}});
    let first = send(&app, post_doc(&w, body.clone()).insert_header(("idempotency-key", "k-1"))).await;
    let again = send(&app, post_doc(&w, body.clone()).insert_header(("idempotency-key", "k-1"))).await;
    assert_eq!(first.status, 201);
    assert_eq!(again.status, 201);
    assert_eq!(first.body["id"], again.body["id"]);
    assert_eq!(first.header("etag"), again.header("etag"));
    let list = send(
        &app,
        TestRequest::get().uri(&format!("/v1/patients/{}/documents", w.patient)).insert_header(auth(&w.physician)),
    )
    .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1, "written once");
    let mut other = body.clone();
    other["content"]["care_level"] = json!("care_5");
    let res = send(&app, post_doc(&w, other).insert_header(("idempotency-key", "k-1"))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/header/Idempotency-Key");
    // Another caller's key space is its own.
    let cm = TestRequest::post()
        .uri(&format!("/v1/patients/{}/documents", w.patient))
        .insert_header(auth(&w.care_manager))
        .insert_header(("idempotency-key", "k-1"))
        .set_json(body);
    let res = send(&app, cm).await;
    assert_eq!(res.status, 201);
    assert_ne!(res.body["id"], first.body["id"]);
}

#[actix_web::test]
async fn listing_filters_by_type_and_pages() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    for level in ["care_1", "care_2", "care_3"] {
        send(&app, post_doc(&w, json!({"type": "care-path", "schema_version": "1.0.0", "content": {"care_level": level, "diagnoses": []}}))).await;
    }
    send(&app, post_doc(&w, json!({"type": "end-of-life-record", "schema_version": "1.0.0", "content": {"date_of_death": "2026-11-01", "place_of_death": "home"}}))).await;
    let list = |q: &str| {
        TestRequest::get().uri(&format!("/v1/patients/{}/documents{q}", w.patient)).insert_header(auth(&w.physician))
    };
    assert_eq!(send(&app, list("")).await.body["items"].as_array().unwrap().len(), 4);
    assert_eq!(send(&app, list("?type=care-path")).await.body["items"].as_array().unwrap().len(), 3);
    send(&app, list("?type=horoscope")).await.problem(422);
    let mut levels = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = send(&app, list(&format!("?type=care-path&limit=2{cursor}"))).await;
        levels.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["content"]["care_level"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={}", urlencode(c)),
            None => break,
        }
    }
    assert_eq!(levels, ["care_1", "care_2", "care_3"]);
    // A stranger's organisation cannot list, and learns nothing.
    let stranger_org = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&w.t.operator()))
            .set_json(json!({"name": "x", "kind": "clinic"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = w.t.token("physician", &stranger_org);
    send(&app, TestRequest::get().uri(&format!("/v1/patients/{}/documents", w.patient)).insert_header(auth(&stranger)))
        .await
        .problem(404);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect()
}

#[actix_web::test]
async fn sensitive_fields_are_sealed_at_rest() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let mut content = full_care_path();
    content["notes"] = json!("NOTEMARKER-7731");
    content["infections"][0]["name"] = json!("INFECTIONMARKER-7731");
    content["medications"][0]["name"] = json!("MEDMARKER-7731");
    let res =
        send(&app, post_doc(&w, json!({"type": "care-path", "schema_version": "1.0.0", "content": content}))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let raw = common::raw_database_text(&w.t);
    assert!(raw.contains(res.body["id"].as_str().unwrap()));
    for marker in ["NOTEMARKER", "INFECTIONMARKER", "MEDMARKER"] {
        assert!(!raw.contains(marker), "{marker} is stored in plaintext");
    }
}

#[actix_web::test]
async fn schemas_are_listed_and_served() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let list = send(&app, TestRequest::get().uri("/v1/schemas").insert_header(auth(&w.physician))).await;
    let care_path = list.body["types"].as_array().unwrap().iter().find(|t| t["type"] == "care-path").unwrap().clone();
    assert_eq!(care_path["versions"], json!(["1.0.0", "1.1.0"]));
    let schema =
        send(&app, TestRequest::get().uri("/v1/schemas/care-path/1.1.0").insert_header(auth(&w.physician))).await;
    assert_eq!(schema.status, 200);
    assert_eq!(schema.body["$id"], "https://carepath.example/schemas/care-path/1.1.0.json");
    send(&app, TestRequest::get().uri("/v1/schemas/care-path/7.0.0").insert_header(auth(&w.physician)))
        .await
        .problem(404);
}

/// Issue 11 item 1: a caller not cleared for restricted fields writes back what it read; the
/// values withheld from it stay, sealed, for everyone; setting one is refused, naming it.
#[actix_web::test]
async fn a_write_back_keeps_the_restricted_values_the_writer_could_not_see() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let mut full = full_care_path();
    full["infections"][0]["name"] = json!("INFECTIONMARKER-4411");
    let res = send(&app, post_doc(&w, json!({"type": "care-path", "schema_version": "1.0.0", "content": full}))).await;
    let id = res.id();
    let get = |token: &str| TestRequest::get().uri(&format!("/v1/documents/{id}")).insert_header(auth(token));
    let put = |token: &str, etag: &str, version: &str, content: Value| {
        TestRequest::put()
            .uri(&format!("/v1/documents/{id}"))
            .insert_header(auth(token))
            .insert_header(("if-match", etag))
            .set_json(json!({"type": "care-path", "schema_version": version, "content": content}))
    };

    let seen = send(&app, get(&w.care_manager)).await;
    assert_eq!(seen.body["withheld"], json!(["/infections"]));
    let mut edited = seen.body["content"].clone();
    edited["care_level"] = json!("care_4");
    let res = send(&app, put(&w.care_manager, "\"1\"", "1.0.0", edited.clone())).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body["content"]["infections"].is_null(), "the answer does not reveal what was kept");
    assert_eq!(res.body["withheld"], json!(["/infections"]));
    let after = send(&app, get(&w.physician)).await;
    assert_eq!(after.body["version"], 2);
    assert_eq!(after.body["content"]["care_level"], "care_4");
    assert_eq!(after.body["content"]["infections"], full["infections"], "kept for those cleared");

    // Moving to a newer schema version carries them too (re-sealed for the new version's place).
    let res = send(&app, put(&w.care_manager, "\"2\"", "1.1.0", edited.clone())).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(send(&app, get(&w.physician)).await.body["content"]["infections"], full["infections"]);

    // Setting a value it cannot see is refused, naming the pointer; nothing is written.
    let mut overwrite = edited.clone();
    overwrite["infections"] = json!([]);
    let res = send(&app, put(&w.care_manager, "\"3\"", "1.1.0", overwrite)).await;
    let body = res.problem(422);
    assert_eq!(body["errors"][0]["pointer"], "/content/infections", "{body}");
    assert_eq!(send(&app, get(&w.physician)).await.body["version"], 3);

    // The same through a batch update, atomic or not.
    for (atomic, etag) in [(false, 3), (true, 4)] {
        let batch = json!({"atomic": atomic, "operations": [{"op": "update", "document_id": id, "if_match": etag,
            "schema_version": "1.1.0", "content": edited, "idempotency_key": format!("b-{etag}")}]});
        let res =
            send(&app, TestRequest::post().uri("/v1/batch").insert_header(auth(&w.care_manager)).set_json(batch)).await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(res.body["results"][0]["status"], 200, "{}", res.body);
        let now = send(&app, get(&w.physician)).await;
        assert_eq!(now.body["version"], etag + 1);
        assert_eq!(now.body["content"]["infections"], full["infections"]);
    }
    let raw = common::raw_database_text(&w.t);
    assert!(!raw.contains("INFECTIONMARKER"), "kept values stay sealed at rest");
}

/// Issue 11 item 5: a caller without access learns nothing from validation (404, as for a
/// missing patient, and audited); an allowed caller gets at most 100 errors and a count of the rest.
#[actix_web::test]
async fn validation_comes_after_authorisation_and_is_capped() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let huge = json!({"type": "care-path", "schema_version": "1.0.0",
        "content": {"care_level": "care_1", "diagnoses": vec![1; 150_000]}});
    let op = w.t.operator();
    let other = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&op))
            .set_json(json!({"name": "elsewhere", "kind": "clinic"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = w.t.token("physician", &other);
    let to = |token: &str, patient: &str| {
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/documents"))
            .insert_header(auth(token))
            .set_json(huge.clone())
    };
    send(&app, to(&stranger, &w.patient)).await.problem(404);
    send(&app, to(&w.physician, &uuid::Uuid::new_v4().to_string())).await.problem(404);
    let batch = |atomic: bool| {
        let mut op = huge.clone();
        op["op"] = json!("create");
        op["patient_id"] = json!(w.patient);
        op["idempotency_key"] = json!(format!("huge-{atomic}"));
        TestRequest::post()
            .uri("/v1/batch")
            .insert_header(auth(&stranger))
            .set_json(json!({"atomic": atomic, "operations": [op]}))
    };
    let res = send(&app, batch(true)).await;
    assert_eq!(res.problem(404)["errors"], Value::Null, "{}", res.body);
    let res = send(&app, batch(false)).await;
    assert_eq!(res.body["results"][0]["status"], 404, "{}", res.raw.len());

    // Each refusal is an audit event of the stranger's organisation.
    let auditor = w.t.token("auditor", &other);
    let events = send(
        &app,
        TestRequest::get()
            .uri(&format!("/v1/audit-events?organization={other}&action=document.create"))
            .insert_header(auth(&auditor)),
    )
    .await;
    let outcomes: Vec<&str> =
        events.body["items"].as_array().unwrap().iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["denied"; 3], "{}", events.body);

    let res = send(&app, to(&w.physician, &w.patient)).await;
    let errors = res.problem(422)["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 101);
    assert_eq!(errors[100], json!({"pointer": "", "message": "and 149901 more errors"}));
    assert!(res.raw.len() < 50_000, "{} bytes", res.raw.len());
}
