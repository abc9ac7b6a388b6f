//! Shared state: what every handler may reach, built once at start by the wiring and shared by
//! all workers. Opening it creates the data directory, database and keys on a first start.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use crate::auth::Authenticator;
use crate::config::Settings;
use crate::crypto::{CryptoError, DataKey, Keyring, WrappedKey};
use crate::db::directory::OrganizationRow;
use crate::db::patients::PatientRow;
use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::schemas::Registry;

/// What every handler may reach: built once at start, shared by all workers.
pub struct AppState {
    pub settings: Settings,
    /// The region's calendar: `calendar.today()` is the date day-granular rules use.
    pub calendar: crate::calendar::Calendar,
    /// The one clock every time-dependent rule reads (the calendar reads it too).
    pub clock: crate::clock::Clock,
    pub pool: DbPool,
    /// Where the reads that tolerate a replica's lag go (reports, vacancy search): the replica's
    /// pool with `--read-database-url`, else `pool` itself. Nothing that must see the caller's
    /// own write or the latest consent reads here.
    pub lagging: DbPool,
    pub auth: Authenticator,
    /// Swapped whole when `carepath keys rotate` (another process) re-wraps data keys under a
    /// master key this process has not loaded yet.
    keys: RwLock<Arc<Keyring>>,
    keys_modified: RwLock<Option<std::time::SystemTime>>,
    pub schemas: Registry,
    /// Signs audit checkpoints.
    pub audit_signer: crate::audit::Signer,
    /// Commits every write and every read's audit event, many to one commit under load.
    pub committer: crate::committer::Committer,
    /// Patients' care teams and consents as last loaded, by access revision.
    pub facts: crate::access::FactsCache,
    /// Ticks after every committed document change; long-polling readers of the change feed wait on it.
    pub changes: tokio::sync::watch::Sender<u64>,
    /// Per-caller request rates and open long-polls.
    pub limits: crate::limits::Limits,
    /// Fans committed vacancy changes out to the connected streams (`GET /v1/vacancies/stream`).
    pub vacancies: crate::live::Hub,
    /// `true` once the server stops: open streams and long-polls end at once instead of holding
    /// the stop for its whole grace period.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// Bulk exports running in this process (`domain::exports`).
    pub exports: crate::limits::RunningExports,
    /// Console sessions as last read (trusted for a second; `auth::session_cache`).
    pub console_sessions: crate::auth::SessionCache,
    /// Organisations known to exist. The directory never deletes one, so a hit never goes stale
    /// and the per-request check stays off the database.
    known_orgs: RwLock<HashSet<String>>,
}

/// Errors that stop `serve` before it listens, worded for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] db::StoreError),
    #[error("{0}")]
    Auth(#[from] crate::auth::AuthSetupError),
    #[error("{0}")]
    Keys(#[from] crate::crypto::KeyError),
    #[error("{0}")]
    Schemas(#[from] crate::schemas::SchemaError),
    #[error("{0}")]
    WrongKey(String),
    #[error("audit signing key: {0}")]
    AuditKey(String),
    #[error("cannot start the committer: {0}")]
    Committer(std::io::Error),
    #[error("cannot inspect the database: {0}")]
    Inspect(String),
    #[error("{0}")]
    TimeZone(String),
    #[error("cannot listen on {bind}: {source}")]
    Bind { bind: String, source: std::io::Error },
}

impl AppState {
    /// Creates the data directory (0700) if needed, opens and migrates the database.
    pub fn open(settings: Settings) -> Result<Arc<Self>, StartError> {
        crate::calendar::Calendar::new(&settings.time_zone, crate::clock::Clock::system())
            .map_err(StartError::TimeZone)?;
        let schemas = Registry::load(settings.schema_dir.as_deref())?;
        create_data_dir(&settings)?;
        let pool = db::open(&settings)?;
        let has_data = {
            let mut conn = pool.get().map_err(|e| StartError::Inspect(e.to_string()))?;
            PatientRow::any(&mut conn).map_err(|e| StartError::Inspect(e.to_string()))?
        };
        let keys = Keyring::load_or_create(&settings, has_data)?;
        check_keys_open_data(&pool, &keys)?;
        let state = Self::assemble(settings, pool, keys, schemas)?;
        // Not in `assemble`: a lazy state's database may be down, and ended sessions are its to read.
        restore_endings(&state.pool, &state.auth)?;
        Ok(state)
    }

    /// The rest of the state, the same whichever way the pool and keys were come by.
    fn assemble(settings: Settings, pool: DbPool, keys: Keyring, schemas: Registry) -> Result<Arc<Self>, StartError> {
        let clock = settings.fixed_now.map_or_else(crate::clock::Clock::system, crate::clock::Clock::stopped);
        let calendar =
            crate::calendar::Calendar::new(&settings.time_zone, clock.clone()).map_err(StartError::TimeZone)?;
        let auth = Authenticator::load(&settings, clock.clone())?;
        let audit_signer = crate::audit::Signer::load_or_create(&settings.data_dir).map_err(StartError::AuditKey)?;
        let committer = crate::committer::Committer::start(db::side_pool(&settings, 1), settings.committer_queue_max)
            .map_err(StartError::Committer)?;
        let lagging = db::replica_pool(&settings)?.unwrap_or_else(|| pool.clone());
        Ok(Arc::new(Self {
            limits: crate::limits::Limits::new(&settings),
            settings,
            calendar,
            clock,
            pool,
            lagging,
            auth,
            keys: RwLock::new(Arc::new(keys)),
            keys_modified: RwLock::default(),
            schemas,
            audit_signer,
            committer,
            facts: crate::access::FactsCache::default(),
            changes: tokio::sync::watch::Sender::new(0),
            vacancies: crate::live::Hub::default(),
            stopping: tokio::sync::watch::Sender::new(false),
            exports: crate::limits::RunningExports::default(),
            known_orgs: RwLock::default(),
            console_sessions: crate::auth::SessionCache::default(),
        }))
    }

    /// The keyring in use.
    pub fn keys(&self) -> Arc<Keyring> {
        match self.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The keyring as its file now stands: reloaded first if the file changed since it was read.
    /// Wrapping a new data key goes through here, so no new key is wrapped under a master key
    /// that a rotation has already moved away from.
    pub fn fresh_keys(&self) -> Result<Arc<Keyring>, ApiError> {
        let path = Keyring::master_key_path(&self.settings);
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let known = self.keys_modified.read().map(|m| *m).unwrap_or(None);
        if modified != known {
            self.reload_keys()?;
            if let Ok(mut m) = self.keys_modified.write() {
                *m = modified;
            }
        }
        Ok(self.keys())
    }

    /// Reloads the keyring from its file (after a rotation by another process).
    pub fn reload_keys(&self) -> Result<(), ApiError> {
        let fresh = Keyring::load_or_create(&self.settings, true).map_err(ApiError::internal)?;
        tracing::info!(current = fresh.current_kid(), "reloaded the master keyring");
        match self.keys.write() {
            Ok(mut keys) => *keys = Arc::new(fresh),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(fresh),
        }
        Ok(())
    }

    /// The patient's data key; 410 once it was shredded.
    pub fn data_key(&self, patient: &PatientRow) -> Result<DataKey, ApiError> {
        let blob = patient.data_key.clone().ok_or_else(|| ApiError::Gone("this patient's record was erased".into()))?;
        let wrapped = WrappedKey { kid: patient.data_key_kid.clone(), blob };
        self.unwrap_key(&patient.id, &wrapped)
    }

    /// Unwraps a data key wrapped for `subject` (a patient id, or the subject of a key of its
    /// own such as a consultation-desk question's).
    pub fn unwrap_key(&self, subject: &str, wrapped: &WrappedKey) -> Result<DataKey, ApiError> {
        match self.keys().unwrap_data_key(subject, wrapped) {
            Err(CryptoError::UnknownKid(_)) => {
                // A rotation elsewhere re-wrapped this key under a newer master key: load it.
                self.reload_keys()?;
                self.keys().unwrap_data_key(subject, wrapped).map_err(ApiError::internal)
            }
            other => other.map_err(ApiError::internal),
        }
    }

    /// Wakes the change feed's long-polls: call after a document change has committed.
    pub fn notify_change(&self) {
        self.changes.send_modify(|tick| *tick = tick.wrapping_add(1));
    }

    /// Ends open streams and long-polls: the server is stopping.
    pub fn stop_streams(&self) {
        self.stopping.send_replace(true);
    }

    /// Resolves once the server is stopping (at once if it already is).
    pub async fn stopped(&self) {
        let mut stopping = self.stopping.subscribe();
        // An error means the sender is gone, which is the state being dropped: stopping too.
        let _stopped = stopping.wait_for(|stop| *stop).await;
    }

    /// Whether the caller's organisation exists (the operator's need not). Cached positively.
    pub async fn organization_known(&self, org: &str) -> Result<bool, ApiError> {
        if self.known_orgs.read().map_err(ApiError::internal)?.contains(org) {
            return Ok(true);
        }
        let id = org.to_owned();
        let exists = db::run(&self.pool, move |conn| Ok(OrganizationRow::exists(conn, &id)?)).await?;
        if exists {
            self.known_orgs.write().map_err(ApiError::internal)?.insert(org.to_owned());
        }
        Ok(exists)
    }
}

impl AppState {
    /// State whose pool connects on first use: for a health check against a database that may be
    /// down (and for the test that shows the 503).
    pub fn lazy(settings: Settings) -> Result<Arc<Self>, StartError> {
        let pool = db::lazy_pool(&settings);
        // The database may be down, so whether it holds data is unknown: assume it does, so an
        // existing key is loaded and a missing one is never invented.
        let keys = Keyring::load_or_create(&settings, true)?;
        let schemas = Registry::load(settings.schema_dir.as_deref())?;
        Self::assemble(settings, pool, keys, schemas)
    }
}

/// Refuses to start with a master key that does not open the stored data keys (a wrong key
/// file would otherwise surface as errors on every read).
fn check_keys_open_data(pool: &DbPool, keys: &Keyring) -> Result<(), StartError> {
    let mut conn = pool.get().map_err(|e| StartError::Inspect(e.to_string()))?;
    let Some(patient) = PatientRow::any_with_key(&mut conn).map_err(|e| StartError::Inspect(e.to_string()))? else {
        return Ok(());
    };
    let wrapped =
        crate::crypto::WrappedKey { kid: patient.data_key_kid.clone(), blob: patient.data_key.unwrap_or_default() };
    keys.unwrap_data_key(&patient.id, &wrapped).map(drop).map_err(|e| {
        StartError::WrongKey(format!(
            "the master key file does not open the data keys in this database ({e}); \
             set CAREPATH_MASTER_KEY_FILE to the keyring this database was sealed with"
        ))
    })
}

/// Reads back the sessions ended before this start (sign-outs, admins' endings), so that their
/// tokens stay refused.
fn restore_endings(pool: &DbPool, auth: &Authenticator) -> Result<(), StartError> {
    let mut conn = pool.get().map_err(|e| StartError::Inspect(e.to_string()))?;
    let now = auth.now_secs().cast_signed();
    let expired = crate::db::sessions::EndedTokenRow::drop_expired(&mut conn, now);
    expired.and_then(|()| read_endings(&mut conn, auth, now)).map_err(|e| StartError::Inspect(e.to_string()))
}

/// Takes the endings the database holds into memory (adding to those known).
fn read_endings(conn: &mut db::DbConn, auth: &Authenticator, now: i64) -> diesel::QueryResult<()> {
    use crate::db::sessions::{EndedTokenRow, EndedUserRow};
    let tokens = EndedTokenRow::live(conn, now)?;
    let users = EndedUserRow::all(conn)?;
    let as_secs = |t: i64| u64::try_from(t).unwrap_or(0);
    auth.restore_endings(
        tokens.into_iter().map(|t| (t.digest, as_secs(t.expires_at))).collect(),
        users.into_iter().map(|u| (u.organization_id, u.sub, as_secs(u.ended_at))).collect(),
    );
    Ok(())
}

impl AppState {
    /// Takes in the sessions ended since the last look, by this instance or another on the same
    /// database: the wiring calls it every second, so an ending served elsewhere is refused here
    /// within about a second.
    pub async fn refresh_endings(self: &Arc<Self>) -> Result<(), ApiError> {
        let st = self.clone();
        let now = self.clock.now().unix_timestamp();
        db::run(&self.pool, move |conn| Ok(read_endings(conn, &st.auth, now)?)).await
    }
}

fn create_data_dir(settings: &Settings) -> Result<(), StartError> {
    let path = &settings.data_dir;
    crate::crypto::keyfile::create_private_dir(path)
        .map_err(|source| StartError::DataDir { path: path.display().to_string(), source })
}
