//! A patient's received documents (`/console/patients/{id}/received`): the JP-CLINS referral
//! letters, discharge summaries, patient summaries and clinical information that hospitals sent,
//! newest first, with who sent them and what they hold. Read through the domain's document
//! listing (`documents::list`, audited as `document.list`), so the access rule, the consent per
//! document type and the withheld restricted fields are those of the API: a member withheld from
//! the caller is shown as 非開示, never its content.

use std::sync::Arc;

use super::{Console, ConsoleError, PageResult, Ui, ok};
use crate::domain::documents::{Document, ListFilter, audited as documents};
use crate::domain::patients;
use crate::state::AppState;
use actix_web::web;
use askama::Template;

/// Documents read for the page (the newest; a patient receives a few a year).
const SHOWN: i64 = 100;

/// The members counted on a row, with their labels.
const MEMBERS: &[(&str, &str)] = &[
    ("diagnoses", "傷病名"),
    ("allergies", "アレルギー"),
    ("medications", "処方"),
    ("observations", "検査・所見"),
    ("infections", "感染症"),
    ("infection_results", "感染症検査結果"),
    ("attachments", "添付"),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/patients/{id}/received").get(show));
}

/// One received document as the page shows it.
struct Received {
    id: String,
    title: &'static str,
    received_at: String,
    sender: String,
    identifier: String,
    holds: Vec<Hold>,
}

/// A member a received document holds: how many items, or that it is withheld (非開示).
struct Hold {
    label: &'static str,
    count: usize,
    withheld: bool,
}

#[derive(Template)]
#[template(path = "console/received.html")]
struct ReceivedPage {
    ui: Ui,
    patient_id: String,
    patient_name: String,
    documents: Vec<Received>,
}

/// The Japanese title of a received document's type.
fn title(doc_type: &str) -> &'static str {
    match doc_type {
        "referral-letter" => "診療情報提供書",
        "discharge-summary" => "退院時サマリー",
        "patient-summary" => "患者サマリー",
        "clinical-information" => "臨床情報",
        _ => "文書",
    }
}

/// A document that came in as a JP-CLINS Bundle, as a row; others are not received documents.
fn received(doc: &Document) -> Option<Received> {
    let c = &doc.content;
    if doc.deleted || c["source"]["format"] != "jp-clins" {
        return None;
    }
    let sender = [&c["sender"]["organization"]["name"], &c["sender"]["practitioner"]["name"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let holds = MEMBERS
        .iter()
        .filter_map(|&(member, label)| {
            if doc.withheld.iter().any(|w| w.strip_prefix('/') == Some(member)) {
                return Some(Hold { label, count: 0, withheld: true });
            }
            let count = c[member].as_array().map_or(0, Vec::len);
            (count > 0).then_some(Hold { label, count, withheld: false })
        })
        .collect();
    Some(Received {
        id: doc.id.clone(),
        title: title(&doc.doc_type),
        received_at: doc.created_at.clone(),
        sender: if sender.is_empty() { "—".into() } else { sender },
        identifier: c["source"]["bundle_identifier"].as_str().map_or_else(String::new, str::to_owned),
        holds,
    })
}

async fn show(state: web::Data<AppState>, console: Console, id: web::Path<String>) -> PageResult {
    let Console { ctx, ui } = console;
    let lang = ui.lang;
    let fail = |e| ConsoleError::new(e, lang);
    let id = id.into_inner();
    let state: Arc<AppState> = state.into_inner();
    let patient = patients::get(&state, ctx.clone(), id.clone().into()).await.map_err(fail)?;
    let (docs, _) =
        documents::list(&state, ctx, id.clone().into(), ListFilter::default(), SHOWN).await.map_err(fail)?;
    let mut documents: Vec<Received> = docs.iter().filter_map(received).collect();
    documents.sort_by(|a, b| b.received_at.cmp(&a.received_at));
    ok(&ReceivedPage { ui, patient_id: id, patient_name: patient.identity.name, documents })
}
