//! The care plan from the care side's software: the plan page (居宅サービス計画書 1表 and 2表
//! laid out as the forms are, with the difference between its last two versions), the month's
//! schedule (第6表) as a calendar with planned and actual counts, and the office's upload page.
//! Each reads or writes through the domain function its API route calls.

use std::sync::Arc;

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;

use super::careform::{self, Change};
use super::session::check_csrf;
use super::{Console, ConsoleError, PageResult, Ui, ok};
use crate::careplan::content::{CARE_PLAN, SERVICE_USE};
use crate::domain::care_plans::{self, ExchangeFiles, Stored};
use crate::domain::documents::{Document, ListFilter, audited as documents};
use crate::domain::patients;
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/patients/{id}/care-plan").get(plan))
        .service(web::resource("/patients/{id}/service-use").get(month))
        .service(web::resource("/care-plan-exchange").get(upload_page).post(upload));
}

/// One line of the 2表: a need, a goal and a service (the need and goal cells span their rows,
/// as on the form).
struct Line {
    need: Option<(String, usize)>,
    goal: Option<(String, String, String, String, usize)>,
    service: [String; 6],
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The 2表 rows as form lines: a need's cells on its first row with the count it spans.
fn lines(table2: &Value) -> Vec<Line> {
    let rows = table2.as_array().cloned().unwrap_or_default();
    let span = |i: usize, keys: &[&str]| {
        let same = |a: &Value, b: &Value| keys.iter().all(|k| a[*k] == b[*k]);
        if i > 0 && same(&rows[i - 1], &rows[i]) {
            return 0;
        }
        rows[i..].iter().take_while(|r| same(r, &rows[i])).count()
    };
    (0..rows.len())
        .map(|i| {
            let r = &rows[i];
            let need = match span(i, &["need_no"]) {
                0 => None,
                n => Some((text(r, "need"), n)),
            };
            let goal = match span(i, &["need_no", "goal_no"]) {
                0 => None,
                n => Some((
                    text(r, "long_term_goal"),
                    text(r, "long_term_period"),
                    text(r, "short_term_goal"),
                    text(r, "short_term_period"),
                    n,
                )),
            };
            let insured = if text(r, "insured") == "1" { "○".to_owned() } else { String::new() };
            let service = [
                text(r, "service_content"),
                insured,
                text(r, "service_kind"),
                text(r, "provider_name"),
                text(r, "frequency"),
                text(r, "period"),
            ];
            Line { need, goal, service }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console/care_plan.html")]
struct PlanPage {
    ui: Ui,
    patient_id: String,
    patient_name: String,
    plan: Option<Document>,
    t1: Value,
    person: Value,
    lines: Vec<Line>,
    diff: Vec<Change>,
}

/// The patient's current document of `doc_type` (for `service-use`, of the month) and its history.
async fn current(
    state: &Arc<AppState>,
    console: &Console,
    patient: &str,
    doc_type: &str,
    month: Option<&str>,
) -> Result<Option<Document>, ApiError> {
    let filter = ListFilter { doc_type: Some(doc_type.into()), ..ListFilter::default() };
    let (docs, _) = documents::list(state, console.ctx.clone(), patient.to_owned().into(), filter, 100).await?;
    Ok(docs
        .into_iter()
        .filter(|d| !d.deleted && month.is_none_or(|m| d.content["month"].as_str() == Some(m)))
        .max_by(|a, b| a.updated_at.cmp(&b.updated_at)))
}

async fn plan(state: web::Data<AppState>, console: Console, id: web::Path<String>) -> PageResult {
    let fail = |e| ConsoleError::new(e, console.ui.lang);
    let state = state.into_inner();
    let id = id.into_inner();
    let patient = patients::get(&state, console.ctx.clone(), id.clone().into()).await.map_err(fail)?;
    let plan = current(&state, &console, &id, CARE_PLAN, None).await.map_err(fail)?;
    let diff = match &plan {
        Some(doc) if doc.version > 1 => {
            let history =
                documents::history(&state, console.ctx.clone(), doc.id.clone().into(), None, 2).await.map_err(fail)?;
            match history.as_slice() {
                [new, old, ..] => careform::diff(None, &old.content, &new.content),
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    let content = plan.as_ref().map(|d| d.content.clone()).unwrap_or_default();
    ok(&PlanPage {
        patient_id: id,
        patient_name: patient.identity.name,
        t1: content["table1"].clone(),
        person: content["person"].clone(),
        lines: lines(&content["table2"]),
        plan,
        diff,
        ui: console.ui,
    })
}

#[derive(Deserialize)]
struct MonthQuery {
    /// `YYYY-MM`.
    month: Option<String>,
}

/// A day of the calendar: its number (0 for the padding before the 1st) and what happens.
struct Day {
    day: u8,
    services: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "console/service_use.html")]
struct MonthPage {
    ui: Ui,
    patient_id: String,
    patient_name: String,
    month: String,
    weeks: Vec<Vec<Day>>,
    weekdays: [&'static str; 7],
    found: bool,
    /// The 7表's rows, each in the form's column order, and its 合計 with the limit.
    table7: Vec<[String; 11]>,
    total: Option<(String, Vec<String>)>,
    table7_heads: [&'static str; 11],
}

/// The 7表's columns in the form's order: the member each is kept at, and its heading's word.
const TABLE7_COLUMNS: [(&str, &str); 11] = [
    ("provider_name", "t7_provider"),
    ("service_name", "t7_service"),
    ("units", "t7_units"),
    ("count", "t7_count"),
    ("service_units", "t7_service_units"),
    ("within_limit", "t7_within_limit"),
    ("unit_price", "t7_unit_price"),
    ("total_cost", "t7_total_cost"),
    ("benefit_percent", "t7_benefit_percent"),
    ("benefit", "t7_benefit"),
    ("copay", "t7_copay"),
];

/// A 7表 record's cells (the 合計 has no provider, price or rate: blank).
fn table7_cells(row: &Value) -> [String; 11] {
    TABLE7_COLUMNS.map(|(member, _)| text(row, member))
}

fn count(row: &Value, day: usize) -> String {
    match &row["days"][day] {
        Value::Null => String::new(),
        v => v.to_string(),
    }
}

/// The month as weeks from Sunday: each day with (service, planned, actual).
fn weeks(month: &str, content: &Value) -> Vec<Vec<Day>> {
    let parsed = crate::clock::parse_day(&format!("{month}-01"));
    let Some(first) = parsed else { return Vec::new() };
    let lead = first.weekday().number_days_from_sunday();
    let days_in = first.month().length(first.year());
    let planned = content["planned"].as_array().cloned().unwrap_or_default();
    let actual = content["actual"].as_array().cloned().unwrap_or_default();
    let mut cells: Vec<Day> = (0..lead).map(|_| Day { day: 0, services: Vec::new() }).collect();
    for d in 1..=days_in {
        let i = usize::from(d) - 1;
        let services = planned
            .iter()
            .filter_map(|p| {
                let done = actual
                    .iter()
                    .find(|a| a["service_code"] == p["service_code"] && a["provider_number"] == p["provider_number"])
                    .map(|a| count(a, i))
                    .unwrap_or_default();
                let plan = count(p, i);
                (!plan.is_empty() || !done.is_empty()).then(|| (text(p, "service_name"), plan, done))
            })
            .collect();
        cells.push(Day { day: d, services });
    }
    cells.chunks(7).map(|w| w.iter().map(|d| Day { day: d.day, services: d.services.clone() }).collect()).collect()
}

async fn month(
    state: web::Data<AppState>,
    console: Console,
    id: web::Path<String>,
    q: web::Query<MonthQuery>,
) -> PageResult {
    let fail = |e| ConsoleError::new(e, console.ui.lang);
    let state = state.into_inner();
    let id = id.into_inner();
    let patient = patients::get(&state, console.ctx.clone(), id.clone().into()).await.map_err(fail)?;
    let today = state.calendar.today();
    let month = q.month.clone().unwrap_or_else(|| format!("{:04}-{:02}", today.year(), u8::from(today.month())));
    let doc = current(&state, &console, &id, SERVICE_USE, Some(&month)).await.map_err(fail)?;
    let content = doc.as_ref().map(|d| d.content.clone()).unwrap_or_default();
    ok(&MonthPage {
        patient_id: id,
        patient_name: patient.identity.name,
        weeks: weeks(&month, &content),
        weekdays: match console.ui.lang {
            super::Lang::Ja => ["日", "月", "火", "水", "木", "金", "土"],
            super::Lang::En => ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
        },
        found: doc.is_some(),
        table7: content["table7"].as_array().map(|rows| rows.iter().map(table7_cells).collect()).unwrap_or_default(),
        // The 合計's first two cells are the heading's.
        table7_heads: TABLE7_COLUMNS.map(|(_, word)| word),
        total: content.get("table7_total").map(|t| (text(t, "limit_units"), table7_cells(t)[2..].to_vec())),
        month,
        ui: console.ui,
    })
}

#[derive(Template)]
#[template(path = "console/care_plan_upload.html")]
struct UploadPage {
    ui: Ui,
    /// (file, row, outcome label, patient id) of each patient stored.
    stored: Vec<(String, usize, &'static str, String)>,
    errors: Vec<(String, String)>,
}

fn stored_rows(ui: &Ui, stored: Vec<Stored>) -> Vec<(String, usize, &'static str, String)> {
    stored.into_iter().map(|s| (s.file, s.row, ui.t(&super::wire(&s.outcome)), s.patient_id)).collect()
}

async fn upload_page(console: Console) -> PageResult {
    ok(&UploadPage { ui: console.ui, stored: Vec::new(), errors: Vec::new() })
}

#[derive(Deserialize, Default)]
struct UploadForm {
    #[serde(default)]
    csrf: String,
    /// `{"files": [{name, content}]}`, put together by the page's script from the chosen files.
    #[serde(default)]
    payload: String,
}

/// The form's body is read as bytes under the server's body limit (the API import's), not as a
/// `web::Form`: that extractor stops at 16 KiB, and a send unit's files in base64 are larger.
async fn upload(req: HttpRequest, state: web::Data<AppState>, console: Console, body: web::Bytes) -> PageResult {
    // A body that is no form has no CSRF token either: refused below as forged.
    let form: UploadForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    check_csrf(&req, &form.csrf)?;
    let Console { ctx, ui } = console;
    let files: ExchangeFiles = serde_json::from_str(&form.payload)
        .map_err(|_| ConsoleError::new(ApiError::field("/files", "choose the exchange files to upload"), ui.lang))?;
    match care_plans::import(&state.into_inner(), ctx, files).await {
        Ok(report) => {
            let stored = stored_rows(&ui, report.stored);
            ok(&UploadPage { ui, stored, errors: Vec::new() })
        }
        Err(ApiError::Validation(errors)) => {
            let errors = errors.into_iter().map(|e| (e.pointer, e.message)).collect();
            ok(&UploadPage { ui, stored: Vec::new(), errors })
        }
        Err(other) => Err(ConsoleError::new(other, ui.lang)),
    }
}
