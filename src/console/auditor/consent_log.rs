//! The consent log as the auditor reads it: every version of every consent with its terms (whom
//! it names, which documents, for what, for which days, how it was obtained), who recorded or
//! revoked it and the audit event that vouches for it; and per consent, the accesses it allowed
//! and those its organisations made after its revocation. Through `domain::consents::log` and
//! `accesses`, as `GET /v1/consent-log` and `/v1/consent-log/{id}/accesses`.

use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::super::{Console, ConsoleError, Lang, Names, PageResult, Ui, ok, wire};
use crate::domain::consents::ConsentOrganizations;
use crate::domain::consents::accesses as consent_accesses;
use crate::domain::consents::log::{self, ConsentLogEntry, ConsentLogQuery, ConsentStatus};
use crate::domain::paging;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct LogForm {
    #[serde(default)]
    patient_id: String,
    #[serde(default)]
    status: String,
    cursor: Option<String>,
}

struct VersionRow {
    consent_id: String,
    version: i32,
    patient_id: String,
    status: String,
    revoked: bool,
    organizations: String,
    types: String,
    purposes: String,
    period: String,
    obtained_by: String,
    restricted: bool,
    recorded: String,
    revocation: Option<String>,
    event_seq: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/audit_consents.html")]
struct LogPage {
    ui: Ui,
    form_patient: String,
    form_status: String,
    rows: Vec<VersionRow>,
    /// The filters as a query string, for the paging links.
    filters: String,
    next: Option<String>,
    paged: bool,
}

fn listed(ui: &Ui, kind: &str, words: &[String], all: &str) -> String {
    if words.is_empty() {
        return ui.t(all).to_owned();
    }
    words.iter().map(|w| ui.say(kind, w).to_owned()).collect::<Vec<_>>().join("、")
}

fn row(ui: &Ui, names: &Names, e: ConsentLogEntry) -> VersionRow {
    let organizations = match &e.organizations {
        ConsentOrganizations::CareTeam(_) => ui.t("audit_care_team_orgs").to_owned(),
        ConsentOrganizations::List(ids) => ids.iter().map(|id| names.get(id)).collect::<Vec<_>>().join("、"),
    };
    let mut types = listed(ui, "doc_type", &e.permitted_types, "audit_every_type");
    if !e.denied_types.is_empty() {
        types = format!(
            "{types}({}: {})",
            ui.t("audit_never"),
            listed(ui, "doc_type", &e.denied_types, "audit_every_type")
        );
    }
    let mut obtained_by = ui.say_of("obtained_by", &e.obtained_by);
    if let Some(relation) = e.proxy_relation {
        let said = match ui.lang {
            Lang::Ja => crate::domain::consents::Relation::ALL
                .iter()
                .find(|(r, _)| *r == relation)
                .map_or_else(|| wire(&relation), |(_, ja)| (*ja).to_owned()),
            Lang::En => wire(&relation).replace('_', " "),
        };
        obtained_by = format!("{obtained_by}({said})");
    }
    let period =
        format!("{} – {}", ui.date(&e.period.start), e.period.end.as_deref().map(|d| ui.date(d)).unwrap_or_default());
    VersionRow {
        revoked: e.status == "revoked",
        status: ui.say("consent_status", &e.status).to_owned(),
        organizations,
        types,
        purposes: listed(ui, "purpose", &e.purposes, "audit_every_type"),
        period,
        obtained_by,
        restricted: e.release_restricted,
        recorded: format!("{} · {} ({})", ui.at(&e.recorded_at), names.get(&e.recorded_by), names.get(&e.recorded_org)),
        revocation: e.revocation.map(|r| format!("{} · {}", ui.at(&r.at), names.get(&r.by))),
        event_seq: e.event_seq,
        consent_id: e.consent_id,
        version: e.version,
        patient_id: e.patient_id,
    }
}

pub async fn list(state: web::Data<AppState>, console: Console, form: web::Query<LogForm>) -> PageResult {
    let Console { ctx, ui } = console;
    let form = form.into_inner();
    let status = match form.status.as_str() {
        "active" => Some(ConsentStatus::Active),
        "revoked" => Some(ConsentStatus::Revoked),
        _ => None,
    };
    let patient = form.patient_id.trim().to_owned();
    let query = ConsentLogQuery {
        patient_id: (!patient.is_empty()).then(|| patient.clone()),
        organization: None,
        status,
        obtained_by: None,
        from: None,
        to: None,
        expiring_before: None,
        limit: Some(paging::DEFAULT_LIMIT),
        cursor: form.cursor.clone(),
    };
    let state = state.into_inner();
    let page = log::list(&state, ctx.clone(), query).await.map_err(|e| ConsoleError::new(e, ui.lang))?;
    let orgs: Vec<String> = page
        .items
        .iter()
        .flat_map(|e| {
            let named = match &e.organizations {
                ConsentOrganizations::List(ids) => ids.clone(),
                ConsentOrganizations::CareTeam(_) => Vec::new(),
            };
            named.into_iter().chain([e.recorded_org.clone()])
        })
        .collect();
    let people: Vec<String> = page
        .items
        .iter()
        .flat_map(|e| [Some(e.recorded_by.clone()), e.revocation.as_ref().map(|r| r.by.clone())])
        .flatten()
        .collect();
    let names = Names::of(&state, &ctx, orgs, people).await;
    let mut filters = form_urlencoded::Serializer::new(String::new());
    if !patient.is_empty() {
        filters.append_pair("patient_id", &patient);
    }
    if status.is_some() {
        filters.append_pair("status", &form.status);
    }
    ok(&LogPage {
        rows: page.items.into_iter().map(|e| row(&ui, &names, e)).collect(),
        filters: filters.finish(),
        next: page.next_cursor,
        paged: form.cursor.is_some(),
        form_patient: patient,
        form_status: form.status,
        ui,
    })
}

#[derive(Deserialize)]
pub struct AccessQuery {
    cursor: Option<i64>,
}

struct AccessRow {
    at: String,
    actor: String,
    role: String,
    org: String,
    action: String,
    outcome: String,
    after_revocation: bool,
}

#[derive(Template)]
#[template(path = "console/audit_consent_accesses.html")]
struct AccessPage {
    ui: Ui,
    consent_id: String,
    rows: Vec<AccessRow>,
    next: Option<String>,
    paged: bool,
}

pub async fn accesses(
    state: web::Data<AppState>,
    console: Console,
    id: web::Path<String>,
    q: web::Query<AccessQuery>,
) -> PageResult {
    let Console { ctx, ui } = console;
    let consent_id = id.into_inner();
    let limit = i64::from(paging::DEFAULT_LIMIT);
    let state = state.into_inner();
    let page = consent_accesses::accesses(&state, ctx.clone(), consent_id.clone(), q.cursor, limit)
        .await
        .map_err(|e| ConsoleError::new(e, ui.lang))?;
    let names = Names::of(
        &state,
        &ctx,
        page.items.iter().map(|a| a.organization.clone()),
        page.items.iter().map(|a| a.actor.clone()),
    )
    .await;
    let rows = page
        .items
        .iter()
        .map(|a| AccessRow {
            at: ui.at(&a.at),
            actor: names.get(&a.actor).to_owned(),
            role: ui.say("role", &a.profession).to_owned(),
            org: names.get(&a.organization).to_owned(),
            action: ui.say("audit_action", &a.action).to_owned(),
            outcome: ui.say("outcome", &a.outcome).to_owned(),
            after_revocation: a.after_revocation,
        })
        .collect();
    ok(&AccessPage { ui, consent_id, rows, next: page.next_cursor, paged: q.cursor.is_some() })
}
