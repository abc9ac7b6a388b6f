#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmarks fail loudly")]
//! Benchmarks of the hot paths: schema validation, field encryption, token verification and one
//! document write through the real application on SQLite. See BENCHMARKS.md for the figures.
//!
//! ```sh
//! cargo bench --bench hot_paths                                        # everything
//! cargo bench --bench hot_paths -- crypto/                             # one group
//! cargo bench --bench hot_paths -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use carepath::audit::{self, Event};
use carepath::auth::{Authenticator, Caller, Role, issue_local_token};
use carepath::config::Settings;
use carepath::crypto::sealing::{self, Place};
use carepath::crypto::{FieldContext, Keyring};
use carepath::db::patients::PatientRow;
use carepath::domain::documents::{self, DocumentInput};
use carepath::schemas::Registry;
use carepath::state::AppState;

const PATIENT: &str = "0b6c2f4e-5d1a-4c7e-9f3b-2a8d6e1c4b70";
const DOCUMENT: &str = "7e3a9c1d-2b4f-4e8a-b6d5-1f0c9a8e7d62";

/// The full care-path example (≈6 KB pretty-printed, ≈4.9 KB compact), read at bench start.
fn full_care_path() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/care-path/examples/1.0.0-full.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn schema(c: &mut Criterion) {
    let registry = Registry::load(None).unwrap();
    let entry = registry.get("care-path", "1.0.0").unwrap();
    let content = full_care_path();
    assert_eq!(entry.validate(&content), vec![], "the example must be valid");
    // And the validator really walks the whole document: a wrong type deep inside is found.
    let mut broken = content.clone();
    let last = broken["medications"].as_array().unwrap().len() - 1;
    broken["medications"][last]["dose"] = json!(6);
    let errors = entry.validate(&broken);
    assert!(errors.iter().any(|e| e.pointer == format!("/content/medications/{last}/dose")), "{errors:?}");

    let mut g = c.benchmark_group("schema");
    g.bench_function("validate_care_path_5kb", |b| b.iter(|| entry.validate(black_box(&content))));
    g.finish();
}

fn crypto(c: &mut Criterion) {
    let keys = Keyring::for_testing();
    let (key, _wrapped) = keys.new_data_key(PATIENT).unwrap();

    // A typical free-text clinical field: ~100 bytes once serialised as JSON.
    let value = Value::String("頓用: 疼痛時ロキソプロフェン60mg 1錠、1日2回まで。胃部不快時は中止し連絡".to_owned());
    let serialised = serde_json::to_vec(&value).unwrap().len();
    assert!((90..=120).contains(&serialised), "field is {serialised} bytes");
    let at = FieldContext { patient_id: PATIENT, document_id: DOCUMENT, version: 1, pointer: "/medications/0/notes" };
    let sealed = key.seal(&at, &value).unwrap();
    assert_eq!(key.open(&at, &sealed).unwrap(), value);

    let mut g = c.benchmark_group("crypto");
    g.bench_function("seal_field", |b| b.iter(|| key.seal(black_box(&at), black_box(&value)).unwrap()));
    g.bench_function("open_field", |b| b.iter(|| key.open(black_box(&at), black_box(&sealed)).unwrap()));

    let registry = Registry::load(None).unwrap();
    let entry = registry.get("care-path", "1.0.0").unwrap();
    let content = full_care_path();
    let place = Place { patient_id: PATIENT, document_id: DOCUMENT, version: 1 };
    let stored = sealing::seal(&entry.marked, &content, &key, place).unwrap();
    assert_ne!(stored, content, "the care path has marked values");
    let opened = sealing::open(&entry.marked, &stored, &key, place, true).unwrap();
    assert_eq!(opened.content, content);
    assert!(opened.withheld.is_empty());

    g.bench_function("seal_document", |b| {
        b.iter(|| sealing::seal(&entry.marked, black_box(&content), &key, place).unwrap());
    });
    // As a caller cleared for restricted fields (physician) sees it: every marked value opened.
    g.bench_function("open_document", |b| {
        b.iter(|| sealing::open(&entry.marked, black_box(&stored), &key, place, true).unwrap());
    });
    g.finish();
}

fn auth(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let auth = Authenticator::load(&Settings::for_data_dir(&data), carepath::clock::Clock::system()).unwrap();
    let issue = |sub: &str| issue_local_token(&data, sub, Role::Physician, "niimi-clinic", 3600).unwrap();

    let mut g = c.benchmark_group("auth");
    // Every verified token is a distinct text (distinct `sub`), so each one misses the cache:
    // a full EdDSA signature check plus the claim checks, the cache lookup and the insert.
    let mut n = 0u64;
    g.bench_function("verify_eddsa_uncached", |b| {
        b.iter_batched(
            || {
                n += 1;
                issue(&format!("dr-{n}"))
            },
            |token| auth.verify(&token).unwrap(),
            BatchSize::SmallInput,
        );
    });

    let token = issue("dr-tanaka");
    let before = auth.cache_len();
    assert_eq!(auth.verify(&token).unwrap().role, Role::Physician);
    assert!(auth.cache_len() == before + 1 || auth.cache_len() == 1, "verified tokens are remembered");
    g.bench_function("verify_cached", |b| b.iter(|| auth.verify(black_box(&token)).unwrap()));
    g.finish();
}

/// POSTs `body` and returns the answer's JSON, asserting the status.
async fn post<S, B>(app: &S, uri: &str, token: &str, body: &Value, status: u16) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = TestRequest::post().uri(uri).insert_header(("authorization", format!("Bearer {token}"))).set_json(body);
    let res = call_service(app, req.to_request()).await;
    let got = res.status().as_u16();
    let body: Value = serde_json::from_slice(&read_body(res).await).unwrap_or(Value::Null);
    assert_eq!(got, status, "POST {uri}: {body}");
    body
}

/// A clinic, its physician's token and one patient, made through the HTTP stack like a client
/// would.
struct Clinic {
    org: String,
    physician: String,
    patient: String,
}

async fn clinic<S, B>(app: &S, state: &AppState) -> Clinic
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let data = &state.settings.data_dir;
    let operator = issue_local_token(data, "operator", Role::Admin, &state.settings.operator_org, 3600).unwrap();
    let org = post(app, "/v1/organizations", &operator, &json!({"name": "clinic", "kind": "clinic"}), 201).await;
    let org = org["id"].as_str().unwrap().to_owned();
    let physician = issue_local_token(data, "dr-tanaka", Role::Physician, &org, 3600).unwrap();
    let patient =
        json!({"name": "山田 花子", "birth_date": "1939-04-01", "sex": "female", "managing_organization": org});
    let patient = post(app, "/v1/patients", &physician, &patient, 201).await;
    Clinic { org, physician, patient: patient["id"].as_str().unwrap().to_owned() }
}

fn write(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let state: Arc<AppState> = AppState::open(Settings::for_data_dir(dir.path().join("data"))).unwrap();
    let sys = actix_web::rt::System::new();
    let app = sys.block_on(init_service(carepath::startup::app(state.clone())));
    let Clinic { org, physician, patient } = sys.block_on(clinic(&app, &state));

    let content = full_care_path();
    let body = json!({"type": "care-path", "schema_version": "1.0.0", "content": content});
    let uri = format!("/v1/patients/{patient}/documents");
    let bearer = format!("Bearer {physician}");
    // One write outside the measurement: it must succeed, and it warms the caches (token,
    // organisation) as a client's earlier requests would.
    sys.block_on(post(&app, &uri, &physician, &body, 201));

    let mut g = c.benchmark_group("write");
    g.sample_size(20);
    // The whole request: routing, token (cached), body parsing, validation, sealing, the
    // transaction (fsync'd commit, synchronous = FULL) and the response. Building the request
    // (the client's serialisation of the body) is outside the measurement.
    g.bench_function("create_document_sqlite", |b| {
        b.iter_batched(
            || {
                TestRequest::post()
                    .uri(&uri)
                    .insert_header(("authorization", bearer.as_str()))
                    .set_json(&body)
                    .to_request()
            },
            |req| {
                sys.block_on(async {
                    let res = call_service(&app, req).await;
                    assert_eq!(res.status().as_u16(), 201);
                    read_body(res).await
                })
            },
            BatchSize::SmallInput,
        );
    });

    // The same write without HTTP: a pooled connection, then what the handler runs on the blocking
    // pool: one transaction with documents::create (validate, seal, insert) and its audit event.
    let caller = Caller { sub: "dr-tanaka".into(), org: org.clone(), role: Role::Physician, purpose: None };
    let input: DocumentInput = serde_json::from_value(body.clone()).unwrap();
    let mut event = Event::system("document.create");
    event.actor_sub.clone_from(&caller.sub);
    event.actor_org.clone_from(&caller.org);
    event.actor_role = caller.role.as_str().to_owned();
    g.bench_function("create_document_sqlite_direct", |b| {
        b.iter(|| {
            let mut conn = state.pool.get().unwrap();
            audit::write(&mut conn, event.clone(), 201, |tx, ev| {
                documents::create(tx, &state, &caller, &patient, &input, None, ev)
            })
            .unwrap()
        });
    });

    // The encryption inside one such write: unwrapping the patient's data key and sealing every
    // marked value of the content (what `store_version` does before the insert).
    let row = PatientRow::find(&mut state.pool.get().unwrap(), &patient).unwrap().unwrap();
    let entry = state.schemas.get("care-path", "1.0.0").unwrap();
    let document_id = uuid::Uuid::new_v4().to_string();
    let place = Place { patient_id: &patient, document_id: &document_id, version: 1 };
    g.bench_function("encryption_of_write", |b| {
        b.iter(|| {
            let key = state.data_key(&row).unwrap();
            sealing::seal(&entry.marked, black_box(&content), &key, place).unwrap()
        });
    });

    // Diagnostic, not a production setting: the same direct write with SQLite's commit fsync
    // turned off (synchronous = NORMAL), on a one-connection pool of its own. What remains is the
    // CPU and SQLite work of a write, i.e. the encryption share on storage with a near-free fsync.
    let nosync_dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_data_dir(nosync_dir.path().join("data"));
    settings.db_pool_size = 1;
    let nosync = AppState::open(settings).unwrap();
    nosync.pool.get().unwrap().batch_execute("PRAGMA synchronous = NORMAL").unwrap();
    let Clinic { org: nosync_org, patient: nosync_patient, .. } = sys.block_on(async {
        let app = init_service(carepath::startup::app(nosync.clone())).await;
        clinic(&app, &nosync).await
    });
    let nosync_caller = Caller { sub: "dr-tanaka".into(), org: nosync_org, role: Role::Physician, purpose: None };
    g.bench_function("create_document_sqlite_direct_nosync", |b| {
        b.iter(|| {
            let mut conn = nosync.pool.get().unwrap();
            audit::write(&mut conn, event.clone(), 201, |tx, ev| {
                documents::create(tx, &nosync, &nosync_caller, &nosync_patient, &input, None, ev)
            })
            .unwrap()
        });
    });
    g.finish();
}

/// A read with its audit event against the same read without one: the audit must not halve read
/// throughput. SQLite with its defaults (WAL, synchronous = FULL) unless a PostgreSQL URL is given:
/// a lone audited read commits (and fsyncs) its event on its own.
fn read(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_data_dir(dir.path().join("data"));
    settings.db_pool_size = 16;
    // `CAREPATH_BENCH_DATABASE_URL=postgres://...` runs the read group on PostgreSQL (use an empty
    // database: the bench adds rows it does not remove).
    settings.database_url = std::env::var("CAREPATH_BENCH_DATABASE_URL").ok().filter(|u| !u.is_empty());
    let state: Arc<AppState> = AppState::open(settings).unwrap();
    let sys = actix_web::rt::System::new();
    let app = sys.block_on(init_service(carepath::startup::app(state.clone())));
    let Clinic { org, physician, patient } = sys.block_on(clinic(&app, &state));
    let body = json!({"type": "care-path", "schema_version": "1.0.0", "content": full_care_path()});
    let doc = sys.block_on(post(&app, &format!("/v1/patients/{patient}/documents"), &physician, &body, 201));
    let doc = doc["id"].as_str().unwrap().to_owned();
    let uri = format!("/v1/documents/{doc}");
    let bearer = format!("Bearer {physician}");

    let caller = Caller { sub: "dr-tanaka".into(), org, role: Role::Physician, purpose: None };
    let event = Event::system("document.read");
    let mut g = c.benchmark_group("read");
    g.bench_function("get_document_http_audited", |b| {
        b.iter(|| {
            sys.block_on(async {
                let req = TestRequest::get().uri(&uri).insert_header(("authorization", bearer.as_str())).to_request();
                let res = call_service(&app, req).await;
                assert_eq!(res.status().as_u16(), 200);
                read_body(res).await
            })
        });
    });
    // What the handler runs on the blocking pool, with and without the audit event's commit.
    g.bench_function("read_document_direct_audited", |b| {
        b.iter(|| {
            let mut conn = state.pool.get().unwrap();
            let mut ev = event.clone();
            let read = documents::read(&mut conn, &state, &caller, &doc, None, &mut ev).unwrap();
            drop(conn);
            state.committer.record_blocking(ev, "allowed", 200).unwrap();
            read
        });
    });
    g.bench_function("read_document_direct_unaudited", |b| {
        b.iter(|| {
            let mut conn = state.pool.get().unwrap();
            documents::read(&mut conn, &state, &caller, &doc, None, &mut event.clone()).unwrap()
        });
    });

    // Throughput: 16 readers at once, as many clients would be. The time reported is per read,
    // i.e. 1 / throughput. Concurrent audited reads share commits (see src/committer/mod.rs).
    const READERS: u64 = 16;
    let concurrent = |audited: bool, iters: u64| {
        let per_reader = iters.div_ceil(READERS);
        let start = std::time::Instant::now();
        std::thread::scope(|s| {
            for _ in 0..READERS {
                s.spawn(|| {
                    for _ in 0..per_reader {
                        let mut conn = state.pool.get().unwrap();
                        let mut ev = event.clone();
                        documents::read(&mut conn, &state, &caller, &doc, None, &mut ev).unwrap();
                        drop(conn);
                        if audited {
                            state.committer.record_blocking(ev, "allowed", 200).unwrap();
                        }
                    }
                });
            }
        });
        start.elapsed().div_f64((per_reader * READERS) as f64 / iters as f64)
    };
    g.bench_function("16_readers_audited_per_read", |b| b.iter_custom(|iters| concurrent(true, iters)));
    g.bench_function("16_readers_unaudited_per_read", |b| b.iter_custom(|iters| concurrent(false, iters)));
    g.finish();
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = schema, crypto, auth, write, read
}
criterion_main!(benches);
