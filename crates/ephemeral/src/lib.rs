//! [`tessera_core::ephemeral::Ephemeral`] in memory ([`MemoryEphemeral`], one process) and in
//! Redis ([`RedisEphemeral`], shared by several processes).

mod memory;
mod redis_store;

pub use memory::MemoryEphemeral;
pub use redis_store::RedisEphemeral;

use std::sync::Arc;
use tessera_core::clock::Clock;
use tessera_core::ephemeral::Ephemeral;
use tessera_core::StoreError;

/// Redis when `redis_url` is set, else memory.
pub async fn connect(
    redis_url: &str,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn Ephemeral>, StoreError> {
    if redis_url.trim().is_empty() {
        Ok(Arc::new(MemoryEphemeral::new(clock)))
    } else {
        Ok(Arc::new(RedisEphemeral::connect(redis_url).await?))
    }
}
