//! The demo region (`carepath demo`, `serve --demo`): a small region loaded through the real
//! stack, on both backends, tried with the tokens it hands out.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use std::process::Command;

use actix_web::test::{TestRequest, init_service};

use carepath::config::Settings;
use carepath::demo;
use carepath::state::AppState;
use common::{TestApp, TestDb, auth, send};

const BIN: &str = env!("CARGO_BIN_EXE_carepath");

fn small(db: &TestDb, seed: u64) -> Settings {
    let mut settings = db.settings();
    settings.demo.patients = 24;
    settings.demo.seed = seed;
    settings
}

fn token(t: &TestApp, user: &demo::DemoUser) -> String {
    carepath::auth::issue_local_token(&t.state.settings.data_dir, &user.sub, user.role, &user.organization, 600)
        .unwrap()
}

fn user<'a>(users: &'a [demo::DemoUser], role: &str) -> &'a demo::DemoUser {
    users.iter().find(|u| u.role.as_str() == role).unwrap_or_else(|| panic!("no demo {role}: {users:?}"))
}

#[actix_web::test]
async fn the_demo_region_is_a_living_region_to_try_as_each_role() {
    let db = TestDb::new();
    let settings = small(&db, 7);
    let manifest = carepath::startup::load_demo(&settings).await.expect("demo loads");
    assert_eq!(manifest.counts["patients"], 24, "{}", manifest.counts);
    assert!(manifest.counts["documents"].as_u64().unwrap() >= 24, "a care path each at least: {}", manifest.counts);
    let t = TestApp { state: AppState::open(settings.clone()).unwrap(), db };
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let users = demo::users(&t.state.settings.data_dir);
    for role in ["physician", "nurse", "care_manager", "pharmacist", "care_worker", "admin", "auditor"] {
        user(&users, role);
    }

    // The physician manages patients and reads their care paths; the care manager on their teams
    // sees the same care paths with the restricted fields withheld.
    let doctor = token(&t, user(&users, "physician"));
    let mine = send(&app, TestRequest::get().uri("/v1/patients?limit=500").insert_header(auth(&doctor))).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(!mine.body["items"].as_array().unwrap().is_empty(), "the demo physician has patients");
    let cm = token(&t, user(&users, "care_manager"));
    let theirs = send(&app, TestRequest::get().uri("/v1/patients?limit=500").insert_header(auth(&cm))).await;
    let mut withheld = 0;
    for patient in theirs.body["items"].as_array().unwrap() {
        let uri = format!("/v1/patients/{}/documents?type=care-path", patient["id"].as_str().unwrap());
        let docs = send(&app, TestRequest::get().uri(&uri).insert_header(auth(&cm))).await;
        for doc in docs.body["items"].as_array().into_iter().flatten() {
            withheld += doc["withheld"].as_array().map_or(0, Vec::len);
        }
    }
    assert!(withheld > 0, "some care path has a restricted field withheld from the care manager");

    // Contact sheets reached the doctor; the auditor finds the break-glass access to review.
    let inbox = send(&app, TestRequest::get().uri("/v1/contact-sheets?box=inbox").insert_header(auth(&doctor))).await;
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    let auditor = token(&t, user(&users, "auditor"));
    let flagged =
        send(&app, TestRequest::get().uri("/v1/audit-events?break_glass=true").insert_header(auth(&auditor))).await;
    assert_eq!(flagged.status, 200, "{}", flagged.body);
    assert!(!flagged.body["items"].as_array().unwrap().is_empty(), "a break-glass access waits for review");
    let analyst = token(&t, user(&users, "analyst"));
    let indicators = send(&app, TestRequest::get().uri("/v1/reports/indicators").insert_header(auth(&analyst))).await;
    assert_eq!(indicators.status, 200, "the analyst reads the region's indicators: {}", indicators.body);
    let verify = send(&app, TestRequest::get().uri("/v1/audit-events/verify").insert_header(auth(&auditor))).await;
    assert_eq!(verify.body["ok"], true, "{}", verify.body);
    let board = send(&app, TestRequest::get().uri("/v1/vacancies").insert_header(auth(&cm))).await;
    assert_eq!(board.status, 200, "{}", board.body);
    assert!(!board.body["items"].as_array().unwrap().is_empty(), "short-stay beds are posted: {}", board.body);

    // Loading again is a no-op on the same region.
    let again = carepath::startup::load_demo(&settings).await.unwrap();
    assert_eq!(again.counts, manifest.counts);
    let admin = token(&t, user(&users, "admin"));
    let orgs = send(&app, TestRequest::get().uri("/v1/organizations?limit=500").insert_header(auth(&admin))).await;
    assert_eq!(orgs.body["items"].as_array().unwrap().len(), 20, "the directory was not registered twice");
}

#[actix_web::test]
async fn one_seed_makes_one_region() {
    let (a, b, c) = (TestDb::new(), TestDb::new(), TestDb::new());
    let first = carepath::startup::load_demo(&small(&a, 3)).await.unwrap();
    let second = carepath::startup::load_demo(&small(&b, 3)).await.unwrap();
    let other = carepath::startup::load_demo(&small(&c, 4)).await.unwrap();
    assert_eq!(first.counts, second.counts);
    let names = |m: &demo::Manifest| m.users.iter().map(|u| u.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&first), names(&second));
    assert_ne!((names(&first), &first.counts), (names(&other), &other.counts), "another seed, another region");
}

#[actix_web::test]
async fn a_directory_with_other_records_is_refused_and_the_cli_says_why() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let made = send(
        &app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(serde_json::json!({"name": "本物の診療所", "kind": "clinic"})),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let mut cmd = Command::new(BIN);
    cmd.args(["demo", "--demo-patients", "3", "--data-dir"]).arg(&t.state.settings.data_dir);
    if let Some(url) = &t.state.settings.database_url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {stderr}");
    assert!(stderr.contains("already holds records"), "{stderr}");
    assert_eq!(demo::users(&t.state.settings.data_dir).len(), 0);
}

#[actix_web::test]
async fn in_demo_mode_the_console_offers_the_demo_users_and_otherwise_nobody() {
    let db = TestDb::new();
    let mut settings = small(&db, 5);
    settings.demo.patients = 3;
    carepath::startup::load_demo(&settings).await.unwrap();
    let operator_org = settings.operator_org.clone();
    for enabled in [true, false] {
        let mut settings = settings.clone();
        settings.demo.enabled = enabled;
        let state = AppState::open(settings).unwrap();
        let app = init_service(carepath::startup::app(state)).await;
        let page = send(&app, TestRequest::get().uri("/console/login")).await;
        assert_eq!(page.status, 200);
        let html = String::from_utf8_lossy(&page.raw);
        let buttons = html.matches("name=\"token\" value=\"ey").count();
        if enabled {
            // Issue 26, item 13: everyone but the operator's admin, who acts across organisations.
            let users = demo::users(&db.dir.path().join("data"));
            let operator: Vec<_> = users.iter().filter(|u| u.organization == operator_org).collect();
            assert_eq!(operator.len(), 1, "{users:?}");
            assert_eq!(buttons, users.len() - 1, "{html}");
            assert!(!html.contains(&operator[0].name) && !html.contains("carepath operator"), "{html}");
            assert!(html.contains("auditor") && html.contains("新見市 健康福祉部"), "{html}");
        } else {
            assert_eq!(buttons, 0, "no tokens on a public page outside demo mode");
        }
    }
}

/// Issue 26, item 13: `serve --demo` serves loopback only, unless `--demo-public` says otherwise.
#[test]
fn serve_demo_refuses_a_public_address_without_demo_public() {
    let dir = tempfile::tempdir().unwrap();
    for bind in ["0.0.0.0:0", "192.0.2.1:8080", "[::]:0", "carepath.example.jp:8080"] {
        let out = Command::new(BIN)
            .args(["serve", "--demo", "--bind", bind, "--data-dir"])
            .arg(dir.path().join("data"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bind}: {stderr}");
        assert!(stderr.contains("--demo-public") && stderr.contains(bind), "{bind}: {stderr}");
        assert!(!dir.path().join("data").exists(), "nothing was written for {bind}");
    }
    let mut settings = Settings::for_data_dir(dir.path());
    settings.demo.enabled = true;
    for bind in ["127.0.0.1:8080", "[::1]:0", "localhost:8080"] {
        settings.bind = bind.into();
        assert_eq!(demo::check_bind(&settings), Ok(()), "{bind}");
    }
    settings.bind = "0.0.0.0:8080".into();
    assert!(demo::check_bind(&settings).is_err());
    settings.demo.public = true;
    assert_eq!(demo::check_bind(&settings), Ok(()));
}

/// Issue 35 item 7: the region tells one story, checked through the API as its people see it.
#[actix_web::test]
async fn the_demo_region_tells_one_story() {
    let db = TestDb::new();
    let mut settings = small(&db, 11);
    settings.demo.patients = 60;
    carepath::startup::load_demo(&settings).await.expect("demo loads");
    let t = TestApp { state: AppState::open(settings.clone()).unwrap(), db };
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let get = |token: &str, uri: &str| {
        let req = TestRequest::get().uri(uri).insert_header(auth(token));
        let (app, uri) = (&app, uri.to_owned());
        async move {
            let res = send(app, req).await;
            assert_eq!(res.status, 200, "{uri}: {}", res.body);
            res.body
        }
    };
    let users = demo::users(&t.state.settings.data_dir);
    let admin = token(&t, user(&users, "admin"));
    let staff = get(&admin, "/v1/practitioners?limit=500").await;
    let staff = staff["items"].as_array().unwrap().clone();
    let orgs = get(&admin, "/v1/organizations?limit=500").await;
    let org_name = |id: &str| {
        orgs["items"].as_array().unwrap().iter().find(|o| o["id"] == id).unwrap()["name"].as_str().unwrap().to_owned()
    };
    // One name, one person.
    let mut names: Vec<&str> = staff.iter().map(|p| p["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "a name repeats in the directory");
    let directory: Vec<(String, String)> = staff
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), org_name(p["organization"].as_str().unwrap())))
        .collect();

    let today = t.state.calendar.today();
    let (mut paths, mut revised, mut deaths) = (0, 0, 0);
    for doctor in staff.iter().filter(|p| p["profession"] == "physician") {
        let tok = carepath::auth::issue_local_token(
            &t.state.settings.data_dir,
            doctor["id"].as_str().unwrap(),
            carepath::auth::Role::Physician,
            doctor["organization"].as_str().unwrap(),
            600,
        )
        .unwrap();
        let mine = get(&tok, "/v1/patients?limit=500").await;
        for patient in mine["items"].as_array().unwrap() {
            if patient["managing_organization"] != doctor["organization"] {
                continue;
            }
            let pid = patient["id"].as_str().unwrap();
            let docs = get(&tok, &format!("/v1/patients/{pid}/documents?limit=500")).await;
            let docs = docs["items"].as_array().unwrap();
            let Some(path) = docs.iter().find(|d| d["type"] == "care-path" && d["version"].as_i64() >= Some(1)) else {
                continue;
            };
            paths += 1;
            revised += usize::from(path["version"].as_i64().unwrap() > 1);
            let c = &path["content"];
            let birth = carepath::clock::parse_day(patient["birth_date"].as_str().unwrap()).unwrap();
            let mut age = today.year() - birth.year();
            if (today.month(), today.day()) < (birth.month(), birth.day()) {
                age -= 1;
            }
            if let Some(notes) = c["notes"].as_str() {
                let sex = if patient["sex"] == "female" { "女性" } else { "男性" };
                assert!(notes.starts_with(&format!("{age}歳{sex}")), "{notes} for a {} born {birth}", patient["sex"]);
            }
            if let (Some(name), Some(relation)) =
                (c["key_person"]["name"].as_str(), c["key_person"]["relation"].as_str())
            {
                let given = name.split(' ').nth(1).unwrap();
                let woman = demo::is_womans_name(given).expect("a name of the demo's lists");
                let expected = matches!(relation, "長女" | "次女" | "妻");
                assert_eq!(woman, expected, "key person {name} is the {relation}");
            }
            let codes: Vec<&str> =
                c["diagnoses"].as_array().unwrap().iter().map(|d| d["icd10_code"].as_str().unwrap()).collect();
            for procedure in c["home_procedures"].as_array().into_iter().flatten() {
                let needs: &[&str] = match procedure["kind"].as_str().unwrap() {
                    "insulin" => &["E11.9"],
                    "home_oxygen" => &["J44.9", "C34.9"],
                    "urinary_catheter" => &["N31.9"],
                    "gastrostomy" => &["I63.9"],
                    other => panic!("a procedure no condition brings: {other}"),
                };
                assert!(
                    needs.iter().any(|n| codes.contains(n)),
                    "{} without its condition: {codes:?}",
                    procedure["kind"]
                );
            }
            for contact in c["team_contacts"].as_array().into_iter().flatten() {
                let who = (
                    contact["name"].as_str().unwrap().to_owned(),
                    contact["organization"].as_str().unwrap().to_owned(),
                );
                assert!(directory.contains(&who), "team contact {who:?} is not in the directory");
            }
            if docs.iter().any(|d| d["type"] == "end-of-life-record") {
                deaths += 1;
                let team = get(&tok, &format!("/v1/patients/{pid}/care-team")).await;
                let active: Vec<&serde_json::Value> =
                    team["members"].as_array().unwrap().iter().filter(|m| m["active"] == true).collect();
                assert!(active.is_empty(), "a patient who died still has an active team: {active:?}");
            }
        }
    }
    assert!(paths >= 30, "care paths read: {paths}");
    assert!(revised > 0, "some care path has a later version");
    assert!(deaths > 0, "some patient has an end-of-life record");

    // The annual plan of this 年度 answers, with its indicators beside it.
    let analyst = token(&t, user(&users, "analyst"));
    let year = if today.month() >= time::Month::April { today.year() } else { today.year() - 1 };
    let plan = get(&analyst, &format!("/v1/plans/{year}")).await;
    let links: usize =
        plan["items"].as_array().unwrap().iter().map(|i| i["indicators"].as_array().unwrap().len()).sum();
    assert!(links >= 4, "{plan}");
    // Sheets spread over weeks: answered after hours, not at once, and some are past their
    // reply-by unanswered (the operator sees the region's figures).
    let stats = get(&t.operator(), "/v1/contact-sheets/stats").await;
    let rows = stats["rows"].as_array().unwrap();
    let sum = |key: &str| rows.iter().map(|r| r[key].as_u64().unwrap()).sum::<u64>();
    assert!(sum("sent") >= 5 && sum("answered") > 0, "{stats}");
    assert!(sum("overdue") > 0, "no sheet is overdue: {stats}");
    let answer_secs: Vec<i64> = rows.iter().filter_map(|r| r["median_secs_to_answer"].as_i64()).collect();
    assert!(answer_secs.iter().all(|s| *s >= 3600), "answered within the second they were sent: {stats}");
    // A short-stay bed that takes a urinary catheter.
    let cm = token(&t, user(&users, "care_manager"));
    let board = get(&cm, "/v1/vacancies?accepts=urinary_catheter").await;
    assert!(!board["items"].as_array().unwrap().is_empty(), "no facility takes a urinary catheter: {board}");
}
