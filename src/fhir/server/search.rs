//! `GET /v1/fhir/{Type}?…`: search one patient's record (`patient=`, required), as the JP
//! clinical-core pull API asks for the 5情報, and `Patient?identifier=` to find the patient.
//! The record is read once (`fhir::gather`, one audited `fhir.search` of the patient, with the
//! access rule, consents and withheld fields of every other read); the filters, sort and page
//! are applied to what that read returned, so a search can never show more than the Bundle.

use std::sync::Arc;

use serde_json::{Value, json};

use super::params::{self, Search, Summary};
use super::stamp::{self, Entry};
use super::{Type, groups};
use crate::audit::Event;
use crate::context::Context;
use crate::domain::patients::{self, PatientSearch};
use crate::error::{ApiError, FieldError};
use crate::fhir::record::{Parts, gather_parts};
use crate::fhir::{OURS, people};
use crate::state::AppState;

/// Where a searchset's links point: the FHIR base and the query as asked.
pub struct Here {
    pub base: String,
    /// The path after the base: `Condition`, `Patient/{id}/$everything`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The instant of the answer (the service's clock), for the Bundle's `meta.lastUpdated`.
    pub at: String,
}

impl Here {
    fn url(&self, offset: Option<usize>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.query.iter().filter(|(k, _)| k != "_offset") {
            q.append_pair(k, v);
        }
        if let Some(o) = offset.filter(|o| *o > 0) {
            q.append_pair("_offset", &o.to_string());
        }
        let q = q.finish();
        if q.is_empty() { format!("{}/{}", self.base, self.path) } else { format!("{}/{}?{q}", self.base, self.path) }
    }
}

/// `resource` cut down to what `_summary` and `_elements` ask for. A cut resource is labelled
/// `SUBSETTED`, as the specification asks.
pub fn shaped(mut resource: Value, s: &Search) -> Value {
    let mut cut = false;
    if s.summary == Summary::Data
        && let Some(o) = resource.as_object_mut()
    {
        cut |= o.remove("text").is_some();
    }
    if let Some(elements) = &s.elements
        && let Some(o) = resource.as_object_mut()
    {
        let before = o.len();
        o.retain(|k, _| matches!(k.as_str(), "resourceType" | "id" | "meta") || elements.iter().any(|e| e == k));
        cut |= o.len() != before;
    }
    if cut {
        let tag = json!({"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"});
        if !resource["meta"].is_object() {
            resource["meta"] = json!({});
        }
        match resource["meta"]["tag"].as_array_mut() {
            Some(tags) => tags.push(tag),
            None => resource["meta"]["tag"] = json!([tag]),
        }
    }
    resource
}

/// A `searchset` Bundle of one page of `matches` (all that matched, in order).
pub fn searchset(matches: Vec<Entry>, s: &Search, here: &Here, extra: Vec<Value>) -> Value {
    let total = matches.len();
    let mut links = vec![json!({"relation": "self", "url": here.url(Some(s.offset))})];
    let mut entries: Vec<Value> = Vec::new();
    if s.summary != Summary::Count {
        let end = s.offset.saturating_add(s.count).min(total);
        if end < total {
            links.push(json!({"relation": "next", "url": here.url(Some(end))}));
        }
        entries = matches
            .into_iter()
            .skip(s.offset)
            .take(s.count)
            .map(|e| {
                let url = format!("{}/{}/{}", here.base, e.kind(), e.id());
                crate::fhir::object([
                    ("fullUrl", Value::String(url)),
                    ("resource", shaped(e.resource, s)),
                    ("search", json!({"mode": "match"})),
                ])
            })
            .collect();
    }
    entries.extend(extra);
    let mut bundle = json!({
        "resourceType": "Bundle",
        "id": uuid::Uuid::new_v4().to_string(),
        "meta": {"lastUpdated": here.at},
        "type": "searchset",
        "total": total,
        "link": links,
    });
    if !entries.is_empty() {
        bundle["entry"] = Value::Array(entries);
    }
    bundle
}

/// Sorts by `_sort`; ties (and no `_sort`) keep the record's own order.
fn sort(matches: &mut [Entry], s: &Search) {
    let Some((key, desc)) = &s.sort else { return };
    matches.sort_by(|a, b| {
        let order = match key.as_str() {
            "_id" => a.id().cmp(b.id()),
            _ => a.last_updated.cmp(&b.last_updated),
        };
        if *desc { order.reverse() } else { order }
    });
}

fn admits(e: &Entry, s: &Search) -> bool {
    s.tokens.iter().all(|t| t.admits(&e.resource)) && s.last_updated.iter().all(|b| b.admits(e.last_updated.as_deref()))
}

/// What a search of `kind` is made from: the documents for what they hold, the team for the care
/// team (and the care plan, which names it), the consents for consents.
fn parts(kind: &str) -> Parts {
    let only = Parts { team: false, consents: false, documents: false, directory: false };
    match kind {
        "Condition"
        | "MedicationStatement"
        | "MedicationRequest"
        | "Observation"
        | "AllergyIntolerance"
        | "Composition"
        | "DocumentReference" => Parts { documents: true, ..only },
        "CarePlan" => Parts { documents: true, team: true, ..only },
        "CareTeam" => Parts { team: true, ..only },
        "Consent" => Parts { consents: true, ..only },
        _ => Parts::ALL,
    }
}

/// A search of type `t`. `strict`: `Prefer: handling=strict`.
pub async fn search(
    state: &Arc<AppState>,
    ctx: Context,
    t: &'static Type,
    here: Here,
    strict: bool,
) -> Result<Value, ApiError> {
    let s = params::parse(t, &here.query, strict)?;
    match t.name {
        "Patient" => return patient_search(state, ctx, s, &here).await,
        "Group" => {
            let all = groups::list(&ctx)?.into_iter().map(|g| stamp::stamped(g, None, None));
            let matches = all.filter(|e| admits(e, &s)).collect();
            return Ok(searchset(matches, &s, &here, Vec::new()));
        }
        _ => {}
    }
    let Some(patient) = s.patient.clone() else {
        return Err(ApiError::BadParameters(vec![FieldError::new(
            "/query/patient",
            "a search is of one patient: give patient={id}",
        )]));
    };
    let event = Event::new(&ctx, "fhir.search").resource("patient", &patient);
    let kind = t.name;
    let filter = s.clone();
    let found = crate::domain::read(state, event, move |conn, st, ev| {
        let record = gather_parts(conn, st, &ctx.caller, &patient, None, parts(kind), ev)?;
        Ok(stamp::entries_of(&record, kind).into_iter().filter(|e| admits(e, &filter)).collect::<Vec<_>>())
    })
    .await;
    // A patient the caller may not read matches nothing, exactly as one that does not exist
    // (the refusal is audited all the same).
    let mut matches = match found {
        Err(ApiError::NotFound(_) | ApiError::Gone(_)) => Vec::new(),
        other => other?,
    };
    sort(&mut matches, &s);
    Ok(searchset(matches, &s, &here, Vec::new()))
}

/// `Patient?identifier=` (our patient id, or the 介護保険 insured number through its blind index)
/// or `Patient?_id=`: through the patient read or the patient search of the JSON API.
async fn patient_search(state: &Arc<AppState>, ctx: Context, s: Search, here: &Here) -> Result<Value, ApiError> {
    let mut ids = Vec::new();
    let mut numbers = Vec::new();
    let mut unsearchable = Vec::new();
    for filter in &s.tokens {
        for (system, value) in &filter.values {
            match (filter.param.name, system.as_deref()) {
                ("_id", _) => ids.push(value.clone()),
                ("identifier", Some(sys)) if sys == format!("{OURS}/sid/patient") => ids.push(value.clone()),
                ("identifier", None) => numbers.push(value.clone()),
                ("identifier", Some(sys)) if sys == format!("{OURS}/sid/ltc-insured-number") => {
                    numbers.push(value.clone())
                }
                (_, sys) => unsearchable.push(sys.unwrap_or_default().to_owned()),
            }
        }
    }
    if ids.len() + numbers.len() + unsearchable.len() != 1 {
        return Err(ApiError::BadParameters(vec![FieldError::new(
            "/query/identifier",
            "a patient search takes one identifier (or one _id)",
        )]));
    }
    let found = if let Some(id) = ids.pop() {
        match patients::get(state, ctx, id.into()).await {
            Ok(p) => vec![p],
            Err(ApiError::NotFound(_) | ApiError::Gone(_)) => Vec::new(),
            Err(e) => return Err(e),
        }
    } else if let Some(number) = numbers.pop().filter(|n| n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit())) {
        let search = PatientSearch { ltc_insured_number: Some(number), ..PatientSearch::default() };
        patients::list(state, ctx, search, None, 1).await?.items
    } else {
        Vec::new()
    };
    let extra = unsearchable
        .iter()
        .map(|sys| {
            let issue = super::outcome::issue(
                "warning",
                "not-supported",
                &format!(
                    "identifiers of {sys} are not searchable here (only ours: sid/patient, sid/ltc-insured-number)"
                ),
                Some("identifier"),
            );
            json!({"resource": super::outcome::outcome(vec![issue]), "search": {"mode": "outcome"}})
        })
        .collect();
    let matches = found
        .iter()
        .map(|p| stamp::stamped(people::patient(p, None), None, Some(p.updated_at.clone())))
        .filter(|e| s.last_updated.iter().all(|b| b.admits(e.last_updated.as_deref())))
        .collect();
    Ok(searchset(matches, &s, here, extra))
}
