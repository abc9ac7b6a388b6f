//! Typed settings: flags > environment > defaults. Nothing secret is ever printed.

mod demo;
mod exports;
mod residents;
mod sessions;
mod store;
mod webhooks;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use demo::{DemoArgs, DemoSettings};
pub use exports::ExportSettings;
pub use residents::ResidentsSettings;
pub use sessions::SessionSettings;
pub use store::{Backend, DataDirArgs, KeyFileArgs, StoreArgs};
pub use webhooks::WebhookSettings;

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
    pub residents: ResidentsSettings,

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
            residents: ResidentsSettings::default(),
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
