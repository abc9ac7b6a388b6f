//! The world of the FHIR server's tests (issue 32): a clinic managing a patient with a care
//! path and a discharge summary, a visiting-nurse station on the team with consent to care
//! paths, a stranger's hospital; and the requests those tests make.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use super::{Resp, TestApp, auth, send};
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::TestRequest;
use serde_json::{Value, json};

pub fn example(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/schemas/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A clinic managing a patient (care path with an infection, a discharge summary), a
/// visiting-nurse station on its care team with consent to the care path, a stranger's hospital.
pub struct World {
    pub clinic: String,
    pub station: String,
    pub patient: String,
    pub care_path: String,
    pub physician: String,
    pub care_manager: String,
    pub nurse: String,
    pub stranger: String,
}

pub async fn post<S, B>(app: &S, token: &str, uri: &str, body: Value) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(app, TestRequest::post().uri(uri).insert_header(auth(token)).set_json(body)).await
}

pub async fn get<S, B>(app: &S, token: &str, uri: &str) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(app, TestRequest::get().uri(uri).insert_header(auth(token))).await
}

pub async fn world<S, B>(t: &TestApp, app: &S) -> World
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let op = t.operator();
    let mut ids = Vec::new();
    for (name, kind) in [("clinic", "clinic"), ("station", "visiting_nurse_station"), ("hospital", "hospital")] {
        let res = post(app, &op, "/v1/organizations", json!({"name": name, "kind": kind})).await;
        ids.push(res.body["id"].as_str().unwrap().to_owned());
    }
    let physician = t.token("physician", &ids[0]);
    let patient = post(
        app,
        &physician,
        "/v1/patients",
        json!({
            "name": "山田 花子", "name_kana": "ヤマダ ハナコ", "birth_date": "1939-04-01", "sex": "female",
            "ltc_insured_number": "9876543210", "managing_organization": ids[0]
        }),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let doctor = post(
        app,
        &op,
        "/v1/practitioners",
        json!({"name": "高橋 健", "profession": "physician", "organization": ids[0]}),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team = json!({"members": [
        {"organization": ids[0], "practitioner": doctor, "role": "physician", "since": "2025-04-01"},
        {"organization": ids[1], "role": "nurse", "since": "2025-04-01"}]});
    let uri = format!("/v1/patients/{patient}/care-team");
    assert_eq!(
        send(app, TestRequest::put().uri(&uri).insert_header(auth(&physician)).set_json(team)).await.status,
        200
    );
    let mut care_path = example("care-path/examples/1.1.0-full.json");
    care_path["infections"] = json!([{"name": "MRSA保菌", "status": "carrier"}]);
    let mut docs = Vec::new();
    for (ty, version, content) in [
        ("care-path", "1.1.0", care_path),
        ("discharge-summary", "1.0.0", example("discharge-summary/examples/1.0.0-full.json")),
    ] {
        let doc = json!({"type": ty, "schema_version": version, "content": content});
        let res = post(app, &physician, &format!("/v1/patients/{patient}/documents"), doc).await;
        assert_eq!(res.status, 201, "{}", res.body);
        docs.push(res.body["id"].as_str().unwrap().to_owned());
    }
    let consent = json!({
        "status": "active", "organizations": "care_team", "permitted_types": ["care-path"], "purposes": ["treatment"],
        "period": {"start": "2025-04-01"}, "obtained_by": "signed_form"
    });
    let res = post(app, &physician, &format!("/v1/patients/{patient}/consents"), consent).await;
    assert_eq!(res.status, 201, "{}", res.body);
    World {
        clinic: ids[0].clone(),
        station: ids[1].clone(),
        patient,
        care_path: docs[0].clone(),
        physician,
        care_manager: t.token("care_manager", &ids[0]),
        nurse: t.token("nurse", &ids[1]),
        stranger: t.token("physician", &ids[2]),
    }
}

pub fn of_type<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

/// The path of an absolute URL of this server.
pub fn path(url: &str) -> &str {
    &url[url.find("/v1/").unwrap()..]
}

/// Waits for an export's manifest.
pub async fn manifest<S, B>(app: &S, token: &str, location: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    for _ in 0..500 {
        let res = get(app, token, path(location)).await;
        match res.status.as_u16() {
            200 => return res.body,
            202 => assert!(res.header("x-progress").is_some()),
            other => panic!("status {other}: {}", res.body),
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the export did not finish");
}
