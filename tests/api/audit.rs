//! The audit log as an auditor meets it: tamper detection (HTTP and CLI), signed checkpoints,
//! the offline check of an export, filters, and a patient's access log. Either backend.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use std::process::Command;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{TestApp, World, auth, hanako, send};
use diesel::RunQueryDsl;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_carepath");

/// A clinic, a patient, a care path read a few times: about ten events.
async fn world<S, B>(t: &TestApp, app: &S) -> (String, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let w = World::new(t, app)
        .org("新見クリニック", "clinic")
        .patient(hanako())
        .document("care-path", "1.0.0", json!({"care_level": "care_2", "diagnoses": []}))
        .build()
        .await;
    let doc = w.document();
    for _ in 0..4 {
        let res =
            send(app, TestRequest::get().uri(&format!("/v1/documents/{doc}")).insert_header(auth(&w.author))).await;
        assert_eq!(res.status, 200);
    }
    (w.org("新見クリニック"), w.patient.clone())
}

/// What an attacker with database access (and the will to drop the triggers) does.
#[derive(Debug, Clone, Copy)]
enum Tamper {
    Edit(i64),
    Delete(i64),
    Swap(i64, i64),
}

fn tamper(t: &TestApp, how: Tamper) {
    let mut conn = t.state.pool.get().unwrap();
    let drops: &[&str] = if t.db.is_postgres() {
        &["DROP TRIGGER audit_events_append_only ON audit_events"]
    } else {
        &["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"]
    };
    for sql in drops {
        diesel::sql_query(*sql).execute(&mut *conn).unwrap();
    }
    let statements = match how {
        Tamper::Edit(seq) => vec![format!("UPDATE audit_events SET outcome = 'denied' WHERE seq = {seq}")],
        Tamper::Delete(seq) => vec![format!("DELETE FROM audit_events WHERE seq = {seq}")],
        Tamper::Swap(a, b) => vec![
            format!("UPDATE audit_events SET seq = -1 WHERE seq = {a}"),
            format!("UPDATE audit_events SET seq = {a} WHERE seq = {b}"),
            format!("UPDATE audit_events SET seq = {b} WHERE seq = -1"),
        ],
    };
    for sql in statements {
        assert_eq!(diesel::sql_query(&sql).execute(&mut *conn).unwrap(), 1, "{sql}");
    }
}

/// `carepath audit verify` against the test's own database: exit status and stderr.
fn cli_verify(t: &TestApp, extra: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["audit", "verify", "--data-dir"]).arg(&t.state.settings.data_dir).args(extra);
    if let Some(url) = &t.state.settings.database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        // The exit status too, so a crash after a good report says how it ended.
        format!("{}\n{}", out.status, String::from_utf8_lossy(&out.stderr)),
    )
}

#[actix_web::test]
async fn verify_and_the_cli_name_the_first_broken_event_after_an_edit_a_delete_or_a_swap() {
    for (how, first_broken, reason) in [
        (Tamper::Edit(4), 4, "event 4 was altered"),
        (Tamper::Delete(5), 5, "event 5 is missing or out of place"),
        (Tamper::Swap(3, 6), 3, "event 3 does not follow from event 2"),
        // Cutting the newest event off the end: the chain's head no longer matches.
        (Tamper::Delete(8), 8, "the log's head is at 8 but its events end at 7: events were cut off"),
    ] {
        let t = TestApp::new();
        let app = init_service(carepath::startup::app(t.state.clone())).await;
        let (clinic, _patient) = world(&t, &app).await;
        let auditor = t.token("auditor", &clinic);
        let verify = || TestRequest::get().uri("/v1/audit-events/verify").insert_header(auth(&auditor));
        let before = send(&app, verify()).await;
        assert_eq!(before.status, 200, "{}", before.body);
        assert_eq!(before.body["ok"], true, "{}", before.body);
        assert_eq!(before.body["first_broken"], Value::Null);
        assert!(before.body.get("reason").is_none(), "no reason when ok: {}", before.body);
        let head = before.body["verified_through"].as_i64().unwrap();
        assert_eq!(head, 7, "{how:?}: organisation, patient, document, four reads");
        let (ok, stdout, stderr) = cli_verify(&t, &[]);
        assert!(ok, "intact log: {stdout} {stderr}");
        assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap()["ok"], true);

        tamper(&t, how);
        let after = send(&app, verify()).await;
        assert_eq!(after.body["ok"], false, "{how:?}: {}", after.body);
        assert_eq!(after.body["first_broken"], first_broken, "{how:?}: {}", after.body);
        assert_eq!(after.body["verified_through"], first_broken - 1, "{how:?}");
        assert!(after.body["reason"].as_str().unwrap().starts_with(reason), "{how:?}: {}", after.body);
        let (ok, _, stderr) = cli_verify(&t, &[]);
        assert!(!ok, "{how:?}: the CLI must fail");
        // The audit events of the HTTP check came after the cut: the CLI finds event 8 missing.
        let reason = if first_broken == 8 { "event 8 is missing or out of place" } else { reason };
        assert!(stderr.contains(reason), "{how:?}: {stderr}");
    }
}

#[actix_web::test]
async fn an_export_verifies_offline_with_only_the_public_key() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, _patient) = world(&t, &app).await;
    let auditor = t.token("auditor", &clinic);
    send(&app, TestRequest::get().uri("/v1/audit-events/export").insert_header(auth(&t.token("physician", &clinic))))
        .await
        .problem(403);
    let export = send(&app, TestRequest::get().uri("/v1/audit-events/export").insert_header(auth(&auditor))).await;
    assert_eq!(export.status, 200);
    assert_eq!(export.header("content-type"), Some("application/x-ndjson"));
    let text = String::from_utf8(export.raw.clone()).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.last().unwrap()["kind"], "checkpoint", "the export ends on a signature");
    assert!(lines.iter().filter(|l| l["kind"] == "event").all(|l| l["seq"].is_i64() && l["hash"].is_string()));
    assert!(!text.contains("山田"), "no patient data in the log");

    let key = send(&app, TestRequest::get().uri("/v1/audit-events/public-key").insert_header(auth(&auditor))).await;
    assert_eq!(key.body["algorithm"], "Ed25519");
    let dir = tempfile::tempdir().unwrap();
    let (file, key_file) = (dir.path().join("audit.ndjson"), dir.path().join("key.json"));
    std::fs::write(&file, &text).unwrap();
    std::fs::write(&key_file, key.body.to_string()).unwrap();
    // Offline: no data directory, no database.
    let offline = |file: &std::path::Path, key: &std::path::Path| {
        let out = Command::new(BIN)
            .args(["audit", "verify", "--data-dir"])
            .arg(dir.path().join("nowhere"))
            .arg("--export")
            .arg(file)
            .arg("--public-key")
            .arg(key)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = offline(&file, &key_file);
    assert!(ok, "{stdout} {stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["checkpoints_verified"], 1);

    // An edited line in the copy is found.
    let edited: Vec<String> = text
        .lines()
        .map(|l| {
            if l.contains("\"seq\":3,") && l.contains("\"kind\":\"event\"") {
                l.replace("\"allowed\"", "\"denied\"")
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert_ne!(edited.join("\n"), text.trim_end());
    std::fs::write(&file, edited.join("\n")).unwrap();
    let (ok, _, stderr) = offline(&file, &key_file);
    assert!(!ok && stderr.contains("event 3 was altered"), "{stderr}");

    // A genuine export under someone else's key is not trusted, and the report says it is the
    // key, naming both, rather than blaming the log.
    std::fs::write(&file, &text).unwrap();
    let other = carepath::audit::Signer::load_or_create(dir.path()).unwrap();
    let other_key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, other.public_key());
    std::fs::write(&key_file, other_key).unwrap();
    let (ok, stdout, stderr) = offline(&file, &key_file);
    assert!(!ok, "a checkpoint signed by another key must fail");
    let (ours, theirs) = (&t.state.audit_signer.key_id(), &other.key_id());
    let wrong_key = format!("signature does not verify with key {theirs} (the export was signed by key {ours})");
    assert!(stderr.contains(&wrong_key) && !stderr.contains("broken at"), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["reason"], wrong_key.as_str());

    // An export cut before its last checkpoint: what follows the last signature is not proved.
    std::fs::write(&key_file, key.body.to_string()).unwrap();
    let cut: Vec<&str> = text.lines().take(text.lines().count() - 2).collect();
    std::fs::write(&file, cut.join("\n")).unwrap();
    let (ok, stdout, stderr) = offline(&file, &key_file);
    assert!(!ok && stderr.contains("no signed checkpoint covers events from 1"), "{stdout} {stderr}");

    // An event chained onto the copy after the last signature is not proved, however well formed.
    std::fs::write(&key_file, key.body.to_string()).unwrap();
    let last = lines.iter().rev().find(|l| l["kind"] == "event").unwrap();
    let mut forged: carepath::db::audit::AuditRow = serde_json::from_value(last.clone()).unwrap();
    forged.seq += 1;
    forged.prev_hash = forged.hash.clone();
    forged.hash = carepath::audit::chain_hash(&forged.prev_hash, &carepath::audit::canonical(&forged));
    let forged_seq = forged.seq;
    let line = serde_json::to_string(&carepath::audit::ExportLine::Event(Box::new(forged))).unwrap();
    std::fs::write(&file, format!("{text}{line}\n")).unwrap();
    let (ok, stdout, stderr) = offline(&file, &key_file);
    let unsigned = format!("no signed checkpoint covers events from {forged_seq}");
    assert!(!ok && stderr.contains(&unsigned), "{stdout} {stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["verified_through"], forged_seq - 1, "what the signature covers");
}

#[actix_web::test]
async fn checkpoints_are_signed_on_schedule_and_catch_a_cut_off_tail() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, _patient) = world(&t, &app).await;
    let signer = &t.state.audit_signer;
    let mut conn = t.state.pool.get().unwrap();
    let first = signer.checkpoint(&mut conn, 5, time::Duration::hours(1)).unwrap().expect("seven events: due");
    assert_eq!(first.seq, 7);
    assert!(signer.checkpoint(&mut conn, 5, time::Duration::hours(1)).unwrap().is_none(), "the head did not move");
    drop(conn);
    // A checkpoint is as append-only as the events.
    let mut conn = t.state.pool.get().unwrap();
    assert!(diesel::sql_query("DELETE FROM audit_checkpoints").execute(&mut *conn).is_err());
    drop(conn);

    // Someone cuts the last three events and rewrites the head to match what is left: the chain
    // itself looks whole, but the signed checkpoint at 7 names an event that is gone.
    tamper(&t, Tamper::Delete(7));
    let mut conn = t.state.pool.get().unwrap();
    for seq in [6, 5] {
        diesel::sql_query(format!("DELETE FROM audit_events WHERE seq = {seq}")).execute(&mut *conn).unwrap();
    }
    diesel::sql_query("UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_events WHERE seq = 4)")
        .execute(&mut *conn)
        .unwrap();
    drop(conn);
    let auditor = t.token("auditor", &clinic);
    let res = send(&app, TestRequest::get().uri("/v1/audit-events/verify").insert_header(auth(&auditor))).await;
    assert_eq!(res.body["ok"], false, "{}", res.body);
    assert_eq!(res.body["first_broken"], 5, "{}", res.body);
    assert_eq!(res.body["reason"], "the log ends before its checkpoint at 7: events were cut off", "{}", res.body);
}

#[actix_web::test]
async fn an_auditor_reconstructs_who_read_a_patient_and_the_patient_sees_who_opened_the_record() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let (clinic, patient) = world(&t, &app).await;
    let auditor = t.token("auditor", &clinic);
    let week_ago = carepath::clock::format(time::OffsetDateTime::now_utc() - time::Duration::days(7));
    let tomorrow = carepath::clock::format(time::OffsetDateTime::now_utc() + time::Duration::days(1));
    let uri = format!("/v1/audit-events?patient_id={patient}&action=document.read&from={week_ago}&to={tomorrow}");
    let reads = send(&app, TestRequest::get().uri(&uri).insert_header(auth(&auditor))).await;
    assert_eq!(reads.status, 200, "{}", reads.body);
    let items = reads.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|e| e["actor_role"] == "physician" && e["actor_org"] == clinic.as_str()));
    // Filters narrow, they do not widen.
    let none =
        send(&app, TestRequest::get().uri(&format!("{uri}&organization=someone-else")).insert_header(auth(&auditor)))
            .await;
    assert_eq!(none.body["items"].as_array().unwrap().len(), 0);
    let by_actor = send(
        &app,
        TestRequest::get()
            .uri(&format!("/v1/audit-events?actor={}", items[0]["actor_sub"].as_str().unwrap()))
            .insert_header(auth(&auditor)),
    )
    .await;
    assert_eq!(by_actor.body["items"].as_array().unwrap().len(), 6, "patient, document, four reads");
    let future =
        send(&app, TestRequest::get().uri(&format!("/v1/audit-events?from={tomorrow}")).insert_header(auth(&auditor)))
            .await;
    assert_eq!(future.body["items"].as_array().unwrap().len(), 0);
    let bad = send(&app, TestRequest::get().uri("/v1/audit-events?from=last-week").insert_header(auth(&auditor))).await;
    assert_eq!(bad.problem(422)["errors"][0]["pointer"], "/query/from");
    // A value of the wrong type names its parameter too, on every listing (one extractor).
    for (query, pointer) in [("cursor=abc", "/query/cursor"), ("break_glass=maybe", "/query/break_glass")] {
        let res =
            send(&app, TestRequest::get().uri(&format!("/v1/audit-events?{query}")).insert_header(auth(&auditor)))
                .await;
        assert_eq!(res.problem(422)["errors"][0]["pointer"], pointer, "{query}");
    }
    let res = send(&app, TestRequest::get().uri("/v1/organizations?limit=many").insert_header(auth(&auditor))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/query/limit");

    // The managing organisation (and a patient portal acting for it) sees who opened the record.
    let physician = t.token("physician", &clinic);
    let log = send(
        &app,
        TestRequest::get().uri(&format!("/v1/patients/{patient}/access-log")).insert_header(auth(&physician)),
    )
    .await;
    assert_eq!(log.status, 200, "{}", log.body);
    let entries = log.body["items"].as_array().unwrap();
    assert_eq!(entries.iter().filter(|e| e["action"] == "document.read").count(), 4);
    assert!(entries.iter().all(|e| e["organization_name"] == "新見クリニック" && e["profession"] == "physician"));
    assert!(!log.body.to_string().contains("山田"), "no patient data in the access log");
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert_eq!(log.body["next_cursor"], Value::Null);
    // Paged, oldest first.
    let page = |q: String| {
        TestRequest::get().uri(&format!("/v1/patients/{patient}/access-log?{q}")).insert_header(auth(&physician))
    };
    let first = send(&app, page("limit=3".into())).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 3);
    let cursor = first.body["next_cursor"].as_str().expect("a next page").to_owned();
    let rest = send(&app, page(format!("limit=3&cursor={cursor}"))).await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    assert!(rest.body["items"][0]["at"].as_str() >= first.body["items"][2]["at"].as_str());
    send(&app, page("limit=0".into())).await.problem(422);
    assert_eq!(send(&app, page("cursor=yesterday".into())).await.problem(422)["errors"][0]["pointer"], "/query/cursor");
    // Another organisation learns nothing, not even that the patient exists.
    let op = t.operator();
    let other = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&op))
            .set_json(json!({"name": "other", "kind": "clinic"})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(
        &app,
        TestRequest::get()
            .uri(&format!("/v1/patients/{patient}/access-log"))
            .insert_header(auth(&t.token("physician", &other))),
    )
    .await
    .problem(404);
}

/// Issue 11 item 4: a list or search that discloses patients' identities records an event per
/// disclosed patient (same commit as the request's own event), so each of those patients'
/// access logs shows it; a patient it did not disclose has no such entry.
#[actix_web::test]
async fn listing_and_searching_patients_shows_in_each_disclosed_patients_access_log() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let mut orgs = Vec::new();
    for (name, kind) in [("新見クリニック", "clinic"), ("まなび訪問看護", "visiting_nurse_station")] {
        let res = send(
            &app,
            TestRequest::post()
                .uri("/v1/organizations")
                .insert_header(auth(&op))
                .set_json(json!({"name": name, "kind": kind})),
        )
        .await;
        orgs.push(res.id());
    }
    let (clinic, station) = (orgs[0].clone(), orgs[1].clone());
    let physician = t.token("physician", &clinic);
    let yesterday = carepath::clock::format_day(time::OffsetDateTime::now_utc().date() - time::Duration::days(1));
    let mut patients = Vec::new();
    for (i, ltc) in ["1234567890", "2234567890", "3234567890"].into_iter().enumerate() {
        let res = send(
            &app,
            TestRequest::post().uri("/v1/patients").insert_header(auth(&physician)).set_json(json!({
                "name": "山田 花子", "birth_date": "1939-04-01", "sex": "female", "ltc_insured_number": ltc,
                "managing_organization": clinic
            })),
        )
        .await;
        assert_eq!(res.status, 201, "{}", res.body);
        let id = res.id();
        // The station is on the team of the first two only.
        if i < 2 {
            let team = json!({"members": [{"organization": station, "role": "nurse", "since": yesterday}]});
            let res = send(
                &app,
                TestRequest::put()
                    .uri(&format!("/v1/patients/{id}/care-team"))
                    .insert_header(auth(&physician))
                    .set_json(team),
            )
            .await;
            assert_eq!(res.status, 200, "{}", res.body);
        }
        patients.push(id);
    }
    let nurse = t.token("nurse", &station);
    let list = send(&app, TestRequest::get().uri("/v1/patients").insert_header(auth(&nurse))).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
    let found =
        send(&app, TestRequest::get().uri("/v1/patients?ltc_insured_number=1234567890").insert_header(auth(&nurse)))
            .await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);

    let station_entries = |log: &Value| -> Vec<String> {
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["organization"] == station.as_str())
            .inspect(|e| assert_eq!(e["profession"], "nurse"))
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut seen = Vec::new();
    for id in &patients {
        let log = send(
            &app,
            TestRequest::get().uri(&format!("/v1/patients/{id}/access-log")).insert_header(auth(&physician)),
        )
        .await;
        assert_eq!(log.status, 200, "{}", log.body);
        seen.push(station_entries(&log.body));
    }
    assert_eq!(seen, [vec!["patient.list", "patient.search"], vec!["patient.list"], vec![]]);

    // The request's own event names no patient; the per-patient ones name one each.
    let auditor = t.token("auditor", &clinic);
    let events =
        send(&app, TestRequest::get().uri("/v1/audit-events?action=patient.list").insert_header(auth(&auditor))).await;
    let items = events.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0]["patient_id"], Value::Null);
    let mut named: Vec<&str> = items[1..].iter().map(|e| e["patient_id"].as_str().unwrap()).collect();
    named.sort_unstable();
    let mut listed = vec![patients[0].as_str(), patients[1].as_str()];
    listed.sort_unstable();
    assert_eq!(named, listed);
    assert!(items.iter().all(|e| e["request_id"] == items[0]["request_id"] && e["at"] == items[0]["at"]), "one commit");
}
