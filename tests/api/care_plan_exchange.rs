//! The care-plan data exchange CSV through the HTTP stack: the office's plans and months in,
//! a provider's files out (byte for byte), 実績 back, 削除, and every refusal naming its file,
//! record and column with nothing stored. The files are written here to the specification
//! (MS932, every field quoted, CRLF).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use base64::Engine as _;
use common::{Resp, TestApp, auth, send};
use serde_json::{Value, json};

const OFFICE: &str = "3370100015";
const DAY: &str = "3370200014";
const NURSE: &str = "3360190017";
const OTHER: &str = "3370300013";
const V: &str = "202306";

pub struct World {
    pub care_manager: String,
    pub day_service: String,
    pub nurse: String,
    pub other: String,
    pub patients: Vec<String>,
}

pub async fn post<S, B>(app: &S, token: &str, uri: &str, body: Value) -> Resp
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(app, TestRequest::post().uri(uri).insert_header(auth(token)).set_json(body)).await
}

pub async fn get<S, B>(app: &S, token: &str, uri: &str) -> Resp
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(app, TestRequest::get().uri(uri).insert_header(auth(token))).await
}

/// An office, two providers on the team, one provider that is not, and two patients.
pub async fn world<S, B>(t: &TestApp, app: &S) -> World
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let op = t.operator();
    let mut ids = Vec::new();
    for (name, kind, number) in [
        ("居宅介護支援事業所みどり", "care_management_office", OFFICE),
        ("デイサービスたかお", "care_facility", DAY),
        ("新見訪問看護ステーション", "visiting_nurse_station", NURSE),
        ("ほかの事業所", "care_facility", OTHER),
    ] {
        let res =
            post(app, &op, "/v1/organizations", json!({"name": name, "kind": kind, "ltc_provider_number": number}))
                .await;
        assert_eq!(res.status, 201, "{}", res.body);
        ids.push(res.id());
    }
    let care_manager = t.token("care_manager", &ids[0]);
    let mut patients = Vec::new();
    for (name, kana, birth, number) in [
        ("山田 花子", "ヤマダ ハナコ", "1939-04-01", "9900000001"),
        ("佐藤 一郎", "サトウ イチロウ", "1935-09-12", "9900000002"),
    ] {
        let body = json!({"name": name, "name_kana": kana, "birth_date": birth, "sex": "female",
            "ltc_insured_number": number, "ltc_insurer_number": "332106", "managing_organization": ids[0]});
        let res = post(app, &care_manager, "/v1/patients", body).await;
        assert_eq!(res.status, 201, "{}", res.body);
        let patient = res.id();
        let team = json!({"members": [
            {"organization": ids[0], "role": "care_manager", "since": "2025-04-01"},
            {"organization": ids[1], "role": "social_worker", "since": "2025-04-01"},
            {"organization": ids[2], "role": "nurse", "since": "2025-04-01"}]});
        let uri = format!("/v1/patients/{patient}/care-team");
        let res = send(app, TestRequest::put().uri(&uri).insert_header(auth(&care_manager)).set_json(team)).await;
        assert_eq!(res.status, 200, "{}", res.body);
        let consent = json!({
            "status": "active", "organizations": "care_team", "permitted_types": ["care-plan", "service-use"],
            "purposes": ["treatment"], "period": {"start": "2025-04-01"}, "obtained_by": "signed_form"
        });
        let res = post(app, &care_manager, &format!("/v1/patients/{patient}/consents"), consent).await;
        assert_eq!(res.status, 201, "{}", res.body);
        patients.push(patient);
    }
    World {
        care_manager,
        // The day service's 生活相談員: care workers read documents but do not write them.
        day_service: t.token("social_worker", &ids[1]),
        nurse: t.token("nurse", &ids[2]),
        other: t.token("care_worker", &ids[3]),
        patients,
    }
}

/// A file as the specification writes it: every field quoted, CRLF, MS932.
pub fn csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut text = String::new();
    for row in rows {
        let fields: Vec<String> = row.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect();
        text.push_str(&fields.join(","));
        text.push_str("\r\n");
    }
    carepath::careplan::sjis::encode(&text).unwrap()
}

fn r(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| (*f).to_owned()).collect()
}

pub fn supplement(number: &str, kana: &str, birth: &str) -> Vec<String> {
    r(&[
        V,
        "332106",
        number,
        "20260325",
        kana,
        "山田 花子",
        "2",
        birth,
        "718-0003",
        "岡山県新見市高尾",
        "2400番地",
        "0867-72-1234",
        "20260220",
        "20260301",
        "20270228",
        "22",
        "19705",
        "VND001",
        "",
    ])
}

pub fn table1(number: &str, policy: &str) -> Vec<String> {
    r(&[
        V,
        "332106",
        number,
        "20260325",
        "718-0003",
        "岡山県新見市高尾",
        "2400番地",
        "中村 由美",
        "居宅介護支援事業所みどり",
        "718-0011",
        "岡山県新見市新見",
        "1-2-3",
        OFFICE,
        "20260325",
        "20240401",
        "3",
        "1",
        "20260220",
        "20260301",
        "20270228",
        "22",
        "住み慣れた家で暮らしたい。\"できること\"は自分で。",
        "特になし",
        policy,
        "",
        "VND001",
        "PLAN-1",
    ])
}

pub fn table2(number: &str, service: &str, provider: &str, kind: &str) -> Vec<String> {
    r(&[
        V,
        "332106",
        number,
        "20260325",
        "20260325",
        "1",
        "一人での入浴が不安",
        "1",
        "安心して入浴できる",
        "週2回、見守りのもと入浴する",
        "R8.3.1～R9.2.28",
        "R8.3.1～R8.8.31",
        service,
        "入浴の見守り・一部介助",
        "1",
        kind,
        provider,
        "デイサービスたかお",
        "週2回",
        "R8.3.1～R8.8.31",
        "VND001",
        "",
    ])
}

pub fn usage6(number: &str, provider: &str, code: &str, days: &[u8]) -> Vec<String> {
    let mut row = r(&[
        V,
        "332106",
        number,
        "202604",
        OFFICE,
        "20260325",
        "0930",
        "1630",
        "通所介護",
        provider,
        "デイサービスたかお",
        code,
    ]);
    for d in 1..=31u8 {
        row.push(if days.contains(&d) { "1".into() } else { String::new() });
    }
    row.extend(r(&[&days.len().to_string(), "VND001", ""]));
    row
}

pub fn usage7(number: &str, provider: &str, code: &str) -> Vec<String> {
    r(&[
        V,
        "332106",
        number,
        "202604",
        provider,
        "デイサービスたかお",
        code,
        "通所介護Ⅱ32",
        "754",
        "",
        "",
        "9",
        "6786",
        "",
        "6786",
        "",
        "6786",
        "10.27",
        "69692",
        "90",
        "62722",
        "6970",
        "",
        "VND001",
        "",
    ])
}

pub fn file(name: &str, bytes: &[u8]) -> Value {
    json!({"name": name, "content": base64::engine::general_purpose::STANDARD.encode(bytes)})
}

pub fn bytes_of(file: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(file["content"].as_str().unwrap()).unwrap()
}

/// The plan unit for both patients, to the day service.
pub fn plan_unit(stamp: &str, policy: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>, Value) {
    let s = csv(&[
        supplement("9900000001", "ﾔﾏﾀﾞ ﾊﾅｺ", "19390401"),
        supplement("9900000002", "サトウ イチロウ", "19350912"),
    ]);
    let one = csv(&[table1("9900000001", policy), table1("9900000002", "見守りを続けます")]);
    let two = csv(&[
        table2("9900000001", "1", DAY, "通所介護"),
        table2("9900000001", "2", NURSE, "訪問看護"),
        table2("9900000002", "1", DAY, "通所介護"),
    ]);
    let body = json!({"files": [
        file(&format!("UPHOSOKU_000000_{OFFICE}_{DAY}_{stamp}.CSV"), &s),
        file(&format!("UP1KYO_{OFFICE}_{DAY}_{stamp}.CSV"), &one),
        file(&format!("UP2KYO_{OFFICE}_{DAY}_{stamp}.CSV"), &two),
    ]});
    (s, one, two, body)
}

fn exported<'a>(files: &'a Value, prefix: &str) -> &'a Value {
    files["files"].as_array().unwrap().iter().find(|f| f["name"].as_str().unwrap().starts_with(prefix)).unwrap()
}

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
