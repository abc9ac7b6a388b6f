//! Patients: the caller's list (her own patients first, those whose care team names her, then
//! the rest of her organisation's and those whose team it is on), the search by insured number
//! and by part of the name or kana, and a patient's page (care path as a form, versions and their
//! difference, care team, consents). The page is one domain read of the record as the caller may
//! see it (`domain::record`), one audit event (`patient.record`); each part is decided by the
//! same rule as its API route.

use std::sync::Arc;

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::careform::{self, Change, Form};
use super::{Console, ConsoleError, Names, PageResult, Ui, ok, wire};
use crate::access::Denial;
use crate::domain::care_team::Member;
use crate::domain::consents::Consent;
use crate::domain::documents::Document;
use crate::domain::paging;
use crate::domain::patients::{self, Patient, PatientSearch};
use crate::domain::record::{self, Ask, Parts, Record};
use crate::state::AppState;

/// The document type shown as the patient's care path.
const CARE_PATH: &str = "care-path";
/// Versions listed in the history (newest first).
const HISTORY: i64 = 20;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/patients").get(list)).service(web::resource("/patients/{id}").get(show));
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    ltc_insured_number: String,
    /// Part of the name or kana.
    #[serde(default)]
    name: String,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "console/patients.html")]
struct PatientList {
    ui: Ui,
    query: String,
    /// The part of a name searched for (not `name`: the base template's language switch has one).
    name_query: String,
    patients: Vec<Row>,
    /// The link to the next page, with the search it continues.
    next: Option<String>,
}

struct Row {
    id: String,
    name: String,
    kana: String,
    birth_date: String,
    care_level: String,
    insured: String,
    /// The caller's own patient (its care team names her): listed first.
    mine: bool,
}

impl From<Patient> for Row {
    fn from(p: Patient) -> Self {
        Row {
            care_level: p.care_level.map(|c| wire(&c)).unwrap_or_default(),
            insured: p.identity.ltc_insured_number.unwrap_or_default(),
            kana: p.identity.name_kana.unwrap_or_default(),
            birth_date: p.identity.birth_date,
            name: p.identity.name,
            id: p.id,
            mine: false,
        }
    }
}

fn blank_none(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// The caller's own patients first (on the first page), then the office's page without them: two
/// reads of the same listing, the first narrowed to `mine`.
async fn list(state: web::Data<AppState>, console: Console, q: web::Query<ListQuery>) -> PageResult {
    let Console { ctx, ui } = console;
    let fail = |e| ConsoleError::new(e, ui.lang);
    let (number, name) = (q.ltc_insured_number.trim().to_owned(), q.name.trim().to_owned());
    let search = |mine| PatientSearch { ltc_insured_number: blank_none(&number), name: blank_none(&name), mine };
    let mut rows: Vec<Row> = Vec::new();
    if q.cursor.is_none() {
        let limit = paging::page_size(Some(paging::MAX_LIMIT)).map_err(fail)?;
        let mine = patients::list(&state, ctx.clone(), search(true), None, limit).await.map_err(fail)?;
        rows.extend(mine.items.into_iter().map(|p| Row { mine: true, ..Row::from(p) }));
    }
    let limit = paging::page_size(None).map_err(fail)?;
    let page = patients::list(&state, ctx, search(false), q.cursor.clone(), limit).await.map_err(fail)?;
    let others: Vec<Row> =
        page.items.into_iter().map(Row::from).filter(|r| !rows.iter().any(|m| m.id == r.id)).collect();
    rows.extend(others);
    let next = page.next_cursor.map(|cursor| {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("ltc_insured_number", &number)
            .append_pair("name", &name)
            .append_pair("cursor", &cursor)
            .finish();
        format!("/console/patients?{query}")
    });
    ok(&PatientList { ui, query: number, name_query: name, patients: rows, next })
}

#[derive(Deserialize)]
struct ShowQuery {
    /// Compare these two versions of the care path.
    from: Option<i32>,
    to: Option<i32>,
}

/// One row of the version history.
struct VersionRow {
    version: i32,
    updated_at: String,
    updated_by: String,
}

#[derive(Template)]
#[template(path = "console/patient.html")]
struct PatientPage {
    ui: Ui,
    patient: Row,
    sex: String,
    managing: String,
    care_path: Option<String>,
    care_path_version: i32,
    withheld: usize,
    versions: Vec<VersionRow>,
    diff: Option<(i32, i32, Vec<Change>)>,
    /// The versions the selects show as chosen.
    compared: (i32, i32),
    /// Why no care path is shown when one may exist: the label key of the reason.
    care_path_refused: Option<&'static str>,
    /// Whether the caller may read who opened this record (its access log).
    access_log: bool,
    team: Result<Vec<Member>, &'static str>,
    consents: Result<Vec<Consent>, &'static str>,
    names: Names,
}

/// A part of the page that the caller may not see shows why, in the page's words, instead of
/// failing the page: the label key of the rule's reason.
fn part<T>(shown: Option<T>, refused: Option<Denial>) -> Result<T, &'static str> {
    shown.ok_or_else(|| why(refused.unwrap_or(Denial::Role)))
}

/// The label key that says a denial as the caller needs to hear it (the API's problem text is
/// for developers, and in English).
fn why(denial: Denial) -> &'static str {
    match denial {
        Denial::Role => "refused_role",
        Denial::NotManaging => "refused_not_managing",
        Denial::NoRelationship => "refused_no_relationship",
        Denial::NoConsent => "refused_no_consent",
        Denial::ConsentRevoked => "refused_consent_revoked",
        Denial::ConsentPeriod => "refused_consent_period",
        Denial::TypeDenied | Denial::TypeNotPermitted => "refused_type",
        Denial::PurposeNotCovered => "refused_purpose",
        _ => "refused_other",
    }
}

async fn show(
    state: web::Data<AppState>,
    console: Console,
    id: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> PageResult {
    let Console { ctx, ui } = console;
    let lang = ui.lang;
    let fail = |e| ConsoleError::new(e, lang);
    let id = id.into_inner();
    let state: Arc<AppState> = state.into_inner();
    let ask = Ask { parts: Parts::ALL, doc_type: Some(CARE_PATH), history: HISTORY };
    let caller = ctx.caller.clone();
    let record = record::read(&state, ctx, id.into(), "patient.record", ask).await.map_err(fail)?;
    let Record { patient, organizations, practitioners, team, consents, documents, history, refused } = record;
    let care_path_refused = refused.care_path.map(why);
    let access_log =
        crate::access::may_read_access_log(&caller, &patient.managing_organization, &state.settings.operator_org);
    let current: Option<Document> = documents.into_iter().find(|d| !d.deleted);
    let form = current.as_ref().and_then(|d| Form::new(&state.schemas, &d.doc_type, &d.schema_version, lang));
    let care_path = current.as_ref().map(|d| match &form {
        Some(form) => form.render(&d.content, &d.withheld),
        None => careform::esc(&d.content.to_string()),
    });
    let diff = compare(&history, form.as_ref(), q.from, q.to);
    let team = part(team.map(|t| t.members), refused.team);
    let consents = part(consents, refused.consents);
    let names = Names::known(
        organizations.into_iter().map(|o| (o.id, o.name)).chain(practitioners.into_iter().map(|p| (p.id, p.name))),
    );
    let page = PatientPage {
        ui,
        sex: wire(&patient.identity.sex),
        managing: patient.managing_organization.clone(),
        care_path,
        care_path_version: current.as_ref().map_or(0, |d| d.version),
        withheld: current.as_ref().map_or(0, |d| d.withheld.len()),
        versions: history
            .iter()
            .map(|d| VersionRow {
                version: d.version,
                updated_at: d.updated_at.clone(),
                updated_by: d.updated_by.clone(),
            })
            .collect(),
        compared: diff.as_ref().map_or((0, 0), |(from, to, _)| (*from, *to)),
        diff,
        care_path_refused,
        access_log,
        team,
        consents,
        names,
        patient: patient.into(),
    };
    ok(&page)
}

/// The difference between versions `from` and `to` (default: the two newest), from the history
/// already read (so the comparison costs no further reads).
fn compare(
    history: &[Document],
    form: Option<&Form>,
    from: Option<i32>,
    to: Option<i32>,
) -> Option<(i32, i32, Vec<Change>)> {
    let newest = history.first()?.version;
    let to = to.unwrap_or(newest);
    let from = from.unwrap_or(to - 1);
    let old = history.iter().find(|d| d.version == from)?;
    let new = history.iter().find(|d| d.version == to)?;
    Some((from, to, careform::diff(form, &old.content, &new.content)))
}
