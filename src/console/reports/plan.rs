//! The annual plan page (年間事業計画, section H): the year's items by area A–H, with owners,
//! schedule and status, each linked indicator's target beside the year's value; and the form the
//! analyst keeps it with. A save sends the version the form was read at (`If-Match` of the API):
//! when someone saved in between, the page says so and keeps what was typed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;

use super::plan_form::{BLANK_ITEMS, Draft, DraftItem, DraftLink, refusals};
use super::{cell_text, indicator_name, is_share, say};
use crate::console::form_errors::FieldProblem;
use crate::console::session::check_csrf;
use crate::console::{Console, ConsoleError, Lang, Names, PageResult, Ui, html, see_other, wire};
use crate::context::Context;
use crate::domain::directory::{self, OrganizationFilter};
use crate::domain::documents::IfMatch;
use crate::domain::reports::indicators::IDS;
use crate::domain::reports::plans::{self, Plan};
use crate::error::ApiError;
use crate::state::AppState;

/// Organisations offered as owners (a region's directory is smaller).
const ORGANIZATIONS: i64 = 500;
/// Versions listed a page.
const VERSIONS: i64 = 10;

const AREAS: [&str; 9] = ["A", "B", "C", "D", "E", "F", "G", "H", "local"];
const STATUSES: [&str; 5] = ["planned", "in_progress", "done", "postponed", "dropped"];
const GROUPS: [&str; 3] = ["structure", "process", "outcome"];

#[derive(Deserialize)]
pub struct YearQuery {
    year: Option<String>,
    saved: Option<String>,
    /// The history's cursor: versions older than this one.
    before: Option<i32>,
}

/// One version in the history.
pub struct VersionView {
    pub version: i32,
    pub at: String,
    pub by: String,
    pub reviewed_on: String,
    /// Its items' area and text.
    pub items: Vec<(String, String)>,
}

/// One shown item.
pub struct ItemView {
    pub area: String,
    pub what: String,
    pub by: Vec<String>,
    pub schedule: String,
    pub times: String,
    pub status: String,
    pub notes: String,
    /// (indicator, group, target, this year's value)
    pub links: Vec<(&'static str, String, String, String)>,
}

#[derive(Template)]
#[template(path = "console/plan.html")]
struct Page {
    ui: Ui,
    year: i32,
    saved: bool,
    /// The stored plan's version, and when and by whom it was written.
    version: Option<(i32, String, String)>,
    items: Vec<ItemView>,
    history: Vec<VersionView>,
    /// The link to the history's older versions, when there are more.
    older: Option<String>,
    /// The link back to the newest versions, when an older page is shown.
    newest: Option<String>,
    draft: Draft,
    problems: Vec<FieldProblem>,
    conflict: bool,
    areas: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    groups: Vec<(&'static str, &'static str)>,
    indicators: Vec<(&'static str, &'static str)>,
    organizations: Vec<(String, String)>,
}

fn choices(lang: Lang, kind: &str, wires: &[&'static str]) -> Vec<(&'static str, &'static str)> {
    wires.iter().map(|w| (*w, say(lang, kind, w))).collect()
}

fn target(indicator: &str, t: f64) -> String {
    if is_share(indicator) { format!("{:.1}%", t * 100.0) } else { format!("{t}") }
}

fn view(plan: &Plan, lang: Lang, names: &Names) -> Vec<ItemView> {
    let mut items: Vec<ItemView> = plan
        .items
        .iter()
        .map(|i| ItemView {
            area: say(lang, "plan_area", &wire(&i.area)).to_owned(),
            what: i.what.clone(),
            by: i.by.iter().map(|o| names.get(o).to_owned()).collect(),
            schedule: i.schedule.clone().unwrap_or_default(),
            times: i.times.map(|t| t.to_string()).unwrap_or_default(),
            status: say(lang, "plan_status", &wire(&i.status)).to_owned(),
            notes: i.notes.clone().unwrap_or_default(),
            links: i
                .indicators
                .iter()
                .map(|l| {
                    (
                        indicator_name(lang, &l.indicator),
                        say(lang, "plan_group", &wire(&l.group)).to_owned(),
                        l.target.map(|t| target(&l.indicator, t)).unwrap_or_default(),
                        l.value.as_ref().map(|v| cell_text(&l.indicator, v)).unwrap_or_else(|| "—".to_owned()),
                    )
                })
                .collect(),
        })
        .collect();
    // By area, A to H, then the local ones; within an area as written.
    let rank = |a: &str| AREAS.iter().position(|x| say(lang, "plan_area", x) == a).unwrap_or(AREAS.len());
    items.sort_by_key(|i| rank(&i.area));
    items
}

/// The page for `year`: the stored plan (if any) and the form holding `draft` (the stored plan
/// when `None`).
async fn render(
    state: &std::sync::Arc<AppState>,
    ctx: Context,
    ui: Ui,
    year: i32,
    typed: Option<(Draft, Vec<FieldProblem>, bool)>,
    (saved, before): (bool, Option<i32>),
) -> PageResult {
    let lang = ui.lang;
    let fail = |e| ConsoleError::new(e, lang);
    let plan = match plans::get(state, ctx.clone(), year).await {
        Ok(plan) => Some(plan),
        Err(ApiError::NotFound(_)) => None,
        Err(e) => return Err(fail(e)),
    };
    let filter = OrganizationFilter { kind: None, medical_institution_code: None, ltc_provider_number: None };
    let orgs = directory::list_organizations(state, ctx.clone(), filter, None, ORGANIZATIONS).await.map_err(fail)?;
    let mut organizations: Vec<(String, String)> = orgs.items.into_iter().map(|o| (o.id, o.name)).collect();
    organizations.sort_by(|a, b| a.1.cmp(&b.1));
    let history = match &plan {
        Some(_) => plans::history(state, ctx.clone(), year, before, VERSIONS).await.map_err(fail)?,
        None => crate::domain::paging::Page { items: Vec::new(), next_cursor: None },
    };
    let writers: Vec<String> =
        plan.iter().map(|p| p.updated_by.clone()).chain(history.items.iter().map(|v| v.updated_by.clone())).collect();
    let found = Names::of(state, &ctx, [], writers.clone()).await;
    let names =
        Names::known(organizations.iter().cloned().chain(writers.iter().map(|w| (w.clone(), found.get(w).to_owned()))));
    // A writer the directory does not know (an account's id) is not shown.
    let writer = |sub: &str| {
        let by = names.get(sub);
        if by == sub { String::new() } else { by.to_owned() }
    };
    let older = history.next_cursor.as_ref().map(|v| format!("/console/reports/plan?year={year}&before={v}#history"));
    let newest = before.map(|_| format!("/console/reports/plan?year={year}#history"));
    let history: Vec<VersionView> = history
        .items
        .iter()
        .map(|v| VersionView {
            version: v.version,
            at: ui.at(&v.updated_at),
            by: writer(&v.updated_by),
            reviewed_on: v.reviewed_on.as_deref().map(|d| ui.date(d)).unwrap_or_default(),
            items: v
                .items
                .iter()
                .map(|i| (say(lang, "plan_area", &wire(&i.area)).to_owned(), i.what.clone()))
                .collect(),
        })
        .collect();
    let (mut draft, problems, conflict) = match typed {
        Some(t) => t,
        None => (plan.as_ref().map(Draft::of).unwrap_or_default(), Vec::new(), false),
    };
    if conflict && let Some(p) = &plan {
        // Saving again is a choice made after reading the message: it replaces what is stored.
        draft.version = p.version.to_string();
    }
    for item in &mut draft.items {
        item.links.push(DraftLink::default());
    }
    draft
        .items
        .extend((0..BLANK_ITEMS).map(|_| DraftItem { links: vec![DraftLink::default()], ..DraftItem::default() }));
    let status = match (conflict, problems.is_empty()) {
        (true, _) => StatusCode::PRECONDITION_FAILED,
        (false, false) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let page = Page {
        year,
        saved,
        version: plan.as_ref().map(|p| (p.version, ui.at(&p.updated_at), writer(&p.updated_by))),
        items: plan.as_ref().map(|p| view(p, lang, &names)).unwrap_or_default(),
        history,
        older,
        newest,
        draft,
        problems,
        conflict,
        areas: choices(lang, "plan_area", &AREAS),
        statuses: choices(lang, "plan_status", &STATUSES),
        groups: choices(lang, "plan_group", &GROUPS),
        indicators: IDS.iter().map(|id| (*id, indicator_name(lang, id))).collect(),
        organizations,
        ui,
    };
    Ok(html(status, &page))
}

fn year_of(text: Option<&str>, today: time::Date) -> i32 {
    text.and_then(|t| t.trim().parse::<i32>().ok()).filter(|y| (2000..=2100).contains(y)).unwrap_or(today.year())
}

pub async fn page(state: web::Data<AppState>, console: Console, q: web::Query<YearQuery>) -> PageResult {
    let Console { ctx, ui } = console;
    let year = year_of(q.year.as_deref(), state.calendar.today());
    render(&state.into_inner(), ctx, ui, year, None, (q.saved.is_some(), q.before)).await
}

pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    console: Console,
    q: web::Query<YearQuery>,
    body: String,
) -> PageResult {
    let draft = Draft::parse(&body);
    check_csrf(&req, &draft.csrf)?;
    let Console { ctx, ui } = console;
    let state = state.into_inner();
    let year = year_of(q.year.as_deref(), state.calendar.today());
    let input = match draft.input(ui.lang) {
        Ok(input) => input,
        Err(problems) => return render(&state, ctx, ui, year, Some((draft, problems, false)), (false, None)).await,
    };
    let if_match = draft.version.trim().parse::<i32>().ok().map(IfMatch::Version);
    match plans::put(&state, ctx.clone(), year, if_match, input).await {
        Ok(_) => Ok(see_other(&format!("/console/reports/plan?year={year}&saved=1"))),
        Err(ApiError::PreconditionFailed { .. } | ApiError::PreconditionRequired(_)) => {
            render(&state, ctx, ui, year, Some((draft, Vec::new(), true)), (false, None)).await
        }
        Err(e) => match refusals(ui.lang, &e) {
            Some(problems) => render(&state, ctx, ui, year, Some((draft, problems, false)), (false, None)).await,
            None => Err(ConsoleError::new(e, ui.lang)),
        },
    }
}
