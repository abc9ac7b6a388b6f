//! A patient's access log: who (organisation, profession) opened the record, and when, told to
//! the managing organisation (whose clinicians answer to the patient for it) and to the
//! operator. The API pages it oldest first; the console newest first with its count.

use std::collections::HashMap;
use std::sync::Arc;

use crate::access::{self, Resource};
use crate::audit::Event;
use crate::context::Context;
use crate::db::DbConn;
use crate::db::audit::{AuditFilter, AuditRow};
use crate::db::directory::OrganizationRow;
use crate::db::patients::PatientRow;
use crate::domain::paging::Page;
use crate::error::ApiError;
use crate::gate::{Want, authorize};
use crate::ids::PatientId;
use crate::state::AppState;

use super::{AccessEntry, Window};

/// The actions that open (part of) a patient's record. A list or search shows here through the
/// per-patient events it records for each patient it disclosed.
const READS: &[&str] = &[
    "patient.read",
    "patient.record",
    "patient.fhir",
    "fhir.read",
    "fhir.search",
    "fhir.everything",
    "fhir.document",
    "patient.list",
    "patient.search",
    "care_team.read",
    "document.read",
    "document.list",
    "document.history",
    "consent.list",
];

/// A newest-first page of a patient's access log, and where it stands.
#[derive(Debug)]
pub struct AccessLogPage {
    /// The patient's name (the caller was let in to the patient to read the log).
    pub patient_name: String,
    /// The openings of this page, newest first.
    pub items: Vec<AccessEntry>,
    /// Every opening in the log.
    pub total: i64,
    /// Openings newer than this page.
    pub newer: i64,
    /// Openings older than this page.
    pub older: i64,
}

/// The patient, once the caller may read its access log.
fn admit(
    conn: &mut DbConn,
    st: &AppState,
    ctx: &Context,
    patient: &str,
    ev: &mut Event,
) -> Result<PatientRow, ApiError> {
    let patient = authorize(conn, st, &ctx.caller, patient, Want::read(Resource::Patient), ev)?.patient;
    crate::domain::patients::erased_patient_gone(&patient)?;
    if !access::may_read_access_log(&ctx.caller, &patient.managing_organization_id, &st.settings.operator_org) {
        return Err(ApiError::Forbidden("the access log is for the managing organisation".into()));
    }
    Ok(patient)
}

fn openings_of(patient: &PatientRow) -> AuditFilter {
    AuditFilter {
        patient_id: Some(patient.id.clone()),
        actions: Some(READS),
        outcome: Some("allowed"),
        ..AuditFilter::default()
    }
}

/// Who (organisation, profession) opened a patient's record, and when, oldest first: for the
/// managing organisation (or the operator). Paged by sequence number.
pub async fn access_log(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    after: Option<i64>,
    limit: i64,
) -> Result<Page<AccessEntry>, ApiError> {
    let event = Event::new(&ctx, "access_log.read").resource("access_log", &patient);
    let items = crate::domain::read(state, event, move |conn, st, ev| {
        let patient = admit(conn, st, &ctx, &patient, ev)?;
        let filter = AuditFilter { after_seq: after, ..openings_of(&patient) };
        let rows = AuditRow::list(conn, &filter, limit)?;
        entries(conn, rows)
    })
    .await?;
    Ok(Page::new(items, limit, |e: &AccessEntry| e.seq.to_string()))
}

/// [`access_log`] newest first, a window at a time with the counts (the console's page); the
/// same rule and the same event.
pub async fn access_log_newest(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    window: Window,
    limit: i64,
) -> Result<AccessLogPage, ApiError> {
    let event = Event::new(&ctx, "access_log.read").resource("access_log", &patient);
    crate::domain::read(state, event, move |conn, st, ev| {
        let patient = admit(conn, st, &ctx, &patient, ev)?;
        let patient_name = crate::domain::patients::Patient::reveal(st, &patient)?.identity.name;
        let all = openings_of(&patient);
        let total = AuditRow::count(conn, &all)?;
        let mut rows = match window {
            Window::Newest => AuditRow::list(conn, &AuditFilter { newest_first: true, ..all.clone() }, limit)?,
            Window::Before(seq) => {
                AuditRow::list(conn, &AuditFilter { newest_first: true, before_seq: Some(seq), ..all.clone() }, limit)?
            }
            Window::After(seq) => AuditRow::list(conn, &AuditFilter { after_seq: Some(seq), ..all.clone() }, limit)?,
        };
        if matches!(window, Window::After(_)) {
            rows.reverse();
        }
        let (newer, older) = match (rows.first(), rows.last()) {
            (Some(first), Some(last)) => (
                AuditRow::count(conn, &AuditFilter { after_seq: Some(first.seq), ..all.clone() })?,
                AuditRow::count(conn, &AuditFilter { before_seq: Some(last.seq), ..all })?,
            ),
            _ => (0, 0),
        };
        Ok(AccessLogPage { patient_name, items: entries(conn, rows)?, total, newer, older })
    })
    .await
}

/// Each organisation is looked up once per page: a page is mostly a few organisations.
fn entries(conn: &mut DbConn, rows: Vec<AuditRow>) -> Result<Vec<AccessEntry>, ApiError> {
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    let mut items = Vec::new();
    for row in rows {
        if !names.contains_key(&row.actor_org) {
            let name = OrganizationRow::find(conn, &row.actor_org)?.map(|o| o.name);
            names.insert(row.actor_org.clone(), name);
        }
        items.push(AccessEntry {
            seq: row.seq,
            at: row.at,
            organization_name: names.get(&row.actor_org).cloned().flatten(),
            organization: row.actor_org,
            profession: row.actor_role,
            action: row.action,
            break_glass: row.break_glass,
        });
    }
    Ok(items)
}
