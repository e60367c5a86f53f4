use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use tessera_core::ephemeral::Ephemeral;
use tessera_core::StoreError;

/// Short-lived state in Redis, shared by every process. Keys are prefixed `tessera:`. Each
/// operation is one atomic Redis command (or a MULTI), so two nodes never both take one code.
#[derive(Clone)]
pub struct RedisEphemeral {
    conn: ConnectionManager,
}

const PREFIX: &str = "tessera:";

fn k(key: &str) -> String {
    format!("{PREFIX}{key}")
}

fn err(e: redis::RedisError) -> StoreError {
    if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout() {
        StoreError::Unavailable(format!("redis: {e}"))
    } else {
        StoreError::Other(format!("redis: {e}"))
    }
}

impl RedisEphemeral {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url)
            .map_err(|e| StoreError::Other(format!("bad redis url: {e}")))?;
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(std::time::Duration::from_secs(3))
            .set_response_timeout(std::time::Duration::from_secs(3))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_with_config(client, cfg)
            .await
            .map_err(err)?;
        Ok(Self { conn })
    }
}

#[async_trait]
impl Ephemeral for RedisEphemeral {
    async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn put(&self, key: &str, value: &str, ttl: u64) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        c.set_ex::<_, _, ()>(k(key), value, ttl.max(1))
            .await
            .map_err(err)
    }

    async fn put_new(&self, key: &str, value: &str, ttl: u64) -> Result<bool, StoreError> {
        let mut c = self.conn.clone();
        let r: Option<String> = redis::cmd("SET")
            .arg(k(key))
            .arg(value)
            .arg("NX")
            .arg("EX")
            .arg(ttl.max(1))
            .query_async(&mut c)
            .await
            .map_err(err)?;
        Ok(r.is_some())
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut c = self.conn.clone();
        c.get(k(key)).await.map_err(err)
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut c = self.conn.clone();
        redis::cmd("GETDEL")
            .arg(k(key))
            .query_async(&mut c)
            .await
            .map_err(err)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        c.del::<_, ()>(k(key)).await.map_err(err)
    }

    async fn incr(&self, key: &str, ttl: u64) -> Result<i64, StoreError> {
        let mut c = self.conn.clone();
        // INCR, and EXPIRE NX so that only the first increment starts the window.
        let (n, _): (i64, i64) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(k(key))
            .cmd("EXPIRE")
            .arg(k(key))
            .arg(ttl.max(1))
            .arg("NX")
            .query_async(&mut c)
            .await
            .map_err(err)?;
        Ok(n)
    }

    async fn ttl(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let mut c = self.conn.clone();
        let t: i64 = c.ttl(k(key)).await.map_err(err)?;
        Ok(u64::try_from(t).ok())
    }
}
