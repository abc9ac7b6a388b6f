//! Bulk export in the FHIR Bulk Data style: what the files hold and how they are written. Where
//! jobs live, how long and how many, is `domain::exports`; each job's files are sealed under a
//! key of its own (`crypto::SealedWriter`), so the disk never holds a patient in clear.
//!
//! The export holds what its caller could read one patient at a time: it walks the patients
//! the caller's organisation manages or serves (as `GET /v1/patients` lists them) and gathers
//! each through [`super::record::gather`], the same read as `GET /v1/patients/{id}/fhir`. It
//! takes a pooled connection per chunk of patients (`export_chunk_patients`) and gives it back
//! between chunks, so a long export never starves the pool. Each record is written out and
//! dropped before the next is read. A sealed record of a file holds one patient's lines of that
//! type, prefixed by the patient's index in `job.json` (or [`SHARED`] for directory entries,
//! written once per export), so a download can leave out a patient the caller may no longer read.
//! The export is one audit event (`fhir.export`) naming the job and counting what it held per
//! type, with one event per patient it disclosed.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;

use crate::access::{self, Action, Resource};
use crate::audit::{self, Event};
use crate::auth::Caller;
use crate::clock;
use crate::context::Context;
use crate::crypto::{FileKey, SealedWriter};
use crate::db::patients::PatientRow;
use crate::domain::exports::{self, Job, Output, Scope};
use crate::error::ApiError;
use crate::state::AppState;

/// The resource types an export can hold, in manifest order.
pub const TYPES: &[&str] = &[
    "Patient",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "CareTeam",
    "Consent",
    "CarePlan",
    "Composition",
    "DocumentReference",
    "Condition",
    "MedicationStatement",
    "MedicationRequest",
    "Observation",
    "AllergyIntolerance",
];

/// The patient index of a record holding directory entries (organisations, practitioners),
/// which are no one patient's and are written once per export.
pub const SHARED: u32 = u32::MAX;

/// Checks `_type` (a comma-separated list of the types above; all when absent).
pub fn parse_types(text: Option<&str>) -> Result<Vec<String>, ApiError> {
    let Some(text) = text else { return Ok(TYPES.iter().map(|t| (*t).to_owned()).collect()) };
    let mut out = Vec::new();
    for t in text.split(',').map(str::trim) {
        if !TYPES.contains(&t) {
            return Err(ApiError::field(
                "/query/_type",
                format!("{t:?} is not a type an export holds: {}", TYPES.join(", ")),
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

/// The name a file of job `id` is sealed under (bound into each of its records).
pub fn sealed_name(id: &str, resource_type: &str) -> String {
    format!("{id}/{resource_type}")
}

/// Starts an export for the caller: checked (a role that may not read patients is refused, and
/// the refusal audited; then the limits of `domain::exports::admit`), its job saved with a fresh
/// file key, the work started in the background. Returns the job id.
pub async fn kick_off(
    state: &Arc<AppState>,
    ctx: Context,
    request: String,
    types: Vec<String>,
    since: Option<String>,
    scope: Scope,
) -> Result<String, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    let event = Event::new(&ctx, "fhir.export.start").resource("fhir_export", &id);
    let caller = ctx.caller.clone();
    let st = state.clone();
    let job_id = id.clone();
    let (slot, job, key) = crate::domain::read(state, event, move |_, _, _| {
        access::check(&caller, Resource::Patient, Action::Read)?;
        let slot = exports::admit(&st, &caller)?;
        let (key, wrapped) = st.fresh_keys()?.new_file_key(&job_id)?;
        let now = st.clock.now();
        let ttl = i64::try_from(st.settings.exports.ttl_hours).unwrap_or(24);
        let job = Job {
            id: job_id.clone(),
            owner: exports::owner(&caller),
            request,
            transaction_time: clock::format(now),
            expires_at: clock::format(now + time::Duration::hours(ttl)),
            types,
            since,
            status: "in-progress".into(),
            patients_done: 0,
            patients: Vec::new(),
            key_kid: wrapped.kid,
            key_blob: wrapped.blob,
            output: Vec::new(),
            error: None,
            scope,
            errors: Vec::new(),
            left_out: 0,
        };
        let dir = exports::create_dir(&st, &job_id)?;
        exports::save(&dir, &job)?;
        Ok((slot, job, key))
    })
    .await?;
    let st = state.clone();
    let mut run_ctx = ctx;
    // An export never breaks the glass: it holds what the caller may read in the ordinary way.
    run_ctx.break_glass = None;
    actix_web::rt::spawn(async move {
        let Some(dir) = exports::job_dir(&st, &job.id) else { return };
        let result = run(&st, run_ctx, job, key).await;
        // The caller's running place is held until the export has ended, whichever way, and is
        // free before the job says so.
        drop(slot);
        let Some(mut latest) = exports::load(&dir) else { return }; // deleted while it ran
        match result {
            Ok(done) => latest = done,
            Err(e) => {
                tracing::error!(job = %latest.id, error = %e, "fhir export failed");
                latest.status = "failed".into();
                latest.error = Some("the export failed; start another".into());
                latest.output.clear();
                // A failed export keeps no data: its files go, its job.json says why.
                for kind in TYPES.iter().chain(&[ERRORS]) {
                    let _absent_is_fine = std::fs::remove_file(dir.join(format!("{kind}.ndjson")));
                }
            }
        }
        if let Err(e) = exports::save(&dir, &latest) {
            tracing::error!(job = %latest.id, error = %e, "fhir export: job file not saved");
        }
    });
    Ok(id)
}

/// One output file being written: its sealed writer, how many resources, which patients.
struct Writing {
    file: SealedWriter<BufWriter<File>>,
    count: u64,
    patients: Vec<u32>,
}

/// What an export carries from one chunk (one pooled connection) to the next.
struct Progress {
    job: Job,
    dir: PathBuf,
    key: FileKey,
    files: BTreeMap<String, Writing>,
    seen: HashSet<String>,
    after: Option<String>,
    erasures: u64,
    done: bool,
}

/// Writes the export chunk by chunk; one audited read whose event counts what it held.
async fn run(state: &Arc<AppState>, ctx: Context, job: Job, key: FileKey) -> Result<Job, ApiError> {
    let mut event = Event::new(&ctx, "fhir.export").resource("fhir_export", &job.id);
    let dir = exports::job_dir(state, &job.id).ok_or_else(|| ApiError::internal("not a job id"))?;
    let erasures = state.exports.erasures();
    let mut progress =
        Progress { job, dir, key, files: BTreeMap::new(), seen: HashSet::new(), after: None, erasures, done: false };
    let result = loop {
        let st = state.clone();
        let caller = ctx.caller.clone();
        let template = event.clone();
        let p = progress;
        let chunk = crate::db::run(&state.pool, move |conn| {
            let mut p = p;
            let r = chunk(conn, &st, &caller, &template, &mut p);
            Ok((p, r))
        })
        .await;
        let (p, disclosed) = match chunk {
            Ok((p, Ok(disclosed))) => (p, disclosed),
            Ok((_, Err(e))) | Err(e) => break Err(e),
        };
        progress = p;
        event.disclosed.extend(disclosed);
        if progress.done {
            break finish(progress, &mut event);
        }
    };
    let (outcome, status) = audit::read_outcome(&result);
    state.committer.record(event, outcome, status).await?;
    result
}

/// One chunk of patients on one connection; returns the patients it disclosed. At the start of
/// every chunk, an erasure since the last one makes the export check its patients so far.
fn chunk(
    conn: &mut crate::db::DbConn,
    st: &AppState,
    caller: &Caller,
    template: &Event,
    p: &mut Progress,
) -> Result<Vec<String>, ApiError> {
    let erasures = st.exports.erasures();
    if erasures != p.erasures {
        p.erasures = erasures;
        for (id, _) in &p.job.patients {
            if PatientRow::find(conn, id)?.is_none_or(|row| row.erased_at.is_some()) {
                return Err(ApiError::Gone("a patient of this export was erased; start another".into()));
            }
        }
    }
    let today = clock::format_day(st.calendar.today());
    let size = i64::try_from(st.settings.exports.chunk_patients).unwrap_or(50);
    let after = p.after.as_deref();
    let rows = match &p.job.scope {
        Scope::System | Scope::Patient => PatientRow::list_for_org(conn, &caller.org, &today, after, size)?,
        Scope::Managed(org) => PatientRow::list_managed_by(conn, org, after, size)?,
        Scope::Team(org) => PatientRow::list_on_team_of(conn, org, &today, after, size)?,
    };
    let Some(last) = rows.last() else {
        p.done = true;
        return Ok(Vec::new());
    };
    p.after = Some(last.id.clone());
    let mut disclosed = Vec::new();
    for row in rows {
        let mut scratch = template.clone();
        let record = match super::record::gather(conn, st, caller, &row.id, p.job.since.as_deref(), &mut scratch) {
            Ok(record) => record,
            // Not readable one by one (no relationship, erased): not in the export either.
            Err(ApiError::NotFound(_) | ApiError::Gone(_) | ApiError::Forbidden(_)) => {
                p.job.left_out += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        // Readable only through an open break-glass grant: an export never rests on one.
        if scratch.break_glass {
            p.job.left_out += 1;
            continue;
        }
        let index = u32::try_from(p.job.patients.len()).map_err(ApiError::internal)?;
        // The revision read before the record: any change to the team or consents since moves it.
        p.job.patients.push((row.id.clone(), row.access_rev));
        disclosed.push(row.id.clone());
        let mut lines: BTreeMap<String, (Vec<u8>, u64)> = BTreeMap::new();
        for r in super::resources(&record) {
            let kind = r["resourceType"].as_str().unwrap_or_default().to_owned();
            if !p.job.types.contains(&kind) {
                continue;
            }
            // The directory is shared between patients: each entry once, in a shared record.
            let shared = matches!(kind.as_str(), "Organization" | "Practitioner");
            if shared && !p.seen.insert(format!("{kind}/{}", r["id"].as_str().unwrap_or_default())) {
                continue;
            }
            let key = if shared { format!("{kind}\0shared") } else { kind };
            let (buf, count) = lines.entry(key).or_default();
            serde_json::to_writer(&mut *buf, &r).map_err(ApiError::internal)?;
            buf.push(b'\n');
            *count += 1;
        }
        for (key, (buf, count)) in lines {
            let (kind, who) = match key.split_once('\0') {
                Some((kind, _)) => (kind.to_owned(), SHARED),
                None => (key, index),
            };
            let writing = match p.files.get_mut(&kind) {
                Some(w) => w,
                None => {
                    let file = exports::create_file(&p.dir.join(format!("{kind}.ndjson")))?;
                    let name = sealed_name(&p.job.id, &kind);
                    let file = SealedWriter::new(&p.key, &name, BufWriter::new(file)).map_err(ApiError::internal)?;
                    p.files.entry(kind.clone()).or_insert(Writing { file, count: 0, patients: Vec::new() })
                }
            };
            let mut record = Vec::with_capacity(4 + buf.len());
            record.extend_from_slice(&who.to_be_bytes());
            record.extend_from_slice(&buf);
            writing.file.record(&record).map_err(ApiError::internal)?;
            writing.count += count;
            if who != SHARED {
                writing.patients.push(who);
            }
        }
        p.job.patients_done += 1;
    }
    // Deleted (by its owner, or by an erasure's purge) while it ran: stop here.
    if !p.dir.join("job.json").exists() {
        return Err(ApiError::Gone("the export job was deleted".into()));
    }
    exports::save(&p.dir, &p.job)?;
    Ok(disclosed)
}

/// Closes the files and completes the job; the event gets the counts.
fn finish(p: Progress, ev: &mut Event) -> Result<Job, ApiError> {
    let Progress { mut job, mut files, dir, key, .. } = p;
    if job.left_out > 0 {
        // By count only: which patients the caller may not read is not theirs to learn.
        job.errors.push(error_file(&dir, &key, &job)?);
    }
    let mut counts = serde_json::Map::new();
    for kind in TYPES {
        if let Some(writing) = files.remove(*kind) {
            let out = writing.file.finish().map_err(ApiError::internal)?;
            out.into_inner().map_err(ApiError::internal)?.sync_all().map_err(ApiError::internal)?;
            counts.insert((*kind).to_owned(), json!(writing.count));
            job.output.push(Output {
                resource_type: (*kind).to_owned(),
                url: format!("/v1/fhir/export-jobs/{}/files/{kind}", job.id),
                count: writing.count,
                patients: writing.patients,
            });
        }
    }
    job.status = "complete".into();
    // By count, never content: how many patients and resources of each type left.
    ev.basis = Some(json!({"kind": "bulk_export", "patients": ev.disclosed.len(), "resources": counts}).to_string());
    Ok(job)
}

/// The type of the error file (the manifest's `error`): OperationOutcomes.
pub const ERRORS: &str = "OperationOutcome";

/// Writes the error file: one OperationOutcome saying how many patients were left out.
fn error_file(dir: &std::path::Path, key: &FileKey, job: &Job) -> Result<Output, ApiError> {
    let issue = super::server::outcome::issue(
        "warning",
        "suppressed",
        &format!("{} patients of this export were left out: you may not read them one by one", job.left_out),
        None,
    );
    let mut line = super::server::outcome::outcome(vec![issue]).to_string().into_bytes();
    line.push(b'\n');
    let file = exports::create_file(&dir.join(format!("{ERRORS}.ndjson")))?;
    let mut file =
        SealedWriter::new(key, &sealed_name(&job.id, ERRORS), BufWriter::new(file)).map_err(ApiError::internal)?;
    let mut record = Vec::with_capacity(4 + line.len());
    record.extend_from_slice(&SHARED.to_be_bytes());
    record.extend_from_slice(&line);
    file.record(&record).map_err(ApiError::internal)?;
    let out = file.finish().map_err(ApiError::internal)?;
    out.into_inner().map_err(ApiError::internal)?.sync_all().map_err(ApiError::internal)?;
    Ok(Output {
        resource_type: ERRORS.to_owned(),
        url: format!("/v1/fhir/export-jobs/{}/files/{ERRORS}", job.id),
        count: 1,
        patients: Vec::new(),
    })
}
