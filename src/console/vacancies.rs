//! The short-stay vacancy board: the API's search (same parameters, same checks, same audit) as a
//! form and a table, kept current by the API's own event stream: the vendored script listens on
//! `/console/vacancies/stream` (the API's stream handler behind the session guard) and refreshes
//! the table when a posting changes.

use actix_web::web;
use askama::Template;

use super::{Console, ConsoleError, PageResult, Ui, ok};
use crate::api::vacancies::stream_vacancies;
use crate::domain::vacancies::{self, CareNeed, SearchParams, ShortStayService, Vacancy};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/vacancies").get(board))
        .service(web::resource("/vacancies/stream").get(stream_vacancies));
}

/// A need as a checkbox: its word and whether this search asks for it.
struct Need {
    word: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "console/vacancies.html")]
struct Board {
    ui: Ui,
    from: String,
    to: String,
    service: String,
    services: Vec<&'static str>,
    needs: Vec<Need>,
    /// Each hit with its days as posted: beds by room type and sex, and the care taken that day
    /// (a facility may take oxygen on Monday and not on Tuesday).
    hits: Vec<Vacancy>,
}

/// The form sends each need as its own `accepts` checkbox; the API takes them comma-separated.
fn params_of(query: &str) -> SearchParams {
    let mut params = SearchParams::default();
    let mut accepts = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = value.trim().to_owned();
        if value.is_empty() {
            continue;
        }
        match key.as_ref() {
            "from" => params.from = Some(value),
            "to" => params.to = Some(value),
            "service" => params.service = Some(value),
            "accepts" => accepts.push(value),
            _ => {}
        }
    }
    params.accepts = (!accepts.is_empty()).then(|| accepts.join(","));
    params
}

async fn board(req: actix_web::HttpRequest, state: web::Data<AppState>, console: Console) -> PageResult {
    let Console { ctx, ui } = console;
    let params = params_of(req.query_string());
    let service = params.service.clone().unwrap_or_default();
    let asked: Vec<String> = params.accepts.as_deref().unwrap_or_default().split(',').map(str::to_owned).collect();
    let query = params.parse(state.calendar.today()).map_err(|e| ConsoleError::new(e, ui.lang))?;
    let (from, to) = (crate::clock::format_day(query.from), crate::clock::format_day(query.to));
    let state = state.into_inner();
    let found = vacancies::search(&state, ctx, query).await.map_err(|e| ConsoleError::new(e, ui.lang))?;
    let needs = CareNeed::ALL
        .iter()
        .map(|n| Need { word: n.as_str(), checked: asked.iter().any(|a| a == n.as_str()) })
        .collect();
    ok(&Board {
        ui,
        from,
        to,
        service,
        services: ShortStayService::ALL.iter().map(|s| s.as_str()).collect(),
        needs,
        hits: found.items,
    })
}
