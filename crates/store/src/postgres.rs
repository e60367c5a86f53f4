use crate::map_err;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::time::Duration;
use tessera_core::StoreError;

/// The scale-out backend, shared by any number of Tessera processes.
#[derive(Clone, Debug)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    /// The same pool: PostgreSQL takes concurrent writers.
    pub(crate) writer: PgPool,
    /// Group commit of token writes (`crate::batch`).
    pub(crate) batch: crate::batch::Batcher,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            // A request waits at most this long for a connection. While PostgreSQL refuses
            // connections, sqlx retries until this passes, so it is also how long a request
            // takes to fail during an outage (then 503): keep it short.
            .acquire_timeout(Duration::from_secs(2))
            .connect(url)
            .await
            .map_err(map_err)?;
        // sqlx's migrator holds a PostgreSQL advisory lock while it runs, so processes that
        // start together apply each migration once.
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(format!("migration: {e}")))?;
        // Group commit here too: with `synchronous_commit = on` every commit waits for a WAL
        // flush, so one transaction for many tokens is what makes issuing fast. Correct across
        // processes: a rotation's `UPDATE … WHERE used_at IS NULL` takes the row lock, so a
        // concurrent rotation elsewhere waits for this commit and then finds the token spent.
        let batch = store_impl::spawn_batcher(pool.clone());
        Ok(Self {
            writer: pool.clone(),
            pool,
            batch,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// The advisory lock that serialises bootstrap applications (`tessera bootstrap`, and
/// `bootstrap.file` at every start): processes starting together on an empty database would
/// otherwise each find a tenant missing and insert it, and all but one fail on the unique key.
const BOOTSTRAP_LOCK: i64 = 0x7465_7373_6572_6101;

/// Taken inside the bootstrap transaction, released at its end.
pub(crate) async fn bootstrap_lock(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(BOOTSTRAP_LOCK)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Token rows as one typed array per column, unnested: one statement text whatever the number
/// of rows, so it is prepared once (a multi-row `VALUES` list was a new statement for every
/// batch size, with thousands of parameters), and the values travel in binary. (Rows as one
/// JSON text cost a hex and JSON encoding here and `jsonb` parsing and casts in PostgreSQL.)
const INSERT_TOKENS_SQL: &str = "INSERT INTO tokens (hash, kind, family_id, client_id, user_id, tenant_id, org_id, \
     app_key_id, scope, device_id, source_type, session_id, issued_at, expires_at, auth_time) \
     SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::int8[], $4::text[], $5::int8[], $6::int8[], $7::int8[], \
     $8::int8[], $9::text[], $10::text[], $11::text[], $12::text[], $13::int8[], $14::int8[], $15::int8[])";

/// No limit: one statement takes any number of rows.
pub(crate) const INSERT_CHUNK: usize = usize::MAX;

/// Inserts token rows in one statement (`INSERT_TOKENS_SQL`); PostgreSQL needs no variant
/// inside a transaction (see `sqlite::insert_token_rows`).
pub(crate) async fn insert_token_rows<'c, E>(
    ex: E,
    rows: &[(
        &tessera_core::model::NewGrant,
        &tessera_core::model::NewToken,
    )],
    _in_transaction: bool,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Postgres>,
{
    fn col<'r, T>(
        rows: &'r [(
            &tessera_core::model::NewGrant,
            &tessera_core::model::NewToken,
        )],
        f: impl Fn(&'r tessera_core::model::NewGrant, &'r tessera_core::model::NewToken) -> T,
    ) -> Vec<T> {
        rows.iter().map(|(g, t)| f(g, t)).collect()
    }
    sqlx::query(INSERT_TOKENS_SQL)
        .bind(col(rows, |_, t| &t.hash.0[..]))
        .bind(col(rows, |_, t| t.kind.as_str()))
        .bind(col(rows, |g, _| g.family.0))
        .bind(col(rows, |g, _| g.subject.client_id.0.as_str()))
        .bind(col(rows, |g, _| g.subject.user_id.map(|x| x.0)))
        .bind(col(rows, |g, _| g.subject.tenant_id.map(|x| x.0)))
        .bind(col(rows, |g, _| g.subject.org_id.map(|x| x.0)))
        .bind(col(rows, |g, _| g.subject.app_key_id.map(|x| x.0)))
        .bind(col(rows, |g, _| g.subject.scope.as_str()))
        .bind(col(rows, |g, _| g.subject.device_id.as_deref()))
        .bind(col(rows, |g, _| g.subject.source_type.as_deref()))
        .bind(col(rows, |g, _| g.subject.session_id.as_deref()))
        .bind(col(rows, |g, _| g.issued_at))
        .bind(col(rows, |_, t| t.expires_at))
        .bind(col(rows, |g, _| g.auth_time))
        .execute(ex)
        .await
        .map(|_| ())
}

/// See `sqlite::SPEND_TOKENS_SQL`.
pub(crate) const SPEND_TOKENS_SQL: &str = "UPDATE tokens SET used_at = $1 WHERE kind = 'refresh' AND used_at IS NULL \
     AND revoked_at IS NULL AND expires_at > $1 \
     AND NOT EXISTS (SELECT 1 FROM revoked_families rf WHERE rf.family_id = tokens.family_id) AND hash IN (SELECT decode(h, 'hex') FROM jsonb_array_elements_text($2::jsonb) AS h) \
     RETURNING hash";

/// `Store::spend_refresh` for a group of one client's tokens (digests in an array at `$2`, the
/// client at `$3`, the earliest family sign-in allowed at `$4`); the rows come back packed, with
/// the same admission checks, as `sqlite::spend_refresh_sql` says.
pub(crate) const SPEND_REFRESH_SQL: &str = "UPDATE tokens SET used_at = $1 WHERE kind = 'refresh' AND used_at IS NULL \
     AND revoked_at IS NULL AND expires_at > $1 \
     AND NOT EXISTS (SELECT 1 FROM revoked_families rf WHERE rf.family_id = tokens.family_id) AND client_id = $3 \
     AND hash = ANY($2::bytea[]) AND COALESCE(auth_time, issued_at) >= $4 \
     AND (user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = tokens.user_id AND u.enabled AND u.active \
          AND (u.locked_until IS NULL OR u.locked_until <= $1) AND (u.expires_at IS NULL OR u.expires_at > $1))) \
     AND (tenant_id IS NULL OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = tokens.tenant_id AND t.enabled)) \
     AND (user_id IS NULL OR tenant_id IS NULL OR app_key_id IS NOT NULL OR EXISTS (SELECT 1 FROM memberships m \
          WHERE m.user_id = tokens.user_id AND m.tenant_id = tokens.tenant_id \
          AND (tokens.org_id IS NULL OR m.org_id = tokens.org_id))) \
     RETURNING hash, json_build_array(kind, family_id, client_id, user_id, tenant_id, org_id, app_key_id, scope, \
     device_id, source_type, session_id, issued_at, expires_at, used_at, revoked_at, auth_time)::text AS packed";

/// Runs [`SPEND_REFRESH_SQL`] for one client's tokens.
pub(crate) async fn spend_refresh_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    now: tessera_core::clock::UnixTime,
    since: tessera_core::clock::UnixTime,
    client: &tessera_core::ids::ClientId,
    hashes: &[&tessera_core::secret::TokenHash],
) -> Result<Vec<crate::rows::PackedTokenRow>, sqlx::Error> {
    let digests: Vec<&[u8]> = hashes.iter().map(|h| &h.0[..]).collect();
    sqlx::query_as(SPEND_REFRESH_SQL)
        .bind(now)
        .bind(digests)
        .bind(&client.0)
        .bind(since)
        .fetch_all(&mut **tx)
        .await
}

/// The SQL shared with the other backend (`generic/mod.rs`), compiled for this one.
type Db = sqlx::Postgres;
type Backend = PgStore;
// The same files are compiled once per backend, on purpose (clippy would have one `mod`).
#[allow(clippy::duplicate_mod)]
#[path = "generic/mod.rs"]
mod store_impl;
