//! Typed settings: flags > environment > defaults. Nothing secret is ever printed.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Settings of `carepath serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Data directory: the SQLite database and the keys live here. Created (mode 0700) on first start.
    #[arg(long, env = "CAREPATH_DATA_DIR", default_value = "./carepath-data")]
    pub data_dir: PathBuf,

    /// Address and port to listen on.
    #[arg(long, env = "CAREPATH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// The origin clients reach this server at (`https://carepath.example.org`), for the
    /// absolute URLs of FHIR answers (`fullUrl`, links, `Content-Location`). Default: the scheme
    /// and host of each request.
    #[arg(long, env = "CAREPATH_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Database: a `postgres://` URL selects PostgreSQL (add `?sslmode=require` for TLS);
    /// anything else is a SQLite file path. Default: `carepath.db` in the data directory.
    #[arg(long, env = "CAREPATH_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, env = "CAREPATH_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,

    /// Database connections kept in the pool at most.
    #[arg(long, env = "CAREPATH_DB_POOL_SIZE", default_value_t = 8)]
    pub db_pool_size: u32,

    /// Seconds a request waits for a database connection before it gets 503.
    #[arg(long, env = "CAREPATH_DB_TIMEOUT", default_value_t = 5)]
    pub db_timeout_secs: u64,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CAREPATH_WORKERS")]
    pub workers: Option<usize>,

    /// JSON file of trusted external token issuers (issuer, audience, PEM key or JWKS file).
    #[arg(long, env = "CAREPATH_TRUST_FILE")]
    pub trust_file: Option<PathBuf>,

    /// Trust the built-in `carepath-local` issuer (tokens from `carepath token`). Turn off in
    /// production, where an identity provider issues tokens.
    #[arg(long, env = "CAREPATH_LOCAL_ISSUER", default_value_t = true, action = clap::ArgAction::Set)]
    pub local_issuer: bool,

    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    #[arg(long, env = "CAREPATH_JWT_LEEWAY", default_value_t = 30)]
    pub jwt_leeway_secs: u64,

    /// The organisation id of the network operator: its `admin` may act before any organisation
    /// exists (to create the first ones) and across organisations.
    #[arg(long, env = "CAREPATH_OPERATOR_ORG", default_value = "carepath-operator")]
    pub operator_org: String,

    /// Master key file (production). Default: `master.key` in the data directory, created on
    /// first start.
    #[arg(long, env = "CAREPATH_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,

    /// Extra schema directory (`<type>/<major.minor.patch>.json`) adding regional document types.
    #[arg(long, env = "CAREPATH_SCHEMA_DIR")]
    pub schema_dir: Option<PathBuf>,

    /// Seconds an `Idempotency-Key` is remembered.
    #[arg(long, env = "CAREPATH_IDEMPOTENCY_TTL", default_value_t = 24 * 3600)]
    pub idempotency_ttl_secs: u64,

    /// Seconds a break-glass opening lasts.
    #[arg(long, env = "CAREPATH_BREAK_GLASS_SECS", default_value_t = 4 * 3600)]
    pub break_glass_secs: u64,

    /// Sign an audit checkpoint after this many events...
    #[arg(long, env = "CAREPATH_AUDIT_CHECKPOINT_EVERY", default_value_t = 1000)]
    pub audit_checkpoint_every: u64,

    /// ...or after this many seconds, whichever comes first.
    #[arg(long, env = "CAREPATH_AUDIT_CHECKPOINT_SECS", default_value_t = 60)]
    pub audit_checkpoint_secs: u64,

    /// Blind-index key file (production). Default: `index.key` in the data directory.
    #[arg(long, env = "CAREPATH_INDEX_KEY_FILE")]
    pub index_key_file: Option<PathBuf>,

    /// Operations one `POST /v1/batch` may carry at most.
    #[arg(long, env = "CAREPATH_BATCH_MAX", default_value_t = 100)]
    pub batch_max_operations: usize,

    /// The region's time zone (IANA name): day-granular rules (care-team `since`/`until`, consent
    /// periods, "not in the future") use its date; instants stay UTC.
    #[arg(long, env = "CAREPATH_TIME_ZONE", default_value = "Asia/Tokyo")]
    pub time_zone: String,

    /// A separate address for `GET /metrics` (then it is not served on `--bind`); keep it private.
    #[arg(long, env = "CAREPATH_METRICS_BIND")]
    pub metrics_bind: Option<String>,

    /// Requests per minute one caller (token subject) may make; 0 turns the limit off. Bursts up
    /// to a minute's worth are allowed; beyond, 429 with `Retry-After`.
    #[arg(long, env = "CAREPATH_RATE_LIMIT", default_value_t = 1200)]
    pub rate_limit_per_minute: u32,

    /// Requests per minute all callers of one organisation may make together; 0 turns it off.
    #[arg(long, env = "CAREPATH_ORG_RATE_LIMIT", default_value_t = 12000)]
    pub org_rate_limit_per_minute: u32,

    /// Change-feed long-polls (`wait` > 0) one caller may hold open at once; more get 429.
    #[arg(long, env = "CAREPATH_MAX_LONG_POLLS", default_value_t = 4)]
    pub max_long_polls_per_caller: usize,

    /// Seconds a request may take before it is answered 503 (longer than the longest long-poll).
    #[arg(long, env = "CAREPATH_REQUEST_TIMEOUT", default_value_t = 90)]
    pub request_timeout_secs: u64,

    /// Seconds one database statement may run on PostgreSQL (`statement_timeout`); 0 turns it
    /// off. SQLite has no such bound: there a statement waits at most 10 s for the write lock.
    #[arg(long, env = "CAREPATH_DB_STATEMENT_TIMEOUT", default_value_t = 30)]
    pub db_statement_timeout_secs: u64,
    /// Seconds after its last confirmation that a short-stay vacancy posting is marked stale.
    #[arg(long, env = "CAREPATH_VACANCY_STALE_SECS", default_value_t = 24 * 3600)]
    pub vacancy_stale_secs: u64,

    /// Seconds between heartbeats (comment lines) on an idle vacancy stream.
    #[arg(long, env = "CAREPATH_VACANCY_HEARTBEAT_SECS", default_value_t = 15,
        value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub vacancy_heartbeat_secs: u64,

    // Bounds against one caller (or one organisation) taking a shared resource whole
    // (issue 26): vacancy streams, the organisation's request rate, the committer's queue.
    /// Vacancy streams (`GET /v1/vacancies/stream`) one caller may hold open at once; more get 429.
    #[arg(long, env = "CAREPATH_MAX_STREAMS_PER_CALLER", default_value_t = 4)]
    pub max_streams_per_caller: usize,

    /// Vacancy streams all callers of one organisation may hold open together.
    #[arg(long, env = "CAREPATH_MAX_STREAMS_PER_ORG", default_value_t = 50)]
    pub max_streams_per_org: usize,

    /// Vacancy streams this instance holds open in all (each is a socket and a task).
    #[arg(long, env = "CAREPATH_MAX_STREAMS", default_value_t = 1000)]
    pub max_streams: usize,

    /// The share (percent, 1–100) of its organisation's request rate one caller may use, so one
    /// runaway client cannot spend its colleagues' allowance; 100 turns the share off.
    #[arg(long, env = "CAREPATH_CALLER_SHARE_PERCENT", default_value_t = 50,
        value_parser = clap::value_parser!(u32).range(1..=100))]
    pub caller_share_percent: u32,

    /// Jobs that may wait for the committer; beyond, writes (and reads' audit events) get 503
    /// with `Retry-After` instead of queueing without bound; 0 turns the bound off.
    #[arg(long, env = "CAREPATH_COMMITTER_QUEUE_MAX", default_value_t = 10_000)]
    pub committer_queue_max: usize,

    /// A fixed "now" for the calendar (tests only; no flag).
    #[arg(skip)]
    pub fixed_now: Option<time::OffsetDateTime>,

    #[command(flatten)]
    pub webhooks: WebhookSettings,

    #[command(flatten)]
    pub demo: DemoSettings,

    #[command(flatten)]
    pub sessions: SessionSettings,

    #[command(flatten)]
    pub exports: ExportSettings,

    #[command(flatten)]
    pub replica: ReplicaSettings,
}

/// Reads served from a PostgreSQL streaming replica (issue 29, README "Several instances").
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReplicaSettings {
    /// A PostgreSQL streaming replica (`postgres://`) for the reads that tolerate its lag: the
    /// reports and the vacancy search. Reads that must see the caller's own write or the latest
    /// consent (every read of a patient's record) stay on `--database-url`. Default: none.
    #[arg(long = "read-database-url", env = "CAREPATH_READ_DATABASE_URL")]
    pub read_database_url: Option<String>,
}

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

/// Delivery of webhooks (docs/webhooks.md).
#[derive(Debug, Clone, clap::Args)]
pub struct WebhookSettings {
    /// Seconds a subscription keeps retrying a failing delivery before it is marked failing.
    #[arg(long = "webhook-retry-secs", env = "CAREPATH_WEBHOOK_RETRY_SECS", default_value_t = 24 * 3600)]
    pub retry_secs: u64,

    /// First retry delay in milliseconds; it doubles per failed attempt (with jitter)...
    #[arg(long = "webhook-backoff-ms", env = "CAREPATH_WEBHOOK_BACKOFF_MS", default_value_t = 1000)]
    pub backoff_ms: u64,

    /// ...up to this many seconds.
    #[arg(long = "webhook-backoff-max-secs", env = "CAREPATH_WEBHOOK_BACKOFF_MAX_SECS", default_value_t = 3600)]
    pub backoff_max_secs: u64,

    /// Seconds one delivery (connect, send, answer) may take.
    #[arg(long = "webhook-timeout-secs", env = "CAREPATH_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub timeout_secs: u64,

    /// Seconds an instance's claim on a subscription lasts unless renewed; must exceed the
    /// time-out, or another instance could take over during a slow delivery.
    #[arg(long = "webhook-lease-secs", env = "CAREPATH_WEBHOOK_LEASE_SECS", default_value_t = 60)]
    pub lease_secs: u64,

    /// Milliseconds between looks for due subscriptions when no local commit wakes the worker
    /// (commits by other instances, retries coming due).
    #[arg(long = "webhook-poll-ms", env = "CAREPATH_WEBHOOK_POLL_MS", default_value_t = 1000)]
    pub poll_ms: u64,

    /// Subscriptions delivered at the same time by this instance.
    #[arg(long = "webhook-concurrency", env = "CAREPATH_WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub concurrency: usize,

    /// Deliveries one organisation may have in flight at once on this instance, so that its slow
    /// receivers cannot take every slot (`--webhook-concurrency`) from the others.
    #[arg(long = "webhook-org-concurrency", env = "CAREPATH_WEBHOOK_ORG_CONCURRENCY", default_value_t = 4)]
    pub org_concurrency: usize,

    /// Subscriptions one organisation may hold.
    #[arg(long = "webhook-max-subscriptions", env = "CAREPATH_WEBHOOK_MAX_SUBSCRIPTIONS", default_value_t = 50)]
    pub max_per_organization: i64,

    /// Allow endpoints on loopback addresses (and plain `http://` to them): local bridges and
    /// tests only.
    #[arg(long = "webhook-allow-loopback", env = "CAREPATH_WEBHOOK_ALLOW_LOOPBACK", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_loopback: bool,

    /// Allow endpoints on private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).
    /// Link-local and cloud-metadata addresses stay refused.
    #[arg(long = "webhook-allow-private", env = "CAREPATH_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_private: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            retry_secs: 24 * 3600,
            backoff_ms: 1000,
            backoff_max_secs: 3600,
            timeout_secs: 10,
            lease_secs: 60,
            poll_ms: 1000,
            concurrency: 16,
            org_concurrency: 4,
            max_per_organization: 50,
            allow_loopback: false,
            allow_private: false,
        }
    }
}

/// The data directory, alone: for commands that only read a key kept there.
#[derive(Debug, Clone, clap::Args)]
pub struct DataDirArgs {
    /// Data directory: the SQLite database and the keys live here.
    #[arg(long, env = "CAREPATH_DATA_DIR", default_value = "./carepath-data")]
    pub data_dir: PathBuf,
}

/// Where the store is: the flags of every command that opens the database. The same flags, with
/// the same environment variables and defaults, as in [`Settings`] (`serve`).
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    #[command(flatten)]
    pub dir: DataDirArgs,

    /// Database: a `postgres://` URL selects PostgreSQL (add `?sslmode=require` for TLS);
    /// anything else is a SQLite file path. Default: `carepath.db` in the data directory.
    #[arg(long, env = "CAREPATH_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Database connections kept in the pool at most.
    #[arg(long, env = "CAREPATH_DB_POOL_SIZE", default_value_t = 8)]
    pub db_pool_size: u32,

    /// Seconds to wait for a database connection.
    #[arg(long, env = "CAREPATH_DB_TIMEOUT", default_value_t = 5)]
    pub db_timeout_secs: u64,
}

/// The key files, for commands that open the master keyring.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyFileArgs {
    /// Master key file (production). Default: `master.key` in the data directory.
    #[arg(long, env = "CAREPATH_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,

    /// Blind-index key file (production). Default: `index.key` in the data directory.
    #[arg(long, env = "CAREPATH_INDEX_KEY_FILE")]
    pub index_key_file: Option<PathBuf>,
}

impl StoreArgs {
    /// The [`Settings`] of a command that opens the store (and, given them, the key files);
    /// everything else as [`Settings::for_data_dir`] has it.
    pub fn into_settings(self, keys: Option<KeyFileArgs>) -> Settings {
        let mut settings = Settings::for_data_dir(&self.dir.data_dir);
        settings.database_url = self.database_url;
        settings.db_pool_size = self.db_pool_size;
        settings.db_timeout_secs = self.db_timeout_secs;
        if let Some(keys) = keys {
            settings.master_key_file = keys.master_key_file;
            settings.index_key_file = keys.index_key_file;
        }
        settings
    }
}

/// Which backend a URL selects; decided here, once, from the scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The demo region (`carepath demo`, `carepath serve --demo`).
#[derive(Debug, Clone, clap::Args)]
pub struct DemoSettings {
    /// With `serve`: fill a fresh data directory with the demo region first (as `carepath demo`),
    /// then serve it. A directory that already holds the demo region is served as it is.
    #[arg(long = "demo", env = "CAREPATH_DEMO")]
    pub enabled: bool,

    /// The demo region's seed: the same seed makes the same region (names, records, choices).
    #[arg(long = "demo-seed", env = "CAREPATH_DEMO_SEED", default_value_t = 1)]
    pub seed: u64,

    /// Patients in the demo region.
    #[arg(long = "demo-patients", env = "CAREPATH_DEMO_PATIENTS", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub patients: u32,

    /// Allow `serve --demo` on an address other than loopback. The demo's sign-in page hands a
    /// token to whoever opens it, so by default it is served to this machine only.
    #[arg(long = "demo-public", env = "CAREPATH_DEMO_PUBLIC")]
    pub public: bool,
}

impl Default for DemoSettings {
    fn default() -> Self {
        Self { enabled: false, seed: 1, patients: 200, public: false }
    }
}

// --- Sessions and the console cookie (issue 26, items 12 and 21a) ---------------------------

/// Console sessions: when they end, and how their cookie is sent.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionSettings {
    /// Seconds without a request after which a console session ends (its token is then refused
    /// in the console and as an API bearer token); 0: only sign-out, an admin or `exp` end it.
    #[arg(long = "console-idle-secs", env = "CAREPATH_CONSOLE_IDLE_SECS", default_value_t = 1800)]
    pub console_idle_secs: u64,

    /// Mark the console's cookies `Secure` (sent over HTTPS only). Always, by default, whatever
    /// a client or proxy claims; `false` only for plain-HTTP development on loopback.
    #[arg(long = "console-secure-cookie", env = "CAREPATH_CONSOLE_SECURE_COOKIE", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub console_secure_cookie: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self { console_idle_secs: 1800, console_secure_cookie: true }
    }
}

impl Settings {
    /// Defaults for tests and embedding: everything as `serve` would have it, in `data_dir`.
    pub fn for_data_dir(data_dir: impl AsRef<Path>) -> Self {
        Self {
            data_dir: data_dir.as_ref().to_path_buf(),
            bind: "127.0.0.1:0".into(),
            database_url: None,
            body_limit: 1024 * 1024,
            db_pool_size: 4,
            db_timeout_secs: 5,
            workers: Some(1),
            trust_file: None,
            local_issuer: true,
            jwt_leeway_secs: 30,
            operator_org: "carepath-operator".into(),
            master_key_file: None,
            index_key_file: None,
            schema_dir: None,
            idempotency_ttl_secs: 24 * 3600,
            break_glass_secs: 4 * 3600,
            batch_max_operations: 100,
            audit_checkpoint_every: 1000,
            audit_checkpoint_secs: 60,
            time_zone: "Asia/Tokyo".into(),
            metrics_bind: None,
            rate_limit_per_minute: 1200,
            org_rate_limit_per_minute: 12000,
            max_long_polls_per_caller: 4,
            request_timeout_secs: 90,
            db_statement_timeout_secs: 30,
            vacancy_stale_secs: 24 * 3600,
            vacancy_heartbeat_secs: 15,
            max_streams_per_caller: 4,
            max_streams_per_org: 50,
            max_streams: 1000,
            caller_share_percent: 50,
            committer_queue_max: 10_000,
            fixed_now: None,
            webhooks: WebhookSettings::default(),
            demo: DemoSettings::default(),
            sessions: SessionSettings::default(),
            exports: ExportSettings::default(),
            replica: ReplicaSettings::default(),
            public_url: None,
        }
    }

    /// The database URL in effect, and the backend it selects.
    pub fn database(&self) -> (Backend, String) {
        match self.database_url.as_deref() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                (Backend::Postgres, url.to_owned())
            }
            Some(url) => {
                let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
                (Backend::Sqlite, path.to_owned())
            }
            None => (Backend::Sqlite, self.data_dir.join("carepath.db").to_string_lossy().into_owned()),
        }
    }

    /// `db_statement_timeout_secs` in milliseconds, as PostgreSQL takes it.
    pub fn statement_timeout_ms(&self) -> u64 {
        self.db_statement_timeout_secs.saturating_mul(1000)
    }

    pub fn db_timeout(&self) -> Duration {
        Duration::from_secs(self.db_timeout_secs)
    }
}
