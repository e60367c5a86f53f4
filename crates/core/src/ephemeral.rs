//! Short-lived state (`docs/reference/model.md`, "The model"): SMS codes, captchas, counters, rate-limit
//! buckets, authorization codes. One process may keep it in memory; several processes must
//! share it (Redis), so that a code issued by one node is checked by another. Implemented by
//! the `tessera-ephemeral` crate, checked by one suite for both.

use crate::error::StoreError;
use async_trait::async_trait;

#[async_trait]
pub trait Ephemeral: Send + Sync + 'static {
    /// Cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Sets `key` for `ttl` seconds, replacing any value.
    async fn put(&self, key: &str, value: &str, ttl: u64) -> Result<(), StoreError>;
    /// Sets `key` for `ttl` seconds only if it is absent; answers whether it was set.
    async fn put_new(&self, key: &str, value: &str, ttl: u64) -> Result<bool, StoreError>;
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Gets and deletes in one step: of two concurrent takers, one gets the value.
    async fn take(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Adds one and answers the new count; the first increment starts a `ttl`-second window.
    async fn incr(&self, key: &str, ttl: u64) -> Result<i64, StoreError>;
    /// Seconds `key` has left, if it exists.
    async fn ttl(&self, key: &str) -> Result<Option<u64>, StoreError>;
}
