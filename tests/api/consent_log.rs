//! The auditors' consent log through the HTTP stack, on either backend: consent versions, the
//! basis of every access, revocation, tamper detection, coverage for care managers.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{TestApp, World, auth, hanako, send};
use diesel::RunQueryDsl;
use serde_json::{Value, json};

fn today_plus(days: i64) -> String {
    carepath::clock::format_day(time::OffsetDateTime::now_utc().date() + time::Duration::days(days))
}

fn care_path() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/care-path/examples/1.0.0-full.json"))
            .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A clinic managing a patient with a care path; a visiting-nurse station and a pharmacy on the
/// care team; a consent (given by a proxy) naming the station, ending in ten days.
async fn world<S, B>(t: &TestApp, app: &S) -> (String, String, String, String, String, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let w = World::new(t, app)
        .org("clinic", "clinic")
        .org("station", "visiting_nurse_station")
        .org("pharmacy", "pharmacy")
        .patient(hanako())
        .member("station", "nurse", &today_plus(-10))
        .member("pharmacy", "pharmacist", &today_plus(-10))
        .document("care-path", "1.0.0", care_path())
        .consent(json!({
            "status": "active", "organizations": ["station"], "permitted_types": ["care-path"], "purposes": ["treatment"],
            "period": {"start": today_plus(-1), "end": today_plus(10)}, "obtained_by": "proxy",
            "proxy": {"name": "山田 太郎PROXYMARK", "relation": "eldest_son"}
        }))
        .build()
        .await;
    (w.org("clinic"), w.org("station"), w.org("pharmacy"), w.patient.clone(), w.document(), w.consents[0].clone())
}

fn basis(event: &Value) -> Value {
    event["basis"].as_str().map(|b| serde_json::from_str(b).unwrap()).unwrap_or(Value::Null)
}

#[actix_web::test]
async fn an_auditor_reconstructs_each_consent_version_and_the_consent_behind_each_read() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, pharmacy, patient, doc, cid) = world(&t, &app).await;
    let _ = &pharmacy;
    let physician = t.token("physician", &clinic);
    let nurse = t.token("nurse", &station);
    let auditor = t.token("auditor", &clinic);
    let read = || TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&nurse));
    for _ in 0..2 {
        assert_eq!(send(&app, read()).await.status, 200);
    }
    let res = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents/{cid}/revoke"))
            .insert_header(auth(&physician))
            .set_json(json!({"reason": "家族の希望により撤回REASONMARK"})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    // After the revocation the read is refused, and the event names the failed condition.
    send(&app, read()).await.problem(404);

    // Each version, with its terms, its proxy's relation (never the name), and its event.
    let log = send(
        &app,
        TestRequest::get().uri(&format!("/v1/consent-log?patient_id={patient}")).insert_header(auth(&auditor)),
    )
    .await;
    assert_eq!(log.status, 200, "{}", log.body);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", log.body);
    assert_eq!((items[0]["version"].clone(), items[0]["status"].clone()), (json!(1), json!("active")));
    assert_eq!((items[1]["version"].clone(), items[1]["status"].clone()), (json!(2), json!("revoked")));
    for item in items {
        assert_eq!(item["consent_id"], cid.as_str());
        assert_eq!(item["organizations"], json!([station]));
        assert_eq!(item["obtained_by"], "proxy");
        assert_eq!((item["by_proxy"].clone(), item["proxy_relation"].clone()), (json!(true), json!("eldest_son")));
        let record: carepath::audit::ConsentRecord = serde_json::from_value(item["record"].clone()).unwrap();
        assert_eq!(item["digest"].as_str(), Some(record.digest().as_str()), "the record re-hashes to the digest");
        assert!(item["event_seq"].is_i64());
    }
    assert_eq!(items[1]["revocation"]["by"], "Physician-tester");
    assert_eq!(items[1]["revocation"]["reason_given"], true);
    assert!(!log.raw.windows(9).any(|w| w == b"PROXYMARK"), "no proxy name in the log");
    assert!(!String::from_utf8_lossy(&log.raw).contains("REASONMARK"), "no free-text reason in the log");

    // The event that created each version carries its digest.
    let events = send(
        &app,
        TestRequest::get().uri(&format!("/v1/audit-events?patient_id={patient}")).insert_header(auth(&auditor)),
    )
    .await;
    let events = events.body["items"].as_array().unwrap().clone();
    for item in items {
        let seq = item["event_seq"].as_i64().unwrap();
        let event = events.iter().find(|e| e["seq"] == seq).unwrap();
        assert_eq!(event["digest"], item["digest"]);
        assert_eq!(event["resource_version"], item["version"]);
    }
    // Every read by the station names the consent version that allowed it, or why it did not.
    let reads: Vec<&Value> =
        events.iter().filter(|e| e["action"] == "document.read" && e["actor_org"] == station.as_str()).collect();
    assert_eq!(reads.len(), 3);
    for e in &reads[..2] {
        assert_eq!(e["outcome"], "allowed");
        assert_eq!(
            basis(e),
            json!({"kind": "consent", "organization": station, "consent_id": cid, "consent_version": 1})
        );
    }
    assert_eq!(reads[2]["outcome"], "denied");
    assert_eq!(basis(reads[2]), json!({"kind": "denied", "condition": "consent_revoked"}));
    // The managing organisation's own accesses rest on managing.
    let own = events.iter().find(|e| e["action"] == "document.create").unwrap();
    assert_eq!(basis(own), json!({"kind": "managing_organization", "organization": clinic}));
    // Nothing absent is written as the word "None".
    for e in &events {
        for (field, value) in e.as_object().unwrap() {
            assert_ne!(value, "None", "{field} of event {}", e["seq"]);
        }
    }

    // Access under the consent: the two reads it allowed, then only the refusal after it ended.
    let accesses =
        send(&app, TestRequest::get().uri(&format!("/v1/consent-log/{cid}/accesses")).insert_header(auth(&auditor)))
            .await;
    assert_eq!(accesses.status, 200, "{}", accesses.body);
    let list = accesses.body["items"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{}", accesses.body);
    assert!(list[..2].iter().all(|a| a["outcome"] == "allowed" && a["after_revocation"] == false));
    assert_eq!((list[2]["outcome"].clone(), list[2]["after_revocation"].clone()), (json!("denied"), json!(true)));
    assert!(
        !list.iter().any(|a| a["after_revocation"] == true && a["outcome"] == "allowed"),
        "no access after the revocation"
    );

    let raw = common::raw_database_text(&t);
    assert!(!raw.contains("PROXYMARK"), "the proxy's name is sealed at rest");
}

#[actix_web::test]
async fn the_consent_log_filters_pages_refuses_clinicians_and_exports_what_the_chain_vouches_for() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, pharmacy, patient, doc, cid) = world(&t, &app).await;
    let _ = (&doc, &cid);
    let auditor = t.token("auditor", &clinic);
    let get = |q: &str, token: &str| TestRequest::get().uri(&format!("/v1/consent-log{q}")).insert_header(auth(token));
    let count = |body: &Value| body["items"].as_array().map_or(0, Vec::len);
    for (query, expected) in [
        (format!("?patient_id={patient}"), 1),
        (format!("?organization={station}"), 1),
        (format!("?organization={pharmacy}"), 0),
        ("?status=active".to_owned(), 1),
        ("?status=revoked".to_owned(), 0),
        ("?obtained_by=verbal".to_owned(), 0),
        (format!("?expiring_before={}", today_plus(20)), 1),
        (format!("?expiring_before={}", today_plus(5)), 0),
        ("?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z".to_owned(), 1),
        ("?to=2000-01-01T00:00:00Z".to_owned(), 0),
    ] {
        let res = send(&app, get(&query, &auditor)).await;
        assert_eq!(res.status, 200, "{query}: {}", res.body);
        assert_eq!(count(&res.body), expected, "{query}: {}", res.body);
    }
    send(&app, get("?status=maybe", &auditor)).await.problem(422);
    send(&app, get("?expiring_before=soon", &auditor)).await.problem(422);
    send(&app, get("?cursor=nonsense", &auditor)).await.problem(422);
    send(&app, get("", &t.token("physician", &clinic))).await.problem(403);
    send(&app, get("", &t.token("admin", &clinic))).await.problem(403);
    assert_eq!(send(&app, get("", &t.operator())).await.status, 200, "the operator's admin reviews too");

    // The NDJSON export checks against the audit export with nothing but the public key.
    let consents = send(&app, TestRequest::get().uri("/v1/consent-log/export").insert_header(auth(&auditor))).await;
    assert_eq!(consents.status, 200);
    assert_eq!(consents.header("content-type"), Some("application/x-ndjson"));
    let consents = String::from_utf8(consents.raw).unwrap();
    assert_eq!(consents.lines().count(), 1);
    assert!(!consents.contains("PROXYMARK"));
    let audit = send(&app, TestRequest::get().uri("/v1/audit-events/export").insert_header(auth(&auditor))).await;
    let audit = String::from_utf8(audit.raw).unwrap();
    let key = send(&app, TestRequest::get().uri("/v1/audit-events/public-key").insert_header(auth(&auditor))).await;
    let key = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(key.body["public_key"].as_str().unwrap()).unwrap()
    };
    let mut result = carepath::audit::verify_export(&audit, &key).unwrap();
    carepath::audit::check_consent_log(&audit, &consents, &mut result).unwrap();
    assert!(result.ok, "{result:?}");
    // A line edited after export no longer matches its event.
    let forged = consents.replace(&format!("\\\"{station}\\\""), "\\\"care_team\\\"");
    assert_ne!(forged, consents);
    let mut result = carepath::audit::verify_export(&audit, &key).unwrap();
    carepath::audit::check_consent_log(&audit, &forged, &mut result).unwrap();
    assert!(!result.ok && result.reason.as_deref().unwrap().contains("does not match the digest"), "{result:?}");
}

#[actix_web::test]
async fn editing_a_consent_row_in_the_database_is_detected_by_verify_naming_the_event() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, pharmacy, patient, doc, cid) = world(&t, &app).await;
    let _ = (&station, &pharmacy, &patient, &doc);
    let auditor = t.token("auditor", &clinic);
    let verify = || TestRequest::get().uri("/v1/audit-events/verify").insert_header(auth(&auditor));
    let before = send(&app, verify()).await;
    assert_eq!(before.body["ok"], true, "{}", before.body);
    let log = send(&app, TestRequest::get().uri("/v1/consent-log").insert_header(auth(&auditor))).await;
    let seq = log.body["items"][0]["event_seq"].as_i64().unwrap();

    // Widening the consent to the whole care team, as someone with the database might.
    let mut conn = t.state.pool.get().unwrap();
    let sql = format!("UPDATE consents SET organizations = '\"care_team\"' WHERE id = '{cid}'");
    assert_eq!(diesel::sql_query(sql).execute(&mut *conn).unwrap(), 1);
    drop(conn);
    let after = send(&app, verify()).await;
    assert_eq!(after.body["ok"], false, "{}", after.body);
    assert_eq!(after.body["first_broken"], seq, "{}", after.body);
    let reason = after.body["reason"].as_str().unwrap();
    assert!(reason.contains(&cid) && reason.contains(&format!("event {seq}")), "{reason}");
}

#[actix_web::test]
async fn coverage_shows_a_member_without_consent_and_an_expiring_one() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, pharmacy, patient, doc, cid) = world(&t, &app).await;
    let _ = &doc;
    let care_manager = t.token("care_manager", &clinic);
    let res = send(
        &app,
        TestRequest::get().uri(&format!("/v1/patients/{patient}/consents/coverage")).insert_header(auth(&care_manager)),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let members = res.body["members"].as_array().unwrap();
    assert_eq!(members.len(), 2, "{}", res.body);
    let of = |org: &str| members.iter().find(|m| m["organization"] == org).unwrap().clone();
    let station_cov = of(&station);
    assert_eq!(station_cov["covered"], true);
    assert_eq!(station_cov["expiring"], true, "ends in ten days");
    assert_eq!(station_cov["covered_until"], today_plus(10));
    assert_eq!(station_cov["consents"][0]["consent_id"], cid.as_str());
    assert_eq!(station_cov["consents"][0]["permitted_types"], json!(["care-path"]));
    let pharmacy_cov = of(&pharmacy);
    assert_eq!((pharmacy_cov["covered"].clone(), pharmacy_cov["expiring"].clone()), (json!(false), json!(false)));
    assert_eq!(pharmacy_cov["consents"], json!([]));
    // A stranger learns nothing; an auditor has no clinical role here.
    let other = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "elsewhere", "kind": "clinic"})),
    )
    .await;
    let stranger = t.token("care_manager", &other.id());
    let coverage = |token: &str| {
        TestRequest::get().uri(&format!("/v1/patients/{patient}/consents/coverage")).insert_header(auth(token))
    };
    send(&app, coverage(&stranger)).await.problem(404);
    send(&app, coverage(&t.token("auditor", &clinic))).await.problem(403);
}
