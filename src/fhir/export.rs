//! Bulk export in the FHIR Bulk Data style. A job is a directory under the data directory,
//! `fhir-exports/<job id>/`: `job.json` (owner, request, status, progress, manifest) and one
//! `<Type>.ndjson` per resource type. Files, not a table: a job is the caller's scratch space,
//! deleted with the job; nothing else reads it, and it keeps the schema of both backends alone.
//!
//! The export holds what its caller could read one patient at a time: it walks the patients
//! the caller's organisation manages or serves (as `GET /v1/patients` lists them) and gathers
//! each through [`super::record::gather`], the same read as `GET /v1/patients/{id}/fhir`. Each
//! record is written out and dropped before the next is read, so memory holds one patient's
//! record at a time. The export is one audit event (`fhir.export`) naming the job and counting
//! what it held per type, with one event per patient it disclosed.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{self, Action, Resource};
use crate::audit::Event;
use crate::auth::Caller;
use crate::clock;
use crate::context::Context;
use crate::db::patients::PatientRow;
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
    "AllergyIntolerance",
];

/// Patients fetched per page while walking the organisation's list.
const PAGE: i64 = 200;

/// One output file of the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub url: String,
    pub count: u64,
}

/// A job as `job.json` keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    /// Organisation, subject and role of the caller who started it: only they may see it.
    pub owner: (String, String, String),
    pub request: String,
    pub transaction_time: String,
    pub types: Vec<String>,
    pub since: Option<String>,
    /// `in-progress`, `complete` or `failed`.
    pub status: String,
    pub patients_done: u64,
    pub output: Vec<Output>,
    pub error: Option<String>,
}

fn owner(caller: &Caller) -> (String, String, String) {
    (caller.org.clone(), caller.sub.clone(), caller.role.as_str().to_owned())
}

fn jobs_dir(state: &AppState) -> PathBuf {
    state.settings.data_dir.join("fhir-exports")
}

/// The directory of job `id`; `None` for an id that is not one of ours (no path tricks).
pub fn job_dir(state: &AppState, id: &str) -> Option<PathBuf> {
    uuid::Uuid::parse_str(id).ok().map(|u| jobs_dir(state).join(u.to_string()))
}

fn save(dir: &Path, job: &Job) -> Result<(), ApiError> {
    let tmp = dir.join("job.json.tmp");
    fs::write(&tmp, serde_json::to_vec(job).map_err(ApiError::internal)?).map_err(ApiError::internal)?;
    fs::rename(&tmp, dir.join("job.json")).map_err(ApiError::internal)
}

fn load(dir: &Path) -> Option<Job> {
    serde_json::from_slice(&fs::read(dir.join("job.json")).ok()?).ok()
}

/// The job `id` if `caller` started it; another caller's job is as absent as a missing one.
pub fn owned(state: &AppState, caller: &Caller, id: &str) -> Result<(PathBuf, Job), ApiError> {
    let missing = || ApiError::NotFound("no such export job".into());
    let dir = job_dir(state, id).ok_or_else(missing)?;
    let job = load(&dir).ok_or_else(missing)?;
    if job.owner != owner(caller) {
        return Err(missing());
    }
    Ok((dir, job))
}

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

/// Starts an export for the caller: checked (a role that may not read patients is refused, and
/// the refusal audited), its job saved, the work started in the background. Returns the job id.
pub async fn kick_off(
    state: &Arc<AppState>,
    ctx: Context,
    request: String,
    types: Vec<String>,
    since: Option<String>,
) -> Result<String, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    let event = Event::new(&ctx, "fhir.export.start").resource("fhir_export", &id);
    let caller = ctx.caller.clone();
    let job = Job {
        id: id.clone(),
        owner: owner(&caller),
        request,
        transaction_time: clock::now(),
        types,
        since,
        status: "in-progress".into(),
        patients_done: 0,
        output: Vec::new(),
        error: None,
    };
    let dir = jobs_dir(state).join(&id);
    let saved = job.clone();
    crate::domain::read(state, event, move |_, _, _| {
        access::check(&caller, Resource::Patient, Action::Read)?;
        fs::create_dir_all(&dir).map_err(ApiError::internal)?;
        save(&dir, &saved)
    })
    .await?;
    let st = state.clone();
    let mut run_ctx = ctx;
    // An export never breaks the glass: it holds what the caller may read in the ordinary way.
    run_ctx.break_glass = None;
    actix_web::rt::spawn(async move {
        let dir = jobs_dir(&st).join(&job.id);
        let result = run(&st, run_ctx, job.clone()).await;
        let Some(mut latest) = load(&dir) else { return }; // deleted while it ran
        match result {
            Ok(output) => {
                latest.status = "complete".into();
                latest.output = output;
            }
            Err(e) => {
                tracing::error!(job = %latest.id, error = %e, "fhir export failed");
                latest.status = "failed".into();
                latest.error = Some("the export failed; start another".into());
            }
        }
        if let Err(e) = save(&dir, &latest) {
            tracing::error!(job = %latest.id, error = %e, "fhir export: job file not saved");
        }
    });
    Ok(id)
}

/// Writes the export, patient by patient; one audited read whose event counts what it held.
async fn run(state: &Arc<AppState>, ctx: Context, job: Job) -> Result<Vec<Output>, ApiError> {
    let event = Event::new(&ctx, "fhir.export").resource("fhir_export", &job.id);
    let caller = ctx.caller.clone();
    crate::domain::read(state, event, move |conn, st, ev| {
        let dir = jobs_dir(st).join(&job.id);
        let mut files: BTreeMap<String, (BufWriter<File>, u64)> = BTreeMap::new();
        let mut seen: HashSet<String> = HashSet::new();
        let today = clock::format_day(st.calendar.today());
        let mut after: Option<String> = None;
        let mut progress = job.clone();
        let template = ev.clone();
        loop {
            let rows = PatientRow::list_for_org(conn, &caller.org, &today, after.as_deref(), PAGE)?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            for row in rows {
                let mut scratch = template.clone();
                let record = match super::record::gather(conn, st, &caller, &row.id, job.since.as_deref(), &mut scratch)
                {
                    Ok(record) => record,
                    // Not readable one by one (no relationship, erased): not in the export either.
                    Err(ApiError::NotFound(_) | ApiError::Gone(_) | ApiError::Forbidden(_)) => continue,
                    Err(e) => return Err(e),
                };
                ev.disclosed.push(row.id.clone());
                for r in super::resources(&record) {
                    let kind = r["resourceType"].as_str().unwrap_or_default().to_owned();
                    if !job.types.contains(&kind) {
                        continue;
                    }
                    // The directory is shared between patients: each entry once.
                    if matches!(kind.as_str(), "Organization" | "Practitioner")
                        && !seen.insert(format!("{kind}/{}", r["id"].as_str().unwrap_or_default()))
                    {
                        continue;
                    }
                    let (file, count) = match files.get_mut(&kind) {
                        Some(f) => f,
                        None => {
                            let f = File::create(dir.join(format!("{kind}.ndjson"))).map_err(ApiError::internal)?;
                            files.entry(kind.clone()).or_insert((BufWriter::new(f), 0))
                        }
                    };
                    serde_json::to_writer(&mut *file, &r).map_err(ApiError::internal)?;
                    file.write_all(b"\n").map_err(ApiError::internal)?;
                    *count += 1;
                }
                progress.patients_done += 1;
                if progress.patients_done.is_multiple_of(50) {
                    if !dir.exists() {
                        return Err(ApiError::Gone("the export job was deleted".into()));
                    }
                    save(&dir, &progress)?;
                }
            }
        }
        let mut output = Vec::new();
        let mut counts = serde_json::Map::new();
        for kind in TYPES {
            if let Some((mut file, count)) = files.remove(*kind) {
                file.flush().map_err(ApiError::internal)?;
                counts.insert((*kind).to_owned(), json!(count));
                output.push(Output {
                    resource_type: (*kind).to_owned(),
                    url: format!("/v1/fhir/export-jobs/{}/files/{kind}", job.id),
                    count,
                });
            }
        }
        // By count, never content: how many patients and resources of each type left.
        ev.basis =
            Some(json!({"kind": "bulk_export", "patients": ev.disclosed.len(), "resources": counts}).to_string());
        Ok(output)
    })
    .await
}

/// Deletes a job and its files (a running one stops at its next progress check).
pub fn delete(dir: &Path) -> Result<(), ApiError> {
    fs::remove_dir_all(dir).map_err(ApiError::internal)
}
