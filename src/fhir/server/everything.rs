//! `GET /v1/fhir/Patient/{id}/$everything`: the patient's whole record as the caller may see it,
//! as a `searchset` Bundle, in one audited read (`fhir.everything`) through `fhir::gather`.
//! `_since` keeps documents (and what derives from them) changed at or after it, as a bulk
//! export's `_since` does; `_type` keeps the types named (a comma list of the served types).

use std::sync::Arc;

use super::params;
use super::search::{Here, searchset};
use super::{TYPES, stamp};
use crate::audit::Event;
use crate::context::Context;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// The patient's record, the page `_count`/`_offset` ask for.
pub async fn everything(
    state: &Arc<AppState>,
    ctx: Context,
    patient: String,
    here: Here,
) -> Result<serde_json::Value, ApiError> {
    let mut since = None;
    let mut types: Option<Vec<String>> = None;
    let mut errors = Vec::new();
    let mut rest = Vec::new();
    for (k, v) in &here.query {
        match k.as_str() {
            "_since" => match crate::domain::params::instant("/query/_since", v) {
                Ok(at) => since = Some(at),
                Err(_) => errors.push(FieldError::new("/query/_since", "must be an FHIR instant (RFC 3339)")),
            },
            "_type" => {
                let named: Vec<String> = v.split(',').map(|t| t.trim().to_owned()).collect();
                for t in &named {
                    if !TYPES.iter().any(|known| known.name == t) {
                        errors.push(FieldError::new("/query/_type", format!("{t} is not a type this server holds")));
                    }
                }
                types = Some(named);
            }
            _ => rest.push((k.clone(), v.clone())),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::BadParameters(errors));
    }
    // Only the result parameters remain meaningful; a Patient "search" has none of them wrong.
    let patient_type = super::type_named("Patient").ok_or_else(|| ApiError::internal("Patient is served"))?;
    let s = params::parse(patient_type, &rest, false)?;
    let event = Event::new(&ctx, "fhir.everything").resource("patient", &patient);
    let entries = crate::domain::read(state, event, move |conn, st, ev| {
        let record = crate::fhir::gather(conn, st, &ctx.caller, &patient, since.as_deref(), ev)?;
        Ok(stamp::entries(&record)
            .into_iter()
            .filter(|e| types.as_ref().is_none_or(|ts| ts.iter().any(|t| t == e.kind())))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(searchset(entries, &s, &here, Vec::new()))
}
