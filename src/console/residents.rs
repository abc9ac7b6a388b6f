//! The residents' page (the guide's section G, 地域住民への普及啓発): for anyone, without sign-in,
//! each municipality's published indicators of the last complete 年度 in plain words and large
//! type, and where to ask, with phone numbers; a print version for the notice board. Off unless
//! `--residents-page` is on: then `/` leads here, and when off these routes are unknown (404).
//!
//! It reads through one narrow domain function (`reports::public::published`) that answers
//! aggregates and directory contact points only, so nothing about any patient can reach the
//! page. Being unauthenticated, it is rate-limited by the client's address, as a signed-in
//! caller is by its subject, and with the whole public as one organisation, so that no crowd
//! of readers can spend the reports' database time.

use actix_web::http::StatusCode;
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use serde::Deserialize;

use super::i18n::label;
use super::reports::{SMALL, cell_text};
use super::{ConsoleError, Lang, PageResult, Ui, html, see_other};
use crate::domain::reports::indicators::Cell;
use crate::domain::reports::public::{self, Contact, Published};
use crate::error::ApiError;
use crate::state::AppState;

/// The limiter's organisation for every reader of the public page.
const PUBLIC: &str = "residents-page";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/residents")
            .wrap(from_fn(headers))
            .service(web::resource("").get(|state: web::Data<AppState>| async move {
                if state.settings.residents.residents_page { see_other("/residents/") } else { not_found() }
            }))
            .service(web::resource("/").get(page)),
    );
}

/// `GET /`: the residents' page when it is on, else the console (its sign-in when signed out).
pub async fn front_door(state: web::Data<AppState>) -> HttpResponse {
    see_other(if state.settings.residents.residents_page { "/residents/" } else { "/console/" })
}

async fn headers(
    req: actix_web::dev::ServiceRequest,
    next: Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    super::secure_headers(res.headers_mut());
    Ok(res)
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    area: String,
    #[serde(default)]
    print: String,
}

struct Fact {
    name: &'static str,
    value: String,
    hidden: bool,
}

struct Place {
    name: String,
    phone: String,
    /// The number as a `tel:` link (digits and `+` only).
    tel: String,
    line: String,
}

struct Group {
    kind: &'static str,
    places: Vec<Place>,
}

#[derive(Template)]
#[template(path = "console/residents.html")]
struct Page {
    ui: Ui,
    print: bool,
    year: String,
    area_name: String,
    is_region: bool,
    facts: Vec<Fact>,
    towns: Vec<(String, String, bool)>,
    groups: Vec<Group>,
    print_href: String,
    screen_href: String,
    switch_href: String,
}

fn href(lang: Lang, area: &str, print: bool) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if !area.is_empty() {
        q.append_pair("area", area);
    }
    if print {
        q.append_pair("print", "1");
    }
    if lang == Lang::En {
        q.append_pair("lang", "en");
    }
    let q = q.finish();
    if q.is_empty() { "/residents/".to_owned() } else { format!("/residents/?{q}") }
}

/// The other language's link: Japanese is named too, or a remembered English would stay.
fn switch(lang: Lang, area: &str, print: bool) -> String {
    let link = href(lang, area, print);
    match lang {
        Lang::En => link,
        Lang::Ja if link.contains('?') => format!("{link}&lang=ja"),
        Lang::Ja => format!("{link}?lang=ja"),
    }
}

fn facts(lang: Lang, values: &[(&'static str, Cell)]) -> Vec<Fact> {
    values
        .iter()
        .map(|(id, cell)| {
            let value = cell_text(id, cell);
            let hidden = value.starts_with(SMALL);
            let unit = if hidden || id.ends_with("_rate") { "" } else { label(lang, &format!("res_unit.{id}")) };
            Fact { name: label(lang, &format!("res.{id}")), value: format!("{value}{unit}"), hidden }
        })
        .collect()
}

/// The contact points of a municipality (and those without an address, who serve everyone); on
/// the region's page the consultation desks and support centres alone, the first places to ask.
fn groups(lang: Lang, contacts: &[Contact], area: Option<&str>) -> Vec<Group> {
    public::CONTACT_KINDS
        .iter()
        .filter(|k| area.is_some() || public::CONTACT_KINDS[..2].contains(k))
        .map(|kind| Group {
            kind: label(lang, &format!("res_kind.{}", kind.as_str())),
            places: contacts
                .iter()
                .filter(|c| c.kind == *kind)
                .filter(|c| area.is_none() || c.municipality.is_none() || c.municipality.as_deref() == area)
                .map(|c| {
                    let phone = c.phone.clone().unwrap_or_default();
                    Place {
                        name: c.name.clone(),
                        tel: phone.chars().filter(|ch| ch.is_ascii_digit() || *ch == '+').collect(),
                        phone,
                        line: [c.municipality.clone(), c.line.clone()].into_iter().flatten().collect(),
                    }
                })
                .collect(),
        })
        .filter(|g| !g.places.is_empty())
        .collect()
}

fn year_text(lang: Lang, year: i32) -> String {
    match lang {
        Lang::Ja => format!("{year}年度（{year}年4月〜{}年3月）", year + 1),
        Lang::En => format!("FY{year} (April {year} to March {})", year + 1),
    }
}

fn not_found() -> HttpResponse {
    ApiError::NotFound("no such resource".into()).error_response()
}

async fn page(req: HttpRequest, state: web::Data<AppState>, q: web::Query<PageQuery>) -> PageResult {
    if !state.settings.residents.residents_page {
        return Ok(not_found());
    }
    let lang = Lang::of(&req);
    let fail = |e| ConsoleError::new(e, lang);
    let client = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    if let Err(refused) = state.limits.admit(&client, PUBLIC) {
        // The page in the reader's language, with the API's `Retry-After`.
        let wait = refused.retry_after_secs;
        let mut res = fail(refused.into()).error_response();
        res.headers_mut().insert(actix_web::http::header::RETRY_AFTER, wait.into());
        return Ok(res);
    }
    let state = state.into_inner();
    let published: Published = public::published(&state).await.map_err(fail)?;
    let chosen = published.area(&q.area).filter(|a| a.area != "region").map(|a| a.area.clone());
    if !q.area.is_empty() && chosen.is_none() {
        return Ok(not_found());
    }
    let area = chosen.clone().unwrap_or_else(|| "region".to_owned());
    let values = published.area(&area).map(|a| a.values.clone()).unwrap_or_default();
    let print = !q.print.is_empty();
    let other = if lang == Lang::Ja { Lang::En } else { Lang::Ja };
    let page = Page {
        print,
        year: year_text(lang, published.fiscal_year),
        area_name: chosen.clone().unwrap_or_else(|| label(lang, "res_region").to_owned()),
        is_region: chosen.is_none(),
        facts: facts(lang, &values),
        towns: published
            .areas
            .iter()
            .filter(|a| a.area != "region")
            .map(|a| (a.area.clone(), href(lang, &a.area, false), a.area == area))
            .collect(),
        groups: groups(lang, &published.contacts, chosen.as_deref()),
        print_href: href(lang, chosen.as_deref().unwrap_or_default(), true),
        screen_href: href(lang, chosen.as_deref().unwrap_or_default(), false),
        switch_href: switch(other, chosen.as_deref().unwrap_or_default(), print),
        ui: Ui::anonymous(lang, String::new(), "/residents/"),
    };
    Ok(html(StatusCode::OK, &page))
}
