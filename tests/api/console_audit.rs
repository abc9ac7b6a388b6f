//! The auditor's console pages through the HTTP stack, on either backend: the event search
//! newest first and paged with its count, by an actor's name, with local times, names and words
//! (no UUID, no wire word); its CSV for Excel; break-glass review one item an opening, with the
//! reviewer and finding afterwards; refusals for others; and a clinician's access log of a
//! patient of the managing organisation.

use crate::common;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use common::{Resp, TestApp, call, hanako, send};
use serde_json::json;

fn text(res: &Resp) -> String {
    String::from_utf8_lossy(&res.raw).into_owned()
}

/// What a reader sees of a page: its text without tags and attribute values.
fn visible(page: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The `data-seq` values of a page's rows, in page order.
fn seqs(page: &str) -> Vec<i64> {
    page.split("<tr data-seq=\"").skip(1).map(|s| s.split('"').next().unwrap().parse().unwrap()).collect()
}

/// The first `href` after `marker` (HTML-unescaped).
fn link_after(page: &str, marker: &str) -> Option<String> {
    let at = page.find(marker)?;
    let start = page[..at].rfind("href=\"")? + "href=\"".len();
    Some(page[start..].split('"').next()?.replace("&amp;", "&").replace("&#38;", "&"))
}

struct World {
    t: TestApp,
    clinic: String,
    hospital: String,
    patient: String,
    doctor: String,
    doctor_id: String,
    nurse: String,
    auditor: String,
}

impl World {
    fn token(&self, sub: &str, role: &str, org: &str) -> String {
        carepath::auth::issue_local_token(&self.t.state.settings.data_dir, sub, role.parse().unwrap(), org, 600)
            .unwrap()
    }
}

/// A clinic whose physician (新見 一郎) manages 山田 花子, a hospital whose nurse (佐藤 看護)
/// is on no team, both in the directory, and the city's auditor.
async fn world<S, B>(t: TestApp, app: &S) -> World
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let built = common::World::new(&t, app)
        .org("新見クリニック", "clinic")
        .org("県立病院", "hospital")
        .org("新見市", "municipality")
        .practitioner("dr", "新見 一郎", "physician", "新見クリニック")
        .practitioner("ns", "佐藤 看護", "nurse", "県立病院")
        .build()
        .await;
    let (clinic, hospital, city) = (built.org("新見クリニック"), built.org("県立病院"), built.org("新見市"));
    let mut w = World {
        doctor_id: built.practitioner("dr"),
        t,
        clinic: clinic.clone(),
        hospital: hospital.clone(),
        patient: String::new(),
        doctor: String::new(),
        nurse: String::new(),
        auditor: String::new(),
    };
    w.doctor = w.token(&built.practitioner("dr"), "physician", &clinic);
    w.nurse = w.token(&built.practitioner("ns"), "nurse", &hospital);
    // Auditors are no practitioners of the directory: an auditor is named by the sign-in.
    w.auditor = w.token("kansa-hanako", "auditor", &city);
    let mut patient = hanako();
    patient["managing_organization"] = json!(clinic);
    w.patient = common::World::new(&w.t, app).patient(patient).author(w.doctor.clone()).build().await.patient;
    w
}

async fn page<S, B>(app: &S, cookie: &str, uri: &str) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(app, TestRequest::get().uri(uri).insert_header(("cookie", cookie.to_owned()))).await
}

/// `n` reads of the patient by its doctor, through the API.
async fn doctor_reads<S, B>(app: &S, w: &World, n: usize)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    for _ in 0..n {
        let res = call(app, "GET", &format!("/v1/patients/{}", w.patient), &w.doctor, None).await;
        assert_eq!(res.status, 200);
    }
}

/// The nurse breaks the glass once and reads twice more under the same opening.
async fn nurse_breaks_glass<S, B>(app: &S, w: &World, nurse: &str)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let uri = format!("/v1/patients/{}", w.patient);
    let req = TestRequest::get()
        .uri(&uri)
        .insert_header(common::auth(nurse))
        .insert_header(("x-break-glass", "意識がなく自宅で発見、救急搬送のため"));
    assert_eq!(send(app, req).await.status, 200);
    for _ in 0..2 {
        assert_eq!(call(app, "GET", &uri, nurse, None).await.status, 200, "within the opening");
    }
}

#[actix_web::test]
async fn the_event_search_is_newest_first_paged_and_counted_with_names_words_and_local_times() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    doctor_reads(&app, &w, 60).await;
    let cookie = common::console_sign_in(&app, &w.auditor).await;
    let uri = format!("/console/audit/events?patient_id={}&action=patient.read", w.patient);
    let first = page(&app, &cookie, &uri).await;
    assert_eq!(first.status, 200, "{}", text(&first));
    let html = text(&first);
    let on_first = seqs(&html);
    assert_eq!(on_first.len(), 50);
    assert!(on_first.windows(2).all(|p| p[0] > p[1]), "newest first: {on_first:?}");
    assert!(html.contains("全60件中 1–50件目"), "{}", visible(&html));

    // The newest event's time, as the region writes it, and the doctor's name, not the stamp
    // or the UUID; the action as a word, never the wire word.
    let api = call(
        &app,
        "GET",
        &format!("/v1/audit-events?patient_id={}&action=patient.read&limit=1000", w.patient),
        &w.auditor,
        None,
    )
    .await;
    let newest = api.body["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(newest["seq"].as_i64(), Some(on_first[0]));
    let stamp = newest["at"].as_str().unwrap();
    let at = carepath::clock::parse(stamp).unwrap();
    let (day, minute) = (w.t.state.calendar.date_at(at), w.t.state.calendar.minute_at(at));
    let row = html.split("<tr data-seq=\"").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains(&format!("{}月{}日(", u8::from(day.month()), day.day())), "{row}");
    assert!(row.contains(&format!("{:02}:{:02}", minute / 60, minute % 60)), "{row}");
    assert!(row.contains("新見 一郎") && row.contains("医師") && row.contains("新見クリニック"), "{row}");
    assert!(row.contains("利用者の閲覧") && row.contains("許可"), "{row}");
    let seen = visible(&html);
    assert!(!html.contains(stamp), "no UTC stamp on the page");
    assert!(!html.contains(&w.doctor_id) && !html.contains(&w.clinic), "no actor or organisation UUID");
    assert!(!seen.contains(&w.patient), "the patient's id is not shown");
    for wire in ["patient.read", "allowed", "physician"] {
        assert!(!seen.contains(wire), "wire word {wire} shown: {seen}");
    }

    // The next page holds the next (older) events, with the filters kept; previous goes back.
    let next = link_after(&html, "data-testid=\"next\"").expect("a next page");
    assert!(next.contains("action=patient.read") && next.contains(&w.patient), "{next}");
    let second = text(&page(&app, &cookie, &next).await);
    let on_second = seqs(&second);
    assert_eq!(on_second.len(), 10);
    assert!(on_second[0] < *on_first.last().unwrap(), "older than the first page");
    assert!(second.contains("全60件中 51–60件目"), "{}", visible(&second));
    assert!(!second.contains("data-testid=\"next\""), "the last page has no next");
    let previous = link_after(&second, "data-testid=\"previous\"").expect("a previous page");
    let back = text(&page(&app, &cookie, &previous).await);
    assert_eq!(seqs(&back), on_first, "previous shows the first page again");
}

#[actix_web::test]
async fn the_search_finds_an_actor_by_name_and_refuses_a_bad_date_naming_the_field() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    doctor_reads(&app, &w, 2).await;
    nurse_breaks_glass(&app, &w, &w.nurse).await;
    let cookie = common::console_sign_in(&app, &w.auditor).await;
    for (name, shown, hidden) in [("佐藤", "佐藤 看護", "新見 一郎"), ("一郎", "新見 一郎", "佐藤 看護")]
    {
        let uri = format!("/console/audit/events?actor={}", urlencode(name));
        let html = text(&page(&app, &cookie, &uri).await);
        let rows: Vec<&str> = html.split("<tr data-seq=\"").skip(1).collect();
        assert!(!rows.is_empty(), "{name}: {}", visible(&html));
        assert!(rows.iter().all(|r| r.contains(shown) && !r.contains(hidden)), "{name}");
        assert!(html.contains(&format!("該当した操作者: {shown}")), "{}", visible(&html));
    }
    let by_org = text(&page(&app, &cookie, &format!("/console/audit/events?organization={}", urlencode("県立"))).await);
    assert_eq!(seqs(&by_org).len(), 3, "the nurse's three reads: {}", visible(&by_org));
    assert!(by_org.contains("看護師") && by_org.contains("はい"), "break-glass reads by a nurse");

    let bad = page(&app, &cookie, "/console/audit/events?from=2026-13-40").await;
    assert_eq!(bad.status, 422);
    assert!(text(&bad).contains("期間(から): 日付を正しく入力してください"), "{}", visible(&text(&bad)));
    let en = page(&app, &cookie, "/console/audit/events?to=someday&lang=en").await;
    assert!(text(&en).contains("To: enter a real date"), "{}", visible(&text(&en)));
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[actix_web::test]
async fn the_csv_is_the_same_search_with_a_bom_japanese_headers_local_times_and_names() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    doctor_reads(&app, &w, 3).await;
    let cookie = common::console_sign_in(&app, &w.auditor).await;
    let uri = format!("/console/audit/events.csv?patient_id={}&action=patient.read", w.patient);
    let res = page(&app, &cookie, &uri).await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").unwrap().starts_with("text/csv"));
    assert!(res.header("content-disposition").unwrap().starts_with("attachment"));
    assert_eq!(&res.raw[..3], b"\xEF\xBB\xBF", "UTF-8 with a byte-order mark");
    let csv = String::from_utf8(res.raw[3..].to_vec()).unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("\"番号\",\"日時\",\"操作者\",\"職種\",\"事業所\",\"操作\""), "{}", lines[0]);
    assert_eq!(lines.len(), 4, "the header and three events: {csv}");
    assert!(lines[1].contains("\"新見 一郎\",\"医師\",\"新見クリニック\",\"利用者の閲覧\""), "{}", lines[1]);
    let day = w.t.state.calendar.today();
    assert!(
        lines[1].contains(&format!("\"{:04}/{:02}/{:02} ", day.year(), u8::from(day.month()), day.day())),
        "{}",
        lines[1]
    );
    let first: i64 = lines[1].split('"').nth(1).unwrap().parse().unwrap();
    let last: i64 = lines[3].split('"').nth(1).unwrap().parse().unwrap();
    assert!(first > last, "newest first, as the page");
}

#[actix_web::test]
async fn break_glass_is_reviewed_once_an_opening_and_the_review_is_shown_with_its_reviewer() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    nurse_breaks_glass(&app, &w, &w.nurse).await;
    let other = w.token("er-nurse-2", "nurse", &w.hospital);
    nurse_breaks_glass(&app, &w, &other).await;
    let cookie = common::console_sign_in(&app, &w.auditor).await;
    let html = text(&page(&app, &cookie, "/console/audit").await);
    assert_eq!(
        html.matches("data-testid=\"opening\"").count(),
        2,
        "two openings of three reads each: {}",
        visible(&html)
    );
    assert_eq!(html.matches("<dd data-testid=\"opening-events\">3</dd>").count(), 2);
    assert!(html.contains("佐藤 看護") && html.contains("意識がなく自宅で発見"), "{}", visible(&html));

    // Reviewing the first opening (by its first event) leaves the other; a blank note is
    // refused on the page, naming the field, and the opening stays.
    let seq: i64 = html.split("data-seq=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let blank = TestRequest::post()
        .uri(&format!("/console/audit/{seq}/review"))
        .insert_header(("cookie", cookie.clone()))
        .set_form([("note", "   "), ("csrf", csrf.as_str())]);
    let refused = send(&app, blank).await;
    assert_eq!(refused.status, 422);
    assert!(text(&refused).contains("所見: 所見を入力してください"), "{}", visible(&text(&refused)));
    assert_eq!(text(&refused).matches("data-testid=\"opening\"").count(), 2);
    let req = TestRequest::post()
        .uri(&format!("/console/audit/{seq}/review"))
        .insert_header(("cookie", cookie.clone()))
        .set_form([("note", "救急搬送時の正当なアクセスと確認"), ("csrf", csrf.as_str())]);
    assert_eq!(send(&app, req).await.status, 303);
    let after = text(&page(&app, &cookie, "/console/audit").await);
    assert_eq!(after.matches("data-testid=\"opening\"").count(), 1, "{}", visible(&after));
    assert!(!after.contains(&format!("data-seq=\"{seq}\"")));
    let reviewed = text(&page(&app, &cookie, "/console/audit/reviewed").await);
    let row = reviewed
        .split(&format!("<tr data-seq=\"{seq}\">"))
        .nth(1)
        .expect("the reviewed opening")
        .split("</tr>")
        .next()
        .unwrap();
    assert!(row.contains("kansa-hanako (新見市)") && row.contains("救急搬送時の正当なアクセスと確認"), "{row}");
    assert!(row.contains("佐藤 看護") && row.contains("<td>3</td>"), "{row}");
    assert!(reviewed.contains("1–1 / 1"), "{}", visible(&reviewed));
    // The API's review route still answers for an opening already reviewed.
    let again =
        call(&app, "POST", &format!("/v1/audit-events/{seq}/review"), &w.auditor, Some(json!({"comment": "二重"})))
            .await;
    assert_eq!(again.status, 409);
}

#[actix_web::test]
async fn the_auditors_pages_refuse_others_and_a_clinician_reads_the_access_log_of_a_managed_patient() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    nurse_breaks_glass(&app, &w, &w.nurse).await;
    let doctor = common::console_sign_in(&app, &w.doctor).await;
    for uri in ["/console/audit", "/console/audit/events", "/console/audit/events.csv", "/console/audit/reviewed"] {
        let res = page(&app, &doctor, uri).await;
        assert_eq!(res.status, 403, "{uri}");
        assert!(res.header("content-type").unwrap().starts_with("text/html"), "{uri}: an error page");
    }

    // Who opened my patient's record: the clinic manages 山田 花子.
    let res = page(&app, &doctor, &format!("/console/patients/{}/access-log", w.patient)).await;
    assert_eq!(res.status, 200, "{}", text(&res));
    let html = text(&res);
    assert!(html.contains("山田 花子"), "{}", visible(&html));
    let rows: Vec<&str> = html.split("<tr><td>").skip(1).collect();
    assert_eq!(rows.len(), 3, "the nurse's three reads (the doctor's own creation is no read): {}", visible(&html));
    assert!(rows[0].contains("県立病院") && rows[0].contains("看護師") && rows[0].contains("はい"), "{}", rows[0]);
    assert!(!visible(&html).contains("patient.read") && !html.contains(&w.hospital));
    // The hospital's nurse opened it by break-glass, but does not manage the patient.
    let nurse = common::console_sign_in(&app, &w.nurse).await;
    let res = page(&app, &nurse, &format!("/console/patients/{}/access-log", w.patient)).await;
    assert_eq!(res.status, 403, "{}", text(&res));
}

#[actix_web::test]
async fn the_consent_log_shows_terms_in_words_and_each_consents_accesses() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(t, &app).await;
    let consent = json!({
        "status": "active", "organizations": [w.hospital], "permitted_types": ["care-path"],
        "purposes": ["treatment"], "period": {"start": "2025-04-01"}, "obtained_by": "signed_form",
    });
    let res = call(&app, "POST", &format!("/v1/patients/{}/consents", w.patient), &w.doctor, Some(consent)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let consent_id = res.id();
    let cookie = common::console_sign_in(&app, &w.auditor).await;
    let res = page(&app, &cookie, "/console/audit/consents").await;
    assert_eq!(res.status, 200, "{}", text(&res));
    let html = text(&res);
    let seen = visible(&html);
    for said in ["有効", "県立病院", "地域連携パス", "診療・ケア", "同意書への署名", "新見 一郎", "2025年4月1日("]
    {
        assert!(seen.contains(said), "{said}: {seen}");
    }
    for wire in ["signed_form", "care-path", "treatment", "active"] {
        assert!(!seen.contains(wire), "wire word {wire}: {seen}");
    }
    assert!(!seen.contains(&w.hospital) && !seen.contains(&w.doctor_id));
    let res = page(&app, &cookie, &format!("/console/audit/consents/{consent_id}")).await;
    assert_eq!(res.status, 200, "{}", text(&res));
    let doctor = common::console_sign_in(&app, &w.doctor).await;
    assert_eq!(page(&app, &doctor, "/console/audit/consents").await.status, 403);
}
