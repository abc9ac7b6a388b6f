//! Export jobs as their owner reaches them: status, files, deletion. Each request is an audited
//! read (`fhir.export.status`, `fhir.export.download`, `fhir.export.delete`) naming the job;
//! another caller's job answers 404, as a missing one does.

use std::fs::File;
use std::sync::Arc;

use super::export::{self, Job};
use crate::audit::Event;
use crate::context::Context;
use crate::error::ApiError;
use crate::state::AppState;

/// The job, for its owner.
pub async fn status(state: &Arc<AppState>, ctx: Context, id: String) -> Result<Job, ApiError> {
    let event = Event::new(&ctx, "fhir.export.status").resource("fhir_export", &id);
    crate::domain::read(state, event, move |_, st, _| Ok(export::owned(st, &ctx.caller, &id)?.1)).await
}

/// One NDJSON file of a complete job, opened for its owner.
pub async fn file(state: &Arc<AppState>, ctx: Context, id: String, resource_type: String) -> Result<File, ApiError> {
    let event = Event::new(&ctx, "fhir.export.download").resource("fhir_export", &id);
    crate::domain::read(state, event, move |_, st, _| {
        let (dir, job) = export::owned(st, &ctx.caller, &id)?;
        let listed = job.output.iter().any(|o| o.resource_type == resource_type);
        if job.status != "complete" || !listed {
            return Err(ApiError::NotFound("no such file in this export".into()));
        }
        File::open(dir.join(format!("{resource_type}.ndjson"))).map_err(ApiError::internal)
    })
    .await
}

/// Deletes the job and its files.
pub async fn delete(state: &Arc<AppState>, ctx: Context, id: String) -> Result<(), ApiError> {
    let event = Event::new(&ctx, "fhir.export.delete").resource("fhir_export", &id);
    crate::domain::read(state, event, move |_, st, _| {
        let (dir, _) = export::owned(st, &ctx.caller, &id)?;
        export::delete(&dir)
    })
    .await
}
