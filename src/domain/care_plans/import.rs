//! The import's transaction: every send unit's patients matched and their documents filed in
//! one transaction of the committer; any problem rolls all of it back, and then the refusal is
//! recorded (with an event about each patient whose identity disagreed).

use diesel::Connection;

use crate::audit::{self, Event};
use crate::auth::Caller;
use crate::careplan::content::{self, CARE_PLAN, SERVICE_USE};
use crate::careplan::files::FileKind;
use crate::careplan::records::{Problem, Row};
use crate::careplan::units::{Located, Unit};
use crate::db::DbConn;
use crate::db::directory::OrganizationRow;
use crate::db::patients::PatientRow;
use crate::domain::insured_match::{InsuredClaim, Unmatched, find_by_insured};
use crate::error::ApiError;
use crate::state::AppState;

use super::ImportReport;
use super::filing;
use super::findings::{Findings, column_of, note, refused};

/// Runs the import; `Ok(Err(problems))` is a refused upload, already recorded.
pub fn file_units(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    units: &[Unit],
    names: &[String],
    event: &Event,
) -> Result<Result<ImportReport, Vec<Located>>, ApiError> {
    let mut findings = Findings::default();
    let result = conn.transaction(|tx| {
        findings = Findings::default();
        let own = OrganizationRow::find(tx, &caller.org)?.and_then(|o| o.ltc_provider_number);
        for unit in units {
            file_unit(tx, state, caller, own.as_deref(), unit, names, event, &mut findings)?;
        }
        if findings.problems.is_empty() {
            Ok(())
        } else {
            // Rolls the whole upload back; the problems are answered below.
            Err(ApiError::Conflict("refused".into()))
        }
    });
    match result {
        Ok(()) => Ok(Ok(ImportReport { stored: std::mem::take(&mut findings.stored) })),
        Err(e @ (ApiError::Internal(_) | ApiError::Contended(_) | ApiError::ServiceUnavailable(_))) => Err(e),
        Err(_) if !findings.problems.is_empty() => {
            conn.transaction(|tx| {
                for (ev, outcome, status) in &findings.refusals {
                    audit::append(tx, ev, outcome, *status)?;
                }
                audit::append(tx, event, "rejected", 422).map(drop)
            })?;
            Ok(Err(findings.problems))
        }
        Err(other) => Err(other),
    }
}

/// The sender must be the caller's organisation, the receiver in the directory.
pub(super) fn parties(
    tx: &mut DbConn,
    own: Option<&str>,
    (from, to): (&str, &str),
    file: usize,
    findings: &mut Findings,
) -> Result<bool, ApiError> {
    if own != Some(from) {
        findings.at(file, 0, 0, format!("送信元 {from} is not the 介護保険事業所番号 of the caller's organisation"));
        return Ok(false);
    }
    if OrganizationRow::by_ltc_provider_number(tx, to)?.is_none() {
        findings.at(file, 0, 0, format!("送信先 {to} is not a 介護保険事業所番号 in the directory"));
        return Ok(false);
    }
    Ok(true)
}

/// Every `key` number in `rows` must be an organisation of the directory.
fn known_offices(
    tx: &mut DbConn,
    kind: FileKind,
    file: usize,
    rows: &[Row],
    key: &str,
    findings: &mut Findings,
) -> Result<(), ApiError> {
    for row in rows {
        if let Some(number) = row.values.get(key).and_then(|v| v.as_str())
            && OrganizationRow::by_ltc_provider_number(tx, number)?.is_none()
        {
            findings.at(file, row.line, column_of(kind, key), format!("事業所番号 {number} is not in the directory"));
        }
    }
    Ok(())
}

/// The patient a 補足 record names, or a problem (and, for a disagreeing identity, a refusal
/// event about that patient).
fn patient_of(
    tx: &mut DbConn,
    state: &AppState,
    supplement: &Row,
    file: usize,
    event: &Event,
    findings: &mut Findings,
) -> Result<Option<PatientRow>, ApiError> {
    let text = |key: &str| supplement.values.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let claim = InsuredClaim {
        insurer_number: supplement.insurer_number.clone(),
        insured_number: supplement.insured_number.clone(),
        name_kana: text("name_kana"),
        birth_date: text("birth_date"),
    };
    let mut ev = event.clone();
    match find_by_insured(tx, state, &claim, &mut ev)? {
        Ok(row) => Ok(Some(row)),
        Err(unmatched) => {
            if unmatched == Unmatched::Disagrees {
                findings.refusals.push((ev, "rejected", 422));
            }
            findings.problems.push(Located { file, problem: problem_of(&unmatched, supplement.line) });
            Ok(None)
        }
    }
}

fn problem_of(unmatched: &Unmatched, line: usize) -> Problem {
    let message = match unmatched.error("") {
        ApiError::Validation(errors) => errors.into_iter().next().map(|e| e.message).unwrap_or_default(),
        other => other.to_string(),
    };
    Problem::new(line, 3, message)
}

#[expect(clippy::too_many_arguments, reason = "one unit of the transaction's loop, with its context")]
fn file_unit(
    tx: &mut DbConn,
    state: &AppState,
    caller: &Caller,
    own: Option<&str>,
    unit: &Unit,
    names: &[String],
    event: &Event,
    findings: &mut Findings,
) -> Result<(), ApiError> {
    match unit {
        Unit::Plans { from, to, plans, files: [supp, one, two] } => {
            if !parties(tx, own, (from.as_str(), to.as_str()), *one, findings)? {
                return Ok(());
            }
            for plan in plans {
                if plan.table1.values.get("office_number").and_then(|v| v.as_str()) != Some(from.as_str()) {
                    findings.at(
                        *one,
                        plan.table1.line,
                        column_of(FileKind::Plan1, "office_number"),
                        "介護支援事業者コード must be the sender's",
                    );
                }
                known_offices(tx, FileKind::Plan2, *two, &plan.table2, "provider_number", findings)?;
                let Some(patient) = patient_of(tx, state, &plan.supplement, *supp, event, findings)? else { continue };
                let heads = filing::existing(tx, &patient.id, CARE_PLAN, None)?;
                let mut ev = event.clone();
                match filing::file(
                    tx,
                    state,
                    caller,
                    (&patient.id, CARE_PLAN),
                    heads.first(),
                    content::plan_content(plan),
                    &mut ev,
                ) {
                    Ok(filed) => note(findings, names, *one, plan.table1.line, &patient.id, filed),
                    Err(e) => refused(e, ev, *one, plan.table1.line, findings)?,
                }
            }
        }
        Unit::Usage { from, to, usages, files: [supp, six, seven] } => {
            if !parties(tx, own, (from.as_str(), to.as_str()), *six, findings)? {
                return Ok(());
            }
            for usage in usages {
                known_offices(tx, FileKind::Usage6, *six, &usage.planned, "provider_number", findings)?;
                known_offices(tx, FileKind::Usage7, *seven, &usage.table7, "provider_number", findings)?;
                let Some(patient) = patient_of(tx, state, &usage.supplement, *supp, event, findings)? else { continue };
                let heads = filing::existing(tx, &patient.id, SERVICE_USE, Some(("month", &usage.month)))?;
                let line = usage.planned.first().map_or(0, |r| r.line);
                let actual = match heads.first() {
                    Some(head) => filing::current(tx, state, caller, &head.id, event).map(|c| c["actual"].clone()),
                    None => Ok(serde_json::json!([])),
                };
                let mut ev = event.clone();
                let filed = actual.and_then(|actual| {
                    let content = content::usage_content(usage, actual);
                    filing::file(tx, state, caller, (&patient.id, SERVICE_USE), heads.first(), content, &mut ev)
                });
                match filed {
                    Ok(filed) => note(findings, names, *six, line, &patient.id, filed),
                    Err(e) => refused(e, ev, *six, line, findings)?,
                }
            }
        }
        Unit::Actual { from, to, month, rows, file } => {
            if !parties(tx, own, (from.as_str(), to.as_str()), *file, findings)? {
                return Ok(());
            }
            for patient_rows in rows {
                super::returns::file_actual(
                    tx,
                    state,
                    caller,
                    (from.as_str(), month.as_str()),
                    patient_rows,
                    (*file, names),
                    event,
                    findings,
                )?;
            }
        }
        Unit::Delete { kind, from, to, rows, file } => {
            if !parties(tx, own, (from.as_str(), to.as_str()), *file, findings)? {
                return Ok(());
            }
            for row in rows {
                super::returns::withdraw(
                    tx,
                    state,
                    caller,
                    (*kind, from.as_str()),
                    row,
                    (*file, names),
                    event,
                    findings,
                )?;
            }
        }
    }
    Ok(())
}
