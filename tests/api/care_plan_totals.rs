//! The 7表's 合計 record (区分支給限度管理) through the HTTP stack: filed with the month at
//! service-use 1.1.0, exported byte for byte to a provider that holds every service of the
//! month (and left out for one that holds only some), and refused, by row and column, when it
//! does not sum its rows.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use actix_web::test::{TestRequest, init_service};
use serde_json::json;

use crate::common::care_plan_files::{
    DAY, NURSE, OFFICE, bytes_of, csv, file, get, post, supplement, usage6, usage7, world,
};
use crate::common::{self, TestApp, send};

/// The 合計 record of a patient's 7表: the limit, then the sums in their columns.
fn total(number: &str, limit: &str, sums: [&str; 7]) -> Vec<String> {
    let [units, within_type, within, cost, benefit, copay, full] = sums;
    [
        "202306",
        "332106",
        number,
        "202604",
        "",
        "",
        "",
        "合計",
        limit,
        "",
        "",
        "",
        units,
        "",
        within_type,
        "",
        within,
        "",
        cost,
        "",
        benefit,
        copay,
        full,
        "VND001",
        "",
    ]
    .iter()
    .map(|f| (*f).to_owned())
    .collect()
}

fn unit(stamp: &str, seven: &[Vec<String>], six: &[Vec<String>]) -> serde_json::Value {
    json!({"files": [
        file(&format!("UPHOSOKU_202604_{OFFICE}_{DAY}_{stamp}.CSV"), &csv(&[supplement("9900000001", "ﾔﾏﾀﾞ ﾊﾅｺ", "19390401")])),
        file(&format!("UPPLAN_202604_{OFFICE}_{DAY}_{stamp}.CSV"), &csv(six)),
        file(&format!("UPBEPYO_202604_{OFFICE}_{DAY}_{stamp}.CSV"), &csv(seven)),
    ]})
}

#[actix_web::test]
async fn care_plan_totals_are_filed_exported_byte_exact_and_checked_against_their_rows() {
    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let six = [usage6("9900000001", DAY, "151234", &[3, 7, 10, 14]), usage6("9900000001", DAY, "151235", &[5])];
    let rows = [usage7("9900000001", DAY, "151234"), usage7("9900000001", DAY, "151235")];
    let sums = ["13572", "13572", "13572", "139384", "125444", "13940", ""];
    let seven = [rows[0].clone(), rows[1].clone(), total("9900000001", "19705", sums)];

    let res = post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", unit("20260325101500", &seven, &six)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let doc = res.body["stored"][0]["document_id"].as_str().unwrap().to_owned();
    let read = get(&app, &w.care_manager, &format!("/v1/documents/{doc}")).await;
    assert_eq!(read.body["schema_version"], "1.1.0", "{}", read.body);
    assert_eq!(read.body["content"]["table7_total"]["limit_units"], 19705);
    assert_eq!(read.body["content"]["table7_total"]["copay"], 13940);
    assert_eq!(read.body["content"]["table7"].as_array().unwrap().len(), 2);

    // The month's page shows the 7表 under the calendar, its 合計 against the limit.
    let cookie = common::console_sign_in(&app, &w.care_manager).await;
    let uri = format!("/console/patients/{}/service-use?month=2026-04", w.patients[0]);
    let page = send(&app, TestRequest::get().uri(&uri).insert_header(("cookie", cookie))).await;
    let html = String::from_utf8(page.raw.clone()).unwrap();
    assert!(html.contains("data-testid=\"table7\"") && html.contains("第7表"), "{html}");
    assert!(html.contains("区分支給限度基準額 19705 単位の合計") && html.contains("<td>13940</td>"), "{html}");

    // The day service holds every service of the month: its 7表 is the office's, 合計 and all.
    let files = get(&app, &w.day_service, "/v1/care-plan-exchange/exports?month=202604").await;
    assert_eq!(files.status, 200, "{}", files.body);
    let exported = files.body["files"].as_array().unwrap();
    let seven_out = exported.iter().find(|f| f["name"].as_str().unwrap().starts_with("UPBEPYO_202604_")).unwrap();
    assert_eq!(bytes_of(seven_out), csv(&seven));

    // The same files again change nothing.
    let res = post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", unit("20260325101500", &seven, &six)).await;
    assert_eq!(res.body["stored"][0]["outcome"], "unchanged", "{}", res.body);

    // A 合計 that does not sum its rows, and one past the limit: each named by row and column.
    let off = ["13572", "13572", "13572", "139384", "125444", "13941", ""];
    let bad = [rows[0].clone(), rows[1].clone(), total("9900000001", "10000", off)];
    let res = post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", unit("20260326101500", &bad, &six)).await;
    assert_eq!(res.status, 422, "{}", res.body);
    let pointers: Vec<&str> =
        res.body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/files/2/rows/3/columns/22", "/files/2/rows/3/columns/17"], "{}", res.body);
    let message = res.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("13941") && message.contains("13940"), "{message}");
    let read = get(&app, &w.care_manager, &format!("/v1/documents/{doc}")).await;
    assert_eq!(read.body["version"], 1, "nothing stored: {}", read.body);

    // A month shared between providers: the day service gets its own rows and no 合計 (a
    // total over the nurse's services would not sum what it receives).
    let six = [usage6("9900000001", DAY, "151234", &[3]), usage6("9900000001", NURSE, "131111", &[5])];
    let shared = [
        usage7("9900000001", DAY, "151234"),
        usage7("9900000001", NURSE, "131111"),
        total("9900000001", "19705", sums),
    ];
    let res =
        post(&app, &w.care_manager, "/v1/care-plan-exchange/imports", unit("20260327101500", &shared, &six)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["stored"][0]["outcome"], "updated");
    let files = get(&app, &w.day_service, "/v1/care-plan-exchange/exports?month=202604").await;
    let exported = files.body["files"].as_array().unwrap();
    let seven_out = exported.iter().find(|f| f["name"].as_str().unwrap().starts_with("UPBEPYO_202604_")).unwrap();
    assert_eq!(bytes_of(seven_out), csv(&[usage7("9900000001", DAY, "151234")]));
}

/// The value of the page's `name="csrf"` field.
fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_owned()
}

#[actix_web::test]
async fn care_plan_console_upload_takes_a_send_unit_past_16_kib_checks_csrf_and_answers_per_row() {
    use crate::common::care_plan_files::{table1, table2};

    let t = TestApp::with(|s| s.sessions.console_token_sign_in = true);
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let w = world(&t, &app).await;
    let cookie = common::console_sign_in(&app, &w.care_manager).await;
    let page =
        send(&app, TestRequest::get().uri("/console/care-plan-exchange").insert_header(("cookie", cookie.clone())))
            .await;
    let csrf = csrf_of(&String::from_utf8_lossy(&page.raw));

    // Long 方針 (as care managers write them): the form's body is past 16 KiB.
    let policy = "在宅生活を続けられるよう、通所介護で入浴と機能訓練を行います。".repeat(120);
    let stamp = "20260325101500";
    let s = csv(&[
        supplement("9900000001", "ﾔﾏﾀﾞ ﾊﾅｺ", "19390401"),
        supplement("9900000002", "サトウ イチロウ", "19350912"),
    ]);
    let one = csv(&[table1("9900000001", &policy), table1("9900000002", &policy)]);
    let two = csv(&[table2("9900000001", "1", DAY, "通所介護"), table2("9900000002", "1", DAY, "通所介護")]);
    let payload = json!({"files": [
        file(&format!("UPHOSOKU_000000_{OFFICE}_{DAY}_{stamp}.CSV"), &s),
        file(&format!("UP1KYO_{OFFICE}_{DAY}_{stamp}.CSV"), &one),
        file(&format!("UP2KYO_{OFFICE}_{DAY}_{stamp}.CSV"), &two),
    ]})
    .to_string();
    assert!(payload.len() > 16 * 1024);
    let upload = |csrf: &str, payload: &str| {
        TestRequest::post()
            .uri("/console/care-plan-exchange")
            .insert_header(("cookie", cookie.clone()))
            .set_form([("csrf", csrf), ("payload", payload)])
    };
    let forged = send(&app, upload("0000", &payload)).await;
    assert_eq!(forged.status, 403);
    let res = send(&app, upload(&csrf, &payload)).await;
    assert_eq!(res.status, 200);
    let html = String::from_utf8_lossy(&res.raw).into_owned();
    assert!(html.contains("data-testid=\"upload-stored\"") && html.contains(&w.patients[1]), "{html}");

    // A refused upload: the page names the row and column, and nothing is stored.
    let rows = [usage7("9900000001", DAY, "151234")];
    let bad = [rows[0].clone(), total("9900000001", "19705", ["1", "0", "0", "0", "0", "0", ""])];
    let six = [usage6("9900000001", DAY, "151234", &[3])];
    let res = send(&app, upload(&csrf, &unit("20260326101500", &bad, &six).to_string())).await;
    let html = String::from_utf8_lossy(&res.raw).into_owned();
    assert!(html.contains("data-testid=\"upload-errors\"") && html.contains("/files/2/rows/2/columns/13"), "{html}");
}
