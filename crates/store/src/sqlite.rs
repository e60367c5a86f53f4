use crate::map_err;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;
use tessera_core::StoreError;

/// The embedded default: one file, WAL mode, created (with its folder) on first start.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    /// Readers: WAL lets them run beside the writer.
    pub(crate) pool: SqlitePool,
    /// The one writer. SQLite admits one writer at a time; queueing writes on one connection
    /// in the async pool is fairer and faster than many connections sleeping in SQLite's busy
    /// handler (sqlite.org/wal.html, "Concurrency").
    pub(crate) writer: SqlitePool,
    /// Group commit of token writes (`crate::batch`).
    pub(crate) batch: crate::batch::Batcher,
}

impl SqliteStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("bad sqlite url: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL is durable across a process kill; only a power loss may lose
            // the last transactions (sqlite.org/pragma.html#pragma_synchronous).
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        if let Some(parent) = std::path::Path::new(opts.get_filename()).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await
            .map_err(map_err)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Other(format!("migration: {e}")))?;
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts)
            .await
            .map_err(map_err)?;
        let batch = store_impl::spawn_batcher(writer.clone());
        Ok(Self {
            pool,
            writer,
            batch,
        })
    }
}

/// Bootstrap needs no lock of its own here: SQLite serves one process, whose writes go through
/// one connection.
pub(crate) async fn bootstrap_lock(
    _tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
) -> Result<(), sqlx::Error> {
    Ok(())
}

impl_store!(SqliteStore, sqlx::Sqlite);
