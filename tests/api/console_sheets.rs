//! A contact sheet's life in the console, as its two sides live it: the care manager picks the
//! doctor by name from the patient's team (no ids typed), the doctor answers, the care manager
//! follows up and closes it; a sheet nobody has read yet is withdrawn; the sent box names the
//! addressee and the patient and filters the unanswered. Each step is offered only where the
//! API allows it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use serde_json::json;

use crate::common::{self, TestApp, csrf_of, hanako, page_text as body, send};

async fn get<S, B>(app: &S, cookie: &str, path: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = send(app, TestRequest::get().uri(path).insert_header(("cookie", cookie.to_owned()))).await;
    assert_eq!(res.status, 200, "{path}: {}", body(&res));
    body(&res)
}

async fn post<S, B>(app: &S, cookie: &str, path: &str, form: &[(&str, &str)]) -> common::Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(app, TestRequest::post().uri(path).insert_header(("cookie", cookie.to_owned())).set_form(form)).await
}

/// A step's button is offered on the page.
fn offers(page: &str, step: &str) -> bool {
    page.contains(&format!("id=\"{step}\""))
}

#[actix_web::test]
async fn a_sheet_goes_to_a_doctor_picked_by_name_is_answered_followed_up_and_closed() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = common::World::new(&t, &app)
        .org("clinic", "clinic")
        .org("office", "care_management_office")
        .practitioner("doctor", "新見 一郎", "physician", "clinic")
        .practitioner("cm", "田中 ケア", "care_manager", "office")
        .patient(hanako())
        .member_as("clinic", "doctor", "physician", "2025-04-01")
        .member_as("office", "cm", "care_manager", "2025-04-01")
        .consent(json!({"status": "active", "organizations": "care_team", "purposes": ["treatment"],
            "period": {"start": "2025-04-01"}, "obtained_by": "signed_form"}))
        .build()
        .await;
    let dir = &t.state.settings.data_dir;
    let token = |sub: &str, role: &str, org: &str| {
        carepath::auth::issue_local_token(dir, sub, role.parse().unwrap(), org, 600).unwrap()
    };
    let doctor_id = w.practitioner("doctor");
    let doctor = common::console_sign_in(&app, &token(&doctor_id, "physician", &w.org("clinic"))).await;
    let cm = common::console_sign_in(&app, &token(&w.practitioner("cm"), "care_manager", &w.org("office"))).await;

    // The form offers the patient by name and the doctor by name, under the patient's team.
    let form = get(&app, &cm, &format!("/console/sheets?patient_id={}", w.patient)).await;
    assert!(form.contains("山田 花子"), "the patient by name: {form}");
    let team = &form[form.find("この利用者のケアチーム").expect("the team's group")..];
    assert!(team.contains(&format!("value=\"pr:{doctor_id}\">新見 一郎（医師・")), "{team}");
    assert!(!form.contains(&format!(">{doctor_id}<")), "no id as a label");
    let csrf = csrf_of(&form);
    let to = format!("pr:{doctor_id}");
    let sent = post(
        &app,
        &cm,
        "/console/sheets",
        &[
            ("csrf", &csrf),
            ("patient_id", &w.patient),
            ("to", &to),
            ("category", "question"),
            ("urgency", "soon"),
            ("body", "入浴後の皮膚の状態を教えてください"),
            ("reply_by_date", ""),
            ("reply_by_time", "17:00"),
        ],
    )
    .await;
    assert_eq!(sent.status, 303, "{}", body(&sent));
    let path = sent.header("location").unwrap().to_owned();

    // The doctor may answer, forward or close it, not withdraw it.
    let page = get(&app, &doctor, &path).await;
    assert!(page.contains("山田 花子"), "the patient's name, not its id");
    assert!(
        offers(&page, "reply") && offers(&page, "forward") && offers(&page, "close") && !offers(&page, "withdraw"),
        "{page}"
    );
    let answered =
        post(&app, &doctor, &format!("{path}/reply"), &[("csrf", &csrf_of(&page)), ("body", "発赤はありません")]).await;
    assert_eq!(answered.status, 303);

    // The care manager sees the answer, follows up, then closes; the sent box names the doctor.
    let sent_box = get(&app, &cm, "/console/sheets?box=sent").await;
    let table = &sent_box[sent_box.find("data-testid=\"sheets\"").unwrap()..sent_box.find("</table>").unwrap()];
    assert!(table.contains(" answered\""), "the answer stands out: {table}");
    assert!(table.contains("新見 一郎") && table.contains("山田 花子"), "addressee and patient: {table}");
    let unanswered = get(&app, &cm, "/console/sheets?box=sent&show=unanswered").await;
    assert!(
        !unanswered.contains("data-testid=\"sheets\"") && unanswered.contains("連絡票はありません"),
        "an answered sheet is not unanswered: {unanswered}"
    );
    let page = get(&app, &cm, &path).await;
    assert!(page.contains("data-state=\"answered\"") && page.contains("回答あり"), "{page}");
    assert!(
        offers(&page, "reply") && page.contains("追記する") && offers(&page, "close") && !offers(&page, "forward"),
        "{page}"
    );
    let csrf = csrf_of(&page);
    assert_eq!(
        post(&app, &cm, &format!("{path}/reply"), &[("csrf", &csrf), ("body", "ありがとうございます")]).await.status,
        303
    );
    assert_eq!(post(&app, &cm, &format!("{path}/close"), &[("csrf", &csrf)]).await.status, 303);
    let page = get(&app, &cm, &path).await;
    assert!(page.contains("data-state=\"closed\"") && page.contains("完了"), "{page}");
    assert!(page.contains("data-op=\"replied\"") && page.contains("返信"), "the follow-up in the thread: {page}");
    for step in ["reply", "close", "forward", "withdraw"] {
        assert!(!offers(&page, step), "{step} offered on a closed sheet");
    }

    // A sheet not yet read is withdrawn by its sender; once read it can no longer be.
    let sent = post(
        &app,
        &cm,
        "/console/sheets",
        &[
            ("csrf", &csrf),
            ("patient_id", &w.patient),
            ("to", &to),
            ("category", "report"),
            ("urgency", "routine"),
            ("body", "送り間違いです"),
            ("reply_by_time", "17:00"),
        ],
    )
    .await;
    let second = sent.header("location").unwrap().to_owned();
    let unanswered = get(&app, &cm, "/console/sheets?box=sent&show=unanswered").await;
    assert!(
        unanswered.contains("data-testid=\"sheets\"") && unanswered.contains("報告"),
        "the open sheet is unanswered: {unanswered}"
    );
    let page = get(&app, &cm, &second).await;
    assert!(offers(&page, "withdraw"), "{page}");
    assert_eq!(post(&app, &cm, &format!("{second}/withdraw"), &[("csrf", &csrf)]).await.status, 303);
    let page = get(&app, &cm, &second).await;
    assert!(page.contains("data-state=\"withdrawn\"") && page.contains("取り下げ"), "{page}");
}

#[actix_web::test]
async fn a_form_sent_on_an_ended_session_leads_to_a_sign_in_that_says_why() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = common::World::new(&t, &app).org("clinic", "clinic").build().await;
    let cookie = common::console_sign_in(&app, &t.token("physician", &w.org("clinic"))).await;
    let page = get(&app, &cookie, "/console/sheets").await;
    let csrf = csrf_of(&page);
    assert_eq!(post(&app, &cookie, "/console/logout", &[("csrf", &csrf)]).await.status, 303);
    let sent = post(&app, &cookie, "/console/sheets", &[("csrf", &csrf), ("body", "書きかけ")]).await;
    assert_eq!(sent.status, 303);
    assert_eq!(sent.header("location"), Some("/console/login?again=1"));
    let again = body(&send(&app, TestRequest::get().uri("/console/login?again=1")).await);
    assert!(again.contains("data-testid=\"again\"") && again.contains("下書き"), "{again}");
    // A stranger is only asked to sign in: there was no session to lose.
    let stranger = send(&app, TestRequest::get().uri("/console/sheets")).await;
    assert_eq!(stranger.header("location"), Some("/console/login"));
    let plain = body(&send(&app, TestRequest::get().uri("/console/login")).await);
    assert!(!plain.contains("data-testid=\"again\""));
}
