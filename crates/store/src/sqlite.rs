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
        // No ping before each acquire (sqlx's default): an embedded database has no link to
        // lose, and the ping is a round trip to the connection's thread (two context switches)
        // before every query; it cost the refresh path ~10 switches per request.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
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
            .test_before_acquire(false)
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

/// Token rows arrive as one JSON array of arrays (`shared::token_rows_json`): one statement
/// text whatever the number of rows, so it is prepared once and stays in sqlx's statement
/// cache (a multi-row `VALUES` list was a new statement for every batch size: re-parsed, with
/// thousands of parameters, again and again).
pub(crate) const INSERT_TOKENS_SQL: &str = "INSERT INTO tokens (hash, kind, family_id, client_id, user_id, tenant_id, org_id, \
     app_key_id, scope, device_id, source_type, session_id, issued_at, expires_at) \
     SELECT unhex(value ->> 0), value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, \
     value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, value ->> 12, value ->> 13 FROM json_each($1)";

/// Spends a group of refresh tokens (hex digests in a JSON array) at `$1`; returns those spent.
pub(crate) const SPEND_TOKENS_SQL: &str = "UPDATE tokens SET used_at = $1 WHERE kind = 'refresh' AND used_at IS NULL \
     AND revoked_at IS NULL AND expires_at > $1 \
     AND NOT EXISTS (SELECT 1 FROM revoked_families rf WHERE rf.family_id = tokens.family_id) AND hash IN (SELECT unhex(value) FROM json_each($2)) RETURNING hash";

/// `Store::spend_refresh` for a group of tokens of one client (hex digests in a JSON array at
/// `$2`, the client at `$3`): spends those that are live and whose user may sign in, and
/// returns them as they were before (`RETURNING` gives the new `used_at`: the caller clears it).
pub(crate) const SPEND_REFRESH_SQL: &str = "UPDATE tokens SET used_at = $1 WHERE kind = 'refresh' AND used_at IS NULL \
     AND revoked_at IS NULL AND expires_at > $1 \
     AND NOT EXISTS (SELECT 1 FROM revoked_families rf WHERE rf.family_id = tokens.family_id) AND client_id = $3 \
     AND hash IN (SELECT unhex(value) FROM json_each($2)) \
     AND (user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = tokens.user_id AND u.enabled \
          AND (u.locked_until IS NULL OR u.locked_until <= $1))) \
     RETURNING hash, kind, family_id, client_id, user_id, tenant_id, org_id, app_key_id, scope, device_id, \
     source_type, session_id, issued_at, expires_at, used_at, revoked_at";

impl_store!(SqliteStore, sqlx::Sqlite);
