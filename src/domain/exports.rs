//! The store of bulk-export jobs: a directory per job under the data directory,
//! `fhir-exports/<job id>/` (0700), holding `job.json` (owner, request, status, the patients the
//! job holds, the wrapped key of its files, when it expires) and one sealed `<Type>.ndjson` per
//! resource type (0600, `crypto::SealedWriter`). What the files hold is the FHIR face's business
//! (`fhir::export`); this module owns where they live, for how long, and how many there may be.
//!
//! Why here and not in the FHIR face: erasure (`patients::erase`) must purge every job that
//! holds the patient, and the domain never imports a face.
//!
//! Limits, each a setting (`config::ExportSettings`): one running export per caller and a global
//! cap on running exports (429 with `Retry-After`), a quota of jobs kept per organisation (429),
//! a floor of free disk under the data directory (507), and an expiry after which a job and its
//! files are deleted: lazily when it is next reached, and by [`sweeper`] every few minutes.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::crypto::WrappedKey;
use crate::crypto::keyfile::{create_private_dir, write_atomic};
use crate::error::ApiError;
use crate::state::AppState;

/// One output file of a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    /// The resource type the file holds.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Where its owner downloads it (a path on this server).
    pub url: String,
    /// Resources in the file.
    pub count: u64,
    /// The patients (indexes into [`Job::patients`]) whose records the file holds.
    #[serde(default)]
    pub patients: Vec<u32>,
}

/// Whose patients an export walks (Bulk Data's levels). Every level holds only the patients the
/// caller may read one by one; the level only narrows which are asked about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// `$export`: the patients the caller's organisation manages or serves.
    #[default]
    System,
    /// `Patient/$export`: the same patients (the patient compartment of each).
    Patient,
    /// `Group/managed-{org}/$export`: the patients the organisation manages.
    Managed(String),
    /// `Group/team-{org}/$export`: the patients on whose care team the organisation serves today.
    Team(String),
}

/// A job as `job.json` keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// The job id (a UUID), also its directory's name.
    pub id: String,
    /// Organisation, subject and role of the caller who started it: only they may see it.
    pub owner: (String, String, String),
    /// The kick-off request's URL, for the manifest.
    pub request: String,
    /// When it started.
    pub transaction_time: String,
    /// After this instant the job and its files are deleted.
    pub expires_at: String,
    /// The resource types asked for.
    pub types: Vec<String>,
    /// `_since`, when asked for.
    pub since: Option<String>,
    /// `in-progress`, `complete` or `failed`.
    pub status: String,
    /// Patients written so far.
    pub patients_done: u64,
    /// Each patient the files hold, with the `access_rev` it was read at; a record of the files
    /// names its patient by index into this list.
    pub patients: Vec<(String, i64)>,
    /// The key that seals the files, wrapped by the master keyring for this job's id.
    pub key_kid: String,
    /// The wrapped key itself (see `crypto`, "Sealed file").
    pub key_blob: String,
    /// The files, once complete.
    pub output: Vec<Output>,
    /// Whose patients it walks.
    #[serde(default)]
    pub scope: Scope,
    /// The file of OperationOutcomes (what was left out, and why), once complete.
    #[serde(default)]
    pub errors: Vec<Output>,
    /// Patients of the scope left out because the caller may not read them.
    #[serde(default)]
    pub left_out: u64,
    /// Why it failed, in words for its owner.
    pub error: Option<String>,
}

impl Job {
    /// The wrapped key of the job's files.
    pub fn wrapped_key(&self) -> WrappedKey {
        WrappedKey { kid: self.key_kid.clone(), blob: self.key_blob.clone() }
    }

    fn expired(&self, now: &str) -> bool {
        self.expires_at.as_str() <= now
    }
}

/// The caller as a job's owner is kept.
pub fn owner(caller: &Caller) -> (String, String, String) {
    (caller.org.clone(), caller.sub.clone(), caller.role.as_str().to_owned())
}

fn jobs_dir(state: &AppState) -> PathBuf {
    state.settings.data_dir.join("fhir-exports")
}

/// The directory of job `id`; `None` for an id that is not one of ours (no path tricks).
pub fn job_dir(state: &AppState, id: &str) -> Option<PathBuf> {
    uuid::Uuid::parse_str(id).ok().map(|u| jobs_dir(state).join(u.to_string()))
}

/// Creates the directory of a new job (0700, as is `fhir-exports/`).
pub fn create_dir(state: &AppState, id: &str) -> Result<PathBuf, ApiError> {
    let dir = job_dir(state, id).ok_or_else(|| ApiError::internal("not a job id"))?;
    let jobs = jobs_dir(state);
    create_private_dir(&jobs).map_err(ApiError::internal)?;
    // Also for a directory an older version made 0755: export files are no one else's.
    fs::set_permissions(&jobs, fs::Permissions::from_mode(0o700)).map_err(ApiError::internal)?;
    fs::DirBuilder::new().mode(0o700).create(&dir).map_err(ApiError::internal)?;
    Ok(dir)
}

/// Creates a file of a job, owner-only (0600) whatever the umask.
pub fn create_file(path: &Path) -> Result<fs::File, ApiError> {
    let file =
        fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(ApiError::internal)?;
    file.set_permissions(fs::Permissions::from_mode(0o600)).map_err(ApiError::internal)?;
    Ok(file)
}

/// Saves `job.json` atomically (0600).
pub fn save(dir: &Path, job: &Job) -> Result<(), ApiError> {
    let bytes = serde_json::to_vec(job).map_err(ApiError::internal)?;
    write_atomic(&dir.join("job.json"), &bytes, true).map(drop).map_err(ApiError::internal)
}

/// The job in `dir`, if there is one.
pub fn load(dir: &Path) -> Option<Job> {
    serde_json::from_slice(&fs::read(dir.join("job.json")).ok()?).ok()
}

/// Deletes a job and its files (a running one stops at its next chunk).
pub fn delete(dir: &Path) -> Result<(), ApiError> {
    // Moved aside first: a running export writes by the job's path, so from here on it cannot add
    // a file to what is being removed (`remove_dir_all` beside it failed "directory not empty",
    // a 500 to a DELETE right after the kick-off).
    let doomed = dir.with_extension("deleting");
    match fs::rename(dir, &doomed) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(ApiError::internal(e)),
        Ok(()) => {}
    }
    match fs::remove_dir_all(&doomed) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ApiError::internal(e)),
        _ => Ok(()),
    }
}

/// The job `id` if `caller` started it and it has not expired; another caller's job, or an
/// expired one (deleted on the spot), is as absent as a missing one.
pub fn owned(state: &AppState, caller: &Caller, id: &str) -> Result<(PathBuf, Job), ApiError> {
    let missing = || ApiError::NotFound("no such export job".into());
    let dir = job_dir(state, id).ok_or_else(missing)?;
    let job = load(&dir).ok_or_else(missing)?;
    if job.expired(&state.clock.stamp()) {
        delete(&dir)?;
        return Err(missing());
    }
    if job.owner != owner(caller) {
        return Err(missing());
    }
    Ok((dir, job))
}

/// Every job on disk, with its directory.
fn all(state: &AppState) -> Vec<(PathBuf, Option<Job>)> {
    let Ok(entries) = fs::read_dir(jobs_dir(state)) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .map(|p| {
            let job = load(&p);
            (p, job)
        })
        .collect()
}

/// Deletes every expired job; returns how many went.
pub fn sweep(state: &AppState) -> usize {
    let now = state.clock.stamp();
    let mut gone = 0;
    for (dir, job) in all(state) {
        // A directory without a readable job.json is a kick-off that failed half-way (or a job
        // of an older version, in clear): gone once it is a minute old, so that a kick-off
        // between making its directory and saving its job is left alone.
        let stale = match &job {
            Some(j) => j.expired(&now),
            None => fs::metadata(&dir)
                .and_then(|m| m.modified())
                .is_ok_and(|at| at.elapsed().is_ok_and(|age| age.as_secs() >= 60)),
        };
        if stale && delete(&dir).is_ok() {
            gone += 1;
        }
    }
    gone
}

/// Deletes every job that holds `patient_id` (after its erasure). A running job whose last
/// chunk is not yet listed in `job.json` notices the erasure count and checks for itself.
pub fn purge_patient(state: &AppState, patient_id: &str) -> Result<usize, ApiError> {
    state.exports.note_erasure();
    let mut gone = 0;
    for (dir, job) in all(state) {
        if job.is_some_and(|j| j.patients.iter().any(|(p, _)| p == patient_id)) {
            delete(&dir)?;
            gone += 1;
        }
    }
    Ok(gone)
}

/// Whether `caller` may start an export now: the organisation's quota of kept jobs and the free
/// disk; then the running place (held until the export ends).
pub fn admit(state: &Arc<AppState>, caller: &Caller) -> Result<crate::limits::ExportSlot, ApiError> {
    let limits = &state.settings.exports;
    sweep(state);
    let kept = all(state).into_iter().filter(|(_, j)| j.as_ref().is_some_and(|j| j.owner.0 == caller.org)).count();
    if kept as u64 >= limits.jobs_per_org {
        return Err(ApiError::TooManyRequests {
            detail: format!(
                "your organisation keeps {kept} export jobs, its quota is {}; delete one (or wait for it to expire)",
                limits.jobs_per_org
            ),
            retry_after_secs: 3600,
        });
    }
    let free = free_mib(&state.settings.data_dir).map_err(ApiError::internal)?;
    if free < limits.min_free_mib {
        return Err(ApiError::InsufficientStorage(
            "the server is low on disk space for export files; retry later or ask the operator".into(),
        ));
    }
    state.exports.start(owner(caller), limits.max_running)
}

/// Free space for unprivileged users under `dir`, in MiB.
fn free_mib(dir: &Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(dir)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize) / (1024 * 1024))
}

/// Deletes expired jobs every five minutes (besides the lazy deletion when one is reached).
pub async fn sweeper(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        tick.tick().await;
        let st = state.clone();
        let swept = tokio::task::spawn_blocking(move || sweep(&st)).await.unwrap_or(0);
        if swept > 0 {
            tracing::info!(jobs = swept, "deleted expired export jobs");
        }
    }
}
