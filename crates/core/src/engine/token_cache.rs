//! A short-lived cache of access-token records for the read-only hot paths (introspection,
//! userinfo, `/me`, the admin API's Bearer check), issue 7 "Performance": "a cache of hot token
//! lookups invalidated on revocation".
//!
//! Correctness rules:
//! - Only live access tokens are cached, never an absent token (a token issued a moment ago by
//!   another process must be found) and never a refresh token (rotation spends them).
//! - Liveness (`expires_at`) is checked on every hit with the engine's clock.
//! - Any revocation made through this process clears the whole cache at once (revocations are
//!   rare next to lookups, and "whole" cannot miss a family, a user or a device).
//! - A revocation made by another process is seen when the entry ages out: [`TTL`] is half a
//!   second, inside the one second the multi-process contract allows (`docs/deploy.md`).

use crate::model::TokenRecord;
use crate::secret::TokenHash;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a looked-up record is trusted without asking the store again.
pub const TTL: Duration = Duration::from_millis(500);
/// At most this many records; when full, the cache starts over (bounded memory, no LRU book-
/// keeping on the hot path).
const CAPACITY: usize = 65_536;

#[derive(Default)]
pub(crate) struct TokenCache {
    map: RwLock<HashMap<TokenHash, (Arc<TokenRecord>, Instant)>>,
}

impl TokenCache {
    /// The cached record, if fresh.
    pub(crate) fn get(&self, hash: &TokenHash) -> Option<Arc<TokenRecord>> {
        let map = self.map.read().ok()?;
        let (rec, at) = map.get(hash)?;
        (at.elapsed() < TTL).then(|| rec.clone())
    }

    pub(crate) fn put(&self, hash: TokenHash, rec: &Arc<TokenRecord>) {
        if let Ok(mut map) = self.map.write() {
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(hash, (rec.clone(), Instant::now()));
        }
    }

    /// Forgets everything (after any revocation).
    pub(crate) fn clear(&self) {
        if let Ok(mut map) = self.map.write() {
            map.clear();
        }
    }
}
