//! Reports by 年度 (issue 35 item 8): fiscal years (April to March) as periods, asked for by
//! name or by their dates, and the region's headline 在宅看取り率 kept when one of its
//! complements is small.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use actix_web::test::init_service;
use serde_json::json;

use crate::common::TestApp;
use crate::reports::{area, call, document, patient, region, token};

/// Ten deaths in 年度 2025 (half at home), six in calendar 2025 and four in its last quarter
/// (2026 Q1), and one on either side of it.
#[actix_web::test]
async fn a_fiscal_year_is_one_period_from_april_to_march() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    let dr = token(&t, "dr-0", "physician", &r.clinic);
    let days = [
        "2025-04-01",
        "2025-05-10",
        "2025-07-10",
        "2025-09-01",
        "2025-11-20",
        "2025-12-31",
        "2026-01-01",
        "2026-02-10",
        "2026-03-01",
        "2026-03-31",
    ];
    for (k, day) in days.iter().enumerate() {
        let place = if k % 2 == 0 { "home" } else { "hospital" };
        let p = patient(&app, &t, &r, Some("新見市"), "2025-01-01").await;
        document(&app, &dr, &p, "end-of-life-record", json!({"date_of_death": day, "place_of_death": place})).await;
    }
    // Death outside the 年度, on either side.
    for day in ["2025-03-31", "2026-04-01"] {
        let p = patient(&app, &t, &r, Some("新見市"), "2025-01-01").await;
        document(&app, &dr, &p, "end-of-life-record", json!({"date_of_death": day, "place_of_death": "home"})).await;
    }
    let analyst = token(&t, "analyst-1", "analyst", &r.city);

    // Asked for by its dates, without a granularity: one period, not the calendar years 2025 and 2026.
    let res = call(&app, "GET", "/v1/reports/indicators?from=2025-04-01&to=2026-03-31", &analyst, None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["granularity"], "fiscal_year");
    let periods = res.body["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 1, "{periods:?}");
    let fy = &periods[0];
    assert_eq!((&fy["period"], &fy["from"], &fy["to"]), (&json!("FY2025"), &json!("2025-04-01"), &json!("2026-03-31")));
    assert_eq!(area(fy, "region")["deaths"], 10);
    assert_eq!(area(fy, "region")["deaths_at_home"], 5);
    assert_eq!(area(fy, "region")["home_death_rate"], 0.5);

    // By name, from any day inside: widened to the whole 年度, as other periods are.
    let res = call(
        &app,
        "GET",
        "/v1/reports/indicators?from=2025-06-01&to=2026-06-30&granularity=fiscal_year",
        &analyst,
        None,
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let labels: Vec<&str> =
        res.body["periods"].as_array().unwrap().iter().map(|p| p["period"].as_str().unwrap()).collect();
    assert_eq!(labels, ["FY2025", "FY2026"]);
    assert_eq!((&res.body["from"], &res.body["to"]), (&json!("2025-04-01"), &json!("2027-03-31")));

    // Calendar years stay the default for other windows.
    let res = call(&app, "GET", "/v1/reports/indicators?from=2025-01-01&to=2026-12-31", &analyst, None).await;
    let labels: Vec<&str> =
        res.body["periods"].as_array().unwrap().iter().map(|p| p["period"].as_str().unwrap()).collect();
    assert_eq!(labels, ["2025", "2026"]);
    assert_eq!(res.body["granularity"], "year");
}

/// 21 deaths: 10 at home, 3 in a care facility, 8 in hospital. The 3 is small, and before, its
/// complement was the 10 at home, which hid the region's 在宅看取り率.
#[actix_web::test]
async fn the_regions_home_death_rate_stays_when_a_complement_is_small() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    let dr = token(&t, "dr-0", "physician", &r.clinic);
    for (place, n) in [("home", 10), ("care_facility", 3), ("hospital", 8)] {
        for k in 0..n {
            let p = patient(&app, &t, &r, Some("新見市"), "2025-01-01").await;
            let day = format!("2025-{:02}-10", 1 + k % 12);
            document(&app, &dr, &p, "end-of-life-record", json!({"date_of_death": day, "place_of_death": place})).await;
        }
    }
    let analyst = token(&t, "analyst-1", "analyst", &r.city);
    let res = call(&app, "GET", "/v1/reports/indicators?from=2025-01-01&to=2025-12-31", &analyst, None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let region = area(&res.body["periods"][0], "region");
    assert_eq!(region["deaths"], 21);
    assert_eq!(region["deaths_at_home"], 10);
    assert_eq!(region["home_death_rate"], 0.476);
    // What gives way instead: at home or in a care facility (10 + 3), and its share.
    assert_eq!(region["deaths_at_home_or_care_facility"], "x");
    assert_eq!(region["home_or_care_facility_death_rate"], "x");
    // Nothing shown lets the 3 be derived: deaths - at home = 11 = elsewhere + facility, and
    // elsewhere (deaths - at home or facility) is not known.
    let text = res.body.to_string();
    assert!(!text.contains("\"deaths_in_care_facility\""), "a helper cell is shown: {text}");
}
