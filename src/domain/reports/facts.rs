//! What the indicators are computed from, gathered once per request. Only the few sealed values
//! an indicator needs are opened (date and place of death, discharge date, the address's
//! municipality), and none of them leaves this module except as a date, a word or a count.

use std::collections::HashMap;

use serde_json::Value;
use time::Date;

use crate::calendar::Calendar;
use crate::clock;
use crate::crypto::{DataKey, FieldContext, is_sealed};
use crate::db::DbConn;
use crate::db::contact_sheets::SheetRow;
use crate::db::patients::PatientRow;
use crate::db::reports::{self, CurrentDoc, DocFilter, TeamPeriod, Writing};
use crate::domain::identity;
use crate::error::ApiError;
use crate::state::AppState;

const PAGE: i64 = 2000;
pub const END_OF_LIFE: &str = "end-of-life-record";
pub const DISCHARGE: &str = "discharge-summary";

/// A death recorded by an end-of-life record.
pub struct Death {
    pub patient: String,
    pub day: Date,
    pub place: String,
}

/// A discharge summary as shared.
pub struct Discharge {
    pub patient: String,
    /// The region's date of its first version.
    pub shared: Date,
    /// Shared within 2 days of the discharge date it states.
    pub within_2_days: bool,
}

/// A contact sheet sent.
pub struct Sheet {
    pub patient: Option<String>,
    pub sent: Date,
    /// Seconds from sending to the first answer.
    pub answered_after: Option<i64>,
}

/// Everything the indicators count, for one span of instants.
pub struct Facts {
    /// Municipality by patient (only patients whose address names one).
    pub area: HashMap<String, String>,
    pub teams: Vec<TeamPeriod>,
    /// Document writes with the region's date of each.
    pub writings: Vec<(Date, Writing)>,
    pub deaths: Vec<Death>,
    pub discharges: Vec<Discharge>,
    pub sheets: Vec<Sheet>,
}

fn open_field(key: &DataKey, doc: &CurrentDoc, content: &Value, pointer: &str) -> Result<Option<Value>, ApiError> {
    let Some(value) = content.pointer(pointer) else { return Ok(None) };
    match value.as_str().filter(|s| is_sealed(s)) {
        Some(text) => {
            let at = FieldContext {
                patient_id: &doc.patient_id,
                document_id: &doc.id,
                version: i64::from(doc.version),
                pointer,
            };
            key.open(&at, text).map(Some).map_err(ApiError::internal)
        }
        None => Ok(Some(value.clone())),
    }
}

fn day_of(value: Option<Value>) -> Option<Date> {
    value.as_ref().and_then(Value::as_str).and_then(clock::parse_day)
}

fn region_day(calendar: &Calendar, instant: &str) -> Option<Date> {
    clock::parse(instant).map(|t| calendar.date_at(t))
}

/// Walks every current document of `doc_type`, handing each with its patient's data key.
fn each_doc(
    conn: &mut DbConn,
    st: &AppState,
    patients: &HashMap<String, PatientRow>,
    doc_type: &str,
    mut f: impl FnMut(&CurrentDoc, &DataKey, &Value) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let filter = DocFilter { doc_type: doc_type.to_owned(), ..DocFilter::default() };
    let mut after: Option<String> = None;
    loop {
        let page = CurrentDoc::page(conn, &filter, after.as_deref(), PAGE)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for doc in &page {
            // An erased patient's key is gone: the record no longer counts anywhere.
            let (Some(patient), Some(text)) = (patients.get(&doc.patient_id), &doc.content) else { continue };
            let key = st.data_key(patient)?;
            let content: Value = serde_json::from_str(text).map_err(ApiError::internal)?;
            f(doc, &key, &content)?;
        }
        if i64::try_from(page.len()).unwrap_or(PAGE) < PAGE {
            break;
        }
    }
    Ok(())
}

/// Gathers the facts for instants `[from, to)` (days `first..=last` in the region).
pub fn gather(conn: &mut DbConn, st: &AppState, span: (&str, &str), days: (Date, Date)) -> Result<Facts, ApiError> {
    let (from, to) = span;
    let (first, last) = days;
    let patients: HashMap<String, PatientRow> =
        reports::live_patients(conn)?.into_iter().map(|p| (p.id.clone(), p)).collect();
    let mut area = HashMap::new();
    for p in patients.values() {
        if let Some(m) = identity::municipality(st, p)? {
            area.insert(p.id.clone(), m);
        }
    }
    let mut deaths = Vec::new();
    each_doc(conn, st, &patients, END_OF_LIFE, |doc, key, content| {
        let Some(day) = day_of(open_field(key, doc, content, "/date_of_death")?) else { return Ok(()) };
        if day < first || day > last {
            return Ok(());
        }
        let place = open_field(key, doc, content, "/place_of_death")?;
        let place = place.as_ref().and_then(Value::as_str).unwrap_or("other").to_owned();
        deaths.push(Death { patient: doc.patient_id.clone(), day, place });
        Ok(())
    })?;
    let mut discharges = Vec::new();
    each_doc(conn, st, &patients, DISCHARGE, |doc, key, content| {
        let Some(shared) = region_day(&st.calendar, &doc.created_at) else { return Ok(()) };
        if shared < first || shared > last {
            return Ok(());
        }
        let discharged = day_of(open_field(key, doc, content, "/discharge_date")?);
        let within_2_days = discharged.is_some_and(|d| (shared - d).whole_days() <= 2);
        discharges.push(Discharge { patient: doc.patient_id.clone(), shared, within_2_days });
        Ok(())
    })?;
    let sheets = SheetRow::sent_between(conn, from, to, None)?
        .into_iter()
        .filter_map(|s| {
            let sent = region_day(&st.calendar, &s.sent_at)?;
            let answered_after = s
                .answered_at
                .as_deref()
                .and_then(|a| Some((clock::parse(a)? - clock::parse(&s.sent_at)?).whole_seconds()));
            Some(Sheet { patient: s.patient_id, sent, answered_after })
        })
        .collect();
    Ok(Facts {
        area,
        teams: TeamPeriod::all(conn)?,
        writings: Writing::between(conn, from, to)?
            .into_iter()
            .filter_map(|w| Some((region_day(&st.calendar, &w.at)?, w)))
            .collect(),
        deaths,
        discharges,
        sheets,
    })
}
