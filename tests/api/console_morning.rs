//! The care manager's morning page and "my patients", through the HTTP stack: her answered,
//! overdue and waiting sheets, her patients' expiring consents and recent discharges, in
//! Japanese with local times, and nothing of another care manager's; the patient list with her
//! own first and the search by part of the name or kana; a role that may not list patients gets
//! the refusal page.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use serde_json::{Value, json};

use crate::common::{self, TestApp, call, send};

fn day(offset: i64) -> String {
    carepath::clock::format_day(time::OffsetDateTime::now_utc().date() + time::Duration::days(offset))
}

fn in_secs(secs: i64) -> String {
    carepath::clock::format(time::OffsetDateTime::now_utc() + time::Duration::seconds(secs))
}

fn token(t: &TestApp, sub: &str, role: &str, org: &str) -> String {
    carepath::auth::issue_local_token(&t.state.settings.data_dir, sub, role.parse().unwrap(), org, 600).unwrap()
}

/// A patient body with a name and its kana.
fn person(name: &str, kana: &str, managing: &str) -> Value {
    json!({"name": name, "name_kana": kana, "birth_date": "1940-05-05", "sex": "female", "managing_organization": managing})
}

/// A consent to the care team until `end`.
fn consent(end: &str) -> Value {
    json!({"status": "active", "organizations": "care_team", "purposes": ["treatment"],
        "period": {"start": day(-30), "end": end}, "obtained_by": "signed_form"})
}

fn sheet(patient: &str, to: &str, body: &str, reply_by: String) -> Value {
    json!({"patient_id": patient, "to": {"practitioner": to}, "category": "question", "urgency": "soon",
        "body": body, "reply_by": reply_by})
}

fn text(res: &common::Resp) -> String {
    String::from_utf8_lossy(&res.raw).into_owned()
}

/// A console page's text, asserting it was served.
async fn page<S, B>(app: &S, cookie: &str, uri: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = send(app, TestRequest::get().uri(uri).insert_header(("cookie", cookie.to_owned()))).await;
    assert_eq!(res.status, 200, "{uri}: {}", text(&res));
    text(&res)
}

/// The part of a page inside the element `data-testid="{id}"` up to the next section.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("data-testid=\"{id}\"")).unwrap_or_else(|| panic!("no section {id}: {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// The region: a clinic managing every patient, her care-management office (花子さん is the
/// care manager), another office with its own care manager, a nurse station.
struct Region {
    t: TestApp,
    clinic: String,
    doctor: String,
    manager: String,
    other_manager: String,
    cmo: String,
    other_cmo: String,
    /// Hers: her name on its care team.
    yamada: String,
    /// Her office's, not hers.
    suzuki: String,
    /// The other office's.
    sato: String,
}

impl Region {
    fn dr(&self) -> String {
        token(&self.t, &self.doctor, "physician", &self.clinic)
    }
    fn cm(&self) -> String {
        token(&self.t, &self.manager, "care_manager", &self.cmo)
    }
    fn other_cm(&self) -> String {
        token(&self.t, &self.other_manager, "care_manager", &self.other_cmo)
    }
}

async fn region<S, B>(t: TestApp, app: &S) -> Region
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let w = common::World::new(&t, app)
        .org("clinic", "clinic")
        .org("cmo", "care_management_office")
        .org("other cmo", "care_management_office")
        .org("station", "visiting_nurse_station")
        .practitioner("doctor", "医師 一郎", "physician", "clinic")
        .practitioner("manager", "介護 花子", "care_manager", "cmo")
        .practitioner("other", "支援 次郎", "care_manager", "other cmo")
        .build()
        .await;
    let (clinic, cmo, other_cmo, station) = (w.org("clinic"), w.org("cmo"), w.org("other cmo"), w.org("station"));
    let doctor = token(&t, &w.practitioner("doctor"), "physician", &clinic);
    let yamada = common::World::new(&t, app)
        .patient(person("山田 花子", "ヤマダ ハナコ", &clinic))
        .author(doctor.clone())
        .member_as(&cmo, &w.practitioner("manager"), "care_manager", &day(-60))
        .member(&station, "nurse", &day(-60))
        .consent(consent(&day(10)))
        .document(
            "discharge-summary",
            "1.0.0",
            json!({"hospital": {"name": "新見中央病院"}, "admission_date": day(-20), "discharge_date": day(-3),
                "diagnoses": [{"icd10_code": "J18.9", "name": "肺炎", "primary": true}]}),
        )
        .build()
        .await
        .patient;
    let suzuki = common::World::new(&t, app)
        .patient(person("鈴木 一郎", "スズキ イチロウ", &clinic))
        .author(doctor.clone())
        .member(&cmo, "care_manager", &day(-60))
        .consent(consent(&day(365)))
        .build()
        .await
        .patient;
    let sato = common::World::new(&t, app)
        .patient(person("佐藤 太郎", "サトウ タロウ", &clinic))
        .author(doctor)
        .member_as(&other_cmo, &w.practitioner("other"), "care_manager", &day(-60))
        .consent(consent(&day(5)))
        .build()
        .await
        .patient;
    Region {
        t,
        doctor: w.practitioner("doctor"),
        manager: w.practitioner("manager"),
        other_manager: w.practitioner("other"),
        clinic,
        cmo,
        other_cmo,
        yamada,
        suzuki,
        sato,
    }
}

async fn sent<S, B>(app: &S, token: &str, body: Value) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = call(app, "POST", "/v1/contact-sheets", token, Some(body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.id()
}

async fn answered<S, B>(app: &S, token: &str, id: &str)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res =
        call(app, "POST", &format!("/v1/contact-sheets/{id}/reply"), token, Some(json!({"body": "承知しました"})))
            .await;
    assert_eq!(res.status, 200, "{}", res.body);
}

#[actix_web::test]
async fn the_morning_page_shows_her_answers_overdue_inbox_consents_and_discharges() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(t, &app).await;
    let (dr, cm) = (r.dr(), r.cm());

    let answered_id = sent(&app, &cm, sheet(&r.yamada, &r.doctor, "ご指示を", in_secs(86_400))).await;
    answered(&app, &dr, &answered_id).await;
    let late_id = sent(&app, &cm, sheet(&r.yamada, &r.doctor, "急ぎです", in_secs(1))).await;
    let waiting_id = sent(&app, &dr, sheet(&r.yamada, &r.manager, "訪問の件", in_secs(86_400))).await;
    // The other office's care manager: her sheet answered too, about her own patient.
    let theirs = sent(&app, &r.other_cm(), sheet(&r.sato, &r.doctor, "別の件", in_secs(86_400))).await;
    answered(&app, &dr, &theirs).await;
    // A colleague of her office: the office's sent box holds it, her morning does not.
    let colleague = token(&r.t, "colleague-cm", "care_manager", &r.cmo);
    let colleagues = sent(&app, &colleague, sheet(&r.suzuki, &r.doctor, "同僚の件", in_secs(86_400))).await;
    answered(&app, &dr, &colleagues).await;
    r.t.state.clock.advance(time::Duration::seconds(2));

    let cookie = common::console_sign_in(&app, &cm).await;
    let res = send(&app, TestRequest::get().uri("/console/").insert_header(("cookie", cookie.clone()))).await;
    assert_eq!(res.status, 200, "{}", text(&res));
    let page = text(&res);
    assert!(page.contains("<h1>今日の確認</h1>"), "{page}");

    let new_answers = section(&page, "answered");
    assert!(new_answers.contains("回答が届いた連絡票"), "{new_answers}");
    assert!(new_answers.contains(&format!("/console/sheets/{answered_id}")), "{new_answers}");
    assert!(new_answers.contains("山田 花子") && new_answers.contains("医師 一郎"), "{new_answers}");
    assert!(new_answers.contains("<span class=\"count\">1</span>"), "{new_answers}");
    assert!(!new_answers.contains(&late_id), "an unanswered sheet is no answer: {new_answers}");
    assert!(!new_answers.contains(&colleagues), "a colleague's sheet: {new_answers}");
    // Local time as the region writes it (12月2日(水) 08:30), not the stored instant.
    let local = time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap());
    let month_day = format!("{}月{}日(", u8::from(local.month()), local.day());
    assert!(new_answers.contains(&month_day), "{month_day} in {new_answers}");
    assert!(!page.contains(&in_secs(0)[..11]), "a stored instant on the page: {page}");

    let overdue = section(&page, "overdue");
    assert!(overdue.contains("期限を過ぎた未回答の連絡票"), "{overdue}");
    assert!(overdue.contains(&format!("/console/sheets/{late_id}")), "{overdue}");
    assert!(!overdue.contains(&answered_id), "{overdue}");
    assert!(overdue.contains("<span class=\"count\">1</span>"), "{overdue}");

    let waiting = section(&page, "waiting");
    assert!(waiting.contains("あなた宛ての連絡票"), "{waiting}");
    assert!(waiting.contains(&format!("/console/sheets/{waiting_id}")), "{waiting}");
    assert!(waiting.contains("未読") && waiting.contains("class=\"unread\""), "{waiting}");

    let consents = section(&page, "consents");
    assert!(consents.contains("同意の期限切れ間近・未取得"), "{consents}");
    assert!(consents.contains(&format!("/console/patients/{}", r.yamada)), "{consents}");
    let until = time::OffsetDateTime::now_utc().date() + time::Duration::days(10);
    let until = format!("{}月{}日(", u8::from(until.month()), until.day());
    assert!(consents.contains(&until), "the consent's last day, {until}: {consents}");
    assert!(!consents.contains(&r.suzuki), "a consent for a year is not expiring: {consents}");

    let discharges = section(&page, "discharges");
    assert!(discharges.contains(&format!("/console/patients/{}", r.yamada)), "{discharges}");
    assert!(discharges.contains("退院日"), "{discharges}");

    // Nothing of the other care manager's: not her sheet, not her patient.
    assert!(!page.contains(&theirs) && !page.contains("佐藤") && !page.contains(&r.sato), "{page}");
    for wire in [">answered<", ">question<", ">delivered<"] {
        assert!(!page.contains(wire), "{wire} on the page");
    }

    let en = text(&send(&app, TestRequest::get().uri("/console/?lang=en").insert_header(("cookie", cookie))).await);
    assert!(en.contains("New answers to your sheets") && en.contains("Consents expiring or missing"), "{en}");

    // The other care manager's morning has her answer and none of these.
    let other = common::console_sign_in(&app, &r.other_cm()).await;
    let page = text(&send(&app, TestRequest::get().uri("/console/").insert_header(("cookie", other))).await);
    assert!(section(&page, "answered").contains(&theirs), "{page}");
    assert!(!page.contains(&answered_id) && !page.contains(&waiting_id) && !page.contains("山田"), "{page}");
}

#[actix_web::test]
async fn her_patients_come_first_and_the_name_and_kana_search_finds_by_part() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(t, &app).await;
    let cookie = common::console_sign_in(&app, &r.cm()).await;

    let list = page(&app, &cookie, "/console/patients").await;
    let (yamada, suzuki) = (list.find("山田 花子").expect("hers"), list.find("鈴木 一郎").expect("her office's"));
    assert!(yamada < suzuki, "her own patient first: {list}");
    assert_eq!(list.matches("data-testid=\"mine\"").count(), 1, "{list}");
    assert_eq!(list.matches("山田 花子").count(), 1, "listed once: {list}");
    assert!(!list.contains("佐藤"), "another office's patient: {list}");

    // By part of the name, of the kana in hiragana (spaces ignored), and in katakana.
    for query in ["%E5%B1%B1%E7%94%B0", "%E3%82%84%E3%81%BE%E3%81%A0%E3%81%AF", "%E3%83%8F%E3%83%8A%E3%82%B3"] {
        let found = page(&app, &cookie, &format!("/console/patients?name={query}")).await;
        assert!(found.contains("山田 花子"), "{query}: {found}");
        assert!(!found.contains("鈴木"), "{query}: {found}");
    }
    let found = page(&app, &cookie, "/console/patients?name=%E3%81%84%E3%81%A1%E3%82%8D%E3%81%86").await;
    assert!(found.contains("鈴木 一郎") && !found.contains("山田"), "いちろう: {found}");
    let none = page(&app, &cookie, "/console/patients?name=%E4%BD%90%E8%97%A4").await;
    assert!(none.contains("data-testid=\"empty\""), "佐藤 is not hers to find: {none}");

    // The API's search says the same, and its listing of her own.
    let api = call(&app, "GET", "/v1/patients?name=%E3%82%84%E3%81%BE%E3%81%A0", &r.cm(), None).await;
    assert_eq!(api.status, 200, "{}", api.body);
    let ids: Vec<&str> = api.body["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [r.yamada.as_str()]);
    // A page of one is filled past the patients the name does not match, whichever id sorts first.
    for (query, id) in [("%E3%82%B9%E3%82%BA%E3%82%AD", &r.suzuki), ("%E3%83%A4%E3%83%9E%E3%83%80", &r.yamada)] {
        let one = call(&app, "GET", &format!("/v1/patients?name={query}&limit=1"), &r.cm(), None).await;
        let ids: Vec<&str> = one.body["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [id.as_str()], "{}", one.body);
    }
    let mine = call(&app, "GET", "/v1/patients?mine=true", &r.cm(), None).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1, "{}", mine.body);
    let blank = call(&app, "GET", "/v1/patients?name=%20", &r.cm(), None).await;
    assert_eq!(blank.problem(422)["errors"][0]["pointer"], "/query/name");
}

#[actix_web::test]
async fn a_role_that_may_not_list_patients_gets_the_refusal_page() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(t, &app).await;
    let analyst = token(&r.t, "analyst-1", "analyst", &r.cmo);
    let cookie = common::console_sign_in(&app, &analyst).await;
    let res =
        send(&app, TestRequest::get().uri("/console/patients?name=x").insert_header(("cookie", cookie.clone()))).await;
    assert_eq!(res.status, 403, "{}", text(&res));
    let page = text(&res);
    assert!(page.contains("<html lang=\"ja\">") && !page.contains("山田"), "{page}");
    // Her start page is not the morning page either (no sheets or patients to show).
    let home = send(&app, TestRequest::get().uri("/console/").insert_header(("cookie", cookie))).await;
    assert!(home.status == 200 || home.status == 303, "{}", text(&home));
    assert!(!text(&home).contains("今日の確認"), "{}", text(&home));
}
