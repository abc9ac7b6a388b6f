//! Contact sheets between doctors, care managers and consultation desks, through the HTTP
//! stack, on either backend: a sheet's life, forward, withdraw, overdue, the 422 for an
//! addressee without consent, the desk flow, audit events, the change feed, sealing at rest.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::init_service;
use common::{TestApp, call, hanako};
use serde_json::{Value, json};

fn today_plus(days: i64) -> String {
    carepath::clock::format_day(time::OffsetDateTime::now_utc().date() + time::Duration::days(days))
}

fn in_secs(secs: i64) -> String {
    carepath::clock::format(time::OffsetDateTime::now_utc() + time::Duration::seconds(secs))
}

/// The region: a clinic managing the patient, a care-management office and a visiting-nurse
/// station on its care team, a consultation desk, a clinic unrelated to the patient.
struct World {
    t: TestApp,
    clinic: String,
    cmo: String,
    station: String,
    desk: String,
    other: String,
    auditor_org: String,
    doctor: String,
    manager: String,
    patient: String,
}

impl World {
    /// A token whose `sub` is the practitioner's directory id (or any subject).
    fn token(&self, sub: &str, role: &str, org: &str) -> String {
        carepath::auth::issue_local_token(&self.t.state.settings.data_dir, sub, role.parse().unwrap(), org, 600)
            .unwrap()
    }
    fn dr(&self) -> String {
        self.token(&self.doctor, "physician", &self.clinic)
    }
    fn cm(&self) -> String {
        self.token(&self.manager, "care_manager", &self.cmo)
    }
    fn desk_staff(&self) -> String {
        self.token("desk-nurse", "nurse", &self.desk)
    }
    fn auditor(&self) -> String {
        self.token("auditor-1", "auditor", &self.auditor_org)
    }
}

async fn world<S, B>(t: TestApp, app: &S) -> World
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let built = common::World::new(&t, app)
        .org("clinic", "clinic")
        .org("cmo", "care_management_office")
        .org("station", "visiting_nurse_station")
        .org("desk", "consultation_desk")
        .org("other", "clinic")
        .org("city", "municipality")
        .practitioner("doctor", "医師 一郎", "physician", "clinic")
        .practitioner("manager", "介護 花子", "care_manager", "cmo")
        .build()
        .await;
    let mut w = World {
        clinic: built.org("clinic"),
        cmo: built.org("cmo"),
        station: built.org("station"),
        desk: built.org("desk"),
        other: built.org("other"),
        auditor_org: built.org("city"),
        doctor: built.practitioner("doctor"),
        manager: built.practitioner("manager"),
        patient: String::new(),
        t,
    };
    w.patient = patient(app, &w, true).await;
    w
}

/// A patient of the clinic with the office and the station on its team; with `consent`, the
/// patient consents to share with the care team and with the desk.
async fn patient<S, B>(app: &S, w: &World, consent: bool) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let mut patient = hanako();
    patient["managing_organization"] = json!(w.clinic);
    let mut built = common::World::new(&w.t, app)
        .patient(patient)
        .author(w.dr())
        .member_as(&w.cmo, &w.manager, "care_manager", &today_plus(-10))
        .member(&w.station, "nurse", &today_plus(-10));
    if consent {
        for orgs in [json!("care_team"), json!([w.desk])] {
            built = built.consent(json!({"status": "active", "organizations": orgs, "purposes": ["treatment"],
                "period": {"start": today_plus(-1)}, "obtained_by": "signed_form"}));
        }
    }
    built.build().await.patient
}

fn sheet(patient: Option<&str>, to: Value, body: &str) -> Value {
    let mut s = json!({"to": to, "category": "question", "urgency": "soon", "body": body, "reply_by": in_secs(86_400)});
    if let Some(p) = patient {
        s["patient_id"] = json!(p);
    }
    s
}

fn ops(thread: &Value) -> Vec<String> {
    thread.as_array().unwrap().iter().map(|e| e["op"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn a_sheet_lives_sent_read_answered_closed_audited_and_in_the_feed() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let (dr, cm) = (w.dr(), w.cm());
    let body = sheet(Some(&w.patient), json!({"practitioner": w.doctor}), "BODYMARK 血圧が高めです。ご指示を");
    let sent = call(&app, "POST", "/v1/contact-sheets", &cm, Some(body)).await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let id = sent.id();
    assert_eq!(sent.header("location"), Some(format!("/v1/contact-sheets/{id}").as_str()));
    assert_eq!(sent.body["state"], "delivered");
    assert_eq!(sent.body["to"]["organization"], w.clinic.as_str());
    assert_eq!(ops(&sent.body["thread"]), ["sent", "delivered"]);

    // The doctor's inbox holds it, unread; the office's sent box too.
    let inbox = call(&app, "GET", "/v1/contact-sheets?box=inbox", &dr, None).await;
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    assert_eq!(inbox.body["items"][0]["id"], id.as_str());
    assert_eq!(inbox.body["unread"], 1);
    assert!(inbox.body["items"][0].get("body").is_none(), "no text in a listing");
    let sent_box = call(&app, "GET", "/v1/contact-sheets?box=sent", &cm, None).await;
    assert_eq!(sent_box.body["items"][0]["id"], id.as_str());
    assert_eq!(call(&app, "GET", "/v1/contact-sheets", &cm, None).await.body["items"], json!([]));

    // The sender opening it is no read receipt; the doctor's first open is.
    let looked = call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &cm, None).await;
    assert_eq!(looked.body["state"], "delivered");
    let opened = call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &dr, None).await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    assert_eq!(opened.body["state"], "read");
    assert_eq!(opened.body["body"], "BODYMARK 血圧が高めです。ご指示を");
    let receipt = call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &cm, None).await;
    assert_eq!(receipt.body["read_by"], w.doctor.as_str());
    assert!(receipt.body["read_at"].is_string());
    assert_eq!(call(&app, "GET", "/v1/contact-sheets", &dr, None).await.body["unread"], 0);

    // Withdrawing after the read is refused.
    call(&app, "POST", &format!("/v1/contact-sheets/{id}/withdraw"), &cm, None).await.problem(409);

    let replied = call(
        &app,
        "POST",
        &format!("/v1/contact-sheets/{id}/reply"),
        &dr,
        Some(json!({"body": "REPLYMARK 降圧薬を調整します"})),
    )
    .await;
    assert_eq!(replied.status, 200, "{}", replied.body);
    assert_eq!(replied.body["state"], "answered");
    let answer = replied.body["thread"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((answer["op"].as_str(), answer["organization"].as_str()), (Some("answered"), Some(w.clinic.as_str())));
    assert_eq!(answer["text"], "REPLYMARK 降圧薬を調整します");

    let closed = call(&app, "POST", &format!("/v1/contact-sheets/{id}/close"), &cm, None).await;
    assert_eq!(closed.body["state"], "closed", "{}", closed.body);
    assert_eq!(ops(&closed.body["thread"]), ["sent", "delivered", "read", "answered", "closed"]);
    call(&app, "POST", &format!("/v1/contact-sheets/{id}/close"), &dr, None).await.problem(409);

    // A party-less organisation on the team sees neither the sheet nor its changes.
    let nurse = w.token("nurse-1", "nurse", &w.station);
    call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &nurse, None).await.problem(404);
    let feed = |token: String| {
        let app = &app;
        async move {
            let page = call(app, "GET", "/v1/changes?limit=1000", &token, None).await;
            assert_eq!(page.status, 200, "{}", page.body);
            page.body["changes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["resource"] == "contact_sheet")
                .map(|c| c["op"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(feed(dr.clone()).await, ["sent", "delivered", "read", "answered", "closed"]);
    assert_eq!(feed(cm.clone()).await, ["sent", "delivered", "read", "answered", "closed"]);
    assert!(feed(nurse).await.is_empty());

    // Every state change is an audit event.
    let events = call(&app, "GET", "/v1/audit-events?limit=500", &w.auditor(), None).await;
    assert_eq!(events.status, 200, "{}", events.body);
    let actions: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_id"] == id.as_str() && e["outcome"] == "allowed")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["contact_sheet.send", "contact_sheet.read", "contact_sheet.reply", "contact_sheet.close"] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }

    // Body and reply are sealed at rest.
    let raw = common::raw_database_text(&w.t);
    assert!(!raw.contains("BODYMARK") && !raw.contains("REPLYMARK"), "plaintext at rest");
}

#[actix_web::test]
async fn a_sheet_is_forwarded_keeping_its_thread_or_withdrawn_before_it_is_read() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let (dr, cm) = (w.dr(), w.cm());
    let sent = call(
        &app,
        "POST",
        "/v1/contact-sheets",
        &dr,
        Some(sheet(Some(&w.patient), json!({"organization": w.cmo}), "訪問看護の調整を")),
    )
    .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let id = sent.id();
    let fwd = json!({"to": {"organization": w.station}, "note": "FWDMARK ステーションへ"});
    // Only the addressee forwards.
    call(&app, "POST", &format!("/v1/contact-sheets/{id}/forward"), &dr, Some(fwd.clone())).await.problem(403);
    let forwarded = call(&app, "POST", &format!("/v1/contact-sheets/{id}/forward"), &cm, Some(fwd)).await;
    assert_eq!(forwarded.status, 200, "{}", forwarded.body);
    assert_eq!(forwarded.body["state"], "forwarded");
    assert_eq!(forwarded.body["to"]["organization"], w.station.as_str());
    let last = forwarded.body["thread"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["text"], "FWDMARK ステーションへ");
    // The station answers; the office, which forwarded it, still follows the thread.
    let nurse = w.token("nurse-1", "nurse", &w.station);
    let inbox = call(&app, "GET", "/v1/contact-sheets", &nurse, None).await;
    assert_eq!(inbox.body["items"][0]["id"], id.as_str(), "{}", inbox.body);
    let answered =
        call(&app, "POST", &format!("/v1/contact-sheets/{id}/reply"), &nurse, Some(json!({"body": "承知しました"})))
            .await;
    assert_eq!(answered.body["state"], "answered", "{}", answered.body);
    let seen = call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &cm, None).await;
    assert_eq!(ops(&seen.body["thread"]), ["sent", "delivered", "forwarded", "answered"]);
    // Forwarding to an organisation unrelated to the patient: 422.
    let again = call(
        &app,
        "POST",
        "/v1/contact-sheets",
        &dr,
        Some(sheet(Some(&w.patient), json!({"organization": w.cmo}), "x")),
    )
    .await;
    let id2 = again.id();
    let bad = call(
        &app,
        "POST",
        &format!("/v1/contact-sheets/{id2}/forward"),
        &cm,
        Some(json!({"to": {"organization": w.other}})),
    )
    .await;
    assert!(
        bad.problem(422)["detail"].as_str().unwrap().contains("care team")
            || bad.body.to_string().contains("care team"),
        "{}",
        bad.body
    );

    // Withdrawn before it is read: then nobody can open it as unread, nor answer it.
    let withdrawn = call(&app, "POST", &format!("/v1/contact-sheets/{id2}/withdraw"), &dr, None).await;
    assert_eq!(withdrawn.body["state"], "withdrawn", "{}", withdrawn.body);
    call(&app, "POST", &format!("/v1/contact-sheets/{id2}/reply"), &cm, Some(json!({"body": "?"}))).await.problem(409);
    // Only the sender withdraws.
    let third = call(
        &app,
        "POST",
        "/v1/contact-sheets",
        &dr,
        Some(sheet(Some(&w.patient), json!({"organization": w.cmo}), "y")),
    )
    .await;
    let id3 = third.body["id"].as_str().unwrap();
    call(&app, "POST", &format!("/v1/contact-sheets/{id3}/withdraw"), &cm, None).await.problem(403);
}

#[actix_web::test]
async fn a_sheet_past_reply_by_is_overdue_for_both_sides_until_answered() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let (dr, cm) = (w.dr(), w.cm());
    let mut late = sheet(Some(&w.patient), json!({"practitioner": w.doctor}), "急ぎです");
    late["reply_by"] = json!(in_secs(1));
    let late = call(&app, "POST", "/v1/contact-sheets", &cm, Some(late)).await;
    assert_eq!(late.status, 201, "{}", late.body);
    let late_id = late.id();
    let calm = call(
        &app,
        "POST",
        "/v1/contact-sheets",
        &cm,
        Some(sheet(Some(&w.patient), json!({"practitioner": w.doctor}), "ゆっくりで")),
    )
    .await;
    assert_eq!(calm.status, 201);
    // A reply_by in the past is refused.
    let mut past = sheet(Some(&w.patient), json!({"practitioner": w.doctor}), "x");
    past["reply_by"] = json!(in_secs(-60));
    assert_eq!(
        call(&app, "POST", "/v1/contact-sheets", &cm, Some(past)).await.problem(422)["errors"][0]["pointer"],
        "/reply_by"
    );
    // Past the deadline, without waiting for it: the service's clock moves on.
    w.t.state.clock.advance(time::Duration::seconds(2));

    for (token, side) in [(&dr, "inbox"), (&cm, "sent")] {
        let listed = call(&app, "GET", &format!("/v1/contact-sheets?box={side}&overdue=true"), token, None).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let items = listed.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{}", listed.body);
        assert_eq!(items[0]["id"], late_id.as_str());
        assert_eq!(items[0]["overdue"], true);
        assert_eq!(listed.body["overdue"], 1);
    }
    call(&app, "POST", &format!("/v1/contact-sheets/{late_id}/reply"), &dr, Some(json!({"body": "了解"}))).await;
    let listed = call(&app, "GET", "/v1/contact-sheets?box=sent&overdue=true", &cm, None).await;
    assert_eq!(listed.body["items"], json!([]));
    assert_eq!(listed.body["overdue"], 0);
}

#[actix_web::test]
async fn an_addressee_who_may_not_see_the_patient_is_refused_with_a_reason() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let dr = w.dr();
    let bare = patient(&app, &w, false).await;
    // On the team, but no consent names the office.
    let res =
        call(&app, "POST", "/v1/contact-sheets", &dr, Some(sheet(Some(&bare), json!({"organization": w.cmo}), "x")))
            .await;
    let problem = res.problem(422);
    assert_eq!(problem["errors"][0]["pointer"], "/to", "{problem}");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("consent missing"), "{problem}");
    // Not on the team at all.
    let res = call(
        &app,
        "POST",
        "/v1/contact-sheets",
        &dr,
        Some(sheet(Some(&w.patient), json!({"organization": w.other}), "x")),
    )
    .await;
    assert!(res.problem(422)["errors"][0]["message"].as_str().unwrap().contains("care team"), "{}", res.body);
    // A desk the consent does not name.
    let res =
        call(&app, "POST", "/v1/contact-sheets", &dr, Some(sheet(Some(&bare), json!({"organization": w.desk}), "x")))
            .await;
    res.problem(422);
    // A sender unrelated to the patient learns nothing: 404.
    let stranger = w.token("dr-x", "physician", &w.other);
    call(
        &app,
        "POST",
        "/v1/contact-sheets",
        &stranger,
        Some(sheet(Some(&w.patient), json!({"organization": w.clinic}), "x")),
    )
    .await
    .problem(404);
    // A sheet without a patient goes to a desk only.
    let res =
        call(&app, "POST", "/v1/contact-sheets", &dr, Some(sheet(None, json!({"organization": w.cmo}), "x"))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/patient_id");
    // Both or neither of organization/practitioner.
    let res = call(&app, "POST", "/v1/contact-sheets", &dr, Some(sheet(Some(&w.patient), json!({}), "x"))).await;
    assert_eq!(res.problem(422)["errors"][0]["pointer"], "/to");
}

#[actix_web::test]
async fn the_desk_answers_or_forwards_and_the_thread_shows_who_answered() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let (dr, cm, desk) = (w.dr(), w.cm(), w.desk_staff());
    // A general question, about no patient.
    let q = call(
        &app,
        "POST",
        "/v1/contact-sheets",
        &cm,
        Some(sheet(None, json!({"organization": w.desk}), "DESKMARK 胃ろうの管理について一般的に")),
    )
    .await;
    assert_eq!(q.status, 201, "{}", q.body);
    assert!(q.body["patient_id"].is_null());
    let qid = q.id();
    let inbox = call(&app, "GET", "/v1/contact-sheets", &desk, None).await;
    assert_eq!(inbox.body["items"][0]["id"], qid.as_str(), "{}", inbox.body);
    let fwd = call(
        &app,
        "POST",
        &format!("/v1/contact-sheets/{qid}/forward"),
        &desk,
        Some(json!({"to": {"practitioner": w.doctor}, "note": "先生お願いします"})),
    )
    .await;
    assert_eq!(fwd.status, 200, "{}", fwd.body);
    let read = call(&app, "GET", &format!("/v1/contact-sheets/{qid}"), &dr, None).await;
    assert_eq!(read.body["body"], "DESKMARK 胃ろうの管理について一般的に", "{}", read.body);
    let ans = call(
        &app,
        "POST",
        &format!("/v1/contact-sheets/{qid}/reply"),
        &dr,
        Some(json!({"body": "DESKREPLY 週1回の確認を"})),
    )
    .await;
    assert_eq!(ans.body["state"], "answered", "{}", ans.body);
    let seen = call(&app, "GET", &format!("/v1/contact-sheets/{qid}"), &cm, None).await;
    let thread = seen.body["thread"].as_array().unwrap();
    let answer = thread.iter().find(|e| e["op"] == "answered").unwrap();
    assert_eq!(
        (answer["by"].as_str(), answer["organization"].as_str()),
        (Some(w.doctor.as_str()), Some(w.clinic.as_str()))
    );
    let forward = thread.iter().find(|e| e["op"] == "forwarded").unwrap();
    assert_eq!(forward["organization"], w.desk.as_str());
    // The desk still follows it; another clinic does not.
    assert_eq!(call(&app, "GET", &format!("/v1/contact-sheets/{qid}"), &desk, None).await.status, 200);
    let stranger = w.token("dr-x", "physician", &w.other);
    call(&app, "GET", &format!("/v1/contact-sheets/{qid}"), &stranger, None).await.problem(404);
    // Patient-less changes reach the parties' feeds.
    let page = call(&app, "GET", "/v1/changes", &desk, None).await;
    assert!(
        page.body["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["document_id"] == qid.as_str() && c["patient_id"].is_null()),
        "{}",
        page.body
    );

    // About a patient whose consent names the desk: the desk reads it without being on the team.
    let p = call(
        &app,
        "POST",
        "/v1/contact-sheets",
        &cm,
        Some(sheet(Some(&w.patient), json!({"organization": w.desk}), "服薬の相談")),
    )
    .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let pid = p.body["id"].as_str().unwrap();
    let opened = call(&app, "GET", &format!("/v1/contact-sheets/{pid}"), &desk, None).await;
    assert_eq!(opened.body["state"], "read", "{}", opened.body);
    let answered =
        call(&app, "POST", &format!("/v1/contact-sheets/{pid}/reply"), &desk, Some(json!({"body": "薬剤師に確認を"})))
            .await;
    assert_eq!(answered.body["state"], "answered", "{}", answered.body);

    let raw = common::raw_database_text(&w.t);
    assert!(!raw.contains("DESKMARK") && !raw.contains("DESKREPLY"), "plaintext at rest");
}

#[actix_web::test]
async fn stats_count_sent_read_answered_by_organisation_without_patient_data() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let (dr, cm) = (w.dr(), w.cm());
    for i in 0..3 {
        let s = call(
            &app,
            "POST",
            "/v1/contact-sheets",
            &cm,
            Some(sheet(Some(&w.patient), json!({"practitioner": w.doctor}), &format!("q{i}"))),
        )
        .await;
        let id = s.id();
        if i < 2 {
            call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &dr, None).await;
        }
        if i < 1 {
            call(&app, "POST", &format!("/v1/contact-sheets/{id}/reply"), &dr, Some(json!({"body": "a"}))).await;
        }
    }
    let stats = call(&app, "GET", "/v1/contact-sheets/stats", &cm, None).await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    let row = &stats.body["rows"][0];
    assert_eq!((row["organization"].as_str(), row["category"].as_str()), (Some(w.clinic.as_str()), Some("question")));
    assert_eq!((row["sent"].as_u64(), row["read"].as_u64(), row["answered"].as_u64()), (Some(3), Some(2), Some(1)));
    assert!(row["median_secs_to_read"].is_i64());
    assert!(!stats.body.to_string().contains(&w.patient), "no patient data in stats");
    // The region's view is the auditor's; another organisation's figures are not a clinic's.
    let region = call(&app, "GET", "/v1/contact-sheets/stats", &w.auditor(), None).await;
    assert_eq!(region.body["rows"].as_array().unwrap().len(), 1, "{}", region.body);
    call(&app, "GET", &format!("/v1/contact-sheets/stats?organization={}", w.cmo), &dr, None).await.problem(403);
    call(&app, "GET", "/v1/contact-sheets/stats?from=yesterday", &dr, None).await.problem(422);
}

/// Issue 26 item 16: a sheet addressed to one practitioner stays with that practitioner (and
/// whoever they forward it to); their colleagues get 404 as for a sheet that does not exist. A
/// sheet addressed to the organisation stays the organisation's.
#[actix_web::test]
async fn a_sheet_addressed_to_a_practitioner_opens_only_to_them_and_their_forwardee() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let cm = w.cm();
    let personal = sheet(Some(&w.patient), json!({"practitioner": w.doctor}), "BODYMARK 先生だけに");
    let id = call(&app, "POST", "/v1/contact-sheets", &cm, Some(personal)).await.id();
    let colleague = w.token("dr-colleague", "physician", &w.clinic);
    let res = call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &colleague, None).await;
    res.problem(404);
    assert!(!String::from_utf8_lossy(&res.raw).contains("BODYMARK"));
    let res = call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &w.dr(), None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["body"], "BODYMARK 先生だけに");
    // The sender's organisation keeps its own sheet.
    let office_mate = w.token("cm-colleague", "care_manager", &w.cmo);
    assert_eq!(call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &office_mate, None).await.status, 200);
    // Forwarded by name to a deputy: the deputy opens it, and the first addressee still does.
    let deputy = call(
        &app,
        "POST",
        "/v1/practitioners",
        &w.t.operator(),
        Some(json!({"name": "医師 二郎", "profession": "physician", "organization": w.clinic})),
    )
    .await;
    let deputy_id = deputy.id();
    let fwd = json!({"to": {"practitioner": deputy_id}, "note": "代わりにお願いします"});
    let res = call(&app, "POST", &format!("/v1/contact-sheets/{id}/forward"), &w.dr(), Some(fwd)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let deputy = w.token(&deputy_id, "physician", &w.clinic);
    assert_eq!(call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &deputy, None).await.status, 200);
    assert_eq!(call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &w.dr(), None).await.status, 200);
    call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &colleague, None).await.problem(404);
    // Addressed to the organisation: any of its practitioners opens it.
    let to_org = sheet(Some(&w.patient), json!({"organization": w.clinic}), "どなたか");
    let id = call(&app, "POST", "/v1/contact-sheets", &cm, Some(to_org)).await.id();
    assert_eq!(call(&app, "GET", &format!("/v1/contact-sheets/{id}"), &colleague, None).await.status, 200);
}
