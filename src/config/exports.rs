//! Limits of FHIR bulk exports (`--export-*`).

/// Limits of FHIR bulk exports (docs/fhir.md, "Bulk export limits").
#[derive(Debug, Clone, clap::Args)]
pub struct ExportSettings {
    /// Hours an export job and its files are kept after it was started; then they are deleted.
    #[arg(long = "export-ttl-hours", env = "CAREPATH_EXPORT_TTL_HOURS", default_value_t = 24,
        value_parser = clap::value_parser!(u64).range(1..=24 * 30))]
    pub ttl_hours: u64,

    /// Exports running at the same time in this instance, over all callers (one per caller).
    #[arg(long = "export-max-running", env = "CAREPATH_EXPORT_MAX_RUNNING", default_value_t = 2,
        value_parser = clap::value_parser!(u64).range(1..=64))]
    pub max_running: u64,

    /// Export jobs one organisation may keep (running or complete, until deleted or expired).
    #[arg(long = "export-jobs-per-org", env = "CAREPATH_EXPORT_JOBS_PER_ORG", default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub jobs_per_org: u64,

    /// Free space (MiB) the data directory's file system must have for an export to start.
    #[arg(long = "export-min-free-mib", env = "CAREPATH_EXPORT_MIN_FREE_MIB", default_value_t = 2048)]
    pub min_free_mib: u64,

    /// Patients gathered per pooled connection; the connection goes back between chunks.
    #[arg(long = "export-chunk-patients", env = "CAREPATH_EXPORT_CHUNK_PATIENTS", default_value_t = 50,
        value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub chunk_patients: u64,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self { ttl_hours: 24, max_running: 2, jobs_per_org: 10, min_free_mib: 2048, chunk_patients: 50 }
    }
}
