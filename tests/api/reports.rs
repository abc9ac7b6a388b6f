//! The region's reports through the HTTP stack, on either backend: who may read them (and that
//! every request is audited), item fill over the stored structure (a sealed value counts as filled
//! and is never opened), and the indicators of a seeded region whose true values are known, with
//! small cells and their complements suppressed, as JSON and as CSV.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{Resp, TestApp, auth, send};
use diesel::prelude::*;
use serde_json::{Value, json};

use carepath::db::schema::{audit_events, document_versions};

pub(crate) async fn call<S, B>(app: &S, method: &str, uri: &str, token: &str, body: Option<Value>) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let req = match method {
        "GET" => TestRequest::get(),
        "PUT" => TestRequest::put(),
        _ => TestRequest::post(),
    }
    .uri(uri)
    .insert_header(auth(token));
    let req = match body {
        Some(b) => req.set_json(b),
        None => req,
    };
    send(app, req).await
}

pub(crate) fn token(t: &TestApp, sub: &str, role: &str, org: &str) -> String {
    carepath::auth::issue_local_token(&t.state.settings.data_dir, sub, role.parse().unwrap(), org, 600).unwrap()
}

/// The seeded region: clinic A (which manages every patient), a visiting-nurse station, the city.
pub(crate) struct Region {
    pub(crate) clinic: String,
    pub(crate) station: String,
    pub(crate) city: String,
}

pub(crate) async fn region<S, B>(app: &S, t: &TestApp) -> Region
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let op = t.operator();
    let mut ids = Vec::new();
    for (name, kind) in [("A診療所", "clinic"), ("B訪問看護", "visiting_nurse_station"), ("新見市", "municipality")]
    {
        let res = call(app, "POST", "/v1/organizations", &op, Some(json!({"name": name, "kind": kind}))).await;
        assert_eq!(res.status, 201, "{}", res.body);
        ids.push(res.id());
    }
    Region { clinic: ids[0].clone(), station: ids[1].clone(), city: ids[2].clone() }
}

/// A patient of clinic A living in `city` (none: no address), on a team since `since`.
pub(crate) async fn patient<S, B>(app: &S, t: &TestApp, r: &Region, city: Option<&str>, since: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let dr = token(t, "dr-0", "physician", &r.clinic);
    let mut body =
        json!({"name": "山田 花子", "birth_date": "1939-04-01", "sex": "female", "managing_organization": r.clinic});
    if let Some(city) = city {
        body["address"] = json!({"prefecture": "岡山県", "city": city, "line": "1-1"});
    }
    let res = call(app, "POST", "/v1/patients", &dr, Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let p = res.id();
    let team = json!({"members": [{"organization": r.station, "role": "nurse", "since": since}]});
    let res = call(app, "PUT", &format!("/v1/patients/{p}/care-team"), &dr, Some(team)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    p
}

pub(crate) async fn document<S, B>(app: &S, token: &str, patient: &str, doc_type: &str, content: Value) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let body = json!({"type": doc_type, "schema_version": "1.0.0", "content": content});
    let res = call(app, "POST", &format!("/v1/patients/{patient}/documents"), token, Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.id()
}

fn audited(t: &TestApp, action: &str) -> Vec<(String, i32)> {
    let mut conn = t.state.pool.get().unwrap();
    audit_events::table
        .filter(audit_events::action.eq(action))
        .select((audit_events::actor_role, audit_events::status))
        .order(audit_events::seq)
        .load(&mut *conn)
        .unwrap()
}

#[actix_web::test]
async fn only_the_analyst_and_the_operators_admin_read_reports_and_every_request_is_audited() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    let uri = "/v1/reports/item-fill?type=end-of-life-record";
    for (role, org) in [("physician", &r.clinic), ("nurse", &r.station), ("auditor", &r.city), ("admin", &r.clinic)] {
        call(&app, "GET", uri, &token(&t, "someone", role, org), None).await.problem(403);
        call(&app, "GET", "/v1/reports/indicators", &token(&t, "someone", role, org), None).await.problem(403);
    }
    let analyst = token(&t, "analyst-1", "analyst", &r.city);
    assert_eq!(call(&app, "GET", uri, &analyst, None).await.status, 200);
    assert_eq!(call(&app, "GET", uri, &t.operator(), None).await.status, 200);
    assert_eq!(call(&app, "GET", "/v1/reports/indicators", &analyst, None).await.status, 200);
    let events = audited(&t, "report.item_fill");
    let statuses: Vec<i32> = events.iter().map(|e| e.1).collect();
    assert_eq!(statuses, [403, 403, 403, 403, 200, 200]);
    assert_eq!(events[4].0, "analyst");
    assert_eq!(audited(&t, "report.indicators").len(), 5);
    // Bad input is a 422 naming the parameter.
    let bad = call(&app, "GET", "/v1/reports/item-fill?type=nope", &analyst, None).await;
    assert_eq!(bad.problem(422)["errors"][0]["pointer"], "/query/type");
    let bad = call(&app, "GET", "/v1/reports/indicators?granularity=week", &analyst, None).await;
    bad.problem(422);
    let bad = call(&app, "GET", "/v1/reports/indicators?from=2026-02-01&to=2026-01-01", &analyst, None).await;
    assert_eq!(bad.problem(422)["errors"][0]["pointer"], "/query/to");
    // An analyst is no care profession: not on a care team, not in the directory's practitioners.
    let op = t.operator();
    let p = json!({"name": "x", "profession": "analyst", "organization": r.city});
    call(&app, "POST", "/v1/practitioners", &op, Some(p)).await.problem(422);
}

fn fill<'a>(report: &'a Value, path: &str) -> &'a Value {
    report["fields"].as_array().unwrap().iter().find(|f| f["path"] == path).unwrap_or_else(|| panic!("no {path}"))
}

#[actix_web::test]
async fn item_fill_counts_structure_and_never_opens_a_sealed_value() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    let (dr, nurse) = (token(&t, "dr-0", "physician", &r.clinic), token(&t, "ns-0", "nurse", &r.station));
    let p = patient(&app, &t, &r, Some("新見市"), "2025-01-01").await;
    // Six by the clinic, five by the station (the patient's team member; the clinic manages).
    let consent = json!({"status": "active", "organizations": "care_team", "purposes": ["treatment"],
        "period": {"start": "2025-01-01"}, "obtained_by": "signed_form"});
    assert_eq!(call(&app, "POST", &format!("/v1/patients/{p}/consents"), &dr, Some(consent)).await.status, 201);
    let mut docs = Vec::new();
    for i in 0..6 {
        let mut content = json!({"date_of_death": format!("2025-03-0{}", i + 1), "place_of_death": "home"});
        match i {
            0 => content["notes"] = json!("  "),
            1 => content["family_present"] = json!(false),
            _ => {}
        }
        docs.push(document(&app, &dr, &p, "end-of-life-record", content).await);
    }
    for i in 0..5 {
        let content = json!({"date_of_death": format!("2025-04-0{}", i + 1), "place_of_death": "home",
            "attending_physician": {"name": "医師 一郎"}});
        document(&app, &nurse, &p, "end-of-life-record", content).await;
    }

    // Break the stored ciphertext of one sealed value: opening it would fail, counting must not.
    {
        let mut conn = t.state.pool.get().unwrap();
        let stored: Option<String> = document_versions::table
            .filter(document_versions::document_id.eq(&docs[0]))
            .select(document_versions::content)
            .first(&mut *conn)
            .unwrap();
        let mut stored: Value = serde_json::from_str(&stored.unwrap()).unwrap();
        assert!(stored["date_of_death"].as_str().unwrap().starts_with(carepath::crypto::SEALED_PREFIX));
        stored["date_of_death"] = json!(format!("{}AAAAnotreallyaciphertext", carepath::crypto::SEALED_PREFIX));
        diesel::update(document_versions::table.filter(document_versions::document_id.eq(&docs[0])))
            .set(document_versions::content.eq(Some(stored.to_string())))
            .execute(&mut *conn)
            .unwrap();
    }
    let analyst = token(&t, "analyst-1", "analyst", &r.city);
    let res = call(&app, "GET", "/v1/reports/item-fill?type=end-of-life-record", &analyst, None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let report = &res.body;
    assert_eq!(report["documents"], 11);
    let date = fill(report, "/date_of_death");
    assert_eq!(date["sealed"], true);
    assert_eq!(date["fill"][0], json!({"writer_kind": "all", "documents": 11, "filled": 11, "share": 1.0}));
    // By the kind of the organisation that wrote the current version.
    let kinds: Vec<&str> =
        date["fill"].as_array().unwrap().iter().map(|f| f["writer_kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["all", "clinic", "visiting_nurse_station"]);
    assert_eq!(date["fill"][1]["filled"], 6);
    // A count below 5 is `<5`, its share too; a zero is shown (it holds no one's record). Here
    // the clinic's one note and the total of one hide together, so neither gives the other away.
    let notes = fill(report, "/notes");
    assert_eq!(notes["fill"][0], json!({"writer_kind": "all", "documents": 11, "filled": "<5", "share": "<5"}));
    assert_eq!(notes["fill"][1]["filled"], "<5");
    assert_eq!(notes["fill"][2]["filled"], 0);
    assert_eq!(fill(report, "/family_present")["fill"][0]["filled"], "<5", "false is a value, and one is few");
    assert_eq!(fill(report, "/attending_physician/name")["fill"][0]["filled"], 5);
    assert_eq!(fill(report, "/attending_physician/name")["fill"][2]["share"], 1.0);
    let never: Vec<&str> = report["never_used"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(never.contains(&"/cause_of_death") && never.contains(&"/time_of_death"), "{never:?}");
    assert!(!never.contains(&"/date_of_death"));
    // Reading the broken document is what fails; the report above did not open it.
    let read = call(&app, "GET", &format!("/v1/documents/{}", docs[0]), &dr, None).await;
    assert_eq!(read.status, 500);

    // Only the station's documents; and CSV that a standard reader parses.
    let uri = format!("/v1/reports/item-fill?type=end-of-life-record&organization={}", r.station);
    let req = TestRequest::get().uri(&uri).insert_header(auth(&analyst)).insert_header(("accept", "text/csv"));
    let res = send(&app, req).await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").unwrap().starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(res.raw.as_slice());
    assert_eq!(reader.headers().unwrap(), vec!["path", "sealed", "writer_kind", "documents", "filled", "share"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let row = rows.iter().find(|r| &r[0] == "/place_of_death" && &r[2] == "all").unwrap();
    assert_eq!((&row[1], &row[3], &row[4], &row[5]), ("true", "5", "5", "1.0000"));

    // One record of one organisation on one day: before, "1 document" said that someone died.
    let other =
        call(&app, "POST", "/v1/organizations", &t.operator(), Some(json!({"name": "C診療所", "kind": "clinic"})))
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let dr_c = token(&t, "dr-c", "physician", &other);
    let res = call(
        &app,
        "POST",
        "/v1/patients",
        &dr_c,
        Some(json!({"name": "佐藤 一", "birth_date": "1930-01-01", "sex": "male", "managing_organization": other})),
    )
    .await;
    let q = res.id();
    document(&app, &dr_c, &q, "end-of-life-record", json!({"date_of_death": "2025-05-01", "place_of_death": "home"}))
        .await;
    let today = t.state.calendar.today();
    let uri = format!("/v1/reports/item-fill?type=end-of-life-record&organization={other}&from={today}&to={today}");
    let res = call(&app, "GET", &uri, &analyst, None).await;
    assert_eq!(res.body["documents"], "<5", "{}", res.body);
    assert_eq!(fill(&res.body, "/place_of_death")["fill"][0]["documents"], "<5");
    assert_eq!(res.body["never_used"], json!([]), "nothing about a small set, not even what it lacks");
    // The days are whole months: a window of one day counts its whole month.
    let month_start = today.replace_day(1).unwrap();
    assert_eq!(res.body["from"], month_start.to_string());
}

#[actix_web::test]
async fn indicator_periods_are_whole_so_windows_a_day_apart_cannot_be_subtracted() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    let analyst = token(&t, "analyst-1", "analyst", &r.city);
    let ask = |from: &str, to: &str| format!("/v1/reports/indicators?from={from}&to={to}&granularity=month");
    let a = call(&app, "GET", &ask("2025-03-02", "2025-03-28"), &analyst, None).await;
    let b = call(&app, "GET", &ask("2025-03-01", "2025-03-27"), &analyst, None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, b.body, "the same whole month either way");
    let march = &a.body["periods"][0];
    assert_eq!((march["from"].as_str(), march["to"].as_str()), (Some("2025-03-01"), Some("2025-03-31")));
    assert_eq!((a.body["from"].as_str(), a.body["to"].as_str()), (Some("2025-03-01"), Some("2025-03-31")));
    let q =
        call(&app, "GET", "/v1/reports/indicators?from=2025-02-15&to=2025-05-15&granularity=quarter", &analyst, None)
            .await;
    let labels: Vec<&str> =
        q.body["periods"].as_array().unwrap().iter().map(|p| p["period"].as_str().unwrap()).collect();
    assert_eq!(labels, ["2025-Q1", "2025-Q2"]);
    assert_eq!(q.body["periods"][1]["to"], "2025-06-30");
}

pub(crate) fn area<'a>(period: &'a Value, name: &str) -> &'a Value {
    let found = period["areas"].as_array().unwrap().iter().find(|a| a["area"] == name);
    &found.unwrap_or_else(|| panic!("no area {name}: {period}"))["values"]
}

/// The seeded region, true values known. 2025: 21 deaths, 18 in 新見市 (8 at home, 5 in a care
/// facility, 5 in hospital) and 3 in 高梁市 (all at home). Now: 5 more patients without an
/// address; 6 discharge summaries (5 within 2 days); 5 doctors of clinic A wrote documents.
#[actix_web::test]
async fn indicators_of_a_seeded_region_with_small_cells_and_complements_suppressed() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    let places =
        [("新見市", "home", 8), ("新見市", "care_facility", 5), ("新見市", "hospital", 5), ("高梁市", "home", 3)];
    let mut i = 0;
    let mut niimi = Vec::new();
    for (city, place, n) in places {
        for _ in 0..n {
            let p = patient(&app, &t, &r, Some(city), "2025-01-01").await;
            let dr = token(&t, &format!("dr-{}", i % 5), "physician", &r.clinic);
            let day = format!("2025-{:02}-10", 1 + i % 12);
            document(&app, &dr, &p, "end-of-life-record", json!({"date_of_death": day, "place_of_death": place})).await;
            if city == "新見市" {
                niimi.push(p);
            }
            i += 1;
        }
    }
    for _ in 0..5 {
        patient(&app, &t, &r, None, "2026-01-01").await;
    }
    let today = t.state.calendar.today();
    let dr = token(&t, "dr-0", "physician", &r.clinic);
    for (k, p) in niimi.iter().take(6).enumerate() {
        let back = if k == 0 { 10 } else { 1 };
        let discharged = carepath::clock::format_day(today - time::Duration::days(back));
        let content = json!({"hospital": {"name": "新見中央病院"}, "admission_date": "2026-01-05",
            "discharge_date": discharged, "diagnoses": [{"icd10_code": "J18.9", "name": "肺炎", "primary": true}]});
        document(&app, &dr, p, "discharge-summary", content).await;
    }

    let analyst = token(&t, "analyst-1", "analyst", &r.city);
    let year = today.year();
    let uri = format!("/v1/reports/indicators?from=2025-01-01&to={year}-12-31&granularity=year");
    let res = call(&app, "GET", &uri, &analyst, None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let text = res.body.to_string();
    for secret in ["山田", "1939-04-01", "2025-01-10", &niimi[0]] {
        assert!(!text.contains(secret), "the answer names {secret}");
    }
    let periods = res.body["periods"].as_array().unwrap();
    assert_eq!(periods.len(), usize::try_from(year - 2024).unwrap());
    let y2025 = &periods[0];
    assert_eq!(y2025["period"], "2025");
    let region = area(y2025, "region");
    assert_eq!(region["patients_under_home_care"], 21);
    assert_eq!(region["deaths"], 21);
    assert_eq!(region["deaths_at_home"], 11);
    assert_eq!(region["home_death_rate"], 0.524);
    assert_eq!(region["deaths_at_home_or_care_facility"], 16);
    assert_eq!(region["home_or_care_facility_death_rate"], 0.762);
    let n = area(y2025, "岡山県新見市");
    assert_eq!((&n["deaths"], &n["deaths_at_home"], &n["home_death_rate"]), (&json!(18), &json!(8), &json!(0.444)));
    assert_eq!(n["deaths_at_home_or_care_facility"], 13);
    let tk = area(y2025, "岡山県高梁市");
    assert_eq!(
        (&tk["deaths"], &tk["deaths_at_home"], &tk["home_death_rate"]),
        (&json!("<5"), &json!("<5"), &json!("<5"))
    );
    assert_eq!(tk["patients_under_home_care"], "<5");
    assert_eq!(area(y2025, "(no address)")["deaths"], "<5");

    let now = periods.last().unwrap();
    let region = area(now, "region");
    assert_eq!(region["patients_under_home_care"], 26);
    // 26 = 18 + 3 + 5: the 3 of 高梁市 alone would follow, so the 5 without an address goes too.
    assert_eq!(area(now, "岡山県高梁市")["patients_under_home_care"], "<5");
    assert_eq!(area(now, "(no address)")["patients_under_home_care"], "x");
    assert_eq!(region["family_doctors_active"], 5);
    assert_eq!(region["organizations_active"], "<5");
    assert_eq!(region["discharge_summaries_shared"], 6);
    // 5 within 2 days and 1 later: the 1 is small, so the 5 goes too (6 - 5 = 1).
    assert_eq!(region["discharge_summaries_within_2_days"], "x");
    assert_eq!(region["discharge_summaries_within_2_days_share"], "x");
    assert_eq!(region["contact_sheets_sent"], "<5");
    assert_eq!(region["contact_sheets_median_reply_hours"], "<5");
    assert_eq!(area(now, "岡山県新見市")["discharge_summaries_shared"], 6);

    // Quarters of 2025: each quarter's deaths are small somewhere.
    let uri = "/v1/reports/indicators?from=2025-01-01&to=2025-12-31&granularity=quarter";
    let quarters = call(&app, "GET", uri, &analyst, None).await.body;
    let labels: Vec<&str> =
        quarters["periods"].as_array().unwrap().iter().map(|p| p["period"].as_str().unwrap()).collect();
    assert_eq!(labels, ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]);

    // CSV, read back with a standard reader: the same values, hidden ones as `<5` and `x`.
    let req = TestRequest::get()
        .uri("/v1/reports/indicators?from=2025-01-01&to=2025-12-31")
        .insert_header(auth(&analyst))
        .insert_header(("accept", "text/csv"));
    let res = send(&app, req).await;
    assert_eq!(res.status, 200);
    let mut reader = csv::Reader::from_reader(res.raw.as_slice());
    assert_eq!(reader.headers().unwrap(), vec!["period", "from", "to", "area", "indicator", "value"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let value = |a: &str, id: &str| rows.iter().find(|r| &r[3] == a && &r[4] == id).unwrap()[5].to_owned();
    assert_eq!(value("region", "deaths"), "21");
    assert_eq!(value("region", "home_death_rate"), "0.524");
    assert_eq!(value("岡山県高梁市", "deaths"), "<5");
    assert_eq!(value("(no address)", "deaths"), "<5");
    assert_eq!(&rows[0][0], "2025");
    assert_eq!(&rows[0][1], "2025-01-01");
}

#[actix_web::test]
async fn the_annual_plan_is_versioned_audited_and_read_beside_its_indicators() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    let analyst = token(&t, "analyst-1", "analyst", &r.city);
    for k in 0..15 {
        let p = patient(&app, &t, &r, Some("新見市"), "2025-01-01").await;
        let dr = token(&t, "dr-0", "physician", &r.clinic);
        let place = ["home", "care_facility", "hospital"][k % 3];
        document(&app, &dr, &p, "end-of-life-record", json!({"date_of_death": "2025-05-01", "place_of_death": place}))
            .await;
    }
    let plan = json!({"reviewed_on": "2025-03-01", "items": [
        {"area": "C", "what": "看取りに対応する在宅医の確保", "by": [r.clinic], "schedule": "4月–3月", "times": 4,
         "status": "in_progress", "indicators": [
            {"indicator": "deaths_at_home", "group": "outcome", "target": 10},
            {"indicator": "home_death_rate", "group": "outcome", "target": 0.5},
            {"indicator": "family_doctors_active", "group": "structure"}]},
        {"area": "local", "what": "住民向け講演会", "status": "planned"}]});
    let dr = token(&t, "dr-0", "physician", &r.clinic);
    call(&app, "PUT", "/v1/plans/2025", &dr, Some(plan.clone())).await.problem(403);
    let first = call(&app, "PUT", "/v1/plans/2025", &analyst, Some(plan.clone())).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("etag"), Some("\"1\""));
    call(&app, "PUT", "/v1/plans/2025", &analyst, Some(plan.clone())).await.problem(428);
    let req = TestRequest::put()
        .uri("/v1/plans/2025")
        .insert_header(auth(&t.operator()))
        .insert_header(("if-match", "\"1\""));
    let second = send(&app, req.set_json(plan.clone())).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.body["version"], 2);
    let req =
        TestRequest::put().uri("/v1/plans/2025").insert_header(auth(&analyst)).insert_header(("if-match", "\"1\""));
    send(&app, req.set_json(plan.clone())).await.problem(412);
    let mut bad = plan.clone();
    bad["items"][0]["indicators"][0]["indicator"] = json!("happiness");
    bad["items"][0]["by"] = json!(["no-such-org"]);
    let req = TestRequest::put().uri("/v1/plans/2025").insert_header(auth(&analyst)).insert_header(("if-match", "*"));
    let res = send(&app, req.set_json(bad)).await;
    let pointers: Vec<&str> =
        res.problem(422)["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/items/0/by/0", "/items/0/indicators/0/indicator"]);

    let read = call(&app, "GET", "/v1/plans/2025", &analyst, None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.header("etag"), Some("\"2\""));
    let links = &read.body["items"][0]["indicators"];
    assert_eq!(links[0]["value"], 5);
    assert_eq!(links[0]["target"], 10.0);
    assert_eq!(links[1]["value"], 0.333);
    assert_eq!(links[2]["value"], "<5");
    call(&app, "GET", "/v1/plans/2025", &dr, None).await.problem(403);
    call(&app, "GET", "/v1/plans/2024", &analyst, None).await.problem(404);
    call(&app, "GET", "/v1/plans/nineteen", &analyst, None).await.problem(422);
    let writes: Vec<i32> = audited(&t, "plan.write").iter().map(|e| e.1).collect();
    assert_eq!(writes, [403, 200, 428, 200, 412, 422]);
    assert_eq!(audited(&t, "plan.read").len(), 3);
}
