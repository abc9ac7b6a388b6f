//! Export jobs as their owner reaches them: status, files, deletion. Each request is an audited
//! read (`fhir.export.status`, `fhir.export.download`, `fhir.export.delete`) naming the job;
//! another caller's job, or an expired one, answers 404, as a missing one does.
//!
//! A download applies the access rule as it stands, not as it stood at export time: a patient's
//! records are served only if the caller may still read the patient (no break-glass) and the
//! patient's care team and consents have not changed since the export (`access_rev`); anyone
//! else's records are left out of the stream, and the event discloses only the patients served.
//! Directory entries (organisations, practitioners) are no one patient's and are always served.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader};
use std::sync::Arc;

use super::export::{self, SHARED};
use crate::access::Resource;
use crate::audit::Event;
use crate::auth::Caller;
use crate::context::Context;
use crate::crypto::{CryptoError, SealedReader};
use crate::db::DbConn;
use crate::db::patients::PatientRow;
use crate::domain::exports::{self, Job};
use crate::error::ApiError;
use crate::gate::{Want, authorize_loaded};
use crate::state::AppState;

/// The job, for its owner.
pub async fn status(state: &Arc<AppState>, ctx: Context, id: String) -> Result<Job, ApiError> {
    let event = Event::new(&ctx, "fhir.export.status").resource("fhir_export", &id);
    crate::domain::read(state, event, move |_, st, _| Ok(exports::owned(st, &ctx.caller, &id)?.1)).await
}

/// One file of a complete job being opened: the records of the patients still readable.
pub struct Download {
    reader: SealedReader<BufReader<File>>,
    allowed: HashSet<u32>,
}

impl Download {
    /// The next lines to send (one patient's, or shared entries); `None` at the end. Fails on a
    /// file that was altered or cut short.
    pub fn next_lines(&mut self) -> io::Result<Option<Vec<u8>>> {
        while let Some(record) = self.reader.next_record()? {
            let Some((who, lines)) = record.split_first_chunk::<4>() else {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "an export record without its patient"));
            };
            let who = u32::from_be_bytes(*who);
            if who == SHARED || self.allowed.contains(&who) {
                return Ok(Some(lines.to_vec()));
            }
        }
        Ok(None)
    }
}

/// One NDJSON file of a complete job, opened for its owner with the access rule re-applied.
pub async fn file(
    state: &Arc<AppState>,
    ctx: Context,
    id: String,
    resource_type: String,
) -> Result<Download, ApiError> {
    let event = Event::new(&ctx, "fhir.export.download").resource("fhir_export", &id);
    crate::domain::read(state, event, move |conn, st, ev| {
        let (dir, job) = exports::owned(st, &ctx.caller, &id)?;
        let output = job.output.iter().chain(&job.errors).find(|o| o.resource_type == resource_type);
        let Some(output) = output.filter(|_| job.status == "complete") else {
            return Err(ApiError::NotFound("no such file in this export".into()));
        };
        let allowed = still_readable(conn, st, &ctx.caller, &job, &output.patients, ev)?;
        let wrapped = job.wrapped_key();
        let key = match st.keys().unwrap_file_key(&job.id, &wrapped) {
            Err(CryptoError::UnknownKid(_)) => {
                st.reload_keys()?;
                st.keys().unwrap_file_key(&job.id, &wrapped)?
            }
            other => other?,
        };
        let file = File::open(dir.join(format!("{resource_type}.ndjson"))).map_err(ApiError::internal)?;
        let reader = SealedReader::new(&key, &export::sealed_name(&job.id, &resource_type), BufReader::new(file))
            .map_err(ApiError::internal)?;
        Ok(Download { reader, allowed })
    })
    .await
}

/// The patients of `indexes` the caller may still read as the export read them; each one kept
/// is disclosed on the event.
fn still_readable(
    conn: &mut DbConn,
    st: &AppState,
    caller: &Caller,
    job: &Job,
    indexes: &[u32],
    ev: &mut Event,
) -> Result<HashSet<u32>, ApiError> {
    let mut allowed = HashSet::new();
    for &index in indexes {
        let Some((patient_id, rev)) = usize::try_from(index).ok().and_then(|i| job.patients.get(i)) else { continue };
        let Some(row) = PatientRow::find(conn, patient_id)? else { continue };
        if row.erased_at.is_some() || row.access_rev != *rev {
            continue;
        }
        let mut scratch = ev.clone();
        // A download never breaks the glass, whatever the request carries.
        scratch.requested_break_glass = None;
        match authorize_loaded(conn, st, caller, (patient_id, Some(row)), Want::read(Resource::Patient), &mut scratch) {
            // An open break-glass grant is no ground for a download: the export never used one.
            Ok(access) if access.allowed.by_break_glass => {}
            Ok(_) => {
                allowed.insert(index);
                ev.disclosed.push(patient_id.clone());
            }
            Err(ApiError::NotFound(_) | ApiError::Gone(_) | ApiError::Forbidden(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(allowed)
}

/// Deletes the job and its files.
pub async fn delete(state: &Arc<AppState>, ctx: Context, id: String) -> Result<(), ApiError> {
    let event = Event::new(&ctx, "fhir.export.delete").resource("fhir_export", &id);
    crate::domain::read(state, event, move |_, st, _| {
        let (dir, _) = exports::owned(st, &ctx.caller, &id)?;
        exports::delete(&dir)
    })
    .await
}
