//! The files a provider receives: for each patient on whose care team the caller's
//! organisation serves, the plan (1・2表 and 補足) when its 2表 names the organisation's
//! 介護保険事業所番号 as a provider, and the month's 6・7表 (only the organisation's own rows)
//! when asked for a month. Every document is read through the gate as the caller: a patient
//! whose consent does not share the type with the organisation is not in the files. The files
//! are named and written as the office's software writes them, one send unit per office.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::audit::Event;
use crate::careplan::content::{self, CARE_PLAN, PlanRows, SERVICE_USE, UsageRows};
use crate::careplan::files::{FileKind, FileName};
use crate::careplan::records::{self, Row};
use crate::clock;
use crate::context::Context;
use crate::db::DbConn;
use crate::db::directory::OrganizationRow;
use crate::db::patients::PatientRow;
use crate::domain::documents;
use crate::error::ApiError;
use crate::state::AppState;

use super::filing;
use super::{ExchangeFile, ExchangeFiles};

/// Which files to export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// 対象年月 `YYYYMM`: also the month's 第6表 and 第7表 (else only the plans).
    #[param(pattern = "^[0-9]{6}$", example = "202604")]
    pub month: Option<String>,
}

/// What one office sends the caller: its patients' plans and months.
#[derive(Default)]
struct ForOffice {
    plans: Vec<PlanRows>,
    usages: Vec<UsageRows>,
}

/// Exports the caller's organisation's files (audited as a read disclosing each patient).
pub async fn export(state: &Arc<AppState>, ctx: Context, query: ExportQuery) -> Result<ExchangeFiles, ApiError> {
    let month = match query.month {
        Some(m) if m.len() == 6 && m.bytes().all(|b| b.is_ascii_digit()) => Some(format!("{}-{}", &m[..4], &m[4..])),
        Some(_) => return Err(ApiError::field("/query/month", "must be YYYYMM")),
        None => None,
    };
    let event = Event::new(&ctx, "care_plan.export");
    let caller = ctx.caller.clone();
    crate::domain::read(state, event, move |conn, st, ev| {
        // An organisation without a 介護保険事業所番号 is named in no plan: it receives no files.
        let Some(own) = OrganizationRow::find(conn, &caller.org)?.and_then(|o| o.ltc_provider_number) else {
            return Ok(ExchangeFiles { files: Vec::new() });
        };
        let today = clock::format_day(st.calendar.today());
        let mut offices: BTreeMap<String, ForOffice> = BTreeMap::new();
        let mut after: Option<String> = None;
        loop {
            let page = PatientRow::list_on_team_of(conn, &caller.org, &today, after.as_deref(), 200)?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            for patient in page {
                collect(conn, st, &caller, ev, (&patient, &own, month.as_deref()), &mut offices)?;
            }
        }
        files(&offices, &own, st.clock.now())
    })
    .await
}

/// The patient's plan and month for `own`, if the caller may read them and they name it.
fn collect(
    conn: &mut DbConn,
    st: &AppState,
    caller: &crate::auth::Caller,
    ev: &mut Event,
    (patient, own, month): (&PatientRow, &str, Option<&str>),
    offices: &mut BTreeMap<String, ForOffice>,
) -> Result<(), ApiError> {
    if patient.erased_at.is_some() {
        return Ok(());
    }
    let mut disclosed = false;
    if let Some(head) = filing::existing(conn, &patient.id, CARE_PLAN, None)?.first() {
        let mut read_ev = ev.clone();
        if let Ok(doc) = documents::read(conn, st, caller, &head.id, None, &mut read_ev)
            && content::plan_providers(&doc.content).iter().any(|p| p == own)
        {
            let office = doc.content["table1"]["office_number"].as_str().unwrap_or_default().to_owned();
            offices.entry(office).or_default().plans.push(content::plan_rows(&doc.content));
            disclosed = true;
        }
    }
    if let Some(month) = month
        && let Some(head) = filing::existing(conn, &patient.id, SERVICE_USE, Some(("month", month)))?.first()
    {
        let mut read_ev = ev.clone();
        if let Ok(doc) = documents::read(conn, st, caller, &head.id, None, &mut read_ev) {
            let usage = content::usage_rows(&doc.content, Some(own));
            if let Some(office) = usage.planned.first().and_then(|r| r.values["office_number"].as_str()) {
                offices.entry(office.to_owned()).or_default().usages.push(usage);
                disclosed = true;
            }
        }
    }
    if disclosed {
        ev.disclosed.push(patient.id.clone());
    }
    Ok(())
}

fn key(row: &Row) -> (String, String) {
    (row.insurer_number.clone(), row.insured_number.clone())
}

/// Numbers the rows of one file from 1, in the order they are written.
fn numbered(rows: impl IntoIterator<Item = Row>) -> Vec<Row> {
    rows.into_iter().enumerate().map(|(i, r)| Row { line: i + 1, ..r }).collect()
}

fn encode(name: FileName, rows: Vec<Row>) -> Result<ExchangeFile, ApiError> {
    let bytes = records::write(name.kind, &rows).map_err(|p| {
        ApiError::Conflict(format!(
            "{} cannot be written in MS932: row {} column {}: {}",
            name.format(),
            p.row,
            p.column,
            p.reason
        ))
    })?;
    Ok(ExchangeFile { name: name.format(), content: base64::engine::general_purpose::STANDARD.encode(bytes) })
}

/// The send units: per office, the plans (補足 `000000`, 1表, 2表) and the month (補足, 6表, 7表),
/// patients in 保険者番号・被保険者番号 order, each unit with its own 作成日時.
fn files(
    offices: &BTreeMap<String, ForOffice>,
    own: &str,
    now: time::OffsetDateTime,
) -> Result<ExchangeFiles, ApiError> {
    let jst = time::UtcOffset::from_hms(9, 0, 0).map_err(ApiError::internal)?;
    let mut serial = now.to_offset(jst);
    let mut out = Vec::new();
    for (office, sends) in offices {
        let mut stamp = || {
            let s = format!(
                "{:04}{:02}{:02}{:02}{:02}{:02}",
                serial.year(),
                u8::from(serial.month()),
                serial.day(),
                serial.hour(),
                serial.minute(),
                serial.second()
            );
            serial += time::Duration::seconds(1);
            s
        };
        let name = |kind, month: Option<String>, created: &str| FileName {
            kind,
            month,
            from: office.clone(),
            to: own.to_owned(),
            created: created.to_owned(),
        };
        if !sends.plans.is_empty() {
            let created = stamp();
            let mut plans = sends.plans.clone();
            plans.sort_by_key(|p| key(&p.supplement));
            let zero = Some("000000".to_owned());
            out.push(encode(
                name(FileKind::Supplement, zero, &created),
                numbered(plans.iter().map(|p| p.supplement.clone())),
            )?);
            out.push(encode(name(FileKind::Plan1, None, &created), numbered(plans.iter().map(|p| p.table1.clone())))?);
            out.push(encode(
                name(FileKind::Plan2, None, &created),
                numbered(plans.iter().flat_map(|p| p.table2.clone())),
            )?);
        }
        if let Some(first) = sends.usages.first() {
            let created = stamp();
            let month = Some(first.month.replace('-', ""));
            let mut usages = sends.usages.clone();
            usages.sort_by_key(|u| key(&u.supplement));
            let supplements = numbered(usages.iter().map(|u| u.supplement.clone()));
            out.push(encode(name(FileKind::Supplement, month.clone(), &created), supplements)?);
            out.push(encode(
                name(FileKind::Usage6, month.clone(), &created),
                numbered(usages.iter().flat_map(|u| u.planned.clone())),
            )?);
            out.push(encode(
                name(FileKind::Usage7, month, &created),
                numbered(usages.iter().flat_map(|u| u.table7.iter().chain(&u.total).cloned())),
            )?);
        }
    }
    Ok(ExchangeFiles { files: out })
}
