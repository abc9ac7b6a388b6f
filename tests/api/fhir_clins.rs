//! JP-CLINS documents in (issue 31): a referral letter, a discharge summary and a patient
//! summary written to the guides (tests/api/fixtures/jp-clins: nested sections under 300, a
//! MEDIS-only diagnosis, partial dates, a PDF, an unknown section) kept whole, idempotent on the
//! bundle-identifier, refused with located reasons, and out again: the Bundle as it came, the
//! record in JP terms.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common::fhir_world::{get, of_type, world};
use crate::common::{TestApp, auth, send};
use actix_web::test::{TestRequest, init_service};
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/api/fixtures/jp-clins/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn import(patient: &str, token: &str, body: &str) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/v1/patients/{patient}/fhir"))
        .insert_header(auth(token))
        .insert_header(("content-type", "application/fhir+json"))
        .set_payload(body.to_owned())
}

fn pointers(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn a_referral_letter_is_kept_whole_and_idempotent() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let raw = fixture("referral");
    let first = send(&app, import(&w.patient, &w.physician, &raw)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["type"], "referral-letter");
    let c = &first.body["content"];
    assert_eq!(c["sender"]["organization"]["name"], "新見中央病院");
    assert_eq!(c["sender"]["organization"]["institution_code"], "3312345678");
    assert_eq!(c["sender"]["practitioner"]["name_kana"], "オカヤマ タロウ");
    assert_eq!(c["addressee"]["organization"]["name"], "にいみ在宅クリニック");
    assert_eq!(c["referral_purpose"], "退院後の在宅医療の継続をお願いします。");
    assert_eq!(c["source"]["bundle_identifier"], "3312345678^2026^REF-000123");
    // Nested sections under 構造情報, each diagnosis with its MEDIS code; one with no ICD-10.
    let dx = c["diagnoses"].as_array().unwrap();
    assert_eq!(dx.len(), 4, "{dx:?}");
    let pneumonia = dx.iter().find(|d| d["medis_code"] == "20087512").unwrap();
    assert!(pneumonia.get("icd10_code").is_none());
    assert_eq!(pneumonia["section"], "340");
    let chf = dx.iter().find(|d| d["medis_code"] == "20061575").unwrap();
    assert_eq!((chf["icd10_code"].as_str(), chf["onset"].as_str()), (Some("I50.9"), Some("2022-05")));
    assert!(dx.iter().any(|d| d["onset"] == "2018" && d["section"] == "370"));
    let fracture = dx.iter().find(|d| d["medis_code"] == "20080427").unwrap();
    assert_eq!(fracture["modifiers"][0]["display"], "左");
    assert_eq!(c["allergies"][0]["codes"][0]["code"], "J9FC11310000");
    assert_eq!(c["medications"][0]["yj_code"], "2139005F1026");
    assert_eq!(c["medications"][0]["dosage"]["duration_days"], 14);
    assert_eq!(c["observations"][0]["value_quantity"]["unit"], "g/dL");
    assert_eq!(c["infections"][0]["name"], "MRSA保菌");
    assert_eq!(c["attachments"][0]["content_type"], "application/pdf");
    assert!(c["attachments"][0]["size"].as_u64().unwrap() > 10);
    assert_eq!(c["family_history"], "父: 脳梗塞");
    // The unknown section (999) is kept as narrative, not refused.
    let structured = c["sections"].as_array().unwrap().iter().find(|s| s["code"] == "300").unwrap();
    let unknown = structured["sections"].as_array().unwrap().iter().find(|s| s["code"] == "999").unwrap();
    assert_eq!(
        (unknown["known"].as_bool(), unknown["text"].as_str()),
        (Some(false), Some("訪問看護ステーションへ: 体重を毎日記録。"))
    );
    // Sealed: no name, code or PDF in clear in the database.
    let db = crate::common::raw_database_text(&t);
    for secret in ["20087512", "J9FC11310000", "JVBERi0", "退院後の在宅医療"] {
        assert!(!db.contains(secret), "{secret} in clear");
    }

    let again = send(&app, import(&w.patient, &w.physician, &raw)).await;
    assert_eq!(again.body["id"], first.body["id"], "{}", again.body);
    let mut changed: Value = serde_json::from_str(&raw).unwrap();
    changed["timestamp"] = json!("2026-11-21T10:00:00+09:00");
    let res = send(&app, import(&w.patient, &w.physician, &changed.to_string())).await;
    assert_eq!(pointers(res.problem(422)), ["Bundle.identifier"]);

    // Out: the Bundle exactly as it came, and the record in JP terms.
    let id = first.body["id"].as_str().unwrap();
    let doc = get(&app, &w.physician, &format!("/v1/fhir/Composition/{id}/$document")).await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body, serde_json::from_str::<Value>(&raw).unwrap());
    let record = get(&app, &w.physician, &format!("/v1/patients/{}/fhir", w.patient)).await.body;
    let conditions = of_type(&record, "Condition");
    let medis = conditions.iter().find(|c| c["code"]["coding"][0]["code"] == "20087512").unwrap();
    assert_eq!(medis["code"]["coding"][0]["system"], "http://medis.or.jp/CodeSystem/master-disease-keyNumber");
    assert_eq!(medis["onsetDateTime"], "2026-10-28");
    assert!(conditions.iter().any(|c| {
        c["onsetDateTime"] == "2022-05"
            && c["code"]["coding"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["system"] == "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full")
    }));
    assert_eq!(of_type(&record, "MedicationRequest").len(), 1);
    assert_eq!(of_type(&record, "Observation").len(), 1);
    for team in of_type(&record, "CareTeam") {
        for p in team["participant"].as_array().unwrap() {
            assert!(p.get("onBehalfOf").is_none(), "ctm-1: {p}");
        }
    }
    let docref = of_type(&record, "DocumentReference").into_iter().find(|d| d["id"] == id).unwrap();
    assert!(docref["content"].as_array().unwrap().iter().any(|c| c["attachment"]["contentType"] == "application/pdf"));
}

#[actix_web::test]
async fn a_discharge_summary_and_a_patient_summary_are_kept_as_their_types() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let res = send(&app, import(&w.patient, &w.physician, &fixture("discharge-summary"))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(
        (res.body["type"].as_str(), res.body["schema_version"].as_str()),
        (Some("discharge-summary"), Some("1.1.0"))
    );
    let c = &res.body["content"];
    assert_eq!((c["admission_date"].as_str(), c["discharge_date"].as_str()), (Some("2026-10-28"), Some("2026-11-20")));
    assert_eq!(c["hospital"]["name"], "新見中央病院");
    assert_eq!(c["reason_for_admission"], "発熱と呼吸困難");
    assert_eq!(c["medications_at_discharge"][0]["request"], true);
    assert_eq!(c["diagnoses"].as_array().unwrap().len(), 2);
    assert_eq!(c["attachments"][0]["section"], "230");

    let res = send(&app, import(&w.patient, &w.physician, &fixture("patient-summary"))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["type"], "patient-summary");
    assert_eq!(
        res.body["content"]["plan_summary"],
        "心不全の療養計画\n減塩食と毎日の体重測定。心不全増悪時は早期受診。"
    );
    assert_eq!(res.body["content"]["other_entries"][0]["resource_type"], "CarePlan");
    // A care manager does not see the Bundle as sent (it holds the infections): the document
    // Bundle is made from what the care manager may read.
    let id = res.body["id"].as_str().unwrap();
    let cm = get(&app, &w.care_manager, &format!("/v1/fhir/Composition/{id}/$document")).await;
    assert_eq!(cm.status, 200, "{}", cm.body);
    assert_eq!(cm.body["type"], "document");
    assert_eq!(cm.body["entry"][0]["resource"]["resourceType"], "Composition");
    assert_eq!(cm.body["entry"][1]["resource"]["resourceType"], "Patient");
}

#[actix_web::test]
async fn what_the_guide_does_not_allow_is_refused_where_it_is() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let mut b: Value = serde_json::from_str(&fixture("referral")).unwrap();
    b["identifier"]["value"] = json!("REF-1");
    b["entry"][0]["resource"]["section"][2]["section"][1]["entry"][0]["reference"] = json!("urn:uuid:missing");
    let res = send(&app, import(&w.patient, &w.physician, &b.to_string())).await;
    let found = pointers(res.problem(422));
    assert!(found.contains(&"Bundle.identifier.value".to_owned()), "{found:?}");
    assert!(found.contains(&"Bundle.entry[0].resource.section[2].section[1].entry[0]".to_owned()), "{found:?}");
    // A partial date that is not a date is located at the entry it came from.
    let mut b: Value = serde_json::from_str(&fixture("referral")).unwrap();
    b["entry"][8]["resource"]["onsetDateTime"] = json!("2022-13");
    let res = send(&app, import(&w.patient, &w.physician, &b.to_string())).await;
    assert_eq!(pointers(res.problem(422)), ["Bundle.entry[8].resource"], "{}", res.body);
    // A doc-typecodes type this server does not take.
    let mut b: Value = serde_json::from_str(&fixture("referral")).unwrap();
    b["entry"][0]["resource"]["type"]["coding"][0]["code"] = json!("53576-5");
    let res = send(&app, import(&w.patient, &w.physician, &b.to_string())).await;
    assert_eq!(pointers(res.problem(422)), ["Bundle.entry[0].resource.type"]);
    // A stranger gets the 404 of any write, before the Bundle is looked at.
    send(&app, import(&w.patient, &w.stranger, &fixture("referral"))).await.problem(404);
}

#[actix_web::test]
async fn the_addressee_finds_the_referral_in_its_inbox_with_a_read_receipt() {
    use crate::common::fhir_world::post;
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let home =
        post(&app, &t.operator(), "/v1/organizations", json!({"name": "にいみ在宅クリニック", "kind": "clinic"}))
            .await
            .id();
    let team = json!({"members": [
        {"organization": w.clinic, "role": "physician", "since": "2025-04-01"},
        {"organization": home, "role": "physician", "since": "2026-11-20"}]});
    let uri = format!("/v1/patients/{}/care-team", w.patient);
    assert_eq!(
        send(&app, TestRequest::put().uri(&uri).insert_header(auth(&w.physician)).set_json(team)).await.status,
        200
    );
    let consent = json!({"status": "active", "organizations": [home], "purposes": ["treatment"],
        "period": {"start": "2026-11-01"}, "obtained_by": "signed_form"});
    let res = post(&app, &w.physician, &format!("/v1/patients/{}/consents", w.patient), consent).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let doc = send(&app, import(&w.patient, &w.physician, &fixture("referral"))).await;
    assert_eq!(doc.status, 201, "{}", doc.body);
    let doctor = t.token("physician", &home);
    let inbox = get(&app, &doctor, "/v1/contact-sheets?box=inbox").await;
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    assert_eq!(inbox.body["unread"], 1, "{}", inbox.body);
    let sheet = inbox.body["items"][0]["id"].as_str().unwrap().to_owned();
    let opened = get(&app, &doctor, &format!("/v1/contact-sheets/{sheet}")).await;
    assert_eq!(opened.body["state"], "read");
    assert!(opened.body["body"].as_str().unwrap().contains(doc.body["id"].as_str().unwrap()));
    let receipt = get(&app, &w.physician, &format!("/v1/contact-sheets/{sheet}")).await;
    assert!(receipt.body["read_at"].is_string(), "{}", receipt.body);
    // The same Bundle again files no second notice.
    send(&app, import(&w.patient, &w.physician, &fixture("referral"))).await;
    let inbox = get(&app, &doctor, "/v1/contact-sheets?box=inbox").await;
    assert_eq!(inbox.body["items"].as_array().unwrap().len(), 1);
}
