//! Keys: rotation while serving, interrupted rotation, erasure by crypto-shredding, refusing to
//! start without the right master key, and sealed values that cannot be moved.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{TestApp, World, auth, post, send};
use diesel::RunQueryDsl;
use serde_json::json;

async fn world<S, B>(t: &TestApp, app: &S) -> (String, Vec<String>, Vec<String>)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let clinic = World::new(t, app).org("clinic", "clinic").build().await.org("clinic");
    let physician = t.token("physician", &clinic);
    let mut patients = Vec::new();
    let mut docs = Vec::new();
    for i in 0..3 {
        let body = json!({
            "name": format!("患者{i}"), "birth_date": "1940-01-01", "sex": "male", "managing_organization": clinic,
            "ltc_insured_number": format!("000000000{i}")
        });
        let p = post(app, &physician, "/v1/patients", body).await.id();
        let content = json!({"care_level": "care_1", "diagnoses": [], "notes": format!("note {i}")});
        let doc = json!({"type": "care-path", "schema_version": "1.0.0", "content": content});
        let d = post(app, &physician, &format!("/v1/patients/{p}/documents"), doc).await;
        assert_eq!(d.status, 201, "{}", d.body);
        patients.push(p);
        docs.push(d.id());
    }
    (physician, patients, docs)
}

fn master_kids(t: &TestApp) -> Vec<String> {
    let text = std::fs::read_to_string(t.state.settings.data_dir.join("master.key")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn rotation_while_serving_keeps_everything_readable() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (physician, patients, docs) = world(&t, &app).await;
    let before = master_kids(&t);
    assert_eq!(before.len(), 1);
    let settings = t.state.settings.clone();
    let report = actix_web::rt::task::spawn_blocking(move || carepath::rotation::rotate(&settings, |_, _| {}))
        .await
        .unwrap()
        .unwrap();
    assert!(report.started_new_key);
    assert_eq!(report.rewrapped, 3);
    assert_eq!(report.retired, before, "the old key is dropped once no data key uses it");
    assert_eq!(master_kids(&t), std::slice::from_ref(&report.current_kid));

    // The running service meets the new key id and reloads the keyring.
    for (p, d) in patients.iter().zip(&docs) {
        let res =
            send(&app, TestRequest::get().uri(&format!("/v1/patients/{p}")).insert_header(auth(&physician))).await;
        assert_eq!(res.status, 200, "{}", res.body);
        let res =
            send(&app, TestRequest::get().uri(&format!("/v1/documents/{d}")).insert_header(auth(&physician))).await;
        assert_eq!(res.status, 200, "{}", res.body);
    }
    // Blind-index lookups survive rotation (the index key is independent of the master key).
    let found = send(
        &app,
        TestRequest::get().uri("/v1/patients?ltc_insured_number=0000000001").insert_header(auth(&physician)),
    )
    .await;
    assert_eq!(found.body["items"][0]["id"], patients[1].as_str());
}

#[actix_web::test]
async fn an_interrupted_rotation_resumes() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (physician, patients, docs) = world(&t, &app).await;
    // Interrupt by hand: a new key made current, one data key re-wrapped, then "killed".
    let mut keys = carepath::crypto::Keyring::load_or_create(&t.state.settings, true).unwrap();
    let old = keys.current_kid().to_owned();
    let new = keys.add_master_key().unwrap();
    {
        let mut conn = t.state.pool.get().unwrap();
        let row = carepath::db::patients::PatientRow::find(&mut conn, &patients[0]).unwrap().unwrap();
        let wrapped =
            carepath::crypto::WrappedKey { kid: row.data_key_kid.clone(), blob: row.data_key.clone().unwrap() };
        let re = keys.rewrap(&row.id, &wrapped).unwrap();
        assert!(
            carepath::db::patients::PatientRow::replace_data_key(&mut conn, &row.id, &old, &re.kid, &re.blob).unwrap()
        );
    }
    let settings = t.state.settings.clone();
    let report = actix_web::rt::task::spawn_blocking(move || carepath::rotation::rotate(&settings, |_, _| {}))
        .await
        .unwrap()
        .unwrap();
    assert!(!report.started_new_key, "a rerun finishes the rotation in progress");
    assert_eq!(report.current_kid, new);
    assert_eq!(report.rewrapped, 2);
    assert_eq!(master_kids(&t), [new]);
    for d in &docs {
        let res =
            send(&app, TestRequest::get().uri(&format!("/v1/documents/{d}")).insert_header(auth(&physician))).await;
        assert_eq!(res.status, 200, "{}", res.body);
    }
}

#[actix_web::test]
async fn erasure_shreds_the_patient_and_keeps_the_audit_trail() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (physician, patients, docs) = world(&t, &app).await;
    let admin = t.operator();
    send(
        &app,
        TestRequest::delete()
            .uri(&format!("/v1/patients/{}", patients[0]))
            .insert_header(auth(&physician))
            .set_json(json!({"reason": "本人の申出による削除"})),
    )
    .await
    .problem(403);
    let res = send(
        &app,
        TestRequest::delete()
            .uri(&format!("/v1/patients/{}", patients[0]))
            .insert_header(auth(&admin))
            .set_json(json!({"reason": "本人の申出による削除"})),
    )
    .await;
    assert_eq!(res.status, 204, "{:?}", res.body);
    send(&app, TestRequest::get().uri(&format!("/v1/patients/{}", patients[0])).insert_header(auth(&physician)))
        .await
        .problem(410);
    send(&app, TestRequest::get().uri(&format!("/v1/documents/{}", docs[0])).insert_header(auth(&physician)))
        .await
        .problem(410);
    send(
        &app,
        TestRequest::get().uri(&format!("/v1/documents/{}/versions/1", docs[0])).insert_header(auth(&physician)),
    )
    .await
    .problem(410);
    let search = send(
        &app,
        TestRequest::get().uri("/v1/patients?ltc_insured_number=0000000000").insert_header(auth(&physician)),
    )
    .await;
    assert_eq!(search.body["items"].as_array().unwrap().len(), 0);
    // Others are untouched.
    assert_eq!(
        send(&app, TestRequest::get().uri(&format!("/v1/documents/{}", docs[1])).insert_header(auth(&physician)))
            .await
            .status,
        200
    );
    let mut conn = t.state.pool.get().unwrap();
    let filter = carepath::db::audit::AuditFilter { patient_id: Some(patients[0].clone()), ..Default::default() };
    let rows = carepath::db::audit::AuditRow::list(&mut conn, &filter, 100).unwrap();
    assert!(rows.iter().any(|e| e.action == "patient.erase" && e.outcome == "allowed"), "{rows:?}");
    assert!(carepath::audit::verify(&mut conn, &t.state.audit_signer.public_key()).unwrap().ok);
}

#[actix_web::test]
async fn refuses_to_start_without_the_right_master_key() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (physician, patients, docs) = world(&t, &app).await;
    let _ = (&app, &physician, &patients, &docs);
    let settings = t.state.settings.clone();
    let key_file = settings.data_dir.join("master.key");
    let original = std::fs::read(&key_file).unwrap();

    std::fs::remove_file(&key_file).unwrap();
    let err = carepath::state::AppState::open(settings.clone()).err().expect("must refuse").to_string();
    assert!(err.contains("master") && err.contains("CAREPATH_MASTER_KEY_FILE"), "{err}");
    assert!(!key_file.exists(), "never creates a new master key over existing data");

    // A different keyring (another installation's) is refused too.
    let other = tempfile::tempdir().unwrap();
    let other_keys = carepath::config::Settings::for_data_dir(other.path());
    carepath::crypto::Keyring::load_or_create(&other_keys, false).unwrap();
    std::fs::copy(other.path().join("master.key"), &key_file).unwrap();
    let err = carepath::state::AppState::open(settings.clone()).err().expect("must refuse").to_string();
    assert!(err.contains("does not open"), "{err}");

    std::fs::write(&key_file, original).unwrap();
    assert!(carepath::state::AppState::open(settings).is_ok());
}

#[actix_web::test]
async fn a_sealed_value_moved_to_another_document_does_not_open() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (physician, patients, docs) = world(&t, &app).await;
    let _ = &patients;
    // Copy document 0's sealed content over document 1's, at the database.
    let mut conn = t.state.pool.get().unwrap();
    diesel::sql_query(format!(
        "UPDATE document_versions SET content = (SELECT content FROM document_versions WHERE document_id = '{}') WHERE document_id = '{}'",
        docs[0], docs[1]
    ))
    .execute(&mut *conn)
    .unwrap();
    drop(conn);
    let res =
        send(&app, TestRequest::get().uri(&format!("/v1/documents/{}", docs[1])).insert_header(auth(&physician))).await;
    assert!(!res.problem(500)["detail"].as_str().unwrap().contains("note 0"), "no plaintext in the error");
    assert_eq!(
        send(&app, TestRequest::get().uri(&format!("/v1/documents/{}", docs[0])).insert_header(auth(&physician)))
            .await
            .status,
        200
    );
}
