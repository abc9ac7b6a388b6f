//! Rotating the audit signing key, and checking exports offline: across a rotation with every
//! key and its validity, and from a signed checkpoint on instead of from the first event.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use carepath::audit::{KeySet, verify_export_with};
use common::{TestApp, World, auth, send};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_carepath");

async fn clinic<S, B>(t: &TestApp, app: &S) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    World::new(t, app).org("clinic", "clinic").build().await.org("clinic")
}

fn sign(t: &TestApp) -> i64 {
    let mut conn = t.state.pool.get().unwrap();
    t.state.audit_signer.checkpoint(&mut conn, 1, time::Duration::ZERO).unwrap().expect("the head moved").seq
}

/// Runs `carepath audit rotate-signing-key` on the test's store, as an operator would.
fn rotate_with_the_cli(t: &TestApp) -> String {
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["audit", "rotate-signing-key", "--data-dir"]).arg(&t.state.settings.data_dir);
    if let Some(url) = &t.state.settings.database_url {
        cmd.env("CAREPATH_DATABASE_URL", url);
    }
    let out = cmd.env("CAREPATH_LOG", "warn").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["key_id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn after_a_rotation_new_checkpoints_use_the_new_key_and_an_export_spanning_it_verifies() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&t, &app).await;
    let (auditor, physician) = (t.token("auditor", &org), t.token("physician", &org));
    let old = t.state.audit_signer.key_id();
    let first = sign(&t);
    let new = rotate_with_the_cli(&t);
    assert_ne!(old, new);
    send(&app, TestRequest::get().uri("/v1/organizations").insert_header(auth(&physician))).await;
    // The running server meets the rotation at its next checkpoint and signs with the new key.
    let second = sign(&t);
    assert_eq!(t.state.audit_signer.key_id(), new);

    let key = send(&app, TestRequest::get().uri("/v1/audit-events/public-key").insert_header(auth(&auditor))).await;
    assert_eq!(key.status, 200, "{}", key.body);
    assert_eq!(key.body["key_id"], new.as_str());
    let keys = key.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{}", key.body);
    let (k_old, k_new) = (&keys[0], &keys[1]);
    assert_eq!((k_old["key_id"].as_str(), k_new["key_id"].as_str()), (Some(old.as_str()), Some(new.as_str())));
    let boundary = k_old["valid_until_seq"].as_i64().unwrap();
    assert_eq!(k_new["valid_from_seq"].as_i64(), Some(boundary));
    assert!(first <= boundary && boundary <= second && k_new["valid_until_seq"].is_null());

    let export = send(&app, TestRequest::get().uri("/v1/audit-events/export").insert_header(auth(&auditor))).await;
    let text = String::from_utf8(export.raw).unwrap();
    let all = KeySet::parse(&key.body.to_string()).unwrap();
    let report = verify_export_with(&text, &all).unwrap();
    assert!(report.ok && report.checkpoints_verified >= 3, "{report:?}");
    let live = send(&app, TestRequest::get().uri("/v1/audit-events/verify").insert_header(auth(&auditor))).await;
    assert_eq!(live.body["ok"], true, "{}", live.body);

    // Only the old key: the new key's checkpoints are not trusted, and the report says whose.
    let only_old = KeySet::parse(&json!({"keys": [k_old]}).to_string()).unwrap();
    let report = verify_export_with(&text, &only_old).unwrap();
    assert!(!report.ok && report.reason.as_deref().unwrap().contains(&new), "{report:?}");

    // The old key with no end to its validity still verifies (what an auditor kept from before);
    // a validity cut before a checkpoint it signed does not.
    let mut cut = k_old.clone();
    cut["valid_until_seq"] = json!(first - 1);
    let report =
        verify_export_with(&text, &KeySet::parse(&json!({"keys": [cut, k_new]}).to_string()).unwrap()).unwrap();
    assert!(!report.ok && report.reason.as_deref().unwrap().contains("outside its validity"), "{report:?}");
}

#[actix_web::test]
async fn an_export_from_a_signed_checkpoint_verifies_on_its_own() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let org = clinic(&t, &app).await;
    let (auditor, physician) = (t.token("auditor", &org), t.token("physician", &org));
    let anchor = sign(&t);
    for _ in 0..3 {
        send(&app, TestRequest::get().uri("/v1/organizations").insert_header(auth(&physician))).await;
    }
    let key = send(&app, TestRequest::get().uri("/v1/audit-events/public-key").insert_header(auth(&auditor))).await;
    let keys = KeySet::parse(&key.body.to_string()).unwrap();
    let export = |from: String| {
        TestRequest::get().uri(&format!("/v1/audit-events/export?from={from}")).insert_header(auth(&auditor))
    };

    let res = send(&app, export(anchor.to_string())).await;
    assert_eq!(res.status, 200);
    let text = String::from_utf8(res.raw).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!((lines[0]["kind"].as_str(), lines[0]["seq"].as_i64()), (Some("checkpoint"), Some(anchor)));
    assert_eq!(lines[1]["seq"].as_i64(), Some(anchor + 1), "the events after the checkpoint follow");
    let report = verify_export_with(&text, &keys).unwrap();
    assert!(report.ok && report.checkpoints_verified == 2 && report.verified_through > anchor, "{report:?}");

    // Offline with the CLI, as the README shows.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("part.ndjson"), &text).unwrap();
    std::fs::write(dir.path().join("keys.json"), key.body.to_string()).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["audit", "verify", "--export"])
        .arg(dir.path().join("part.ndjson"))
        .arg("--public-key")
        .arg(dir.path().join("keys.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // An altered event after the anchor is found; so is an anchor whose hash was changed.
    let altered = text.replacen("\"allowed\"", "\"denied\"", 1);
    let report = verify_export_with(&altered, &keys).unwrap();
    assert_eq!((report.ok, report.first_broken), (false, Some(anchor + 1)), "{report:?}");
    let mut forged = lines[0].clone();
    forged["hash"] = json!(lines[1]["prev_hash"].as_str().unwrap().replace('0', "1"));
    let rest: Vec<&str> = text.lines().skip(1).collect();
    let report = verify_export_with(&format!("{forged}\n{}", rest.join("\n")), &keys).unwrap();
    assert!(!report.ok && report.reason.as_deref().unwrap().contains("starts at a checkpoint"), "{report:?}");
    // Without its anchor, the part does not start the chain. (Another checkpoint may follow
    // the anchor at the same place, signed by the background task: drop those too.)
    let events_only: Vec<&str> = text
        .lines()
        .skip_while(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v["kind"] == "checkpoint"))
        .collect();
    let report = verify_export_with(&events_only.join("\n"), &keys).unwrap();
    assert!(!report.ok, "{report:?}");

    // `from` must name a signed checkpoint.
    send(&app, export("999999".into())).await.problem(422);
    send(&app, export("x".into())).await.problem(422);
}
