//! Storage: one diesel `MultiConnection` over SQLite and PostgreSQL, an r2d2 pool, embedded
//! migrations per backend. Everything that differs between the two backends lives in this module.

pub mod accounts;
pub mod audit;
pub mod changes;
pub mod consent_versions;
pub mod consents;
pub mod console_sessions;
pub mod contact_hours;
pub mod contact_sheets;
pub mod directory;
pub mod documents;
pub mod erasure;
pub mod patients;
pub mod plans;
pub mod reports;
pub mod schema;
pub mod service_clients;
pub mod sessions;
pub mod subscriptions;
pub mod vacancies;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::{Backend, Settings};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend the URL selected.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

pub type DbPool = Pool<Manager>;
pub type PooledConn = PooledConnection<Manager>;

/// Opens connections of one backend, chosen from the URL scheme (diesel's own `establish` on a
/// `MultiConnection` tries each backend in turn and reports one vague error).
#[derive(Debug)]
pub struct Manager {
    backend: Backend,
    url: String,
    /// PostgreSQL `statement_timeout` in milliseconds (0: none).
    statement_timeout_ms: u64,
}

impl Manager {
    fn new(settings: &Settings) -> Self {
        let (backend, url) = settings.database();
        Self { backend, url, statement_timeout_ms: settings.statement_timeout_ms() }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        match self.backend {
            Backend::Sqlite => {
                owner_only(&self.url, true).map_err(diesel::r2d2::Error::QueryError)?;
                let mut conn = SqliteConnection::establish(&self.url).map_err(diesel::r2d2::Error::ConnectionError)?;
                // The busy timeout turns writer contention into waiting, not errors, and comes
                // first: setting WAL waits on another connection's closing checkpoint. WAL lets
                // readers run beside the writer; FULL makes an acknowledged commit survive power
                // loss; `secure_delete` zeroes what a DELETE or UPDATE frees, so erased values do
                // not linger in free space of the file.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA secure_delete = ON; PRAGMA foreign_keys = ON;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
                // SQLite gives -wal and -shm the database file's mode; set them too in case an
                // older install (or another tool) made them wider.
                owner_only(&self.url, false).map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url).map_err(diesel::r2d2::Error::ConnectionError)?;
                // A runaway statement is cancelled by the server rather than holding a connection
                // (and its locks) for good.
                let setup = format!("SET TIME ZONE 'UTC'; SET statement_timeout = {}", self.statement_timeout_ms);
                conn.batch_execute(&setup).map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConn::Pg(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1").map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        match conn {
            DbConn::Sqlite(c) => AnsiTransactionManager::is_broken_transaction_manager(c),
            DbConn::Pg(c) => AnsiTransactionManager::is_broken_transaction_manager(c),
        }
    }
}

/// Makes the SQLite database and its -wal and -shm files readable and writable by the owner
/// only (0600); with `create`, creates a missing database file that way before SQLite opens it.
fn owner_only(path: &str, create: bool) -> diesel::QueryResult<()> {
    if path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }
    let io = |e: std::io::Error| diesel::result::Error::QueryBuilderError(format!("{path}: {e}").into());
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if create && !std::path::Path::new(path).exists() {
            std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path).map_err(io)?;
        }
        for file in [path.to_owned(), format!("{path}-wal"), format!("{path}-shm")] {
            match std::fs::metadata(&file) {
                Ok(meta) if meta.permissions().mode() & 0o777 != 0o600 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (create, io);
    Ok(())
}

/// After an erasure on SQLite: copies the WAL into the database and truncates it, so the erased
/// values' old page images do not stay in the -wal file. Best effort (a long reader can hold it
/// back; the next checkpoint then does it). Nothing to do on PostgreSQL.
pub fn truncate_wal(conn: &mut DbConn) {
    if let DbConn::Sqlite(c) = conn
        && let Err(e) = c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")
    {
        tracing::warn!(error = %e, "WAL checkpoint after erasure failed");
    }
}

/// Errors of opening the store, worded for the operator who must fix them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migrate(String),
}

/// Opens the pool and brings the schema up to date.
pub fn open(settings: &Settings) -> Result<DbPool, StoreError> {
    // Connecting once outside the pool gives the operator the real reason a connection fails.
    let mut first = Manager::new(settings).connect().map_err(|e| StoreError::Connect(e.to_string()))?;
    migrate(&mut first)?;
    drop(first);
    Pool::builder()
        .max_size(settings.db_pool_size)
        .min_idle(Some(1))
        .connection_timeout(settings.db_timeout())
        // A SQLite connection is a file handle that does not go stale; a PostgreSQL one can (a
        // restarted server), and diesel cannot tell without a round trip, so only it is checked.
        .test_on_check_out(settings.database().0 == Backend::Postgres)
        .build(Manager::new(settings))
        .map_err(|e| StoreError::Connect(e.to_string()))
}

/// One migrated connection and no pool, for a command that runs once and exits: a pool would
/// refill its idle connection on a background thread that the exit can interrupt.
pub fn connect(settings: &Settings) -> Result<DbConn, StoreError> {
    let mut conn = Manager::new(settings).connect().map_err(|e| StoreError::Connect(e.to_string()))?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// The pool of the read replica (`--read-database-url`), if one is given: connected on first use,
/// never migrated (a standby is read-only; it follows the primary's schema by replication).
/// Only PostgreSQL streams to replicas, so another URL is refused.
pub fn replica_pool(settings: &Settings) -> Result<Option<DbPool>, StoreError> {
    let Some(url) = settings.replica.read_database_url.clone() else { return Ok(None) };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StoreError::Connect("--read-database-url must be a postgres:// URL (a streaming replica)".into()));
    }
    let manager = Manager { backend: Backend::Postgres, url, statement_timeout_ms: settings.statement_timeout_ms() };
    Ok(Some(
        Pool::builder()
            .max_size(settings.db_pool_size)
            .min_idle(Some(0))
            .connection_timeout(settings.db_timeout())
            .test_on_check_out(true)
            .build_unchecked(manager),
    ))
}

/// A pool that connects on first use, without migrating.
pub fn lazy_pool(settings: &Settings) -> DbPool {
    Pool::builder()
        .max_size(settings.db_pool_size)
        .min_idle(Some(0))
        .connection_timeout(settings.db_timeout())
        .build_unchecked(Manager::new(settings))
}

/// A small pool of its own for a background writer (the committer), connecting on use.
pub fn side_pool(settings: &Settings, size: u32) -> DbPool {
    Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(settings.db_timeout())
        .build_unchecked(Manager::new(settings))
}

fn migrate(conn: &mut DbConn) -> Result<(), StoreError> {
    let result = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| StoreError::Migrate(e.to_string()))
}

/// Runs `f` in a write transaction. On SQLite the transaction starts `IMMEDIATE`, so it takes
/// the write lock up front and waits for it (a deferred transaction that reads first and writes
/// later fails with SQLITE_BUSY instead of waiting when another writer got there first).
pub fn write_tx<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Pg(_) => DbConn::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => match DbConn::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                // A failed COMMIT leaves the transaction open on some backends; close it.
                let _rolled_back = DbConn::rollback_transaction(conn);
                Err(e.into())
            }
        },
        Err(e) => {
            DbConn::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Runs `f` in one consistent snapshot of the database, reading only: a REPEATABLE READ, READ
/// ONLY transaction on PostgreSQL, a read transaction on SQLite (WAL readers see the database as
/// of their first read). For reads that must agree with themselves while writers commit: the
/// audit chain's verification read the head, then the events, and saw events the head it had
/// read did not cover yet ("events were cut off").
pub fn snapshot<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Pg(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?
        }
        DbConn::Sqlite(_) => DbConn::begin_transaction(conn)?,
    }
    let result = f(conn);
    // Nothing was written: ending the transaction either way only releases the snapshot.
    match DbConn::rollback_transaction(conn) {
        Ok(()) => result,
        Err(e) => result.and(Err(e.into())),
    }
}

/// Takes, at the start of a commit batch, the rows every batch may lock, in one order: the change
/// and vacancy sequence counters (by name), then the audit head. On PostgreSQL several instances
/// commit into one database; a batch that took the head for a read's event and then a counter for
/// a write, beside one that took them the other way round, deadlocked (issue 29). Taken first and
/// in this order, batches of all instances queue on the first counter instead. SQLite needs none:
/// `BEGIN IMMEDIATE` already makes one writer of the file.
pub fn lock_batch(conn: &mut DbConn) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    if let DbConn::Pg(c) = conn {
        diesel::sql_query(
            "SELECT name FROM counters WHERE name IN ('change_seq', 'vacancy_seq') ORDER BY name FOR UPDATE",
        )
        .execute(c)?;
        diesel::sql_query("SELECT id FROM audit_head WHERE id = 1 FOR UPDATE").execute(c)?;
    }
    Ok(())
}

/// Whether the connection's transaction state can no longer be trusted (a savepoint that could
/// not be rolled back). An open transaction in good order is not broken.
pub fn is_broken(conn: &mut DbConn) -> bool {
    let status = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
        DbConn::Pg(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
    };
    status.transaction_depth().is_err()
}

/// Readiness: a round trip to the database.
pub fn ping(conn: &mut DbConn) -> diesel::QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

/// Runs blocking database work off the async workers, with a pooled connection.
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, crate::error::ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, crate::error::ApiError> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let conn = pool.get();
        crate::metrics::pool_wait(started.elapsed(), conn.is_ok());
        let mut conn = conn?;
        f(&mut conn)
    })
    .await
    .map_err(crate::error::ApiError::internal)?
}

/// [`run`] for work that only reads. On SQLite it runs in one read transaction: its statements
/// share one snapshot, and the connection's page cache is checked against the write-ahead log
/// once. Each statement on its own would begin a read transaction of its own, and after any
/// commit by the writer (which commits every few milliseconds under load) SQLite empties the
/// cache at that begin, so every statement read its pages again (issue 32's profile: most of
/// `PatientRow::find` was `btreeBeginTrans` and page reads). On PostgreSQL each statement stays
/// its own: a BEGIN and a COMMIT would be two more round trips.
pub async fn run_read<T, F>(pool: &DbPool, f: F) -> Result<T, crate::error::ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, crate::error::ApiError> + Send + 'static,
{
    run(pool, move |conn| match conn {
        DbConn::Sqlite(_) => conn.transaction(f),
        DbConn::Pg(_) => f(conn),
    })
    .await
}

/// Writes a consistent copy of a SQLite database to `path` with `VACUUM INTO`: one read
/// transaction, so writers carry on (WAL) and the copy holds exactly the commits made before it
/// began. A file copy of a live database could tear a page mid-write; this cannot.
/// PostgreSQL has its own tools (`pg_dump`), so it is refused here.
pub fn snapshot_into(conn: &mut DbConn, path: &std::path::Path) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    match conn {
        DbConn::Sqlite(c) => diesel::sql_query("VACUUM INTO ?")
            .bind::<diesel::sql_types::Text, _>(path.to_string_lossy().into_owned())
            .execute(c)
            .map(drop),
        DbConn::Pg(_) => Err(diesel::result::Error::QueryBuilderError(
            "a PostgreSQL database is backed up with pg_dump (see the README)".into(),
        )),
    }
}

/// Opens a SQLite database file as it is, without migrating it (a backup being checked).
pub fn open_sqlite_file(path: &std::path::Path) -> Result<DbConn, StoreError> {
    let manager =
        Manager { backend: Backend::Sqlite, url: path.to_string_lossy().into_owned(), statement_timeout_ms: 0 };
    manager.connect().map_err(|e| StoreError::Connect(e.to_string()))
}

#[cfg(test)]
mod tests {
    use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection, sql_types::Text};

    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }

    /// `.cargo/config.toml` builds the bundled SQLite with the planner stability guarantee: a
    /// build without it parses every `first()` again at each step (see the comment there).
    #[test]
    fn the_bundled_sqlite_plans_a_statement_once_whatever_is_bound() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options").load(&mut conn).unwrap();
        let options: Vec<&str> = options.iter().map(|o| o.compile_options.as_str()).collect();
        assert!(options.contains(&"ENABLE_QPSG"), "{options:?}");
    }
}
