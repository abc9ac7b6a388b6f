//! `GET /v1/fhir/{Type}/{id}` and `…/_history/{vid}`: one resource, found by reading the record
//! of the patient it belongs to through [`crate::fhir::gather`] (one audited `fhir.read` of that
//! patient, refused as `GET /v1/patients/{id}/fhir` is), then picking it out. A resource the
//! caller's view of the record does not hold (a type no consent shares, a withheld list) is a
//! 404, exactly as one that does not exist. Organisations and practitioners are the directory's:
//! anyone who may read the directory reads them, as `GET /v1/organizations/{id}` does.

use std::sync::Arc;

use super::stamp::{self, Entry};
use crate::access::{self, Action, Resource};
use crate::audit::Event;
use crate::context::Context;
use crate::db::DbConn;
use crate::db::consents::ConsentRow;
use crate::db::directory::{OrganizationRow, PractitionerRow};
use crate::db::documents::DocumentRow;
use crate::domain::documents;
use crate::error::ApiError;
use crate::fhir::{document_resources, people, plan};
use crate::state::AppState;

fn missing(kind: &str, id: &str) -> ApiError {
    ApiError::NotFound(format!("no {kind} {id} here"))
}

/// The patient whose record holds `kind/id`, when there is one.
pub fn patient_of(conn: &mut DbConn, kind: &str, id: &str) -> Result<Option<String>, ApiError> {
    Ok(match kind {
        "Patient" | "CareTeam" => Some(id.to_owned()),
        // `{patient}-role{n}` (see `fhir::people`): the patient id is a UUID.
        "PractitionerRole" => id.get(..36).map(str::to_owned),
        "Consent" => ConsentRow::patient_of(conn, id)?,
        _ => match stamp::document_id(kind, id) {
            Some(doc) => DocumentRow::find(conn, &doc)?.map(|d| d.patient_id),
            None => None,
        },
    })
}

/// One resource of the directory (not audited, as the JSON API's directory reads are not).
async fn directory(state: &Arc<AppState>, ctx: &Context, kind: &str, id: String) -> Result<Entry, ApiError> {
    access::check(&ctx.caller, Resource::Directory, Action::Read)?;
    let organization = kind == "Organization";
    let found = crate::db::run(&state.pool, move |conn| {
        Ok(if organization {
            OrganizationRow::find(conn, &id)?.map(|o| (people::organization(&o), o.updated_at))
        } else {
            PractitionerRow::find(conn, &id)?.map(|p| (people::practitioner(&p), p.updated_at))
        })
    })
    .await?;
    let (resource, at) = found.ok_or_else(|| ApiError::NotFound(format!("no {kind} here")))?;
    Ok(stamp::stamped(resource, None, Some(at)))
}

/// The resource `kind/id` as the caller may see it now, or at document version `vid`.
pub async fn read(
    state: &Arc<AppState>,
    ctx: Context,
    kind: &'static str,
    id: String,
    vid: Option<String>,
) -> Result<Entry, ApiError> {
    if matches!(kind, "Organization" | "Practitioner") {
        return directory(state, &ctx, kind, id).await;
    }
    if kind == "Group" {
        return super::groups::read(&ctx, &id).map(|g| stamp::stamped(g, None, None));
    }
    let vid = match vid {
        Some(v) => Some(v.parse::<i32>().map_err(|_| missing("version", &v))?),
        None => None,
    };
    let event = Event::new(&ctx, "fhir.read");
    crate::domain::read(state, event, move |conn, st, ev| {
        let patient = patient_of(conn, kind, &id)?.ok_or_else(|| missing(kind, &id))?;
        let record = crate::fhir::gather(conn, st, &ctx.caller, &patient, None, ev)?;
        let current = stamp::entries_of(&record, kind).into_iter().find(|e| e.id() == id);
        let current = current.ok_or_else(|| missing(kind, &id))?;
        match vid {
            None => Ok(current),
            Some(v) if current.version == Some(v) => Ok(current),
            Some(v) => {
                let doc_id = stamp::document_id(kind, &id).ok_or_else(|| missing("version", &v.to_string()))?;
                // The earlier version, withheld fields and all, as `GET /v1/documents/{id}/versions/{n}`.
                let mut scratch = ev.clone();
                let old = match documents::read(conn, st, &ctx.caller, &doc_id, Some(v), &mut scratch) {
                    Ok(doc) => doc,
                    Err(ApiError::NotFound(_)) => return Err(missing("version", &v.to_string())),
                    Err(e) => return Err(e),
                };
                let is_current = plan::current_care_path(&record.documents) == Some(doc_id.as_str());
                let resource = document_resources(&old, is_current, record.team.is_some())
                    .into_iter()
                    .find(|r| r["resourceType"] == kind && r["id"] == id.as_str())
                    .ok_or_else(|| missing("version", &v.to_string()))?;
                Ok(stamp::stamped(resource, Some(old.version), Some(old.updated_at)))
            }
        }
    })
    .await
}
