//! Care-plan exchange files written to the specification (MS932, every field quoted, CRLF) and the
//! world they are sent into: an office, two providers, a nurse station and two patients.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use super::{Resp, TestApp, auth, send};

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::TestRequest;
use base64::Engine as _;
use serde_json::{Value, json};

pub const OFFICE: &str = "3370100015";
pub const DAY: &str = "3370200014";
pub const NURSE: &str = "3360190017";
pub const OTHER: &str = "3370300013";
pub const V: &str = "202306";

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

pub fn r(fields: &[&str]) -> Vec<String> {
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

pub fn exported<'a>(files: &'a Value, prefix: &str) -> &'a Value {
    files["files"].as_array().unwrap().iter().find(|f| f["name"].as_str().unwrap().starts_with(prefix)).unwrap()
}
