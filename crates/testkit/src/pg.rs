//! Fresh databases on the real PostgreSQL (never a mock). The server is
//! `TESSERA_TEST_DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/test`. When it does not
//! answer, tests that need it are skipped, unless `TESSERA_REQUIRE_POSTGRES=1` (set by CI), in
//! which case they fail.

use rand::Rng;
use sqlx::Connection;

pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn base_url() -> String {
    std::env::var("TESSERA_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

fn required() -> bool {
    std::env::var("TESSERA_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A database made for one test; [`FreshDb::drop_db`] removes it.
pub struct FreshDb {
    pub url: String,
    pub name: String,
    admin_url: String,
}

/// A new, empty database, or `None` (with a note on stderr) when PostgreSQL is not there and
/// not required.
pub async fn fresh_database() -> Option<FreshDb> {
    let admin_url = base_url();
    let mut conn = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) if !required() => {
            eprintln!("PostgreSQL at {admin_url} unavailable ({e}); skipping this PostgreSQL test");
            return None;
        }
        Err(e) => {
            panic!("TESSERA_REQUIRE_POSTGRES=1 but PostgreSQL at {admin_url} is unavailable: {e}")
        }
    };
    let name = format!("tessera_t_{:016x}", rand::thread_rng().gen::<u64>());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    let _ = conn.close().await;
    let url = match admin_url.rsplit_once('/') {
        Some((head, _)) => format!("{head}/{name}"),
        None => panic!("database url {admin_url} has no database name"),
    };
    Some(FreshDb {
        url,
        name,
        admin_url,
    })
}

impl FreshDb {
    /// Drops the database, closing whatever still connects to it.
    pub async fn drop_db(self) {
        if let Ok(mut c) = sqlx::PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut c)
            .await;
            let _ = c.close().await;
        }
    }

    /// Runs one statement on the admin connection (e.g. to make the database refuse
    /// connections).
    pub async fn admin(&self, sql: &str) {
        let mut c = sqlx::PgConnection::connect(&self.admin_url)
            .await
            .expect("admin connection");
        sqlx::query(sql)
            .execute(&mut c)
            .await
            .expect("admin statement");
        let _ = c.close().await;
    }
}
