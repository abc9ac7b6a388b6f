//! The residents' page through the HTTP stack: unknown (404) unless `--residents-page` is on,
//! then public without sign-in, leading `/` to it, with the last complete 年度's published
//! indicators, the directory's phone numbers, a print version, and nothing about any patient.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use actix_web::test::{TestRequest, init_service};
use serde_json::json;

use crate::common::{Resp, TestApp, send};
use crate::reports::{call, document, patient, region, token};

fn text(res: &Resp) -> String {
    String::from_utf8_lossy(&res.raw).into_owned()
}

#[actix_web::test]
async fn off_by_default_the_residents_page_is_unknown_and_the_front_door_is_the_console() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    for uri in ["/residents/", "/residents/?area=%E5%B2%A1%E5%B1%B1%E7%9C%8C%E6%96%B0%E8%A6%8B%E5%B8%82", "/residents"]
    {
        let res = send(&app, TestRequest::get().uri(uri)).await;
        assert_eq!(res.status, 404, "{uri}: {}", text(&res));
    }
    let res = send(&app, TestRequest::get().uri("/")).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), Some("/console/"));
}

#[actix_web::test]
async fn when_on_anyone_reads_the_towns_numbers_and_where_to_ask_and_no_patient() {
    let t = TestApp::with(|s| s.residents.residents_page = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let r = region(&app, &t).await;
    let op = t.operator();
    let desk = json!({
        "name": "新見市在宅医療・介護連携支援センター", "kind": "consultation_desk", "phone": "0867-72-1111",
        "address": {"prefecture": "岡山県", "city": "新見市", "line": "新見310-3"}
    });
    let res = call(&app, "POST", "/v1/organizations", &op, Some(desk)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let station = json!({"name": "高梁訪問看護ステーション", "kind": "visiting_nurse_station", "phone": "0866-22-2222",
        "address": {"prefecture": "岡山県", "city": "高梁市"}});
    assert_eq!(call(&app, "POST", "/v1/organizations", &op, Some(station)).await.status, 201);

    // Ten deaths in the last complete 年度, half at home, of patients named 山田 花子.
    let fy = carepath::domain::reports::public::last_complete_fiscal_year(t.state.calendar.today());
    let dr = token(&t, "dr-0", "physician", &r.clinic);
    for k in 0..10 {
        let p = patient(&app, &t, &r, Some("新見市"), &format!("{fy}-04-01")).await;
        let day = format!("{fy}-{:02}-10", 4 + k % 9);
        let place = if k % 2 == 0 { "home" } else { "hospital" };
        document(&app, &dr, &p, "end-of-life-record", json!({"date_of_death": day, "place_of_death": place})).await;
    }

    let res = send(&app, TestRequest::get().uri("/")).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), Some("/residents/"));

    // The region's page, without any cookie.
    let res = send(&app, TestRequest::get().uri("/residents/")).await;
    let page = text(&res);
    assert_eq!(res.status, 200, "{page}");
    assert!(res.header("content-security-policy").unwrap().contains("default-src 'none'"));
    assert!(page.contains(&format!("{fy}年度（{fy}年4月〜{}年3月）", fy + 1)), "{page}");
    assert!(page.contains("亡くなった人のうち、家で最期を迎えた人の割合") && page.contains("50.0%"), "{page}");
    assert!(page.contains("tel:0867721111") && page.contains("0867-72-1111"), "no phone number: {page}");
    assert!(page.contains("岡山県新見市</a>"), "no link to the town: {page}");
    assert!(!page.contains("山田") && !page.contains("花子"), "a patient's name shows: {page}");
    assert!(!page.contains("style="), "{page}");

    // A town's page: its numbers (small ones marked and explained), its places to ask.
    let town = "/residents/?area=%E5%B2%A1%E5%B1%B1%E7%9C%8C%E6%96%B0%E8%A6%8B%E5%B8%82";
    let res = send(&app, TestRequest::get().uri(town)).await;
    let page = text(&res);
    assert_eq!(res.status, 200, "{page}");
    assert!(page.contains("<h1 data-testid=\"area\">岡山県新見市</h1>"), "{page}");
    assert!(page.contains("だれのことか分からないように"), "{page}");
    assert!(page.contains("0867-72-1111") && page.contains("新見310-3"), "{page}");
    assert!(!page.contains("0866-22-2222"), "another town's station shows: {page}");
    assert!(!page.contains("山田") && !page.contains("花子"), "a patient's name shows: {page}");

    // The print version, and a town the region has not.
    let res = send(&app, TestRequest::get().uri(&format!("{town}&print=1"))).await;
    let page = text(&res);
    assert_eq!(res.status, 200);
    assert!(page.contains("class=\"residents print\"") && page.contains("ブラウザの印刷機能"), "{page}");
    let res = send(&app, TestRequest::get().uri("/residents/?area=nowhere")).await;
    assert_eq!(res.status, 404);
}

#[actix_web::test]
async fn the_public_page_is_rate_limited_as_one_caller_per_address() {
    let t = TestApp::with(|s| {
        s.residents.residents_page = true;
        s.rate_limit_per_minute = 2;
    });
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let peer: std::net::SocketAddr = "192.0.2.7:50000".parse().unwrap();
    for _ in 0..2 {
        let res = send(&app, TestRequest::get().uri("/residents/").peer_addr(peer)).await;
        assert_eq!(res.status, 200, "{}", text(&res));
    }
    let res = send(&app, TestRequest::get().uri("/residents/").peer_addr(peer)).await;
    assert_eq!(res.status, 429, "{}", text(&res));
    assert!(res.header("retry-after").is_some(), "{:?}", res.headers);
    // Another address has its own allowance.
    let other: std::net::SocketAddr = "192.0.2.8:50000".parse().unwrap();
    let res = send(&app, TestRequest::get().uri("/residents/").peer_addr(other)).await;
    assert_eq!(res.status, 200);
}
