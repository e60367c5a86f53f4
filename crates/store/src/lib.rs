//! SQLite and PostgreSQL implementations of [`tessera_core::store::Store`]. The SQL is written
//! once, in plain Rust modules by aggregate (`generic/`, portable `$n` placeholders,
//! `ON CONFLICT`), and compiled for each backend (`sqlite.rs`, `postgres.rs` include the folder
//! with their own database type); only connection set-up, the token statements tuned per
//! backend and the migration trees differ.

mod batch;
mod postgres;
mod rows;
mod shared;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use std::sync::Arc;
use tessera_core::store::Store;
use tessera_core::StoreError;

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`) and applies pending
/// migrations. Several processes may call this at once on one PostgreSQL: migrations then take
/// an advisory lock (sqlx's migrator), and the others wait.
pub async fn connect(url: &str, max_connections: u32) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, max_connections).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PgStore::connect(url, max_connections).await?))
    } else {
        Err(StoreError::Other(format!(
            "unsupported database url scheme in {:?}: use sqlite:// or postgres://",
            scheme(url)
        )))
    }
}

fn scheme(url: &str) -> &str {
    url.split(':').next().unwrap_or("")
}

/// Maps an sqlx error to the engine's store error: connection trouble is `Unavailable`, a
/// unique or foreign-key violation is `Conflict`.
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(ref d) if d.is_unique_violation() || d.is_foreign_key_violation() => {
            StoreError::Conflict {
                // SQLite names no constraint, but its message names the columns
                // ("UNIQUE constraint failed: users.phone").
                constraint: d
                    .constraint()
                    .map(str::to_string)
                    .or_else(|| {
                        d.message()
                            .split_once("constraint failed: ")
                            .map(|(_, cols)| cols.to_string())
                    })
                    .unwrap_or_else(|| "unknown".into()),
            }
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(e.to_string())
        }
        other => StoreError::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    /// The two migration trees must have the same files, so both backends walk one history.
    #[test]
    fn migration_trees_have_the_same_versions_and_names() {
        let names = |dir: &str| -> Vec<String> {
            let mut v: Vec<String> =
                std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                    .map(|rd| {
                        rd.filter_map(|e| e.ok())
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
            v.sort();
            v
        };
        let s = names("sqlite");
        assert!(!s.is_empty());
        assert_eq!(s, names("postgres"));
    }
}
