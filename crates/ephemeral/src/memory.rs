use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tessera_core::clock::{Clock, UnixTime};
use tessera_core::ephemeral::Ephemeral;
use tessera_core::StoreError;

/// One process's short-lived state. Expired entries are dropped when touched, and swept every
/// 1024 writes so that keys nobody reads again do not accumulate.
pub struct MemoryEphemeral {
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, (String, UnixTime)>,
    writes: u64,
}

impl MemoryEphemeral {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner, UnixTime) -> T) -> T {
        let now = self.clock.now();
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g, now)
    }
}

impl Inner {
    fn live(&mut self, key: &str, now: UnixTime) -> Option<&mut (String, UnixTime)> {
        if self.map.get(key).is_some_and(|(_, exp)| *exp <= now) {
            self.map.remove(key);
        }
        self.map.get_mut(key)
    }

    fn wrote(&mut self, now: UnixTime) {
        self.writes += 1;
        if self.writes.is_multiple_of(1024) {
            self.map.retain(|_, (_, exp)| *exp > now);
        }
    }
}

fn expiry(now: UnixTime, ttl: u64) -> UnixTime {
    now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX))
}

#[async_trait]
impl Ephemeral for MemoryEphemeral {
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn put(&self, key: &str, value: &str, ttl: u64) -> Result<(), StoreError> {
        self.with(|m, now| {
            m.map
                .insert(key.to_string(), (value.to_string(), expiry(now, ttl)));
            m.wrote(now);
        });
        Ok(())
    }

    async fn put_new(&self, key: &str, value: &str, ttl: u64) -> Result<bool, StoreError> {
        Ok(self.with(|m, now| {
            if m.live(key, now).is_some() {
                return false;
            }
            m.map
                .insert(key.to_string(), (value.to_string(), expiry(now, ttl)));
            m.wrote(now);
            true
        }))
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.with(|m, now| m.live(key, now).map(|(v, _)| v.clone())))
    }

    async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.with(|m, now| {
            let v = m.live(key, now).map(|(v, _)| v.clone());
            m.map.remove(key);
            v
        }))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.with(|m, _| m.map.remove(key));
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: u64) -> Result<i64, StoreError> {
        self.with(|m, now| {
            let n = match m.live(key, now) {
                Some((v, _)) => {
                    let n = v.parse::<i64>().unwrap_or(0) + 1;
                    *v = n.to_string();
                    n
                }
                None => {
                    m.map
                        .insert(key.to_string(), ("1".into(), expiry(now, ttl)));
                    1
                }
            };
            m.wrote(now);
            Ok(n)
        })
    }

    async fn ttl(&self, key: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.with(|m, now| {
            m.live(key, now)
                .map(|(_, exp)| u64::try_from(*exp - now).unwrap_or(0))
        }))
    }
}
