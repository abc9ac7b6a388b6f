//! Out: `Composition/{id}/$document`, a stored document as the FHIR `document` Bundle it is. A
//! JP-CLINS document is answered with the Bundle exactly as it arrived (the same bytes: the same
//! resources, codes and narrative, so a signature over it still holds); any other document, or a
//! JP-CLINS one whose Bundle is withheld from the caller (it holds the infections, so it is
//! `restricted`), with a Bundle made from the Composition, the Patient and what was derived,
//! labelled `REDACTED` when something was withheld.
//!
//! One audited read of the patient's record (`fhir.document`), refused as any read of it is.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::audit::Event;
use crate::context::Context;
use crate::error::ApiError;
use crate::fhir::server::read::patient_of;
use crate::fhir::{OURS, document_resources, meta, people};
use crate::state::AppState;

/// The document Bundle, as JSON text.
pub async fn document(state: &Arc<AppState>, ctx: Context, id: String, base: String) -> Result<String, ApiError> {
    let event = Event::new(&ctx, "fhir.document");
    crate::domain::read(state, event, move |conn, st, ev| {
        let missing = || ApiError::NotFound(format!("no Composition {id} here"));
        let patient = patient_of(conn, "Composition", &id)?.ok_or_else(missing)?;
        let record = crate::fhir::gather(conn, st, &ctx.caller, &patient, None, ev)?;
        let doc = record.documents.iter().find(|d| d.id == id && d.doc_type != "care-path").ok_or_else(missing)?;
        ev.resource_type = Some("document");
        ev.resource_id = Some(doc.id.clone());
        if let Some(Value::String(sent)) = doc.content.get("source_bundle") {
            return Ok(sent.clone());
        }
        let managing = record.organizations.iter().find(|o| o.id == record.patient.managing_organization);
        let mut resources = document_resources(doc, false, record.team.is_some());
        // A document Bundle's first entry is its Composition; the Patient it is about follows.
        resources.insert(1, people::patient(&record.patient, managing));
        let entries: Vec<Value> = resources
            .into_iter()
            .map(|r| {
                let url = format!(
                    "{base}/{}/{}",
                    r["resourceType"].as_str().unwrap_or_default(),
                    r["id"].as_str().unwrap_or_default()
                );
                json!({ "fullUrl": url, "resource": r })
            })
            .collect();
        let bundle = json!({
            "resourceType": "Bundle",
            "id": uuid::Uuid::new_v4().to_string(),
            "meta": meta(None, Some(&doc.updated_at), !doc.withheld.is_empty()),
            "identifier": { "system": format!("{OURS}/sid/document"), "value": format!("{}/{}", doc.id, doc.version) },
            "type": "document",
            "timestamp": doc.updated_at,
            "entry": entries,
        });
        Ok(bundle.to_string())
    })
    .await
}
