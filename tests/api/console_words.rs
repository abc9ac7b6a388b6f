//! The console says coded values as people say them: a care path's `partial_assistance` is
//! 一部介助, a sheet's `question` is 質問, a need's `home_oxygen` is 在宅酸素, dates are written as
//! forms write them; and a care path that is not shared is said to be not shared, with why,
//! instead of "none yet".
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use actix_web::test::{TestRequest, init_service};
use serde_json::{Value, json};

use crate::common::{self, TestApp, hanako, page_text, send};

const FULL: &str = include_str!("../../schemas/care-path/examples/1.1.0-full.json");

/// Every string of `value` that a schema enumerates and that reads as a wire word (a
/// lowercase word, most with `_`), e.g. `partial_assistance`.
fn wire_words(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.len() > 2 && s.chars().all(|c| c.is_ascii_lowercase() || c == '_') => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| wire_words(v, out)),
        Value::Object(map) => map.values().for_each(|v| wire_words(v, out)),
        _ => {}
    }
}

/// A page shows `wire` as text (between tags), not only in an attribute.
fn shows(page: &str, wire: &str) -> bool {
    page.contains(&format!(">{wire}<")) || page.contains(&format!(">{wire},")) || page.contains(&format!(" {wire}<"))
}

#[actix_web::test]
async fn a_patients_page_says_every_coded_value_in_words() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let content: Value = serde_json::from_str(FULL).unwrap();
    let mut patient = hanako();
    patient["care_level"] = json!("care_2");
    let w = common::World::new(&t, &app)
        .org("clinic", "clinic")
        .org("station", "visiting_nurse_station")
        .patient(patient)
        .member("station", "nurse", "2025-04-01")
        .consent(
            json!({"status": "active", "organizations": "care_team", "purposes": ["treatment", "care_coordination"],
            "period": {"start": "2025-04-01"}, "obtained_by": "signed_form"}),
        )
        .document("care-path", "1.1.0", content.clone())
        .build()
        .await;
    let cookie = common::console_sign_in(&app, &w.author).await;
    let res = send(
        &app,
        TestRequest::get().uri(&format!("/console/patients/{}", w.patient)).insert_header(("cookie", cookie.clone())),
    )
    .await;
    assert_eq!(res.status, 200);
    let page = page_text(&res);

    let mut wires =
        vec!["care_2".to_owned(), "female".to_owned(), "nurse".to_owned(), "active".to_owned(), "treatment".to_owned()];
    wire_words(&content, &mut wires);
    assert!(wires.len() > 10, "the example has coded values: {wires:?}");
    let shown: Vec<&String> = wires.iter().filter(|w| shows(&page, w)).collect();
    assert!(shown.is_empty(), "wire words on the page: {shown:?}");
    for word in ["要介護2", "女性", "看護師", "診療・ケア", "多職種の連携", "昭和14年4月1日"] {
        assert!(page.contains(word), "{word} is not on the page");
    }
    assert!(!page.contains(">1939-04-01<"), "the birth date as stored");

    let en = send(
        &app,
        TestRequest::get()
            .uri(&format!("/console/patients/{}?lang=en", w.patient))
            .insert_header(("cookie", cookie.clone())),
    )
    .await;
    let en = page_text(&en);
    assert!(en.contains("Care level 2") && en.contains("Female") && en.contains("Nurse"), "English words");

    let list = send(&app, TestRequest::get().uri("/console/patients").insert_header(("cookie", cookie))).await;
    let list = page_text(&list);
    assert!(list.contains("要介護2") && !shows(&list, "care_2"), "{list}");
}

#[actix_web::test]
async fn a_care_path_not_shared_for_want_of_consent_says_so_and_why() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let content: Value = serde_json::from_str(FULL).unwrap();
    let w = common::World::new(&t, &app)
        .org("clinic", "clinic")
        .org("station", "visiting_nurse_station")
        .patient(hanako())
        .member("station", "nurse", "2025-04-01")
        .document("care-path", "1.1.0", content)
        .build()
        .await;
    let path = format!("/console/patients/{}", w.patient);
    let nurse = common::console_sign_in(&app, &t.token("nurse", &w.org("station"))).await;
    let page = page_text(&send(&app, TestRequest::get().uri(&path).insert_header(("cookie", nurse))).await);
    assert!(page.contains("data-testid=\"care-path-refused\""), "{page}");
    assert!(page.contains("共有されていません") && page.contains("同意がありません"), "{page}");
    assert!(!page.contains("まだありません"), "a care path withheld is not 'none yet': {page}");

    // The managing clinic's physician sees it: the notice is about consent, not a blanket line.
    let doctor = common::console_sign_in(&app, &w.author).await;
    let page = page_text(&send(&app, TestRequest::get().uri(&path).insert_header(("cookie", doctor))).await);
    assert!(!page.contains("care-path-refused"), "{page}");
}

#[actix_web::test]
async fn sheets_and_the_vacancy_board_say_their_words() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = common::World::new(&t, &app).org("clinic", "clinic").org("desk", "consultation_desk").build().await;
    let doctor = t.token("physician", &w.org("clinic"));
    let sent = common::call(&app, "POST", "/v1/contact-sheets", &doctor,
        Some(json!({"to": {"organization": w.org("desk")}, "category": "question", "urgency": "soon", "body": "相談です"}))).await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let cookie = common::console_sign_in(&app, &doctor).await;
    let page = page_text(
        &send(&app, TestRequest::get().uri("/console/sheets?box=sent").insert_header(("cookie", cookie.clone()))).await,
    );
    for word in ["質問", "早めに"] {
        assert!(page.contains(word), "{word}: {page}");
    }
    for wire in ["question", "soon", "delivered", "routine", "urgent"] {
        assert!(!shows(&page, wire), "{wire} on the page: {page}");
    }
    let board =
        page_text(&send(&app, TestRequest::get().uri("/console/vacancies").insert_header(("cookie", cookie))).await);
    assert!(board.contains("在宅酸素") && board.contains("短期入所生活介護"), "{board}");
    for wire in ["home_oxygen", "daily_living", "urinary_catheter"] {
        assert!(!shows(&board, wire), "{wire} on the board: {board}");
    }
}
