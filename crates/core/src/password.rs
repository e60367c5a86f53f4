//! Password hashing: Argon2id for new hashes (parameters from `[passwords]`), verification of
//! bcrypt and Spring `{bcrypt}` hashes from imported users (re-hashed to Argon2id on the next
//! successful sign-in). Hashing is slow on purpose, so it runs on blocking threads, at most
//! `max_concurrent` at a time: a sign-in flood then queues here instead of starving the async
//! runtime that serves token refresh and introspection. A sign-in waits at most `max_wait` for a
//! slot, then the caller answers 503.

use crate::error::EngineError;
use crate::secret::Secret;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl Default for HashParams {
    /// OWASP's Argon2id recommendation: m=19 MiB, t=2, p=1.
    fn default() -> Self {
        Self {
            m_kib: 19456,
            t: 2,
            p: 1,
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub ok: bool,
    /// A new Argon2id hash to store, when `ok` and the stored hash is bcrypt or has other
    /// parameters.
    pub rehash: Option<String>,
}

#[derive(Clone)]
pub struct PasswordHasher {
    argon: Arc<Argon2<'static>>,
    params: HashParams,
    slots: Arc<Semaphore>,
    max_wait: Duration,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish()
    }
}

impl PasswordHasher {
    /// `max_concurrent` 0 means the number of cores.
    pub fn new(
        params: HashParams,
        max_concurrent: usize,
        max_wait: Duration,
    ) -> Result<Self, String> {
        let p = Params::new(params.m_kib, params.t, params.p, None)
            .map_err(|e| format!("argon2 parameters: {e}"))?;
        let n = if max_concurrent == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            max_concurrent
        };
        Ok(Self {
            argon: Arc::new(Argon2::new(Algorithm::Argon2id, Version::V0x13, p)),
            params,
            slots: Arc::new(Semaphore::new(n)),
            max_wait,
        })
    }

    /// Hashes on the calling thread: for start-up, the bootstrap and the CLI.
    pub fn hash_blocking(&self, password: &Secret) -> Result<String, EngineError> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        self.argon
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| EngineError::Internal(format!("argon2: {e}")))
    }

    /// Verifies on the calling thread.
    pub fn verify_blocking(&self, password: &Secret, stored: &str) -> Verified {
        let ok = verify_any(password, stored);
        let rehash = if ok && self.needs_rehash(stored) {
            self.hash_blocking(password).ok()
        } else {
            None
        };
        Verified { ok, rehash }
    }

    /// Whether `stored` is not an Argon2id hash with the configured parameters.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(h) = PasswordHash::new(stored) else {
            return true;
        };
        if h.algorithm != argon2::ARGON2ID_IDENT {
            return true;
        }
        match Params::try_from(&h) {
            Ok(p) => {
                p.m_cost() != self.params.m_kib
                    || p.t_cost() != self.params.t
                    || p.p_cost() != self.params.p
            }
            Err(_) => true,
        }
    }

    /// Verifies in the bounded pool.
    pub async fn verify(&self, password: Secret, stored: String) -> Result<Verified, EngineError> {
        let this = self.clone();
        self.run(move || this.verify_blocking(&password, &stored))
            .await
    }

    /// Hashes in the bounded pool.
    pub async fn hash(&self, password: Secret) -> Result<String, EngineError> {
        let this = self.clone();
        self.run(move || this.hash_blocking(&password)).await?
    }

    /// Runs `f` in the bounded pool (hashing, and other CPU work an unauthenticated caller can
    /// ask for, such as the RSA decryption of seed 001's password transport).
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, EngineError> {
        // The queue: sign-ins waiting for a hashing slot.
        let gauge = metrics::gauge!("tessera_password_hash_waiting");
        gauge.increment(1.0);
        let acquired =
            tokio::time::timeout(self.max_wait, self.slots.clone().acquire_owned()).await;
        gauge.decrement(1.0);
        let permit = acquired
            .map_err(|_| EngineError::Busy)?
            .map_err(|_| EngineError::Busy)?;
        let out = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        })
        .await
        .map_err(|e| EngineError::Internal(format!("hashing task: {e}")))?;
        Ok(out)
    }
}

/// Argon2 (any variant, parameters from the PHC string), bcrypt `$2a$/$2b$/$2y$`, or Spring's
/// `{bcrypt}` prefix. Anything else never verifies.
fn verify_any(password: &Secret, stored: &str) -> bool {
    let pw = password.expose().as_bytes();
    if let Some(b) = stored.strip_prefix("{bcrypt}") {
        return bcrypt::verify(pw, b).unwrap_or(false);
    }
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        return bcrypt::verify(pw, stored).unwrap_or(false);
    }
    match PasswordHash::new(stored) {
        Ok(h) => verify_argon2(pw, &h),
        Err(_) => false,
    }
}

std::thread_local! {
    /// The Argon2 work area of this hashing thread, kept between verifications: allocating
    /// and zeroing `m_kib` KiB (19 MiB by default) for each one cost about 5 % of a core in the
    /// password-flood profile (`BENCHMARKS.md`). Every block is overwritten by the next
    /// verification before it is read.
    static ARGON2_MEMORY: std::cell::RefCell<Vec<argon2::Block>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// An Argon2 PHC hash (any variant and parameters it names), verified in this thread's reused
/// work area, compared in constant time. What `PasswordVerifier::verify_password` does, minus
/// the allocation.
fn verify_argon2(pw: &[u8], h: &PasswordHash<'_>) -> bool {
    use subtle::ConstantTimeEq;
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(h.algorithm), Params::try_from(h))
    else {
        return false;
    };
    let version = match h.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let hashed = ARGON2_MEMORY.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() < blocks {
            m.resize(blocks, argon2::Block::default());
        }
        argon
            .hash_password_into_with_memory(pw, salt, &mut out, &mut m[..blocks])
            .is_ok()
    });
    hashed && bool::from(out.ct_eq(expected))
}

/// Whether a string is a hash this module can verify (for bootstrap `password_hash`).
pub fn is_supported_hash(stored: &str) -> bool {
    let s = stored.strip_prefix("{bcrypt}").unwrap_or(stored);
    s.starts_with("$2a$")
        || s.starts_with("$2b$")
        || s.starts_with("$2y$")
        || (s.starts_with("$argon2") && PasswordHash::new(s).is_ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(
            HashParams {
                m_kib: 64,
                t: 1,
                p: 1,
            },
            1,
            Duration::from_secs(5),
        )
        .unwrap()
    }

    #[test]
    fn argon2id_hash_verifies_and_wrong_password_does_not() {
        let h = cheap();
        let stored = h.hash_blocking(&Secret::new("pw")).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert_eq!(
            h.verify_blocking(&Secret::new("pw"), &stored),
            Verified {
                ok: true,
                rehash: None
            }
        );
        assert!(!h.verify_blocking(&Secret::new("px"), &stored).ok);
    }

    #[test]
    fn bcrypt_and_spring_bcrypt_verify_and_ask_for_rehash() {
        let h = cheap();
        let b = bcrypt::hash("pw", 4).unwrap();
        for stored in [b.clone(), format!("{{bcrypt}}{b}")] {
            let v = h.verify_blocking(&Secret::new("pw"), &stored);
            assert!(v.ok);
            assert!(v
                .rehash
                .as_deref()
                .is_some_and(|r| r.starts_with("$argon2id$")));
            assert!(!h.verify_blocking(&Secret::new("nope"), &stored).ok);
        }
    }

    /// The reused work area gives the same answers as a fresh one: a hash made by another
    /// program (the `argon2-rate` tool of the team's bench yardstick made the first one below),
    /// other variants and parameters, in any order on one thread.
    #[test]
    fn argon2_hashes_of_any_variant_and_size_verify_with_the_reused_work_area() {
        let bench = "$argon2id$v=19$m=19456,t=2,p=1$YmVuY2gtc2FsdC0xNmJ5dGU$oY8onGYSJjYrMjw+01JIVFBQgb4eqX2kSly80kfAFsE";
        assert!(verify_any(&Secret::new("bench-password"), bench));
        assert!(!verify_any(&Secret::new("bench-passwore"), bench));
        for (alg, m) in [
            (Algorithm::Argon2i, 64),
            (Algorithm::Argon2d, 2048),
            (Algorithm::Argon2id, 8),
            (Algorithm::Argon2id, 4096),
        ] {
            let params = Params::new(m, 1, 1, Some(24)).unwrap();
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            let h = Argon2::new(alg, Version::V0x13, params)
                .hash_password(b"s3cret", &salt)
                .unwrap()
                .to_string();
            assert!(verify_any(&Secret::new("s3cret"), &h), "{h}");
            assert!(!verify_any(&Secret::new("s3creT"), &h), "{h}");
        }
        // And the first one again, after smaller and larger areas.
        assert!(verify_any(&Secret::new("bench-password"), bench));
    }

    #[test]
    fn garbage_hash_never_verifies() {
        assert!(!cheap().verify_blocking(&Secret::new(""), "").ok);
        assert!(!is_supported_hash("plain"));
    }

    #[tokio::test]
    async fn pool_answers_busy_when_no_slot_frees_in_time() {
        let h = PasswordHasher::new(
            HashParams {
                m_kib: 64,
                t: 1,
                p: 1,
            },
            1,
            Duration::from_millis(50),
        )
        .unwrap();
        let _held = h.slots.clone().acquire_owned().await.unwrap();
        assert!(matches!(
            h.hash(Secret::new("x")).await,
            Err(EngineError::Busy)
        ));
    }
}
