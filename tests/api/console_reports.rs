//! The analyst's console pages through the HTTP stack: the indicators by 年度 with a suppressed
//! cell marked and explained, the CSV for Japanese Excel, the annual plan's form (a new version
//! per save, a stale one refused with what was typed kept), and the pages refused to a
//! non-analyst as the API refuses them.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, init_service};
use serde_json::json;

use crate::common::{self, Resp, TestApp, send};
use crate::reports::{Region, call, document, patient, region, token};

fn text(res: &Resp) -> String {
    String::from_utf8_lossy(&res.raw).into_owned()
}

fn csrf_of(page: &str) -> String {
    let field = "name=\"csrf\" value=\"";
    let at = page.find(field).expect("a CSRF field") + field.len();
    page[at..].split('"').next().unwrap().to_owned()
}

async fn get<S, B>(app: &S, cookie: &str, uri: &str) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(app, TestRequest::get().uri(uri).insert_header(("cookie", cookie.to_owned()))).await
}

fn as_refs<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn post<S, B>(app: &S, cookie: &str, uri: &str, form: &[(&str, &str)]) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = TestRequest::post().uri(uri).insert_header(("cookie", cookie.to_owned())).set_form(form);
    send(app, req).await
}

/// Ten deaths in 年度 2025, every other one at home, all of patients in 新見市.
async fn deaths<S, B>(app: &S, t: &TestApp, r: &Region)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let dr = token(t, "dr-0", "physician", &r.clinic);
    let days = ["2025-04-01", "2025-05-10", "2025-07-10", "2025-09-01", "2025-11-20"];
    let days = days.iter().chain(&["2025-12-31", "2026-01-01", "2026-02-10", "2026-03-01", "2026-03-31"]);
    for (k, day) in days.enumerate() {
        let place = if k % 2 == 0 { "home" } else { "hospital" };
        let p = patient(app, t, r, Some("新見市"), "2025-01-01").await;
        document(app, &dr, &p, "end-of-life-record", json!({"date_of_death": day, "place_of_death": place})).await;
    }
}

#[actix_web::test]
async fn the_indicators_page_shows_fiscal_years_and_marks_what_is_suppressed() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    deaths(&app, &t, &r).await;
    let analyst = common::console_sign_in(&app, &token(&t, "analyst-1", "analyst", &r.city)).await;

    let res = get(&app, &analyst, "/console/reports/indicators?from=2024&to=2025").await;
    let page = text(&res);
    assert_eq!(res.status, 200, "{page}");
    assert!(page.contains("<th scope=\"col\" class=\"num\">2024年度</th>"), "{page}");
    assert!(page.contains("<th scope=\"col\" class=\"num\">2025年度</th>"), "{page}");
    assert!(!page.contains("FY2025"), "the wire label shows: {page}");
    // The region's 在宅看取り率 of 年度 2025 is 5 of 10; 年度 2024 had no death, a small cell.
    let row = page.split("<th scope=\"row\">在宅看取り率</th>").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains("<td class=\"num suppressed\">＊</td>"), "{row}");
    assert!(row.contains("<td class=\"num\">50.0%</td>"), "{row}");
    // The marks are explained under the table, in Japanese.
    assert!(page.contains("＊ 5未満のため表示していません"), "{page}");
    assert!(page.contains("＊＊ 5以上ですが"), "{page}");
    assert!(page.contains("<svg class=\"chart\""), "no chart: {page}");
    assert!(!page.contains("style="), "an inline style: {page}");
    assert!(!page.contains("home_death_rate<"), "an indicator id shows: {page}");

    // A municipality is chosen from the list; quarters read as months.
    let res = get(&app, &analyst, "/console/reports/indicators?granularity=quarter&from=2025&to=2025").await;
    let page = text(&res);
    assert_eq!(res.status, 200, "{page}");
    assert!(page.contains("2025年4〜6月") && page.contains("2026年1〜3月"), "{page}");
    assert!(page.contains(">岡山県新見市</a>"), "{page}");

    // A year that is no year is named in the page's language, with the form kept.
    let res = get(&app, &analyst, "/console/reports/indicators?from=20x5&to=2025").await;
    let page = text(&res);
    assert_eq!(res.status, 422, "{page}");
    assert!(page.contains("開始年度: 2000〜2100の年度を数字で入力してください"), "{page}");
    assert!(page.contains("value=\"20x5\""), "{page}");
}

#[actix_web::test]
async fn the_csv_opens_in_excel_with_japanese_headers_and_a_column_per_period() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    deaths(&app, &t, &r).await;
    let analyst = common::console_sign_in(&app, &token(&t, "analyst-1", "analyst", &r.city)).await;

    let res = get(&app, &analyst, "/console/reports/indicators.csv?from=2024&to=2025").await;
    assert_eq!(res.status, 200, "{}", text(&res));
    assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(res.header("content-disposition").unwrap().starts_with("attachment;"));
    assert_eq!(&res.raw[..3], &[0xEF, 0xBB, 0xBF], "no byte-order mark");
    let body = String::from_utf8(res.raw[3..].to_vec()).unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "地域,指標,2024年度,2025年度");
    assert!(lines.contains(&"地域全体,在宅看取り率,＊,50.0%"), "{body}");
    assert!(lines.contains(&"地域全体,死亡者数,＊,10"), "{body}");
    assert!(lines.iter().any(|l| l.starts_with("注,＊ 5未満")), "no note on the marks: {body}");
    assert!(lines.iter().any(|l| l.starts_with("注,＊＊ 5以上")), "{body}");
    assert!(!body.contains("home_death_rate") && !body.contains("FY2025"), "{body}");
}

#[actix_web::test]
async fn the_plan_form_stores_a_version_per_save_and_a_stale_one_keeps_what_was_typed() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    let bearer = token(&t, "analyst-1", "analyst", &r.city);
    let analyst = common::console_sign_in(&app, &bearer).await;

    let res = get(&app, &analyst, "/console/reports/plan?year=2026").await;
    let page = text(&res);
    assert_eq!(res.status, 200, "{page}");
    assert!(page.contains("この年の計画はまだありません"), "{page}");
    let csrf = csrf_of(&page);
    let item = |what: &'static str, version: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("version", version.to_owned()),
            ("reviewed_on", String::new()),
            ("i0.area", "G".to_owned()),
            ("i0.what", what.to_owned()),
            ("i0.by", r.city.clone()),
            ("i0.schedule", "10月".to_owned()),
            ("i0.times", "2".to_owned()),
            ("i0.status", "in_progress".to_owned()),
            ("i0.k0.indicator", "home_death_rate".to_owned()),
            ("i0.k0.group", "outcome".to_owned()),
            ("i0.k0.target", "30%".to_owned()),
            // An untouched blank item is left out.
            ("i1.area", "A".to_owned()),
            ("i1.what", String::new()),
            ("i1.status", "planned".to_owned()),
        ]
    };
    let form = |pairs: &[(&'static str, String)]| pairs.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();

    let first = form(&item("住民向け講演会「人生会議」", ""));
    let res = post(&app, &analyst, "/console/reports/plan?year=2026", &as_refs(&first)).await;
    assert_eq!(res.status, 303, "{}", text(&res));
    let second = form(&item("住民向け講演会「人生会議」を2回", "1"));
    let res = post(&app, &analyst, "/console/reports/plan?year=2026", &as_refs(&second)).await;
    assert_eq!(res.status, 303, "{}", text(&res));

    // Each save is a version of the domain's plan, as the API reads it.
    let api = call(&app, "GET", "/v1/plans/2026", &bearer, None).await;
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(api.header("etag"), Some("\"2\""));
    assert_eq!(api.body["items"].as_array().unwrap().len(), 1, "{}", api.body);
    assert_eq!(api.body["items"][0]["indicators"][0]["target"], 0.3);

    let res = get(&app, &analyst, "/console/reports/plan?year=2026&saved=1").await;
    let page = text(&res);
    assert!(page.contains("保存しました"), "{page}");
    assert!(page.contains("版 2"), "{page}");
    assert!(page.contains("G 地域住民への普及啓発") && page.contains("実施中"), "{page}");
    assert!(page.contains("在宅看取り率") && page.contains("目標 30.0%"), "{page}");
    assert!(page.contains("新見市"), "the owner by name: {page}");
    // Both versions are kept, the newest first, each with what it said.
    let history = page.split("data-testid=\"plan-history\"").nth(1).expect("a history").split("</ol>").next().unwrap();
    let (v2, v1) = (history.find("版 2").expect("version 2"), history.find("版 1").expect("version 1"));
    assert!(v2 < v1, "{history}");
    assert!(history.contains("G 地域住民への普及啓発: 住民向け講演会「人生会議」</li>"), "{history}");
    assert!(history.contains("住民向け講演会「人生会議」を2回"), "{history}");
    let shown = page.replace(&format!("value=\"{}\"", r.city), "");
    assert!(!shown.contains(&r.city), "an organisation id shows (other than as a form value): {page}");
    assert!(!page.contains(">in_progress<") && !page.contains(">outcome<"), "a wire word shows: {page}");

    // A form read at version 1 is stale now: refused, said so, and what was typed is kept.
    let stale = form(&item("古い画面からの変更", "1"));
    let res = post(&app, &analyst, "/console/reports/plan?year=2026", &as_refs(&stale)).await;
    let page = text(&res);
    assert_eq!(res.status, 412, "{page}");
    assert!(page.contains("別の人が計画を更新しています"), "{page}");
    assert!(page.contains(">古い画面からの変更</textarea>"), "the input is lost: {page}");
    let api = call(&app, "GET", "/v1/plans/2026", &bearer, None).await;
    assert_eq!(api.header("etag"), Some("\"2\""), "the stale save was stored");

    // A field that is no number is named, in Japanese, with the input kept.
    let mut bad = form(&item("回数の誤り", "2"));
    bad[7].1 = "二回".to_owned();
    let res = post(&app, &analyst, "/console/reports/plan?year=2026", &as_refs(&bad)).await;
    let page = text(&res);
    assert_eq!(res.status, 422, "{page}");
    assert!(page.contains("項目1の回数: 数字で入力してください"), "{page}");
    assert!(page.contains("value=\"二回\""), "{page}");
}

#[actix_web::test]
async fn a_non_analyst_is_refused_the_reports_pages() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    let doctor = common::console_sign_in(&app, &token(&t, "dr-0", "physician", &r.clinic)).await;
    for uri in [
        "/console/reports/indicators",
        "/console/reports/indicators.csv",
        "/console/reports/item-fill",
        "/console/reports/plan?year=2026",
    ] {
        let res = get(&app, &doctor, uri).await;
        let page = text(&res);
        assert_eq!(res.status, 403, "{uri}: {page}");
        assert!(!page.contains("data-testid=\"indicators\"") && !page.contains("plan-form"), "{uri}: {page}");
    }
    // The analyst's home is the reports.
    let analyst = common::console_sign_in(&app, &token(&t, "analyst-1", "analyst", &r.city)).await;
    let res = get(&app, &analyst, "/console/").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), Some("/console/reports/indicators"));
}

#[actix_web::test]
async fn item_fill_names_fields_by_the_schemas_labels_and_writers_by_kind() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    deaths(&app, &t, &r).await;
    let analyst = common::console_sign_in(&app, &token(&t, "analyst-1", "analyst", &r.city)).await;
    let res = get(&app, &analyst, "/console/reports/item-fill?type=end-of-life-record").await;
    let page = text(&res);
    assert_eq!(res.status, 200, "{page}");
    assert!(page.contains("集計した文書数: 10"), "{page}");
    assert!(page.contains("<th scope=\"col\" class=\"num\">診療所</th>"), "{page}");
    assert!(page.contains("死亡日"), "no Japanese label for date_of_death: {page}");
    assert!(page.contains("100.0% (10 / 10)"), "{page}");
    assert!(!page.contains(">clinic<"), "a wire word shows: {page}");
    assert!(!page.contains("date_of_death"), "a field's wire name shows: {page}");
}
