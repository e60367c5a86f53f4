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
            // A statement that may fail halfway inside a transaction keeps a statement journal
            // (to undo just that statement). By default it spills to a new temporary file past
            // 64 KiB: an open, writes and an unlink per refresh batch, ~5 % of the core (issue
            // 7, perf). Token inserts no longer need one (`insert_tokens_sql`); any other
            // statement's stays in memory.
            .pragma("temp_store", "memory")
            .foreign_keys(true);
        let file = opts.get_filename().to_path_buf();
        if let Some(parent) = file.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
        }
        // `sqlite::memory:` or `?mode=memory`: no file to protect.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            owner_only(&file, true)?;
        }
        // No ping before each acquire (sqlx's default): an embedded database has no link to
        // lose, and the ping is a round trip to the connection's thread (two context switches)
        // before every query; it cost the refresh path ~10 switches per request.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            // Room for every row a batch's `UPDATE … RETURNING` gives back (at most one per
            // write). With sqlx's default of 50 the worker thread blocked on the 51st row until
            // this task took some, and on one core each such hand-off is two context switches:
            // ~9 % of the core on the refresh path (issue 7, perf).
            .connect_with(opts.clone().row_buffer_size(2 * crate::batch::MAX_BATCH))
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
        // WAL mode made the `-wal` and `-shm` files (SQLite gives them the database file's
        // mode); ones left by an older version may still be readable by others.
        if !in_memory {
            for suffix in ["-wal", "-shm"] {
                let mut f = file.clone().into_os_string();
                f.push(suffix);
                owner_only(std::path::Path::new(&f), false)?;
            }
        }
        let batch = store_impl::spawn_batcher(writer.clone());
        Ok(Self {
            pool,
            writer,
            batch,
        })
    }
}

/// Makes the database file (`create`: created empty if missing, before SQLite opens it) or a
/// file beside it, if present, readable and writable by the owner only (0600, as the key
/// files): it holds password hashes, and SQLite creates its `-wal` and `-shm` files with the
/// database file's mode. Nothing to do off Unix.
fn owner_only(path: &std::path::Path, create: bool) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let fail = |e: std::io::Error| {
            StoreError::Unavailable(format!("cannot make {} private: {e}", path.display()))
        };
        if create {
            // `create` without `truncate`: an existing database is left as it is.
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)
                .map_err(fail)?;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(fail)?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(e)),
        }
    }
    #[cfg(not(unix))]
    let _ = (path, create);
    Ok(())
}

/// Bootstrap needs no lock of its own here: SQLite serves one process, whose writes go through
/// one connection.
pub(crate) async fn bootstrap_lock(
    _tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
) -> Result<(), sqlx::Error> {
    Ok(())
}

/// Most token rows one `INSERT` takes (`insert_token_rows`); a larger batch goes in several,
/// inside a transaction.
pub(crate) const INSERT_CHUNK: usize = 128;

/// Statement sizes: a chunk of rows takes the smallest that holds it, padded with all-NULL rows
/// that the `WHERE` drops. So a handful of statement texts serve every batch size and stay
/// prepared in sqlx's cache, and the values are bound as they are. (Rows as one JSON parameter,
/// unpacked with `json_each` and `->>`, were ~11 % of the core on the refresh path: SQLite
/// hands each element back as text and parses it again per column; the SQLite that sqlx
/// bundles has no `jsonb_each`.) Powers of two: padding at most doubles a statement.
const INSERT_SIZES: [usize; 8] = [1, 2, 4, 8, 16, 32, 64, INSERT_CHUNK];

/// Columns bound per token row.
const TOKEN_COLUMNS: usize = 15;

/// The statement texts of [`INSERT_SIZES`], built once: the largest is ~5 KiB, and building it
/// per batch was a visible share of the writer's allocations. `[false]`: a plain INSERT, for a
/// statement that is its own transaction; `[true]`: `INSERT OR IGNORE`, for one inside a
/// transaction (`insert_tokens_sql`).
static INSERT_SQL: std::sync::LazyLock<[[String; INSERT_SIZES.len()]; 2]> =
    std::sync::LazyLock::new(|| {
        [false, true].map(|in_tx| INSERT_SIZES.map(|n| insert_tokens_sql(n, in_tx)))
    });

/// Inside a transaction (`in_transaction`), `OR IGNORE`: a statement that may fail halfway
/// makes SQLite keep a statement journal there (a copy of every page it touches, to undo just
/// that statement), as in the refresh batches; ~4 % of the writer's instructions. The caller
/// checks the count instead, and a short count fails the transaction, which is rolled back.
/// A statement that is its own transaction needs no journal, and stays a plain INSERT: if one
/// row of a batch fails, none of it is stored, and each write is retried alone.
fn insert_tokens_sql(size: usize, in_transaction: bool) -> String {
    let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    format!(
        "INSERT {}INTO tokens (hash, kind, family_id, client_id, user_id, tenant_id, org_id, app_key_id, \
         scope, device_id, source_type, session_id, issued_at, expires_at, auth_time) \
         SELECT * FROM (VALUES {}) WHERE column1 IS NOT NULL",
        if in_transaction { "OR IGNORE " } else { "" },
        vec![row; size].join(", ")
    )
}

/// Inserts at most [`INSERT_CHUNK`] token rows in one statement, which runs inside a
/// transaction or not (`INSERT_SQL`).
pub(crate) async fn insert_token_rows<'c, E>(
    ex: E,
    rows: &[(
        &tessera_core::model::NewGrant,
        &tessera_core::model::NewToken,
    )],
    in_transaction: bool,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    use sqlx::Arguments;
    let Some(at) = INSERT_SIZES.iter().position(|&n| n >= rows.len()) else {
        return Err(sqlx::Error::Protocol(format!(
            "{} token rows for one INSERT (at most {INSERT_CHUNK})",
            rows.len()
        )));
    };
    let size = INSERT_SIZES[at];
    // Sized up front: the values of 128 rows are ~60 KiB, and growing the vector by doubling
    // copied them several times.
    let mut args = sqlx::sqlite::SqliteArguments::default();
    args.reserve(size * TOKEN_COLUMNS, 0);
    for (g, t) in rows {
        let s = &g.subject;
        args.add(&t.hash.0[..]).map_err(sqlx::Error::Encode)?;
        args.add(t.kind.as_str()).map_err(sqlx::Error::Encode)?;
        args.add(g.family.0).map_err(sqlx::Error::Encode)?;
        args.add(s.client_id.0.as_str())
            .map_err(sqlx::Error::Encode)?;
        args.add(s.user_id.map(|x| x.0))
            .map_err(sqlx::Error::Encode)?;
        args.add(s.tenant_id.map(|x| x.0))
            .map_err(sqlx::Error::Encode)?;
        args.add(s.org_id.map(|x| x.0))
            .map_err(sqlx::Error::Encode)?;
        args.add(s.app_key_id.map(|x| x.0))
            .map_err(sqlx::Error::Encode)?;
        args.add(s.scope.as_str()).map_err(sqlx::Error::Encode)?;
        args.add(s.device_id.as_deref())
            .map_err(sqlx::Error::Encode)?;
        args.add(s.source_type.as_deref())
            .map_err(sqlx::Error::Encode)?;
        args.add(s.session_id.as_deref())
            .map_err(sqlx::Error::Encode)?;
        args.add(g.issued_at).map_err(sqlx::Error::Encode)?;
        args.add(t.expires_at).map_err(sqlx::Error::Encode)?;
        args.add(g.auth_time).map_err(sqlx::Error::Encode)?;
    }
    for _ in rows.len() * TOKEN_COLUMNS..size * TOKEN_COLUMNS {
        args.add(None::<i64>).map_err(sqlx::Error::Encode)?;
    }
    let done = sqlx::query_with(&INSERT_SQL[usize::from(in_transaction)][at], args)
        .execute(ex)
        .await?;
    // `OR IGNORE` (`insert_tokens_sql`) skips a row whose hash is taken instead of failing;
    // a short count is that case, and an error as a plain INSERT's would have been.
    if done.rows_affected() != rows.len() as u64 {
        return Err(sqlx::Error::Protocol(format!(
            "{} of {} token rows stored: a token hash is already taken",
            done.rows_affected(),
            rows.len()
        )));
    }
    Ok(())
}

/// Spends a group of refresh tokens (hex digests in a JSON array) at `$1`; returns those spent.
pub(crate) const SPEND_TOKENS_SQL: &str = "UPDATE tokens SET used_at = $1 WHERE kind = 'refresh' AND used_at IS NULL \
     AND revoked_at IS NULL AND expires_at > $1 \
     AND NOT EXISTS (SELECT 1 FROM revoked_families rf WHERE rf.family_id = tokens.family_id) AND hash IN (SELECT unhex(value) FROM json_each($2)) RETURNING hash";

/// `Store::spend_refresh` for a group of tokens of one client (`$1` the time, `$2` the
/// client, `$3` the earliest family sign-in allowed, the digests from `$4` on, as many as the
/// statement's size, padded with NULLs that match nothing): spends those that are live, whose
/// family is younger than `[tokens] refresh_family_max` and whose user may still sign in
/// there (the admission checks of a sign-in: account enabled, active, not locked or expired,
/// tenant enabled, still a member of it; issue 15), and returns them as
/// they were before (`RETURNING` gives the new `used_at`: the caller clears it). The digests
/// are bound as they are, like the rows of `insert_token_rows`: as one JSON array of hex text
/// they cost a hex encoding, a JSON text, `json_each` and `unhex` per token.
/// Each row comes back as its key and one JSON array of the other columns (`PackedTokenRow`):
/// sqlx copies, frees and looks up by name every column of every row it hands over, and 15
/// columns that way were ~15 % of the instructions of a refresh (callgrind, issue 7).
fn spend_refresh_sql(size: usize) -> String {
    let list: Vec<String> = (0..size).map(|i| format!("${}", i + 4)).collect();
    format!(
        "UPDATE tokens SET used_at = $1 WHERE kind = 'refresh' AND used_at IS NULL \
         AND revoked_at IS NULL AND expires_at > $1 \
         AND NOT EXISTS (SELECT 1 FROM revoked_families rf WHERE rf.family_id = tokens.family_id) AND client_id = $2 \
         AND hash IN ({}) AND COALESCE(auth_time, issued_at) >= $3 \
         AND (user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = tokens.user_id AND u.enabled AND u.active \
              AND (u.locked_until IS NULL OR u.locked_until <= $1) AND (u.expires_at IS NULL OR u.expires_at > $1))) \
         AND (tenant_id IS NULL OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = tokens.tenant_id AND t.enabled)) \
         AND (user_id IS NULL OR tenant_id IS NULL OR app_key_id IS NOT NULL OR EXISTS (SELECT 1 FROM memberships m \
              WHERE m.user_id = tokens.user_id AND m.tenant_id = tokens.tenant_id \
              AND (tokens.org_id IS NULL OR m.org_id = tokens.org_id))) \
         RETURNING hash, json_array(kind, family_id, client_id, user_id, tenant_id, org_id, app_key_id, scope, \
         device_id, source_type, session_id, issued_at, expires_at, used_at, revoked_at, auth_time) AS packed",
        list.join(", ")
    )
}

/// The statement texts of `spend_refresh_sql` for each of [`INSERT_SIZES`].
static SPEND_REFRESH_SQL: std::sync::LazyLock<[String; INSERT_SIZES.len()]> =
    std::sync::LazyLock::new(|| INSERT_SIZES.map(spend_refresh_sql));

/// Spends one client's refresh tokens `hashes` at `now` (see [`SPEND_REFRESH_SQL`]), in
/// statements of at most [`INSERT_CHUNK`] tokens.
pub(crate) async fn spend_refresh_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    now: tessera_core::clock::UnixTime,
    since: tessera_core::clock::UnixTime,
    client: &tessera_core::ids::ClientId,
    hashes: &[&tessera_core::secret::TokenHash],
) -> Result<Vec<crate::rows::PackedTokenRow>, sqlx::Error> {
    use sqlx::Arguments;
    let mut out = Vec::with_capacity(hashes.len());
    for chunk in hashes.chunks(INSERT_CHUNK) {
        let Some(at) = INSERT_SIZES.iter().position(|&n| n >= chunk.len()) else {
            return Err(sqlx::Error::Protocol(
                "spend chunk larger than a statement".into(),
            ));
        };
        let mut args = sqlx::sqlite::SqliteArguments::default();
        args.reserve(3 + INSERT_SIZES[at], 0);
        args.add(now).map_err(sqlx::Error::Encode)?;
        args.add(client.0.as_str()).map_err(sqlx::Error::Encode)?;
        args.add(since).map_err(sqlx::Error::Encode)?;
        for h in chunk {
            args.add(&h.0[..]).map_err(sqlx::Error::Encode)?;
        }
        for _ in chunk.len()..INSERT_SIZES[at] {
            args.add(None::<Vec<u8>>).map_err(sqlx::Error::Encode)?;
        }
        let rows: Vec<crate::rows::PackedTokenRow> =
            sqlx::query_as_with(&SPEND_REFRESH_SQL[at], args)
                .fetch_all(&mut **tx)
                .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// The SQL shared with the other backend (`generic/mod.rs`), compiled for this one.
type Db = sqlx::Sqlite;
type Backend = SqliteStore;
// The same files are compiled once per backend, on purpose (clippy would have one `mod`).
#[allow(clippy::duplicate_mod)]
#[path = "generic/mod.rs"]
mod store_impl;
