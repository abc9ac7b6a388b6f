//! The item-fill page (section F: evaluate the shared items before changing the form): for a
//! document type, each field of its schema under its own Japanese label (the schema's, as the
//! care-path form shows it: `careform::Form`), and how many documents filled it, overall and by
//! the kind of organisation that wrote them. Paged by fields: a schema has a hundred of them.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::{cell_text, say};
use crate::console::careform::Form;
use crate::console::form_errors::FieldProblem;
use crate::console::i18n::label;
use crate::console::{Console, ConsoleError, PageResult, Ui, html};
use crate::domain::reports::item_fill::{self, Fill, ItemFillQuery};
use crate::state::AppState;

/// Fields per page.
const PER_PAGE: usize = 40;

#[derive(Debug, Default, Deserialize)]
pub struct FillQuery {
    #[serde(rename = "type", default)]
    doc_type: String,
    /// A month (`2025-04`) or a day; counted from its month's first day.
    #[serde(default)]
    from: String,
    /// ... to its month's last day.
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: Option<usize>,
}

pub struct FieldRow {
    pub label: String,
    pub sealed: bool,
    pub never_used: bool,
    /// One text per writer kind, in the header's order.
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/reports_fill.html")]
struct Page {
    ui: Ui,
    types: Vec<(String, String)>,
    doc_type: String,
    from: String,
    to: String,
    problems: Vec<FieldProblem>,
    documents: String,
    kinds: Vec<String>,
    rows: Vec<FieldRow>,
    never_used: usize,
    total: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
}

/// `2025-04` or `2025-04-10` as a day (the month's first when no day is given).
fn month_or_day(text: &str) -> Option<Option<time::Date>> {
    let t = text.trim();
    if t.is_empty() {
        return Some(None);
    }
    let full = if t.len() == 7 { format!("{t}-01") } else { t.to_owned() };
    crate::clock::parse_day(&full).map(Some)
}

fn fill_text(f: &Fill) -> String {
    let share = f.share.as_ref().map(|s| cell_text("fill_share", s)).unwrap_or_default();
    let (filled, documents) = (cell_text("", &f.filled), cell_text("", &f.documents));
    if share.is_empty() { format!("{filled} / {documents}") } else { format!("{share} ({filled} / {documents})") }
}

pub async fn page(state: web::Data<AppState>, console: Console, q: web::Query<FillQuery>) -> PageResult {
    let Console { ctx, ui } = console;
    let lang = ui.lang;
    let q = q.into_inner();
    let state = state.into_inner();
    let all = state.schemas.types();
    let newest = |t: &str| all.get(t).and_then(|v| v.last()).cloned().unwrap_or_default();
    let types: Vec<(String, String)> = all
        .keys()
        .map(|t| {
            let title = Form::new(&state.schemas, t, &newest(t), lang).map_or_else(|| (*t).to_owned(), |f| f.title());
            ((*t).to_owned(), title)
        })
        .collect();
    let doc_type = if q.doc_type.is_empty() { "care-path".to_owned() } else { q.doc_type.clone() };
    let mut problems = Vec::new();
    let mut day = |field: &'static str, key: &str, text: &str| {
        month_or_day(text).unwrap_or_else(|| {
            problems
                .push(FieldProblem { field, text: format!("{}: {}", label(lang, key), label(lang, "rep_bad_month")) });
            None
        })
    };
    let (from, to) = (day("from", "rep_from_month", &q.from), day("to", "rep_to_month", &q.to));
    if !all.contains_key(doc_type.as_str()) {
        problems.push(FieldProblem {
            field: "type",
            text: format!("{}: {}", label(lang, "doc_kind"), label(lang, "rep_bad_choice")),
        });
    }
    let mut page = Page {
        ui,
        types,
        doc_type: doc_type.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        problems: Vec::new(),
        documents: String::new(),
        kinds: Vec::new(),
        rows: Vec::new(),
        never_used: 0,
        total: 0,
        page: 1,
        pages: 1,
        prev: None,
        next: None,
    };
    if !problems.is_empty() {
        page.problems = problems;
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let query = ItemFillQuery { doc_type: doc_type.clone(), schema_version: None, from, to, organization: None };
    let report = item_fill::item_fill(&state, ctx, query).await.map_err(|e| ConsoleError::new(e, lang))?;
    let form = Form::new(&state.schemas, &doc_type, &newest(&doc_type), lang);
    let kinds: Vec<String> =
        report.fields.first().map(|f| f.fill.iter().map(|k| k.writer_kind.clone()).collect()).unwrap_or_default();
    // `all` is the report's own; the rest are the directory's organisation kinds.
    let kind = |k: &str| if k == "all" { "writer_kind" } else { "org_kind" };
    page.kinds = kinds.iter().map(|k| say(lang, kind(k), k).to_owned()).collect();
    page.documents = cell_text("", &report.documents);
    page.never_used = report.never_used.len();
    page.total = report.fields.len();
    page.pages = page.total.div_ceil(PER_PAGE).max(1);
    page.page = q.page.unwrap_or(1).clamp(1, page.pages);
    let link = |n: usize| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("type", &doc_type).append_pair("from", &q.from).append_pair("to", &q.to);
        format!("/console/reports/item-fill?{}&page={n}", s.finish())
    };
    page.prev = (page.page > 1).then(|| link(page.page - 1));
    page.next = (page.page < page.pages).then(|| link(page.page + 1));
    page.rows = report
        .fields
        .iter()
        .skip((page.page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|f| FieldRow {
            label: form.as_ref().map_or_else(|| f.path.clone(), |form| form.path_label(&f.path)),
            sealed: f.sealed,
            never_used: report.never_used.contains(&f.path),
            cells: kinds
                .iter()
                .map(|k| f.fill.iter().find(|x| &x.writer_kind == k).map_or_else(|| "—".to_owned(), fill_text))
                .collect(),
        })
        .collect();
    Ok(html(StatusCode::OK, &page))
}
