//! ケアマネタイム in the console: the doctor keeps his weekly slots and days off as a form
//! (published through the API's own call, so the API answers what he saved), a refused row comes
//! back as typed and named by its row, and the care manager asks who can be reached at a day and
//! time she chooses, answered in local times and words.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use actix_web::test::{TestRequest, init_service};
use serde_json::json;

use crate::common::{self, TestApp, call, csrf_of, hanako, page_text as body, send};

#[actix_web::test]
async fn a_doctor_keeps_his_hours_and_a_care_manager_asks_who_can_be_reached_then() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = common::World::new(&t, &app)
        .org("clinic", "clinic")
        .org("office", "care_management_office")
        .practitioner("doctor", "新見 一郎", "physician", "clinic")
        .patient(hanako())
        .member_as("clinic", "doctor", "physician", "2025-04-01")
        .member("office", "care_manager", "2025-04-01")
        .consent(json!({"status": "active", "organizations": "care_team", "purposes": ["treatment"],
            "period": {"start": "2025-04-01"}, "obtained_by": "signed_form"}))
        .build()
        .await;
    let doctor_id = w.practitioner("doctor");
    let token = carepath::auth::issue_local_token(
        &t.state.settings.data_dir,
        &doctor_id,
        "physician".parse().unwrap(),
        &w.org("clinic"),
        600,
    )
    .unwrap();
    let cookie = common::console_sign_in(&app, &token).await;
    let get = |path: &str| TestRequest::get().uri(path).insert_header(("cookie", cookie.clone()));
    let form = body(&send(&app, get("/console/hours")).await);
    assert!(form.contains("月曜日") && form.contains("電話") && form.contains("ケアマネジャー向け"), "{form}");
    let csrf = csrf_of(&form);
    let post = |pairs: Vec<(&str, &str)>| {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(pairs);
        TestRequest::post().uri("/console/hours").insert_header(("cookie", cookie.clone())).set_form(all)
    };

    // The end before the start: the row is named, and what was typed stays.
    let refused = send(
        &app,
        post(vec![
            ("slot-0-weekday", "monday"),
            ("slot-0-start", "14:00"),
            ("slot-0-end", "13:00"),
            ("slot-0-channel", "phone"),
            ("slot-0-audience", "care_managers"),
            ("slot-0-notes", "受付に一言"),
        ]),
    )
    .await;
    assert_eq!(refused.status, 422, "{}", body(&refused));
    let page = body(&refused);
    assert!(page.contains("毎週の時間帯 1行目の終了"), "{page}");
    assert!(page.contains("value=\"14:00\"") && page.contains("受付に一言"), "the row as typed: {page}");

    let saved = send(
        &app,
        post(vec![
            ("slot-0-weekday", "monday"),
            ("slot-0-start", "13:00"),
            ("slot-0-end", "14:00"),
            ("slot-0-channel", "phone"),
            ("slot-0-audience", "care_managers"),
            ("slot-0-notes", "受付に一言"),
            ("slot-1-start", ""),
            ("slot-1-end", ""),
            ("day-0-date", "2031-01-01"),
            ("day-0-note", "元日"),
        ]),
    )
    .await;
    assert_eq!(saved.status, 303, "{}", body(&saved));
    let page = body(&send(&app, get("/console/hours?saved=true")).await);
    assert!(
        page.contains("data-testid=\"saved\"") && page.contains("value=\"13:00\"") && page.contains("元日"),
        "{page}"
    );
    let api = call(&app, "GET", &format!("/v1/practitioners/{doctor_id}/contact-hours"), &token, None).await;
    assert_eq!(api.body["slots"][0]["start"], "13:00", "{}", api.body);
    assert_eq!(api.body["exceptions"][0]["date"], "2031-01-01");

    // The care manager asks about a Monday at 13:30 (local): the doctor, by name and by phone.
    let today = t.state.calendar.today();
    let monday =
        (1..=7).map(|d| today + time::Duration::days(d)).find(|d| d.weekday() == time::Weekday::Monday).unwrap();
    let cm = common::console_sign_in(&app, &t.token("care_manager", &w.org("office"))).await;
    let path = format!("/console/patients/{}/reachable?day={monday}&time=13:30", w.patient);
    let res = send(&app, TestRequest::get().uri(&path).insert_header(("cookie", cm))).await;
    assert_eq!(res.status, 200, "{}", body(&res));
    let page = body(&res);
    let now = &page[page.find("data-testid=\"reachable-now\"").unwrap()..];
    let now = &now[..now.find("</section>").unwrap()];
    assert!(
        now.contains("新見 一郎") && now.contains("医師") && now.contains("13:00") && now.contains("14:00"),
        "{now}"
    );
    assert!(!page.contains("physician") && !page.contains(&doctor_id.to_string()[..8]), "no wire word or id: {page}");
}
