//! Consent, break-glass and the audit log through the HTTP stack, on either backend.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{TestApp, World, auth, hanako, send};
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

/// A clinic managing a patient with a care path; a visiting-nurse station on the care team.
async fn world<S, B>(t: &TestApp, app: &S) -> (String, String, String, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let w = World::new(t, app)
        .org("clinic", "clinic")
        .org("station", "visiting_nurse_station")
        .patient(hanako())
        .member("station", "nurse", &today_plus(-10))
        .document("care-path", "1.0.0", care_path())
        .build()
        .await;
    (w.org("clinic"), w.org("station"), w.patient.clone(), w.document())
}

#[actix_web::test]
async fn consent_opens_and_revocation_closes_documents_to_the_care_team() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, patient, doc) = world(&t, &app).await;
    let physician = t.token("physician", &clinic);
    let nurse = t.token("nurse", &station);
    let read = || TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&nurse));

    // Opt-in: on the care team, but no consent yet. The patient is readable, so the list answers
    // 200 with nothing in it (issue 22 item 7); the document itself is 404.
    send(&app, read()).await.problem(404);
    let list = || TestRequest::get().uri(&format!("/v1/patients/{patient}/documents")).insert_header(auth(&nurse));
    let listed = send(&app, list()).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["items"], json!([]), "{}", listed.body);

    let consent = json!({
        "status": "active", "organizations": "care_team", "permitted_types": ["care-path"], "purposes": ["treatment"],
        "period": {"start": today_plus(-1)}, "obtained_by": "proxy", "proxy": {"name": "山田 太郎PROXYMARK", "relation": "eldest_son"}
    });
    // A nurse on the team may not record consent (the managing organisation or a care manager
    // on the team does).
    send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents"))
            .insert_header(auth(&nurse))
            .set_json(consent.clone()),
    )
    .await
    .problem(403);
    let res = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents"))
            .insert_header(auth(&physician))
            .set_json(consent),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let cid = res.id();
    assert_eq!(res.body["proxy"]["name"], "山田 太郎PROXYMARK");

    let got = send(&app, read()).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["content"]["medications"], care_path()["medications"]);
    // Another purpose is not covered.
    let research = send(&app, read().insert_header(("x-purpose", "research"))).await;
    research.problem(404);

    let res = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents/{cid}/revoke"))
            .insert_header(auth(&physician))
            .set_json(json!({"reason": "家族の希望により撤回"})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["status"], "revoked");
    send(&app, read()).await.problem(404);
    // After the revocation the patient still answers 200, and so does the list: empty.
    let patient_record =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}")).insert_header(auth(&nurse))).await;
    assert_eq!(patient_record.status, 200, "{}", patient_record.body);
    let listed = send(&app, list()).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["items"], json!([]), "{}", listed.body);
    // A stranger to the patient still gets 404 for the list, as for the record.
    let other = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "other station", "kind": "visiting_nurse_station"})),
    )
    .await;
    let stranger = t.token("nurse", &other.id());
    let listed =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}/documents")).insert_header(auth(&stranger)))
            .await;
    assert_eq!(listed.problem(404)["detail"], "no such patient");
    let again = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents/{cid}/revoke"))
            .insert_header(auth(&physician))
            .set_json(json!({"reason": "again"})),
    )
    .await;
    again.problem(409);

    let consents =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{patient}/consents")).insert_header(auth(&nurse)))
            .await;
    assert_eq!(consents.body["items"][0]["revoke_reason"], "家族の希望により撤回");
    let raw = common::raw_database_text(&t);
    assert!(!raw.contains("PROXYMARK"), "the proxy's name is sealed");
}

#[actix_web::test]
async fn consent_input_errors_name_their_fields() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, patient, doc) = world(&t, &app).await;
    let _ = (&station, &doc);
    let physician = t.token("physician", &clinic);
    let res = send(
        &app,
        TestRequest::post().uri(&format!("/v1/patients/{patient}/consents")).insert_header(auth(&physician)).set_json(
            json!({
                "status": "revoked", "organizations": ["nowhere"], "permitted_types": ["horoscope"], "purposes": [],
                "period": {"start": "2026-02-30"}, "obtained_by": "proxy"
            }),
        ),
    )
    .await;
    let mut pointers: Vec<String> = res.problem(422)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap().to_owned())
        .collect();
    pointers.sort();
    assert_eq!(pointers, ["/period/start", "/permitted_types/0", "/proxy", "/purposes", "/status"]);
}

#[actix_web::test]
async fn restricted_fields_are_withheld_unless_released() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, patient, doc) = world(&t, &app).await;
    let physician = t.token("physician", &clinic);
    let pharmacy = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "pharmacy", "kind": "pharmacy"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(&app, TestRequest::put().uri(&format!("/v1/patients/{patient}/care-team")).insert_header(auth(&physician))
        .set_json(json!({"members": [{"organization": station, "role": "nurse", "since": today_plus(-10)}, {"organization": pharmacy, "role": "pharmacist", "since": today_plus(-10)}]}))).await;
    let consent = |release: bool| {
        json!({"status": "active", "organizations": [pharmacy], "purposes": ["treatment"],
        "period": {"start": today_plus(-1)}, "obtained_by": "signed_form", "release_restricted": release})
    };
    let cid = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents"))
            .insert_header(auth(&physician))
            .set_json(consent(false)),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pharmacist = t.token("pharmacist", &pharmacy);
    let read = || TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&pharmacist));
    let res = send(&app, read()).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body["content"].get("infections").is_none());
    assert!(res.body["withheld"].as_array().unwrap().contains(&json!("/infections")));

    send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents/{cid}/revoke"))
            .insert_header(auth(&physician))
            .set_json(json!({"reason": "replaced"})),
    )
    .await;
    send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents"))
            .insert_header(auth(&physician))
            .set_json(consent(true)),
    )
    .await;
    let res = send(&app, read()).await;
    assert_eq!(res.body["content"]["infections"], care_path()["infections"]);
    assert!(res.body.get("withheld").is_none());
}

#[actix_web::test]
async fn break_glass_opens_a_record_and_is_flagged_for_review() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, patient, doc) = world(&t, &app).await;
    let _ = (&clinic, &station, &patient);
    let er = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": "救急病院", "kind": "hospital"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let er_doctor = t.token("physician", &er);
    let read = || TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&er_doctor));
    send(&app, read()).await.problem(404);
    send(&app, read().insert_header(("x-break-glass", "short"))).await.problem(422);
    send(
        &app,
        TestRequest::get()
            .uri(&format!("/v1/documents/{doc}"))
            .insert_header(auth(&t.token("care_manager", &er)))
            .insert_header(("x-break-glass", "救急搬送、意識レベル低下のため既往歴を確認")),
    )
    .await
    .problem(403);
    let opened =
        send(&app, read().insert_header(("x-break-glass", "救急搬送、意識レベル低下のため既往歴を確認"))).await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    assert_eq!(opened.body["content"]["infections"], care_path()["infections"], "physicians see restricted fields");
    // The grant lasts: the next read needs no header, and is flagged too.
    assert_eq!(send(&app, read()).await.status, 200);
    // Writing is never opened by break-glass.
    let put = TestRequest::put()
        .uri(&format!("/v1/documents/{doc}"))
        .insert_header(auth(&er_doctor))
        .insert_header(("if-match", "\"1\""))
        .insert_header(("x-break-glass", "救急搬送、意識レベル低下のため既往歴を確認"))
        .set_json(json!({"type": "care-path", "schema_version": "1.0.0", "content": care_path()}));
    send(&app, put).await.problem(404);

    let auditor = t.token("auditor", &clinic);
    let flagged =
        send(&app, TestRequest::get().uri("/v1/audit-events?break_glass=true").insert_header(auth(&auditor))).await;
    assert_eq!(flagged.status, 200, "{}", flagged.body);
    let items = flagged.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(
        items.iter().all(|e| e["actor_org"] == er.as_str() && e["purpose"] == "emergency" && e["outcome"] == "allowed")
    );
    assert_eq!(items[0]["break_glass_reason"], "救急搬送、意識レベル低下のため既往歴を確認");
    let seq = items[0]["seq"].as_i64().unwrap();
    let review = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/audit-events/{seq}/review"))
            .insert_header(auth(&auditor))
            .set_json(json!({"comment": "救急外来からの正当なアクセスを確認"})),
    )
    .await;
    assert_eq!(review.status, 200, "{}", review.body);
    send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/audit-events/{seq}/review"))
            .insert_header(auth(&auditor))
            .set_json(json!({"comment": "twice"})),
    )
    .await
    .problem(409);
    let after =
        send(&app, TestRequest::get().uri("/v1/audit-events?break_glass=true").insert_header(auth(&auditor))).await;
    assert_eq!(after.body["items"][0]["review"]["comment"], "救急外来からの正当なアクセスを確認");
    // Clinicians do not read the audit log; auditors read no clinical content.
    send(&app, TestRequest::get().uri("/v1/audit-events").insert_header(auth(&er_doctor))).await.problem(403);
    send(&app, TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&auditor)))
        .await
        .problem(403);
}

#[actix_web::test]
async fn every_access_is_audited_and_the_chain_detects_tampering() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, patient, doc) = world(&t, &app).await;
    let nurse = t.token("nurse", &station);
    send(&app, TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&nurse))).await.problem(404);
    let auditor = t.token("auditor", &clinic);
    let events = send(
        &app,
        TestRequest::get().uri(&format!("/v1/audit-events?patient_id={patient}")).insert_header(auth(&auditor)),
    )
    .await;
    let items = events.body["items"].as_array().unwrap();
    let actions: Vec<(&str, &str)> =
        items.iter().map(|e| (e["action"].as_str().unwrap(), e["outcome"].as_str().unwrap())).collect();
    assert_eq!(
        actions,
        [
            ("patient.create", "allowed"),
            ("care_team.write", "allowed"),
            ("document.create", "allowed"),
            ("document.read", "denied")
        ]
    );
    assert_eq!(items[2]["resource_version"], 1);
    let text = events.body.to_string();
    assert!(!text.contains("山田") && !text.contains("ノルバスク"), "no clinical or identifying content in the log");

    let ok = send(&app, TestRequest::get().uri("/v1/audit-events/verify").insert_header(auth(&auditor))).await;
    assert_eq!(ok.body["ok"], true, "{}", ok.body);
    assert_eq!(ok.body["first_broken"], Value::Null);
    let n = ok.body["verified_through"].as_i64().unwrap();
    assert_eq!(n, 7, "two organisations, four patient accesses and the auditor's own query");

    // The tables refuse to change an event, even for the service's own database user.
    use diesel::RunQueryDsl;
    let mut conn = t.state.pool.get().unwrap();
    let refused = diesel::sql_query("UPDATE audit_events SET outcome = 'allowed' WHERE action = 'document.read'")
        .execute(&mut *conn);
    assert!(refused.is_err(), "UPDATE must be refused");
    assert!(diesel::sql_query("DELETE FROM audit_events").execute(&mut *conn).is_err(), "DELETE must be refused");
    // Someone who drops the triggers and rewrites an event is caught by the chain.
    let drop_trigger = if t.db.is_postgres() {
        "DROP TRIGGER audit_events_append_only ON audit_events"
    } else {
        "DROP TRIGGER audit_events_no_update"
    };
    diesel::sql_query(drop_trigger).execute(&mut *conn).unwrap();
    diesel::sql_query("UPDATE audit_events SET outcome = 'allowed' WHERE action = 'document.read'")
        .execute(&mut *conn)
        .unwrap();
    drop(conn);
    let broken = send(&app, TestRequest::get().uri("/v1/audit-events/verify").insert_header(auth(&auditor))).await;
    assert_eq!(broken.body["ok"], false);
    assert_eq!(broken.body["first_broken"], items[3]["seq"]);
    assert_eq!(broken.body["verified_through"], items[3]["seq"].as_i64().unwrap() - 1);
}

#[actix_web::test]
async fn a_care_manager_on_the_team_records_consent_and_one_off_the_team_cannot() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, patient, doc) = world(&t, &app).await;
    let _ = (&clinic, &doc);
    let consent = json!({
        "status": "active", "organizations": "care_team", "purposes": ["treatment"],
        "period": {"start": today_plus(-1)}, "obtained_by": "signed_form"
    });
    let post = |token: String| {
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents"))
            .insert_header(auth(&token))
            .set_json(consent.clone())
    };
    // The care-management office collects the form: its care manager, on the team, records it.
    let res = send(&app, post(t.token("care_manager", &station))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["obtained_by"], "signed_form");

    // A care manager whose office is not on the team knows nothing of the patient.
    let op = t.operator();
    let other = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&op))
            .set_json(json!({"name": "other office", "kind": "care_management_office"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(&app, post(t.token("care_manager", &other))).await.problem(404);
}

/// Issue 11 item 8: documents hidden by a type-limited consent, interleaved with visible ones,
/// never end a page early: paging with a small limit finds every visible document.
#[actix_web::test]
async fn paging_under_a_type_limited_consent_finds_every_visible_document() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, patient, doc) = world(&t, &app).await;
    let physician = t.token("physician", &clinic);
    let nurse = t.token("nurse", &station);
    let consent = json!({"status": "active", "organizations": "care_team", "permitted_types": ["care-path"],
        "purposes": ["treatment"], "period": {"start": today_plus(-1)}, "obtained_by": "signed_form"});
    let res = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents"))
            .insert_header(auth(&physician))
            .set_json(consent),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let mut visible = vec![doc.clone()];
    for _ in 0..5 {
        for (ty, content) in [
            ("end-of-life-record", json!({"date_of_death": "2026-11-01", "place_of_death": "home"})),
            ("end-of-life-record", json!({"date_of_death": "2026-11-02", "place_of_death": "home"})),
            ("care-path", json!({"care_level": "care_1", "diagnoses": []})),
        ] {
            let res = send(
                &app,
                TestRequest::post()
                    .uri(&format!("/v1/patients/{patient}/documents"))
                    .insert_header(auth(&physician))
                    .set_json(json!({"type": ty, "schema_version": "1.0.0", "content": content})),
            )
            .await;
            assert_eq!(res.status, 201, "{}", res.body);
            if ty == "care-path" {
                visible.push(res.id());
            }
        }
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..20 {
        let page = send(
            &app,
            TestRequest::get()
                .uri(&format!("/v1/patients/{patient}/documents?limit=2{cursor}"))
                .insert_header(auth(&nurse)),
        )
        .await;
        assert_eq!(page.status, 200, "{}", page.body);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(crate::common::id));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={}", c.replace(':', "%3A").replace('|', "%7C").replace('+', "%2B")),
            None => break,
        }
    }
    assert_eq!(seen, visible);
}

/// Issue 22 item 2: a consent naming an organisation off the care team is recorded with a
/// warning, and that organisation reads nothing until it is on the team too.
#[actix_web::test]
async fn a_consent_naming_an_organisation_off_the_team_warns_and_shares_once_it_joins() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, patient, doc) = world(&t, &app).await;
    let physician = t.token("physician", &clinic);
    let op = t.operator();
    let pharmacy = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&op))
            .set_json(json!({"name": "みどり薬局", "kind": "pharmacy"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents"))
            .insert_header(auth(&physician))
            .set_json(json!({"status": "active", "organizations": [pharmacy], "purposes": ["treatment"],
                   "period": {"start": today_plus(-1)}, "obtained_by": "signed_form"})),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let warnings = res.body["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{}", res.body);
    assert!(warnings[0].as_str().unwrap().contains(&pharmacy));

    let pharmacist = t.token("pharmacist", &pharmacy);
    let read = || TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&pharmacist));
    send(&app, read()).await.problem(404);

    let team = json!({"members": [
        {"organization": station, "role": "nurse", "since": today_plus(-10)},
        {"organization": pharmacy, "role": "pharmacist", "since": today_plus(-1)},
    ]});
    let res = send(
        &app,
        TestRequest::put()
            .uri(&format!("/v1/patients/{patient}/care-team"))
            .insert_header(auth(&physician))
            .set_json(team),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = send(&app, read()).await;
    assert_eq!(res.status, 200, "{}", res.body);

    // A consent for the care team names no one in particular: no warning.
    let res = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents"))
            .insert_header(auth(&physician))
            .set_json(json!({"status": "active", "organizations": "care_team", "purposes": ["treatment"],
                   "period": {"start": today_plus(-1)}, "obtained_by": "signed_form"})),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert!(res.body.get("warnings").is_none(), "{}", res.body);
}

/// Issue 11 item 5, for the other writes: a caller without access to the patient gets the 404
/// of a stranger, never a validation answer about its body.
#[actix_web::test]
async fn strangers_get_404_before_any_validation_of_their_body() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, patient, doc) = world(&t, &app).await;
    let _ = (&clinic, &station, &doc);
    let op = t.operator();
    let other = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&op))
            .set_json(json!({"name": "other clinic", "kind": "clinic"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = t.token("physician", &other);
    let bad_team = json!({"members": [{"organization": "x", "role": "admin", "since": "not a day"}]});
    let res = send(
        &app,
        TestRequest::put()
            .uri(&format!("/v1/patients/{patient}/care-team"))
            .insert_header(auth(&stranger))
            .set_json(bad_team.clone()),
    )
    .await;
    assert_eq!(res.status, 404, "{}", res.body);
    let bad_consent = json!({"status": "maybe", "organizations": "care_team", "purposes": [],
        "period": {"start": "someday"}, "obtained_by": "signed_form"});
    let res = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents"))
            .insert_header(auth(&stranger))
            .set_json(bad_consent.clone()),
    )
    .await;
    assert_eq!(res.status, 404, "{}", res.body);
    // The managing organisation gets the validation answer.
    let physician = t.token("physician", &clinic);
    let res = send(
        &app,
        TestRequest::put()
            .uri(&format!("/v1/patients/{patient}/care-team"))
            .insert_header(auth(&physician))
            .set_json(bad_team),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    let res = send(
        &app,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents"))
            .insert_header(auth(&physician))
            .set_json(bad_consent),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
}

/// Two instances on one database (as behind a load balancer): the first has read the record, so
/// it keeps the patient's consents; a revocation through the second must close the record on the
/// first at once, and a care-team change through the second must open it there at once.
#[actix_web::test]
async fn a_revocation_on_one_instance_closes_the_record_on_another_at_once() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, patient, doc) = world(&t, &app).await;
    let second = carepath::state::AppState::open(t.state.settings.clone()).unwrap();
    let other = init_service(carepath::startup::app(second)).await;
    let physician = t.token("physician", &clinic);
    let nurse = t.token("nurse", &station);
    let read = || TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&nurse));
    let consent = || {
        TestRequest::post().uri(&format!("/v1/patients/{patient}/consents")).insert_header(auth(&physician)).set_json(
            json!({
                "status": "active", "organizations": "care_team", "permitted_types": [], "purposes": ["treatment"],
                "period": {"start": today_plus(-1)}, "obtained_by": "signed_form"
            }),
        )
    };
    let res = send(&other, consent()).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let cid = res.id();
    for _ in 0..3 {
        assert_eq!(send(&app, read()).await.status, 200, "the first instance reads (and keeps the facts)");
    }

    let res = send(
        &other,
        TestRequest::post()
            .uri(&format!("/v1/patients/{patient}/consents/{cid}/revoke"))
            .insert_header(auth(&physician))
            .set_json(json!({"reason": "撤回"})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    send(&app, read()).await.problem(404);

    // And the other way: a new consent, then the station leaves the team on the second instance.
    let res = send(&other, consent()).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(send(&app, read()).await.status, 200);
    let res = send(
        &other,
        TestRequest::put()
            .uri(&format!("/v1/patients/{patient}/care-team"))
            .insert_header(auth(&physician))
            .set_json(json!({"members": []})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    send(&app, read()).await.problem(404);
}

/// Issue 26 items 3 and 20: a care manager on the team cannot release restricted fields to its
/// own office; the managing organisation's physician can, and each release waits for an
/// auditor's review. The proxy's relation is a code; free text is refused.
#[actix_web::test]
async fn only_the_managing_physician_releases_restricted_fields_and_each_release_is_reviewed() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, station, patient, doc) = world(&t, &app).await;
    let post = |token: &str, body: Value| {
        TestRequest::post().uri(&format!("/v1/patients/{patient}/consents")).insert_header(auth(token)).set_json(body)
    };
    let release = |org: &str| {
        json!({"status": "active", "organizations": [org], "purposes": ["treatment"], "period": {"start": today_plus(-1)},
            "obtained_by": "verbal", "release_restricted": true})
    };
    // The care manager of the station (on the team, allowed to record consent) names itself.
    let cm = t.token("care_manager", &station);
    let res = send(&app, post(&cm, release(&station))).await;
    assert!(res.problem(403)["detail"].as_str().unwrap().contains("release_restricted"), "{}", res.body);
    let nurse = t.token("nurse", &station);
    let read = send(&app, TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&nurse))).await;
    assert!(read.status == 404 || read.body["content"].get("infections").is_none(), "nothing released: {}", read.body);
    // Without the release, the care manager still records consent as before.
    let mut plain = release(&station);
    plain["release_restricted"] = json!(false);
    assert_eq!(send(&app, post(&cm, plain)).await.status, 201);

    // The managing organisation's physician releases; auditors find it and review it once.
    let physician = t.token("physician", &clinic);
    let res = send(&app, post(&physician, release(&station))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let read = send(&app, TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&nurse))).await;
    assert_eq!(read.body["content"]["infections"], care_path()["infections"]);
    let auditor = t.token("auditor", &clinic);
    let flagged = send(
        &app,
        TestRequest::get().uri("/v1/audit-events?action=consent.release_restricted").insert_header(auth(&auditor)),
    )
    .await;
    let items = flagged.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", flagged.body);
    assert_eq!(items[0]["patient_id"], patient.as_str());
    let seq = items[0]["seq"].as_i64().unwrap();
    let review = |n: i64| {
        TestRequest::post()
            .uri(&format!("/v1/audit-events/{n}/review"))
            .insert_header(auth(&auditor))
            .set_json(json!({"comment": "確認済み: 主治医の判断"}))
    };
    assert_eq!(send(&app, review(seq)).await.status, 200);
    send(&app, review(seq)).await.problem(409);

    // The relation is coded; free text (which carried names and phone numbers) is refused.
    let mut proxied = release(&station);
    proxied["release_restricted"] = json!(false);
    proxied["obtained_by"] = json!("proxy");
    proxied["proxy"] = json!({"name": "山田 桜子", "relation": "長女 山田桜子 090-1234-5678"});
    let res = send(&app, post(&physician, proxied.clone())).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/proxy/relation", "{}", res.body);
    proxied["proxy"] = json!({"name": "山田 桜子", "relation": "eldest_daughter", "note": "090-1234-5678"});
    let res = send(&app, post(&physician, proxied)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["proxy"]["note"], "090-1234-5678", "the team sees the note with the consent");
}
