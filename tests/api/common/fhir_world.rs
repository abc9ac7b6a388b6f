//! The world of the FHIR server's tests (issue 32): a clinic managing a patient with a care
//! path and a discharge summary, a visiting-nurse station on the team with consent to care
//! paths, a stranger's hospital; and the requests those tests make.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use super::{TestApp, hanako};
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
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

pub use super::{get, post};

pub async fn world<S, B>(t: &TestApp, app: &S) -> World
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut care_path = example("care-path/examples/1.1.0-full.json");
    care_path["infections"] = json!([{"name": "MRSA保菌", "status": "carrier"}]);
    let mut patient = hanako();
    patient["name_kana"] = json!("ヤマダ ハナコ");
    patient["ltc_insured_number"] = json!("9876543210");
    let w = super::World::new(t, app)
        .org("clinic", "clinic")
        .org("station", "visiting_nurse_station")
        .org("hospital", "hospital")
        .practitioner("doctor", "高橋 健", "physician", "clinic")
        .patient(patient)
        .member_as("clinic", "doctor", "physician", "2025-04-01")
        .member("station", "nurse", "2025-04-01")
        .document("care-path", "1.1.0", care_path)
        .document("discharge-summary", "1.0.0", example("discharge-summary/examples/1.0.0-full.json"))
        .consent(json!({
            "status": "active", "organizations": "care_team", "permitted_types": ["care-path"],
            "purposes": ["treatment"], "period": {"start": "2025-04-01"}, "obtained_by": "signed_form"
        }))
        .build()
        .await;
    World {
        clinic: w.org("clinic"),
        station: w.org("station"),
        patient: w.patient.clone(),
        care_path: w.document(),
        physician: w.author.clone(),
        care_manager: t.token("care_manager", &w.org("clinic")),
        nurse: t.token("nurse", &w.org("station")),
        stranger: t.token("physician", &w.org("hospital")),
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
        // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the export did not finish");
}
