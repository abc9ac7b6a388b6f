//! Bulk export on disk and over time (issue 26 items 4 and 5), through the HTTP stack on either
//! backend: files sealed and owner-only, jobs that expire, erasure that purges them, downloads
//! under the access rule of now, and the limits that keep exports from starving the server.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{TestApp, auth, hanako, send};
use serde_json::{Value, json};

fn care_path() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/care-path/examples/1.0.0-full.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A clinic managing a patient with a care path, a visiting-nurse station on its care team with
/// consent to read the care path.
struct World {
    clinic: String,
    patient: String,
    consent: String,
    physician: String,
    nurse: String,
}

async fn world<S, B>(t: &TestApp, app: &S) -> World
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut patient = hanako();
    patient["ltc_insured_number"] = json!("9876543210");
    let w = common::World::new(t, app)
        .org("clinic", "clinic")
        .org("station", "visiting_nurse_station")
        .patient(patient)
        .member("station", "nurse", "2025-04-01")
        .document("care-path", "1.0.0", care_path())
        .consent(json!({
            "status": "active", "organizations": "care_team", "permitted_types": ["care-path"],
            "purposes": ["treatment"], "period": {"start": "2025-04-01"}, "obtained_by": "signed_form"
        }))
        .build()
        .await;
    let nurse = t.token("nurse", &w.org("station"));
    World { clinic: w.org("clinic"), patient: w.patient, consent: w.consents[0].clone(), physician: w.author, nurse }
}

/// Kicks off an export and waits for its manifest; (job location, manifest).
async fn export<S, B>(app: &S, token: &str) -> (String, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let kick = send(app, TestRequest::post().uri("/v1/fhir/$export").insert_header(auth(token))).await;
    assert_eq!(kick.status, 202, "{}", kick.body);
    let location = kick.header("content-location").unwrap().to_owned();
    for _ in 0..300 {
        let res = send(app, TestRequest::get().uri(&location).insert_header(auth(token))).await;
        match res.status.as_u16() {
            200 => return (location, res.body),
            202 => {}
            other => panic!("status {other}: {}", res.body),
        }
        // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the export did not finish");
}

/// The path of the manifest's file of `kind`.
fn file_path(manifest: &Value, kind: &str) -> String {
    let outputs = manifest["output"].as_array().unwrap();
    let url = outputs.iter().find(|o| o["type"] == kind).unwrap_or_else(|| panic!("no {kind}: {manifest}"))["url"]
        .as_str()
        .unwrap();
    url[url.find("/v1/").unwrap()..].to_owned()
}

fn job_dir(t: &TestApp, location: &str) -> PathBuf {
    t.state.settings.data_dir.join("fhir-exports").join(location.rsplit('/').next().unwrap())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[actix_web::test]
async fn export_files_are_sealed_owner_only_and_expire() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let (location, manifest) = export(&app, &w.physician).await;
    let dir = job_dir(&t, &location);
    assert_eq!(mode(dir.parent().unwrap()), 0o700);
    assert_eq!(mode(&dir), 0o700);
    let mut on_disk = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        on_disk.extend(std::fs::read(&path).unwrap());
    }
    let on_disk = String::from_utf8_lossy(&on_disk);
    for clear in ["山田", "9876543210", "1939-04-01"] {
        assert!(!on_disk.contains(clear), "{clear} is on disk in clear");
    }
    assert!(!on_disk.contains("\"resourceType\""), "no FHIR resource is on disk in clear");
    // Downloaded, the files open to the resources.
    let file =
        send(&app, TestRequest::get().uri(&file_path(&manifest, "Patient")).insert_header(auth(&w.physician))).await;
    assert_eq!(file.status, 200);
    let line: Value = serde_json::from_slice(file.raw.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["id"], w.patient.as_str());
    assert!(String::from_utf8_lossy(&file.raw).contains("9876543210"));

    // Past its expiry a job answers 404 and its files are gone, whether reached or swept.
    let job_file = dir.join("job.json");
    let mut job: Value = serde_json::from_slice(&std::fs::read(&job_file).unwrap()).unwrap();
    job["expires_at"] = json!("2020-01-01T00:00:00Z");
    std::fs::write(&job_file, serde_json::to_vec(&job).unwrap()).unwrap();
    send(&app, TestRequest::get().uri(&location).insert_header(auth(&w.physician))).await.outcome(404);
    assert!(!dir.exists(), "an expired job is deleted when reached");
    let (location, _) = export(&app, &w.physician).await;
    let dir = job_dir(&t, &location);
    let job_file = dir.join("job.json");
    let mut job: Value = serde_json::from_slice(&std::fs::read(&job_file).unwrap()).unwrap();
    let expires = carepath::clock::parse(job["expires_at"].as_str().unwrap()).unwrap();
    let started = carepath::clock::parse(job["transaction_time"].as_str().unwrap()).unwrap();
    assert_eq!(expires - started, time::Duration::hours(24), "the default expiry");
    assert_eq!(carepath::domain::exports::sweep(&t.state), 0, "nothing expired yet");
    job["expires_at"] = json!("2020-01-01T00:00:00Z");
    std::fs::write(&job_file, serde_json::to_vec(&job).unwrap()).unwrap();
    assert_eq!(carepath::domain::exports::sweep(&t.state), 1);
    assert!(!dir.exists(), "the sweep deleted the expired job");
}

#[actix_web::test]
async fn a_download_applies_the_access_rule_of_now_and_erasure_purges_jobs() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let (location, manifest) = export(&app, &w.nurse).await;
    let composition = file_path(&manifest, "MedicationStatement");
    let patient_file = file_path(&manifest, "Patient");
    let got = send(&app, TestRequest::get().uri(&composition).insert_header(auth(&w.nurse))).await;
    assert_eq!(got.status, 200);
    assert!(String::from_utf8_lossy(&got.raw).contains(&w.patient), "the team member's export holds the patient");

    // The consent is revoked: the former reader downloads nothing of the patient any more.
    let res = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{}/consents/{}/revoke", w.patient, w.consent))
            .insert_header(auth(&w.physician))
            .set_json(json!({"reason": "家族の希望により撤回"})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    for path in [&composition, &patient_file] {
        let got = send(&app, TestRequest::get().uri(path).insert_header(auth(&w.nurse))).await;
        assert_eq!(got.status, 200);
        assert!(
            !String::from_utf8_lossy(&got.raw).contains(&w.patient),
            "{path}: {}",
            String::from_utf8_lossy(&got.raw)
        );
    }
    assert!(job_dir(&t, &location).exists());

    // Erasure deletes every job that holds the patient.
    let (physicians_job, _) = export(&app, &w.physician).await;
    let admin = t.token("admin", &w.clinic);
    let res = send(
        &app,
        TestRequest::delete()
            .uri(&format!("/v1/patients/{}", w.patient))
            .insert_header(auth(&admin))
            .set_json(json!({"reason": "request of the family"})),
    )
    .await;
    assert_eq!(res.status, 204, "{}", res.body);
    for (job, token) in [(&location, &w.nurse), (&physicians_job, &w.physician)] {
        send(&app, TestRequest::get().uri(job).insert_header(auth(token))).await.outcome(404);
        assert!(!job_dir(&t, job).exists(), "{job} was purged");
    }
}

#[actix_web::test]
async fn exports_are_limited_per_caller_per_organisation_and_by_disk() {
    let t = TestApp::with(|s| s.exports.jobs_per_org = 2);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let kick = |token: &str| TestRequest::post().uri("/v1/fhir/$export").insert_header(auth(token));

    // While the caller's export runs (its place is taken here, as a running export holds it),
    // another kick-off by the same caller is refused; a colleague's is not.
    let role: carepath::auth::Role = "physician".parse().unwrap();
    let owner = (w.clinic.clone(), format!("{role:?}-tester"), "physician".to_owned());
    let running = t.state.exports.start(owner, 2).unwrap();
    let res = send(&app, kick(&w.physician)).await;
    assert!(
        res.outcome(429)["diagnostics"].as_str().unwrap().contains("already have an export running"),
        "{}",
        res.body
    );
    assert!(res.header("retry-after").is_some());
    // The global cap: two running in all, so a second caller is refused while both places are taken.
    let other = ("elsewhere".to_owned(), "x".to_owned(), "nurse".to_owned());
    let second = t.state.exports.start(other, 2).unwrap();
    send(&app, kick(&w.nurse)).await.outcome(429);
    drop((running, second));

    // The organisation's quota of kept jobs.
    export(&app, &w.physician).await;
    let (first, _) = export(&app, &w.physician).await;
    let res = send(&app, kick(&t.token("nurse", &w.clinic))).await;
    assert!(res.outcome(429)["diagnostics"].as_str().unwrap().contains("quota is 2"), "{}", res.body);
    assert!(send(&app, kick(&w.nurse)).await.status == 202, "another organisation has a quota of its own");
    assert_eq!(send(&app, TestRequest::delete().uri(&first).insert_header(auth(&w.physician))).await.status, 202);
    assert_eq!(send(&app, kick(&w.physician)).await.status, 202, "a deleted job frees its place");

    // Too little free disk: 507, and nothing is left behind.
    let t = TestApp::with(|s| s.exports.min_free_mib = u64::MAX);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let res = send(&app, kick(&w.physician)).await;
    assert!(res.outcome(507)["diagnostics"].as_str().unwrap().contains("disk"), "{}", res.body);
    let jobs = t.state.settings.data_dir.join("fhir-exports");
    assert!(!jobs.exists() || std::fs::read_dir(&jobs).unwrap().next().is_none());
}
