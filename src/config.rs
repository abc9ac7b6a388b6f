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
}

/// Which backend a URL selects; decided here, once, from the scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
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

    pub fn db_timeout(&self) -> Duration {
        Duration::from_secs(self.db_timeout_secs)
    }
}
