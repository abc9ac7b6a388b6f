//! The flags of the commands that open the store or its key files, and the backend a URL selects.

use std::path::PathBuf;

use super::Settings;

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
