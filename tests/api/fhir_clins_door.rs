//! The JP-CLINS door for a hospital's EHR that does not know carepath's ids (issue 31):
//! `POST /v1/fhir/Bundle` finds the patient by the Bundle's health-insurance card with the name
//! in kana and the birth date, then imports as `POST /v1/patients/{id}/fhir` does. Every refusal
//! (unknown card, disagreeing kana or birth date, no access) is the same 422; a disagreement is
//! audited on the patient it names; a second post is the first document again.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common::fhir_world::{World, get, post, world};
use crate::common::{Resp, TestApp, auth, send};
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/api/fixtures/jp-clins/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn door<S, B>(app: &S, token: &str, bundle: &Value) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let req = TestRequest::post()
        .uri("/v1/fhir/Bundle")
        .insert_header(auth(token))
        .insert_header(("content-type", "application/fhir+json"))
        .set_payload(bundle.to_string());
    send(app, req).await
}

/// The clinic's patient whose card the fixtures carry (山田 花子, 39331234:新見:3456:01).
async fn carded<S, B>(app: &S, w: &World) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let body = json!({
        "name": "山田 花子", "name_kana": "ヤマダ ハナコ", "birth_date": "1939-04-01", "sex": "female",
        "health_insurance": {"insurer_number": "39331234", "symbol": "新見", "number": "3456", "branch": "01"},
        "managing_organization": w.clinic
    });
    let res = post(app, &w.physician, "/v1/patients", body).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.id()
}

/// The Patient entry of a fixture.
fn patient_mut(bundle: &mut Value) -> &mut Value {
    let entries = bundle["entry"].as_array_mut().unwrap();
    &mut entries.iter_mut().find(|e| e["resource"]["resourceType"] == "Patient").unwrap()["resource"]
}

#[actix_web::test]
async fn a_card_finds_the_patient_and_a_second_post_is_the_same_document() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let patient = carded(&app, &w).await;
    let referral = fixture("referral");
    let first = door(&app, &w.physician, &referral).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["patient_id"], patient.as_str());
    assert_eq!(first.body["type"], "referral-letter");
    assert_eq!(first.body["content"]["source"]["bundle_identifier"], "3312345678^2026^REF-000123");
    let id = first.id();
    assert_eq!(first.header("location"), Some(format!("/v1/documents/{id}").as_str()));
    let read = get(&app, &w.physician, &format!("/v1/documents/{id}")).await;
    assert_eq!((read.status.as_u16(), &read.body["patient_id"]), (200, &json!(patient)));

    // Idempotent on Bundle.identifier: through this door again, and through the other.
    let again = door(&app, &w.physician, &referral).await;
    assert!(again.status.is_success(), "{}", again.body);
    assert_eq!(again.id(), id, "the first document again");
    let other = TestRequest::post()
        .uri(&format!("/v1/patients/{patient}/fhir"))
        .insert_header(auth(&w.physician))
        .insert_header(("content-type", "application/fhir+json"))
        .set_payload(referral.to_string());
    assert_eq!(send(&app, other).await.id(), id);
    let docs = get(&app, &w.physician, &format!("/v1/patients/{patient}/documents")).await;
    let referrals = docs.body["items"].as_array().unwrap().iter().filter(|d| d["type"] == "referral-letter").count();
    assert_eq!(referrals, 1, "{}", docs.body);

    // The statement names the interaction.
    let cs = send(&app, TestRequest::get().uri("/v1/fhir/metadata")).await;
    let bundle = cs.body["rest"][0]["resource"].as_array().unwrap().iter().find(|r| r["type"] == "Bundle").unwrap();
    assert_eq!(bundle["interaction"][0]["code"], "create");
}

#[actix_web::test]
async fn every_refusal_is_one_and_the_same_422_and_a_mismatch_is_audited() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let patient = carded(&app, &w).await;
    let referral = fixture("referral");
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut b = referral.clone();
        edit(patient_mut(&mut b));
        b
    };
    let unknown = with(&|p| p["identifier"][1]["value"] = json!("39331234:新見:９９９９:01"));
    let kana = with(&|p| p["name"][1]["text"] = json!("ヤマダ ハナエ"));
    let born = with(&|p| p["birthDate"] = json!("1939-04-02"));
    let mut answers = Vec::new();
    for (token, bundle) in
        [(&w.physician, &unknown), (&w.physician, &kana), (&w.physician, &born), (&w.stranger, &referral)]
    {
        let res = door(&app, token, bundle).await;
        let issue = res.outcome(422);
        assert_eq!(issue["expression"][0], "Bundle.entry[1].resource.identifier", "{}", res.body);
        answers.push(res.raw);
    }
    assert!(answers.windows(2).all(|pair| pair[0] == pair[1]), "the refusals differ: {answers:?}");

    // Two mismatches, on the patient's record; nothing filed.
    let auditor = t.token("auditor", &w.clinic);
    let uri = format!("/v1/audit-events?patient_id={patient}&action=document.create&limit=100");
    let events = send(&app, TestRequest::get().uri(&uri).insert_header(auth(&auditor))).await;
    assert_eq!(events.status, 200, "{}", events.body);
    let items = events.body["items"].as_array().unwrap();
    let mismatches =
        items.iter().filter(|e| e["basis"].as_str().is_some_and(|b| b.contains("insured_identity_mismatch"))).count();
    assert_eq!(mismatches, 2, "{}", events.body);
    assert!(items.iter().all(|e| e["outcome"] != "allowed"), "{}", events.body);
    let docs = get(&app, &w.physician, &format!("/v1/patients/{patient}/documents")).await;
    assert_eq!(docs.body["items"].as_array().unwrap().len(), 0, "{}", docs.body);

    // Bad input is named, not refused as a stranger: a Bundle without a card.
    let bare = with(&|p| p["identifier"] = json!([]));
    let res = door(&app, &w.physician, &bare).await;
    assert!(res.outcome(422)["diagnostics"].as_str().unwrap().contains("JP_Insurance_memberID"));
    // A role that may not write documents is refused before any lookup.
    let res = door(&app, &auditor, &referral).await;
    res.outcome(403);
}

#[actix_web::test]
async fn patients_registered_before_the_card_index_are_found_after_the_backfill() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let patient = carded(&app, &w).await;
    {
        let mut conn = t.state.pool.get().unwrap();
        use diesel::RunQueryDsl;
        diesel::sql_query("UPDATE patients SET hi_index = NULL").execute(&mut *conn).unwrap();
    }
    assert_eq!(door(&app, &w.physician, &fixture("referral")).await.status, 422);
    let indexed = carepath::domain::health_index::backfill(&t.state).await.unwrap();
    assert_eq!(indexed, 2, "the world's patient and ours");
    assert_eq!(carepath::domain::health_index::backfill(&t.state).await.unwrap(), 0, "nothing left");
    let res = door(&app, &w.physician, &fixture("referral")).await;
    assert_eq!((res.status.as_u16(), &res.body["patient_id"]), (201, &json!(patient)), "{}", res.body);
}

#[actix_web::test]
async fn a_collection_of_clinical_information_is_kept_and_read_back() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let patient = carded(&app, &w).await;
    let labs = fixture("clinical-information");
    let first = door(&app, &w.physician, &labs).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(
        (first.body["type"].as_str(), first.body["schema_version"].as_str()),
        (Some("clinical-information"), Some("1.0.0"))
    );
    assert_eq!(first.body["patient_id"], patient.as_str());
    let id = first.id();
    let again = door(&app, &w.physician, &labs).await;
    assert_eq!(again.id(), id, "idempotent on Bundle.identifier");

    // Read back: results with their JLAC codes and units; the infection result apart.
    let doc = get(&app, &w.physician, &format!("/v1/documents/{id}")).await;
    let c = &doc.body["content"];
    assert_eq!(c["source"]["bundle_type"], "collection");
    let observations = c["observations"].as_array().unwrap();
    assert_eq!(observations.len(), 2, "{c}");
    assert_eq!(observations[0]["codes"][0]["code"], "3A015000002327101");
    assert_eq!(observations[0]["value_quantity"]["unit"], "g/dL");
    assert_eq!(c["infection_results"][0]["name"], "HBs抗原");
    assert_eq!(c["diagnoses"][0]["medis_code"], "20061575");
    // Infection results are restricted: the care manager sees the rest, and is told what not.
    let cm = get(&app, &w.care_manager, &format!("/v1/documents/{id}")).await;
    assert_eq!(cm.status, 200, "{}", cm.body);
    assert!(cm.body["content"].get("infection_results").is_none(), "{}", cm.body);
    assert!(cm.body["withheld"].as_array().unwrap().contains(&json!("/infection_results")), "{}", cm.body);
    assert_eq!(cm.body["content"]["observations"].as_array().unwrap().len(), 2);
    // Out again: the Bundle as it came.
    let out = get(&app, &w.physician, &format!("/v1/fhir/Composition/{id}/$document")).await;
    assert_eq!(out.body, labs);
}

#[actix_web::test]
async fn the_console_lists_received_documents_with_withheld_parts_as_such() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let patient = carded(&app, &w).await;
    for name in ["referral", "clinical-information"] {
        assert_eq!(door(&app, &w.physician, &fixture(name)).await.status, 201);
    }
    let page = |token: String| {
        let app = &app;
        let patient = patient.clone();
        async move {
            let cookie = crate::common::console_sign_in(app, &token).await;
            let req = TestRequest::get()
                .uri(&format!("/console/patients/{patient}/received"))
                .insert_header(("cookie", cookie));
            let res = send(app, req).await;
            assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.raw));
            String::from_utf8_lossy(&res.raw).into_owned()
        }
    };
    let doctor = page(w.physician.clone()).await;
    for said in
        ["受信文書", "診療情報提供書", "臨床情報", "新見中央病院", "3312345678^2026^LAB-000045", "感染症検査結果: 1件"]
    {
        assert!(doctor.contains(said), "{said} not on the page");
    }
    assert!(!doctor.contains("非開示"), "the physician is cleared for restricted fields");
    let manager = page(w.care_manager.clone()).await;
    assert!(manager.contains("感染症検査結果: <strong>非開示</strong>"), "{manager}");
    // Linked from the patient's page.
    let cookie = crate::common::console_sign_in(&app, &w.physician).await;
    let req = TestRequest::get().uri(&format!("/console/patients/{patient}")).insert_header(("cookie", cookie));
    let home = String::from_utf8_lossy(&send(&app, req).await.raw).into_owned();
    assert!(home.contains(&format!("/console/patients/{patient}/received")));
}
