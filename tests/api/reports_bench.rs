//! A benchmark of the reports, ignored by default: item fill and indicators over 100,000 current
//! documents of 2,000 patients in 4 municipalities. Time is wall clock; memory is how far the
//! process's peak resident size (VmHWM, reset before the call) rose above its size before it.
//!
//! `cargo test --release --test reports_bench -- --ignored --nocapture` (add
//! `CAREPATH_TEST_DATABASE_URL=postgres://...` for PostgreSQL). Figures go to stdout.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark fails loudly")]

use crate::common;

use std::time::Instant;

use actix_web::test::{TestRequest, init_service};
use common::{TestApp, auth, send};
use diesel::prelude::*;
use serde_json::{Value, json};

use carepath::crypto::sealing::{self, Place};
use carepath::db::audit::AuditRow;
use carepath::db::documents::{DocumentRow, VersionRow};
use carepath::db::patients::PatientRow;
use carepath::db::schema::audit_events;
use carepath::domain::reports::Days;
use carepath::domain::reports::indicators::{self, Granularity};
use carepath::domain::reports::item_fill::{self, ItemFillQuery};

const PATIENTS: usize = 2_000;
const DOCUMENTS: usize = 100_000;
const CITIES: [&str; 4] = ["新見市", "高梁市", "真庭市", "井原市"];

/// A line of /proc/self/status in kB (VmRSS, VmHWM).
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn measure<T>(name: &str, f: impl FnOnce() -> T) -> T {
    // Writing 5 to clear_refs resets the peak (VmHWM) to the current resident size (Linux).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let base = status_kb("VmRSS:");
    let start = Instant::now();
    let out = f();
    let secs = start.elapsed().as_secs_f64();
    let peak = status_kb("VmHWM:").saturating_sub(base);
    println!(
        "{name}: {secs:.3} s, peak resident growth {:.1} MB (base {:.1} MB)",
        peak as f64 / 1024.0,
        base as f64 / 1024.0
    );
    out
}

fn example(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{}/schemas/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap())
        .unwrap()
}

#[actix_web::test]
#[ignore = "a benchmark: run with --ignored --nocapture"]
async fn reports_over_100k_documents() {
    let t = TestApp::with(|s| {
        s.rate_limit_per_minute = 0;
        s.org_rate_limit_per_minute = 0;
    });
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let mut orgs = Vec::new();
    for (name, kind) in [("A診療所", "clinic"), ("B訪問看護", "visiting_nurse_station"), ("市", "municipality")]
    {
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
    let dr = carepath::auth::issue_local_token(
        &t.state.settings.data_dir,
        "dr-1",
        "physician".parse().unwrap(),
        &orgs[0],
        3600,
    )
    .unwrap();
    let started = Instant::now();
    let mut patients = Vec::new();
    for i in 0..PATIENTS {
        let body = json!({"name": "山田 花子", "birth_date": "1939-04-01", "sex": "female", "managing_organization": orgs[0],
            "address": {"prefecture": "岡山県", "city": CITIES[i % 4]}});
        let res = send(&app, TestRequest::post().uri("/v1/patients").insert_header(auth(&dr)).set_json(body)).await;
        let p = res.id();
        let team = json!({"members": [{"organization": orgs[1], "role": "nurse", "since": "2025-01-01"}]});
        send(
            &app,
            TestRequest::put().uri(&format!("/v1/patients/{p}/care-team")).insert_header(auth(&dr)).set_json(team),
        )
        .await;
        patients.push(p);
    }
    println!("seeded {PATIENTS} patients in {:.1} s", started.elapsed().as_secs_f64());

    // Documents go straight into the tables (sealed exactly as a write seals them, with the
    // audit event that names their writer), in transactions of 1,000.
    let started = Instant::now();
    let kinds = [
        ("care-path", "1.1.0", example("care-path/examples/1.1.0-full.json")),
        ("care-path", "1.0.0", example("care-path/examples/1.0.0-minimal.json")),
        ("end-of-life-record", "1.0.0", example("end-of-life-record/examples/1.0.0-home.json")),
        ("discharge-summary", "1.0.0", example("discharge-summary/examples/1.0.0-full.json")),
    ];
    let st = t.state.clone();
    let mut conn = st.pool.get().unwrap();
    let mut rows: Vec<(PatientRow, carepath::crypto::DataKey)> = Vec::new();
    for p in &patients {
        let row = PatientRow::find(&mut conn, p).unwrap().unwrap();
        let key = st.data_key(&row).unwrap();
        rows.push((row, key));
    }
    for chunk in 0..DOCUMENTS / 1000 {
        conn.transaction::<_, diesel::result::Error, _>(|c| {
            for j in 0..1000 {
                let n = chunk * 1000 + j;
                // 90% care paths (two versions), 5% end-of-life records, 5% discharge summaries.
                let (ty, version, content) = match n % 20 {
                    0 => &kinds[2],
                    1 => &kinds[3],
                    k if k % 2 == 0 => &kinds[0],
                    _ => &kinds[1],
                };
                let (patient, key) = &rows[n % PATIENTS];
                let id = format!("doc-{n:06}");
                let entry = st.schemas.get(ty, version).unwrap();
                let sealed = sealing::seal(
                    &entry.marked,
                    content,
                    key,
                    Place { patient_id: &patient.id, document_id: &id, version: 1 },
                )
                .unwrap();
                let at = carepath::clock::format(time::OffsetDateTime::now_utc());
                let seq = 10_000_000 + n as i64;
                DocumentRow {
                    id: id.clone(),
                    patient_id: patient.id.clone(),
                    doc_type: (*ty).into(),
                    schema_version: (*version).into(),
                    version: 1,
                    deleted: false,
                    created_at: at.clone(),
                    created_by: "dr-1".into(),
                    updated_at: at.clone(),
                    updated_by: "dr-1".into(),
                }
                .insert(c)?;
                VersionRow {
                    document_id: id.clone(),
                    version: 1,
                    patient_id: patient.id.clone(),
                    doc_type: (*ty).into(),
                    schema_version: (*version).into(),
                    op: "created".into(),
                    content: Some(sealed.to_string()),
                    seq,
                    created_at: at.clone(),
                    created_by: "dr-1".into(),
                }
                .insert(c)?;
                let event = AuditRow {
                    seq,
                    at,
                    actor_sub: format!("dr-{}", n % 7),
                    actor_org: orgs[n % 2].clone(),
                    actor_role: "physician".into(),
                    action: "document.create".into(),
                    patient_id: Some(patient.id.clone()),
                    resource_type: Some("document".into()),
                    resource_id: Some(id),
                    resource_version: Some(1),
                    outcome: "allowed".into(),
                    status: 201,
                    purpose: "treatment".into(),
                    break_glass: false,
                    break_glass_reason: None,
                    request_id: "bench".into(),
                    prev_hash: String::new(),
                    hash: String::new(),
                    basis: None,
                    digest: None,
                };
                diesel::insert_into(audit_events::table).values(&event).execute(c)?;
            }
            Ok(())
        })
        .unwrap();
    }
    println!("seeded {DOCUMENTS} documents in {:.1} s", started.elapsed().as_secs_f64());

    let query =
        ItemFillQuery { doc_type: "care-path".into(), schema_version: None, from: None, to: None, organization: None };
    let fill = measure("item-fill care-path (90,000 documents)", || item_fill::count(&mut conn, &st, &query).unwrap());
    assert_eq!(fill.documents, carepath::domain::reports::indicators::Cell::Count(90_000));
    let today = st.calendar.today();
    let days = Days::parse(Some("2025-01-01"), Some(&carepath::clock::format_day(today)), today).unwrap();
    let report = measure("indicators 2025-01-01..today by quarter (all 100,000 documents' audit rows)", || {
        indicators::compute(&mut conn, &st, days, Granularity::Quarter).unwrap()
    });
    assert!(!report.periods.is_empty());
}
