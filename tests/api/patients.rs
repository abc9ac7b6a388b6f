//! Patients and care teams through the HTTP stack: round trips, the insured-number lookup,
//! who may see whom, and no plaintext identifier in the database.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::test::{TestRequest, init_service};
use common::{TestApp, auth, send};
use serde_json::{Value, json};

const NAME: &str = "山田 花子MARKER";
const LTC: &str = "9876543210";

async fn org<S, B>(app: &S, t: &TestApp, name: &str, kind: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let res = send(
        app,
        TestRequest::post()
            .uri("/v1/organizations")
            .insert_header(auth(&t.operator()))
            .set_json(json!({"name": name, "kind": kind})),
    )
    .await;
    assert_eq!(res.status, 201);
    res.id()
}

fn patient_body(managing: &str) -> Value {
    json!({
        "name": NAME, "name_kana": "ヤマダ ハナコ", "birth_date": "1939-04-01", "sex": "female",
        "address": {"postal_code": "718-0011", "prefecture": "岡山県", "city": "新見市", "line": "新見1-2-3"},
        "phone": "0867-72-1234", "ltc_insured_number": LTC,
        "health_insurance": {"insurer_number": "39331234", "symbol": "新見", "number": "1234"},
        "care_level": "care_2", "managing_organization": managing
    })
}

#[actix_web::test]
async fn patient_round_trip_lookup_and_no_plaintext_at_rest() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let clinic = org(&app, &t, "clinic", "clinic").await;
    let physician = t.token("physician", &clinic);

    let res = send(
        &app,
        TestRequest::post().uri("/v1/patients").insert_header(auth(&physician)).set_json(patient_body(&clinic)),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id = res.id();
    assert_eq!(res.header("location").unwrap(), format!("/v1/patients/{id}"));

    let got = send(&app, TestRequest::get().uri(&format!("/v1/patients/{id}")).insert_header(auth(&physician))).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["name"], NAME);
    assert_eq!(got.body["ltc_insured_number"], LTC);
    assert_eq!(got.body["health_insurance"]["insurer_number"], "39331234");
    assert_eq!(got.body["care_level"], "care_2");

    let found = send(
        &app,
        TestRequest::get().uri(&format!("/v1/patients?ltc_insured_number={LTC}")).insert_header(auth(&physician)),
    )
    .await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(found.body["items"][0]["id"], id.as_str());
    let none = send(
        &app,
        TestRequest::get().uri("/v1/patients?ltc_insured_number=1111111111").insert_header(auth(&physician)),
    )
    .await;
    assert_eq!(none.body["items"].as_array().unwrap().len(), 0);
    let bad =
        send(&app, TestRequest::get().uri("/v1/patients?ltc_insured_number=12").insert_header(auth(&physician))).await;
    assert_eq!(bad.problem(422)["errors"][0]["pointer"], "/query/ltc_insured_number");
    let mine = send(&app, TestRequest::get().uri("/v1/patients").insert_header(auth(&physician))).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);

    let raw = common::raw_database_text(&t);
    assert!(raw.contains(&id), "the scan sees the database (the patient id is there)");
    for secret in ["MARKER", LTC, "ヤマダ", "新見1-2-3", "0867-72-1234", "39331234", "1939-04-01"] {
        assert!(!raw.contains(secret), "{secret} is stored in plaintext");
    }
}

#[actix_web::test]
async fn who_may_register_and_read() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let clinic = org(&app, &t, "clinic", "clinic").await;
    let other = org(&app, &t, "other", "clinic").await;

    let nurse = t.token("nurse", &clinic);
    send(&app, TestRequest::post().uri("/v1/patients").insert_header(auth(&nurse)).set_json(patient_body(&clinic)))
        .await
        .problem(403);
    let foreign_cm = t.token("care_manager", &other);
    send(
        &app,
        TestRequest::post().uri("/v1/patients").insert_header(auth(&foreign_cm)).set_json(patient_body(&clinic)),
    )
    .await
    .problem(403);

    let cm = t.token("care_manager", &clinic);
    let res =
        send(&app, TestRequest::post().uri("/v1/patients").insert_header(auth(&cm)).set_json(patient_body(&clinic)))
            .await;
    let id = res.id();

    // A stranger sees exactly what a missing patient looks like.
    let stranger =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{id}")).insert_header(auth(&foreign_cm))).await;
    let missing = send(
        &app,
        TestRequest::get().uri("/v1/patients/00000000-0000-0000-0000-000000000000").insert_header(auth(&foreign_cm)),
    )
    .await;
    assert_eq!(stranger.problem(404)["detail"], missing.problem(404)["detail"]);
    let search = send(
        &app,
        TestRequest::get().uri(&format!("/v1/patients?ltc_insured_number={LTC}")).insert_header(auth(&foreign_cm)),
    )
    .await;
    assert_eq!(search.body["items"].as_array().unwrap().len(), 0);
    // The auditor's role reads no patient.
    let auditor = t.token("auditor", &clinic);
    send(&app, TestRequest::get().uri(&format!("/v1/patients/{id}")).insert_header(auth(&auditor))).await.problem(403);
}

#[actix_web::test]
async fn malformed_identifiers_are_422_naming_each_field() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let clinic = org(&app, &t, "clinic", "clinic").await;
    let mut body = patient_body(&clinic);
    body["ltc_insured_number"] = json!("98765A3210");
    body["birth_date"] = json!("1939-02-30");
    body["name_kana"] = json!("やまだ");
    body["health_insurance"]["insurer_number"] = json!("123");
    body["address"]["postal_code"] = json!("7180");
    let res = send(
        &app,
        TestRequest::post().uri("/v1/patients").insert_header(auth(&t.token("physician", &clinic))).set_json(body),
    )
    .await;
    let mut pointers: Vec<String> = res.problem(422)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap().to_owned())
        .collect();
    pointers.sort();
    assert_eq!(
        pointers,
        [
            "/address/postal_code",
            "/birth_date",
            "/health_insurance/insurer_number",
            "/ltc_insured_number",
            "/name_kana"
        ]
    );
    let mut body = patient_body(&clinic);
    body["managing_organization"] = json!("nowhere");
    let res =
        send(&app, TestRequest::post().uri("/v1/patients").insert_header(auth(&t.operator())).set_json(body)).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/managing_organization");
}

#[actix_web::test]
async fn care_team_membership_counts_between_since_and_until() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let clinic = org(&app, &t, "clinic", "clinic").await;
    let station = org(&app, &t, "station", "visiting_nurse_station").await;
    let physician = t.token("physician", &clinic);
    let res = send(
        &app,
        TestRequest::post().uri("/v1/patients").insert_header(auth(&physician)).set_json(patient_body(&clinic)),
    )
    .await;
    let id = res.id();
    let nurse = t.token("nurse", &station);
    let read = || TestRequest::get().uri(&format!("/v1/patients/{id}")).insert_header(auth(&nurse));
    let put_team = |members: Value| {
        TestRequest::put()
            .uri(&format!("/v1/patients/{id}/care-team"))
            .insert_header(auth(&physician))
            .set_json(json!({"members": members}))
    };

    send(&app, read()).await.problem(404);
    let today = t.state.calendar.today();
    let day = |offset: i64| carepath::clock::format_day(today + time::Duration::days(offset));

    let res = send(&app, put_team(json!([{"organization": station, "role": "nurse", "since": day(-1)}]))).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["members"][0]["active"], true);
    assert_eq!(send(&app, read()).await.status, 200);
    let team =
        send(&app, TestRequest::get().uri(&format!("/v1/patients/{id}/care-team")).insert_header(auth(&nurse))).await;
    assert_eq!(team.body["members"][0]["organization"], station.as_str());
    // A team member may not rewrite the team: only the managing organisation.
    let res = send(
        &app,
        TestRequest::put()
            .uri(&format!("/v1/patients/{id}/care-team"))
            .insert_header(auth(&t.token("care_manager", &station)))
            .set_json(json!({"members": []})),
    )
    .await;
    res.problem(403);

    send(&app, put_team(json!([{"organization": station, "role": "nurse", "since": day(-30), "until": day(-1)}])))
        .await;
    send(&app, read()).await.problem(404);
    send(&app, put_team(json!([{"organization": station, "role": "nurse", "since": day(1)}]))).await;
    send(&app, read()).await.problem(404);
    send(&app, put_team(json!([{"organization": station, "role": "nurse", "since": day(-1), "until": day(0)}]))).await;
    assert_eq!(send(&app, read()).await.status, 200, "the last day still counts");

    let res = send(&app, put_team(json!([{"organization": "nowhere", "role": "nurse", "since": "2026-13-01"}, {"organization": station, "role": "admin", "since": day(0), "until": day(-5)}]))).await;
    let mut pointers: Vec<String> = res.problem(422)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap().to_owned())
        .collect();
    pointers.sort();
    assert_eq!(pointers, ["/members/0/since", "/members/1/role", "/members/1/until"]);
}

/// Issue 22 item 1: day-granular rules use the region's date. At 23:30 UTC on 25 November it is
/// 08:30 on the 26th in Tokyo: a membership starting on the 26th counts, and a birth date of the
/// 26th is not in the future. Judged in UTC, neither would be.
#[actix_web::test]
async fn a_membership_starting_today_in_tokyo_counts_before_nine_in_the_morning() {
    let at = time::macros::datetime!(2026-11-25 23:30 UTC);
    for (zone, member) in [("Asia/Tokyo", true), ("UTC", false)] {
        let t = TestApp::with(|s| {
            s.fixed_now = Some(at);
            s.time_zone = zone.into();
        });
        let app = init_service(carepath::startup::app(t.state.clone())).await;
        let clinic = org(&app, &t, "clinic", "clinic").await;
        let station = org(&app, &t, "station", "visiting_nurse_station").await;
        let physician = t.token("physician", &clinic);
        let newborn =
            json!({"name": "山田 一郎", "birth_date": "2026-11-26", "sex": "male", "managing_organization": clinic});
        let res =
            send(&app, TestRequest::post().uri("/v1/patients").insert_header(auth(&physician)).set_json(newborn)).await;
        assert_eq!(res.status.as_u16(), if member { 201 } else { 422 }, "{zone}: {}", res.body);
        let res = send(
            &app,
            TestRequest::post().uri("/v1/patients").insert_header(auth(&physician)).set_json(patient_body(&clinic)),
        )
        .await;
        let id = res.id();
        let team = json!({"members": [{"organization": station, "role": "nurse", "since": "2026-11-26"}]});
        let res = send(
            &app,
            TestRequest::put()
                .uri(&format!("/v1/patients/{id}/care-team"))
                .insert_header(auth(&physician))
                .set_json(team),
        )
        .await;
        assert_eq!(res.body["members"][0]["active"], member, "{zone}: {}", res.body);

        let nurse = t.token("nurse", &station);
        let read = send(&app, TestRequest::get().uri(&format!("/v1/patients/{id}")).insert_header(auth(&nurse))).await;
        assert_eq!(read.status.as_u16(), if member { 200 } else { 404 }, "{zone}: {}", read.body);
        let list = send(&app, TestRequest::get().uri("/v1/patients").insert_header(auth(&nurse))).await;
        assert_eq!(list.status, 200, "{}", list.body);
        let listed = list.body["items"].as_array().unwrap().iter().any(|p| p["id"] == id.as_str());
        assert_eq!(listed, member, "{zone}: {}", list.body);
    }
}

/// Issue 11 item 8: erased patients interleaved with live ones never end a page of the
/// patient list early: paging with a small limit finds every live patient.
#[actix_web::test]
async fn paging_the_patient_list_skips_erased_patients_without_stopping() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let clinic = org(&app, &t, "clinic", "clinic").await;
    let physician = t.token("physician", &clinic);
    let admin = t.token("admin", &clinic);
    let mut ids = Vec::new();
    for _ in 0..10 {
        let mut body = patient_body(&clinic);
        body.as_object_mut().unwrap().remove("ltc_insured_number");
        let res =
            send(&app, TestRequest::post().uri("/v1/patients").insert_header(auth(&physician)).set_json(body)).await;
        assert_eq!(res.status, 201, "{}", res.body);
        ids.push(res.id());
    }
    ids.sort();
    let mut live = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        // Two of every three in id order are erased: every page of two meets erased rows.
        if i % 3 == 2 {
            live.push(id.clone());
            continue;
        }
        let res = send(
            &app,
            TestRequest::delete()
                .uri(&format!("/v1/patients/{id}"))
                .insert_header(auth(&admin))
                .set_json(json!({"reason": "request of the family"})),
        )
        .await;
        assert_eq!(res.status, 204, "{}", res.body);
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..20 {
        let page = send(
            &app,
            TestRequest::get().uri(&format!("/v1/patients?limit=2{cursor}")).insert_header(auth(&physician)),
        )
        .await;
        assert_eq!(page.status, 200, "{}", page.body);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(crate::common::id));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, live);
}
