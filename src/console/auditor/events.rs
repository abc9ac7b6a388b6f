//! The event search: filters as an auditor thinks of them (a period in the region's calendar,
//! an actor or organisation by name, the action and outcome as words), newest first, paged with
//! the count of matches; and the same search as a CSV for Excel. With a patient it is that
//! patient's access log. One domain call each (`audit_log::search`), audited as the API's query.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::super::form_errors::FieldProblem;
use super::super::{Console, ConsoleError, Names, PageResult, Ui, html};
use super::actions;
use super::{EventRow, rows_of};
use crate::domain::audit_log::{self, AuditQuery, EventSearch, Found, OUTCOMES, Window};
use crate::state::AppState;

/// Events on one page.
const PAGE: i64 = 50;

/// The search form as the query string carries it (every field optional, as typed).
#[derive(Debug, Default, Deserialize, Clone)]
pub struct SearchForm {
    #[serde(default)]
    pub patient_id: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub organization: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub break_glass: String,
    /// The next page: events older than this sequence number.
    pub before: Option<i64>,
    /// The previous page: events newer than this sequence number.
    pub after: Option<i64>,
}

fn filled(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl SearchForm {
    /// The filters as a query string, without the page's cursor (for the paging links and the CSV).
    pub fn filters(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("patient_id", &self.patient_id),
            ("from", &self.from),
            ("to", &self.to),
            ("actor", &self.actor),
            ("organization", &self.organization),
            ("action", &self.action),
            ("outcome", &self.outcome),
            ("break_glass", &self.break_glass),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        q.finish()
    }

    /// The domain's search, or the fields refused: dates are days of the region's calendar,
    /// `from` from its start and `to` to its end.
    pub fn search(&self, ui: &Ui, limit: i64) -> Result<EventSearch, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut day = |field: &'static str, label: &str, text: &str, end: bool| {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            let start = crate::clock::parse_day(text)
                .and_then(|d| if end { d.next_day() } else { Some(d) })
                .and_then(|d| ui.cal.as_ref()?.instant_at(d, 0));
            if start.is_none() {
                problems.push(FieldProblem { field, text: format!("{}: {}", ui.t(label), ui.t("audit_bad_date")) });
            }
            start.map(crate::clock::format)
        };
        let from = day("from", "audit_from", &self.from, false);
        let to = day("to", "audit_to", &self.to, true);
        let action = filled(&self.action);
        if let Some(a) = &action
            && !actions(ui).iter().any(|(w, _)| w == a)
        {
            problems
                .push(FieldProblem { field: "action", text: format!("{}: {}", ui.t("action"), ui.t("audit_pick")) });
        }
        let outcome = filled(&self.outcome);
        if let Some(o) = &outcome
            && !OUTCOMES.contains(&o.as_str())
        {
            problems
                .push(FieldProblem { field: "outcome", text: format!("{}: {}", ui.t("outcome"), ui.t("audit_pick")) });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let window = match (self.before, self.after) {
            (Some(seq), _) => Window::Before(seq),
            (None, Some(seq)) => Window::After(seq),
            (None, None) => Window::Newest,
        };
        Ok(EventSearch {
            query: AuditQuery {
                patient_id: filled(&self.patient_id),
                actor: None,
                organization: None,
                action,
                from,
                to,
                break_glass: (self.break_glass == "on").then_some(true),
                cursor: None,
                limit: None,
            },
            actor_name: filled(&self.actor),
            organization_name: filled(&self.organization),
            outcome,
            window,
            limit,
        })
    }
}

#[derive(Template)]
#[template(path = "console/events.html")]
struct EventsPage {
    ui: Ui,
    form: SearchForm,
    filters: String,
    problems: Vec<FieldProblem>,
    actions: Vec<(&'static str, String)>,
    outcomes: Vec<(&'static str, String)>,
    found: Option<Found>,
    rows: Vec<EventRow>,
    /// The practitioners and organisations the names matched, as the page says them.
    matched_actors: Vec<String>,
    matched_orgs: Vec<String>,
}

impl EventsPage {
    /// "51–100 of 1,234" as the page's language writes it.
    fn position(&self) -> String {
        let Some(f) = &self.found else { return String::new() };
        let first = f.newer + 1;
        let last = f.newer + i64::try_from(f.items.len()).unwrap_or(0);
        match self.ui.lang {
            super::super::Lang::Ja => format!("全{}件中 {first}–{last}件目", f.total),
            super::super::Lang::En => format!("{first}–{last} of {}", f.total),
        }
    }
}

pub async fn search(state: web::Data<AppState>, console: Console, form: web::Query<SearchForm>) -> PageResult {
    let Console { ctx, ui } = console;
    let form = form.into_inner();
    let outcomes = OUTCOMES.iter().map(|o| (*o, ui.say("outcome", o).to_owned())).collect();
    let mut page = EventsPage {
        filters: form.filters(),
        actions: actions(&ui),
        outcomes,
        problems: Vec::new(),
        found: None,
        rows: Vec::new(),
        matched_actors: Vec::new(),
        matched_orgs: Vec::new(),
        form,
        ui,
    };
    let asked = match page.form.search(&page.ui, PAGE) {
        Ok(asked) => asked,
        Err(problems) => {
            page.problems = problems;
            return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    let state = state.into_inner();
    let found = audit_log::search(&state, ctx.clone(), asked).await.map_err(|e| ConsoleError::new(e, page.ui.lang))?;
    let names = Names::of(
        &state,
        &ctx,
        found.items.iter().map(|e| e.event.actor_org.clone()),
        found.items.iter().map(|e| e.event.actor_sub.clone()),
    )
    .await;
    page.rows = rows_of(&page.ui, &names, &found.items);
    page.matched_actors = found.actors.iter().map(|(_, name)| name.clone()).collect();
    page.matched_orgs = found.organizations.iter().map(|(_, name)| name.clone()).collect();
    page.found = Some(found);
    Ok(html(StatusCode::OK, &page))
}
