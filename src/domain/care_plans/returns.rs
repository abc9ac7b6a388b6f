//! What comes back without a 利用者補足情報: a provider's 実績, and the 削除 files. These name
//! the patient by 保険者番号 and 被保険者番号 only, so they may touch only what a plan already
//! filed: a 実績 fills the month of a plan that names its sender as a provider, a 削除 ends a plan
//! or a month its sender filed. The plan was matched to the patient with the identity check
//! when it came; a number that names no such document is refused.

use serde_json::Value;

use crate::audit::Event;
use crate::auth::Caller;
use crate::careplan::content::{self, CARE_PLAN, SERVICE_USE};
use crate::careplan::files::FileKind;
use crate::careplan::records::Row;
use crate::db::DbConn;
use crate::db::documents::DocumentRow;
use crate::db::patients::PatientRow;
use crate::domain::insured_match::index_of;
use crate::error::ApiError;
use crate::state::AppState;

use super::filing;
use super::findings::{Findings, note, refused};

/// The documents of `doc_type` (of `month`, if given) of the patients with this insured
/// number that `caller` may read and for which `fits` holds, with their content and patient.
fn documents_for(
    tx: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    row: &Row,
    (doc_type, month): (&str, Option<&str>),
    event: &Event,
    fits: impl Fn(&Value) -> bool,
) -> Result<Vec<(String, DocumentRow, Value)>, ApiError> {
    let index = index_of(&state.keys(), &row.insured_number);
    let mut found = Vec::new();
    for patient in PatientRow::find_by_index(tx, &index)? {
        if patient.erased_at.is_some() {
            continue;
        }
        for head in filing::existing(tx, &patient.id, doc_type, month.map(|m| ("month", m)))? {
            // A document the caller may not read is as absent as one that is not there.
            let Ok(content) = filing::current(tx, state, caller, &head.id, event) else { continue };
            if content["insurer_number"].as_str() == Some(row.insurer_number.as_str()) && fits(&content) {
                found.push((patient.id.clone(), head, content));
            }
        }
    }
    Ok(found)
}

fn unknown(findings: &mut Findings, file: usize, line: usize, what: &str) {
    findings.at(file, line, 3, format!("no {what} for this 保険者番号 and 被保険者番号 that the caller may file for"));
}

/// A provider's 実績 for one patient: its rows replace that provider's 実績 in the month.
#[expect(clippy::too_many_arguments, reason = "one patient of the transaction's loop, with its context")]
pub(super) fn file_actual(
    tx: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    (provider, month): (&str, &str),
    rows: &[Row],
    (file, names): (usize, &[String]),
    event: &Event,
    findings: &mut Findings,
) -> Result<(), ApiError> {
    let Some(first) = rows.first() else { return Ok(()) };
    let planned_here = |c: &Value| content::usage_providers(c).iter().any(|p| p == provider);
    let found = documents_for(tx, state, caller, first, (SERVICE_USE, Some(month)), event, planned_here)?;
    let Some((patient, head, current)) = found.into_iter().next() else {
        unknown(findings, file, first.line, "month's plan naming this provider");
        return Ok(());
    };
    let next = content::with_actual(&current, provider, rows);
    let mut ev = event.clone();
    match filing::file(tx, state, caller, (&patient, SERVICE_USE), Some(&head), next, &mut ev) {
        Ok(filed) => note(findings, names, file, first.line, &patient, filed),
        Err(e) => refused(e, ev, file, first.line, findings)?,
    }
    Ok(())
}

/// A 削除 record: the sender's plan ends as withdrawn (1表_削除), or the sender's month
/// (6表_削除), or the sender's 実績 in the month are taken out (実績_削除).
#[expect(clippy::too_many_arguments, reason = "one record of the transaction's loop, with its context")]
pub(super) fn withdraw(
    tx: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    (kind, from): (FileKind, &str),
    row: &Row,
    (file, names): (usize, &[String]),
    event: &Event,
    findings: &mut Findings,
) -> Result<(), ApiError> {
    let month = row.values.get("month").and_then(Value::as_str);
    let by_office = |c: &Value| c["table1"]["office_number"].as_str() == Some(from);
    let month_of_office =
        |c: &Value| c["planned"].as_array().into_iter().flatten().any(|r| r["office_number"].as_str() == Some(from));
    let provider_here = |c: &Value| content::usage_providers(c).iter().any(|p| p == from);
    let found = match kind {
        FileKind::Plan1Delete => documents_for(tx, state, caller, row, (CARE_PLAN, None), event, by_office)?,
        FileKind::Usage6Delete => documents_for(tx, state, caller, row, (SERVICE_USE, month), event, month_of_office)?,
        _ => documents_for(tx, state, caller, row, (SERVICE_USE, month), event, provider_here)?,
    };
    let Some((patient, head, current)) = found.into_iter().next() else {
        unknown(findings, file, row.line, "document filed by the sender");
        return Ok(());
    };
    let mut ev = event.clone();
    let filed = match kind {
        FileKind::ActualDelete => {
            let next = content::with_actual(&current, from, &[]);
            filing::file(tx, state, caller, (&patient, SERVICE_USE), Some(&head), next, &mut ev)
        }
        _ => filing::withdraw(tx, state, caller, &head, &mut ev),
    };
    match filed {
        Ok(filed) => note(findings, names, file, row.line, &patient, filed),
        Err(e) => refused(e, ev, file, row.line, findings)?,
    }
    Ok(())
}
