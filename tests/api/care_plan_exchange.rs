//! The care-plan data exchange CSV through the HTTP stack: the office's plans and months in,
//! a provider's files out (byte for byte), 実績 back, 削除, and every refusal naming its file,
//! record and column with nothing stored. The files are written here to the specification
//! (MS932, every field quoted, CRLF).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common::care_plan_files::*;
use crate::common::{self, TestApp, auth, send};

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use serde_json::{Value, json};

#[actix_web::test]
async fn care_plan_import_is_stored_versioned_and_exports_byte_exact() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let (s, one, two, body) = plan_unit("20260325101500", "転倒を防ぎ在宅生活を続けます");
    let res = post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", body.clone()).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let stored = res.body["stored"].as_array().unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|s| s["outcome"] == "created"));
    assert_eq!(stored[0]["patient_id"], w.patients[0].as_str());
    let doc = stored[0]["document_id"].as_str().unwrap().to_owned();
    let read = get(&app, &w.care_manager, &format!("/v1/documents/{doc}")).await;
    assert_eq!(read.body["type"], "care-plan");
    assert_eq!(read.body["content"]["table2"].as_array().unwrap().len(), 2);

    // The same files again change nothing.
    let again = post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", body).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(again.body["stored"].as_array().unwrap().iter().all(|s| s["outcome"] == "unchanged"));

    // The day service receives both plans, byte for byte as sent.
    let files = get(&app, &w.day_service, "/v1/care-plan-exchange/exports").await;
    assert_eq!(files.status, 200, "{}", files.body);
    assert_eq!(files.body["files"].as_array().unwrap().len(), 3);
    assert_eq!(bytes_of(exported(&files.body, "UPHOSOKU_000000_")), s);
    assert_eq!(bytes_of(exported(&files.body, "UP1KYO_")), one);
    assert_eq!(bytes_of(exported(&files.body, "UP2KYO_")), two);
    let name = exported(&files.body, "UP1KYO_")["name"].as_str().unwrap();
    assert!(name.starts_with(&format!("UP1KYO_{OFFICE}_{DAY}_")), "{name}");
    // The files it exported import back to the same plans (the office sends them again).
    let back = post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", files.body.clone()).await;
    assert!(back.body["stored"].as_array().unwrap().iter().all(|s| s["outcome"] == "unchanged"), "{}", back.body);
    // An organisation without a 介護保険事業所番号 receives nothing (and is not refused).
    let clinic =
        post(&app, &t.operator(), "/v1/organizations", json!({"name": "新見クリニック", "kind": "clinic"})).await;
    let none = get(&app, &t.token("physician", &clinic.id()), "/v1/care-plan-exchange/exports?month=202604").await;
    assert_eq!(none.status, 200, "{}", none.body);
    assert_eq!(none.body["files"], json!([]));
    // A provider the 2表 does not name receives nothing.
    let none = get(&app, &w.other, "/v1/care-plan-exchange/exports").await;
    assert_eq!(none.body["files"], json!([]));

    // A changed plan is a new version; the history has both.
    let (_, _, _, changed) = plan_unit("20260410090000", "入浴の回数を週3回に増やします");
    let res = post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", changed).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["stored"][0]["outcome"], "updated");
    assert_eq!(res.body["stored"][0]["version"], 2);
    assert_eq!(res.body["stored"][1]["outcome"], "unchanged");
    let history = get(&app, &w.care_manager, &format!("/v1/documents/{doc}/history")).await;
    let versions = history.body["items"].as_array().or(history.body.as_array()).unwrap();
    assert_eq!(versions.len(), 2, "{}", history.body);

    // A 削除 file ends the plan as withdrawn.
    let del = csv(&[r(&[V, "332106", "9900000001", "20260410"])]);
    let body = json!({"files": [file(&format!("UP1KYODEL_{OFFICE}_{DAY}_20260415090000.CSV"), &del)]});
    let res = post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", body).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["stored"][0]["outcome"], "withdrawn");
    assert_eq!(get(&app, &w.care_manager, &format!("/v1/documents/{doc}")).await.status, 410);
}

#[actix_web::test]
async fn a_month_is_planned_exported_per_provider_and_its_actuals_come_back() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let stamp = "20260325101500";
    let s = csv(&[supplement("9900000001", "ﾔﾏﾀﾞ ﾊﾅｺ", "19390401")]);
    let day_rows = [usage6("9900000001", DAY, "151234", &[3, 7, 10, 14])];
    let nurse_row = usage6("9900000001", NURSE, "131111", &[5, 12]);
    let six = csv(&[day_rows[0].clone(), nurse_row]);
    let seven = csv(&[usage7("9900000001", DAY, "151234"), usage7("9900000001", NURSE, "131111")]);
    let body = json!({"files": [
        file(&format!("UPHOSOKU_202604_{OFFICE}_{DAY}_{stamp}.CSV"), &s),
        file(&format!("UPPLAN_202604_{OFFICE}_{DAY}_{stamp}.CSV"), &six),
        file(&format!("UPBEPYO_202604_{OFFICE}_{DAY}_{stamp}.CSV"), &seven),
    ]});
    let res = post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", body).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["stored"][0]["outcome"], "created");
    let doc = res.body["stored"][0]["document_id"].as_str().unwrap().to_owned();

    // The day service gets its own rows only, as the office's software would write them.
    let files = get(&app, &w.day_service, "/v1/care-plan-exchange/exports?month=202604").await;
    assert_eq!(files.status, 200, "{}", files.body);
    assert_eq!(bytes_of(exported(&files.body, "UPPLAN_202604_")), csv(&day_rows));
    assert_eq!(bytes_of(exported(&files.body, "UPBEPYO_202604_")), csv(&[usage7("9900000001", DAY, "151234")]));
    assert_eq!(bytes_of(exported(&files.body, "UPHOSOKU_202604_")), s);

    // The day service sends its 実績 back: one day fewer than planned.
    let actual = csv(&[usage6("9900000001", DAY, "151234", &[3, 7, 14])]);
    let body = json!({"files": [file(&format!("UPJSK_202604_{DAY}_{OFFICE}_20260501090000.CSV"), &actual)]});
    let res = post(&app, &w.day_service, "/v1/care-plan-exchange/imports", body).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["stored"][0]["outcome"], "updated");
    let read = get(&app, &w.care_manager, &format!("/v1/documents/{doc}")).await;
    assert_eq!(read.body["content"]["actual"][0]["total"], 3);
    assert_eq!(read.body["content"]["planned"].as_array().unwrap().len(), 2);
}

async fn refused<S, B>(app: &S, token: &str, body: Value) -> Vec<(String, String)>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = post(app, token, "/v1/care-plan-exchange/imports", body).await;
    assert_eq!(res.status, 422, "{}", res.body);
    res.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["pointer"].as_str().unwrap().to_owned(), e["message"].as_str().unwrap().to_owned()))
        .collect()
}

#[actix_web::test]
async fn bad_files_are_refused_by_row_and_column_and_nothing_is_stored() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let stamp = "20260325101500";
    let names = |kind: &str| format!("{kind}_{OFFICE}_{DAY}_{stamp}.CSV");
    let sname = format!("UPHOSOKU_000000_{OFFICE}_{DAY}_{stamp}.CSV");
    let (s, one, two, _) = plan_unit(stamp, "方針");
    let unit = |s: &[u8], one: &[u8], two: &[u8]| json!({"files": [file(&sname, s), file(&names("UP1KYO"), one), file(&names("UP2KYO"), two)]});

    // Not Shift-JIS: a byte that is no MS932, in the second record.
    let mut bad = csv(&[table1("9900000001", "方針")]);
    bad.extend(b"\"\xFF\"\r\n");
    let errors = refused(&app, &w.care_manager, unit(&s, &bad, &two)).await;
    assert!(errors.iter().any(|(p, m)| p == "/files/1/rows/2/columns/0" && m.contains("not Shift-JIS")), "{errors:?}");

    // An unknown CSV version, a missing one, and a record with too few columns.
    let mut wrong = table1("9900000001", "方針");
    wrong[0] = "199901".into();
    let mut missing = table1("9900000002", "方針");
    missing[0] = String::new();
    let short = r(&[V, "332106", "9900000001"]);
    let errors = refused(&app, &w.care_manager, unit(&s, &csv(&[wrong, missing]), &csv(&[short]))).await;
    assert!(
        errors.iter().any(|(p, m)| p == "/files/1/rows/1/columns/1" && m.contains("unknown CSV version")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|(p, m)| p == "/files/1/rows/2/columns/1" && m.contains("missing CSV version")),
        "{errors:?}"
    );
    assert!(errors.iter().any(|(p, m)| p == "/files/2/rows/1/columns/0" && m.contains("3 columns")), "{errors:?}");

    // A provider not in the directory (2表 column 17), and a patient whose birth date differs.
    let stranger =
        csv(&[table2("9900000001", "1", "3379999990", "通所介護"), table2("9900000002", "1", DAY, "通所介護")]);
    let s2 = csv(&[
        supplement("9900000001", "ﾔﾏﾀﾞ ﾊﾅｺ", "19390401"),
        supplement("9900000002", "サトウ イチロウ", "19350913"),
    ]);
    let errors = refused(&app, &w.care_manager, unit(&s2, &one, &stranger)).await;
    assert!(
        errors.iter().any(|(p, m)| p == "/files/2/rows/1/columns/17" && m.contains("not in the directory")),
        "{errors:?}"
    );
    // The mismatch names the record and the 被保険者番号, not which of name kana and birth date differs.
    let mismatch = errors.iter().find(|(p, _)| p == "/files/0/rows/2/columns/3").expect("the mismatch");
    assert!(mismatch.1.contains("with the same name kana and birth date"), "{mismatch:?}");

    // An unknown service code in the 6表 (column 12).
    let six = csv(&[usage6("9900000001", DAY, "991234", &[3])]);
    let body = json!({"files": [
        file(&format!("UPHOSOKU_202604_{OFFICE}_{DAY}_{stamp}.CSV"), &s),
        file(&format!("UPPLAN_202604_{OFFICE}_{DAY}_{stamp}.CSV"), &six),
        file(&format!("UPBEPYO_202604_{OFFICE}_{DAY}_{stamp}.CSV"), &csv(&[])),
    ]});
    let errors = refused(&app, &w.care_manager, body).await;
    assert!(
        errors.iter().any(|(p, m)| p == "/files/1/rows/1/columns/12" && m.contains("unknown サービス種類コード 99")),
        "{errors:?}"
    );

    // A sender that is not the caller's organisation.
    let errors = refused(&app, &w.nurse, unit(&s, &one, &two)).await;
    assert!(errors.iter().any(|(_, m)| m.contains("送信元")), "{errors:?}");

    // Nothing of it was stored: the day service has no files to receive.
    let files = get(&app, &w.day_service, "/v1/care-plan-exchange/exports").await;
    assert_eq!(files.body["files"], json!([]));
}

#[actix_web::test]
async fn directory_codes_are_checked_unique_and_searchable() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let body = json!({"name": "新見クリニック", "kind": "clinic", "medical_institution_code": "0110113719", "ltc_provider_number": "3310100011"});
    let res = post(&app, &op, "/v1/organizations", body).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["medical_institution_code"], "0110113719");
    let id = res.id();
    let found = get(&app, &op, "/v1/organizations?medical_institution_code=0110113719").await;
    assert_eq!(found.body["items"][0]["id"], id.as_str());
    let found = get(&app, &op, "/v1/organizations?ltc_provider_number=3310100011").await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    // A wrong check digit, a wrong length, a code another organisation has.
    let bad = json!({"name": "別の医院", "kind": "clinic", "medical_institution_code": "0110113718", "ltc_provider_number": "331010001"});
    let res = post(&app, &op, "/v1/organizations", bad).await;
    let pointers: Vec<&str> =
        res.problem(422)["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/medical_institution_code", "/ltc_provider_number"]);
    let taken = json!({"name": "別の医院", "kind": "clinic", "ltc_provider_number": "3310100011"});
    let res = post(&app, &op, "/v1/organizations", taken).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/ltc_provider_number");
    // The organisation's own admin does not change its codes.
    let admin = t.token("admin", &id);
    let change = json!({"name": "新見クリニック", "kind": "clinic", "medical_institution_code": "0110113719", "ltc_provider_number": "3310100029"});
    let uri = format!("/v1/organizations/{id}");
    let res = send(&app, TestRequest::put().uri(&uri).insert_header(auth(&admin)).set_json(change)).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/ltc_provider_number");
}

#[actix_web::test]
async fn the_console_shows_the_plan_the_month_and_the_upload_page() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let (_, _, _, body) = plan_unit("20260325101500", "転倒を防ぎ在宅生活を続けます");
    assert_eq!(post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", body).await.status, 200);
    let (_, _, _, changed) = plan_unit("20260410090000", "入浴の回数を週3回に増やします");
    assert_eq!(post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", changed).await.status, 200);
    let stamp = "20260325101500";
    let s = csv(&[supplement("9900000001", "ﾔﾏﾀﾞ ﾊﾅｺ", "19390401")]);
    let body = json!({"files": [
        file(&format!("UPHOSOKU_202604_{OFFICE}_{DAY}_{stamp}.CSV"), &s),
        file(&format!("UPPLAN_202604_{OFFICE}_{DAY}_{stamp}.CSV"), &csv(&[usage6("9900000001", DAY, "151234", &[3, 7])])),
        file(&format!("UPBEPYO_202604_{OFFICE}_{DAY}_{stamp}.CSV"), &csv(&[usage7("9900000001", DAY, "151234")])),
    ]});
    assert_eq!(post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", body).await.status, 200);
    let cookie = common::console_sign_in(&app, &w.care_manager).await;
    let page = |uri: String| TestRequest::get().uri(&uri).insert_header(("cookie", cookie.clone()));
    let patient = &w.patients[0];
    let plan = send(&app, page(format!("/console/patients/{patient}/care-plan"))).await;
    assert_eq!(plan.status, 200);
    let html = String::from_utf8(plan.raw.clone()).unwrap();
    assert!(
        html.contains("第2表") && html.contains("一人での入浴が不安") && html.contains("入浴の回数を週3回に増やします")
    );
    assert!(html.contains("data-testid=\"diff\""), "the change between the two versions is shown");
    let month = send(&app, page(format!("/console/patients/{patient}/service-use?month=2026-04"))).await;
    assert_eq!(month.status, 200);
    let html = String::from_utf8(month.raw.clone()).unwrap();
    assert!(html.contains("data-testid=\"calendar\"") && html.contains("通所介護"), "{html}");
    let upload = send(&app, page("/console/care-plan-exchange".into())).await;
    assert_eq!(upload.status, 200);
    assert!(String::from_utf8(upload.raw.clone()).unwrap().contains("ケアプランデータ連携ファイルの取込"));
}
