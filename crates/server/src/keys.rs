//! The RSA transport key of seed 001 (`keys.dir`): made on first start, kept as PKCS#8 PEM with
//! mode 0600, published as base64 DER SubjectPublicKeyInfo (what JSEncrypt's `setPublicKey`
//! takes), rotated after `keys.transport_rotate`; the previous key keeps decrypting for
//! `keys.transport_grace`, so that logins in flight across a rotation still work.
//!
//! Several processes may share one `keys.dir` (docs/deploy.md):
//! - Making a missing key and rotating happen under an exclusive lock on `keys.dir/keys.lock`
//!   (flock), re-checking under the lock whether another process already did it; readers take
//!   the shared lock, so they never see half a rotation.
//! - Files are written atomically: a temporary file (mode 0600) in the same folder, renamed.
//! - The modification time of `transport.pem` (set explicitly by the writer) is when that key
//!   became current, and so when the previous key was retired: every process measures the
//!   rotation age and the previous key's grace from the same instant.
//! - Each process reloads the files when they changed ([`RsaTransport::reload_if_changed`],
//!   called every 15 s by the server and after a ciphertext that does not decrypt), so that a
//!   client that took the new public key from one process can send its password to another.
//!
//! Note: PKCS#1 v1.5 decryption is what the seed's front-ends use; the `rsa` crate's
//! implementation is not constant-time (RUSTSEC-2023-0071). The decryption error is not shown
//! to the client beyond `decodePasswordError`, and replayed ciphertexts are refused.

use crate::keydir::{create_dir, lock_dir, write_atomic, KeyDirError};
use base64::Engine as _;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, SystemTime};
use tessera_core::secret::Secret;
use tessera_core::transport::PasswordTransport;

const CURRENT: &str = "transport.pem";
const PREVIOUS: &str = "transport.previous.pem";
/// What went wrong with an RSA key or its files.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Dir(#[from] KeyDirError),
    #[error("RSA key generation: {0}")]
    Generate(String),
    #[error("{}: not a PKCS#8 RSA key: {message}", path.display())]
    NotAKey { path: PathBuf, message: String },
    #[error("{}: a {bits}-bit key is too short: 2048 bits at least", path.display())]
    TooShort { path: PathBuf, bits: usize },
    #[error("keys.rsa_bits = {0}: 2048 at least")]
    BitsTooFew(usize),
    #[error("{}: missing", path.display())]
    Missing { path: PathBuf },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| {
        KeyError::Dir(KeyDirError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// A new private key as PKCS#8 PEM.
pub fn generate_pem(bits: usize) -> Result<String, KeyError> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
        .map_err(|e| KeyError::Generate(e.to_string()))?;
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|p| p.to_string())
        .map_err(|e| KeyError::Generate(format!("encoding: {e}")))
}

/// Makes `dir/name` with a new key unless it exists, under the exclusive lock (re-checking
/// there), so that processes starting together agree on one key. The key is generated before
/// taking the lock, so that the lock is never held for long (processes starting together may
/// each generate one; all but the first throw theirs away).
pub(crate) fn create_once(dir: &Path, name: &str, bits: usize) -> Result<(), KeyError> {
    let path = dir.join(name);
    if path.exists() {
        return Ok(());
    }
    let pem = generate_pem(bits)?;
    let _lock = lock_dir(dir, true)?;
    if path.exists() {
        return Ok(());
    }
    write_atomic(dir, name, &pem, Some(SystemTime::now()))?;
    tracing::info!(path = %path.display(), "RSA key made");
    Ok(())
}

/// A private key read from PEM; at least 2048 bits.
pub(crate) fn parse_private(path: &Path, pem: &str) -> Result<RsaPrivateKey, KeyError> {
    let key = RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| KeyError::NotAKey {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if key.size() * 8 < 2048 {
        return Err(KeyError::TooShort {
            path: path.to_path_buf(),
            bits: key.size() * 8,
        });
    }
    Ok(key)
}

/// The key files as read, before parsing.
struct Files {
    current: String,
    /// Modification time of `transport.pem`: when it became current.
    since: SystemTime,
    previous: Option<String>,
}

impl Files {
    /// Reads the files; the caller holds the lock. `None` when there is no current key.
    fn read(dir: &Path) -> Result<Option<Files>, KeyError> {
        let path = dir.join(CURRENT);
        // Opening (not only stat-ing) revalidates the attributes on NFS (close-to-open).
        let mut f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path)(e)),
        };
        let mut current = String::new();
        f.read_to_string(&mut current).map_err(io(&path))?;
        let since = f.metadata().and_then(|m| m.modified()).map_err(io(&path))?;
        let prev_path = dir.join(PREVIOUS);
        let previous = match std::fs::read_to_string(&prev_path) {
            Ok(s) => Some(s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&prev_path)(e)),
        };
        Ok(Some(Files {
            current,
            since,
            previous,
        }))
    }

    fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.current.as_bytes());
        let since = self
            .since
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        h.update(since.as_nanos().to_be_bytes());
        if let Some(p) = &self.previous {
            h.update([1]);
            h.update(p.as_bytes());
        }
        h.finalize().into()
    }

    fn parse(&self, dir: &Path) -> Result<Keys, KeyError> {
        let key = |name: &str, pem: &str| -> Result<Key, KeyError> {
            let key = parse_private(&dir.join(name), pem)?;
            Ok(Key {
                public_b64: public_b64(&dir.join(name), &key)?,
                key,
            })
        };
        Ok(Keys {
            current: key(CURRENT, &self.current)?,
            since: self.since,
            previous: self
                .previous
                .as_deref()
                .map(|p| key(PREVIOUS, p))
                .transpose()?,
            fingerprint: self.fingerprint(),
        })
    }
}

struct Key {
    key: RsaPrivateKey,
    public_b64: String,
}

struct Keys {
    current: Key,
    /// When the current key became current, and so when the previous one was retired.
    since: SystemTime,
    previous: Option<Key>,
    /// Of the files these keys were read from, to notice a change.
    fingerprint: [u8; 32],
}

pub struct RsaTransport {
    dir: PathBuf,
    bits: usize,
    rotate_after: Duration,
    grace: Duration,
    keys: RwLock<Keys>,
}

fn public_b64(path: &Path, key: &RsaPrivateKey) -> Result<String, KeyError> {
    let der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| KeyError::NotAKey {
            path: path.to_path_buf(),
            message: format!("public key: {e}"),
        })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(der.as_bytes()))
}

impl RsaTransport {
    /// Loads the keys of `dir`, making the folder and a key on first start (under the lock, so
    /// that processes starting together agree on one key). A key shorter than 2048 bits is
    /// refused, and so is `bits` below 2048.
    pub fn open(
        dir: &Path,
        bits: usize,
        rotate_after: Duration,
        grace: Duration,
    ) -> Result<Self, KeyError> {
        if bits < 2048 {
            return Err(KeyError::BitsTooFew(bits));
        }
        create_dir(dir)?;
        create_once(dir, CURRENT, bits)?;
        let files = {
            let _lock = lock_dir(dir, false)?;
            Files::read(dir)?
        }
        .ok_or_else(|| KeyError::Missing {
            path: dir.join(CURRENT),
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            bits,
            rotate_after,
            grace,
            keys: RwLock::new(files.parse(dir)?),
        })
    }

    fn fingerprint(&self) -> [u8; 32] {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .fingerprint
    }

    fn install(&self, keys: Keys) {
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
    }

    /// Reads the key files again and takes them if they changed (another process rotated).
    /// Answers whether they changed.
    pub fn reload_if_changed(&self) -> Result<bool, KeyError> {
        // Installed under the lock too, so that two reloads in this process cannot install
        // what they read in the wrong order.
        let _lock = lock_dir(&self.dir, false)?;
        let files = Files::read(&self.dir)?.ok_or_else(|| KeyError::Missing {
            path: self.dir.join(CURRENT),
        })?;
        if files.fingerprint() == self.fingerprint() {
            return Ok(false);
        }
        self.install(files.parse(&self.dir)?);
        tracing::info!(dir = %self.dir.display(), "RSA transport key reloaded");
        Ok(true)
    }

    /// Makes a new current key once the current one is older than `rotate_after`. Another
    /// process's rotation is taken instead (read first, and checked again under the lock).
    pub fn rotate_if_due(&self) -> Result<bool, KeyError> {
        self.reload_if_changed()?;
        // Whether due, and of which files: read together, since a request's reload may install
        // newer keys meanwhile.
        let (due, seen) = {
            let k = self.keys.read().unwrap_or_else(|e| e.into_inner());
            (
                k.since.elapsed().unwrap_or_default() >= self.rotate_after,
                k.fingerprint,
            )
        };
        if !due {
            return Ok(false);
        }
        self.rotate_unless_changed(Some(seen))
    }

    /// The current key becomes the previous one; a new key becomes current.
    pub fn rotate(&self) -> Result<(), KeyError> {
        self.rotate_unless_changed(None).map(|_| ())
    }

    /// Rotates under the exclusive lock, unless the files no longer have the fingerprint
    /// `expected` (another process rotated meanwhile: its keys are taken). The new key is made
    /// before taking the lock, so that readers never wait for key generation.
    fn rotate_unless_changed(&self, expected: Option<[u8; 32]>) -> Result<bool, KeyError> {
        let pem = generate_pem(self.bits)?;
        let _lock = lock_dir(&self.dir, true)?;
        let files = Files::read(&self.dir)?.ok_or_else(|| KeyError::Missing {
            path: self.dir.join(CURRENT),
        })?;
        if expected.is_some_and(|f| f != files.fingerprint()) {
            self.install(files.parse(&self.dir)?);
            tracing::info!(dir = %self.dir.display(), "RSA transport key rotated elsewhere");
            return Ok(false);
        }
        // Previous first: a crash between the two writes leaves the current key in both files.
        write_atomic(&self.dir, PREVIOUS, &files.current, None)?;
        write_atomic(&self.dir, CURRENT, &pem, Some(SystemTime::now()))?;
        let files = Files::read(&self.dir)?.ok_or_else(|| KeyError::Missing {
            path: self.dir.join(CURRENT),
        })?;
        self.install(files.parse(&self.dir)?);
        tracing::info!(dir = %self.dir.display(), "RSA transport key rotated");
        Ok(true)
    }

    fn try_decrypt(&self, bytes: &[u8]) -> Option<String> {
        let k = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let try_key = |key: &RsaPrivateKey| {
            key.decrypt(Pkcs1v15Encrypt, bytes)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
        };
        try_key(&k.current.key).or_else(|| {
            let prev = k.previous.as_ref()?;
            // The previous key was retired when the current one became current.
            (k.since.elapsed().unwrap_or_default() < self.grace)
                .then(|| try_key(&prev.key))
                .flatten()
        })
    }
}

impl PasswordTransport for RsaTransport {
    fn public_key(&self) -> String {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .current
            .public_b64
            .clone()
    }

    fn decrypt(&self, ciphertext_b64: &str) -> Option<Secret> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(ciphertext_b64.trim())
            .ok()?;
        if let Some(clear) = self.try_decrypt(&bytes) {
            return Some(Secret::new(clear));
        }
        // Perhaps another process rotated and the client took its new public key: read the
        // files once more (a no-op unless they changed) and try again.
        match self.reload_if_changed() {
            Ok(true) => self.try_decrypt(&bytes).map(Secret::new),
            Ok(false) => None,
            Err(e) => {
                tracing::warn!(error = %e, "RSA transport key reload failed");
                None
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::keydir::LOCK;
    use rsa::pkcs8::DecodePublicKey;

    const HOUR: Duration = Duration::from_secs(3600);

    fn encrypt(public_b64: &str, msg: &str) -> String {
        let der = base64::engine::general_purpose::STANDARD
            .decode(public_b64)
            .unwrap();
        let public = rsa::RsaPublicKey::from_public_key_der(&der).unwrap();
        let c = public
            .encrypt(&mut rand::rngs::OsRng, Pkcs1v15Encrypt, msg.as_bytes())
            .unwrap();
        base64::engine::general_purpose::STANDARD.encode(c)
    }

    fn open(dir: &Path, rotate: Duration, grace: Duration) -> RsaTransport {
        RsaTransport::open(dir, 2048, rotate, grace).unwrap()
    }

    /// Moves the current key's "became current" instant `by` into the past.
    fn backdate_current(dir: &Path, by: Duration) {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(CURRENT))
            .unwrap();
        f.set_modified(SystemTime::now() - by).unwrap();
    }

    #[test]
    fn a_rotated_key_keeps_decrypting_within_the_grace_period_only() {
        let dir = tempfile::tempdir().unwrap();
        let t = open(dir.path(), HOUR, HOUR);
        let old = encrypt(&t.public_key(), "pw");
        assert_eq!(t.decrypt(&old).unwrap().expose(), "pw");
        let before = t.public_key();
        t.rotate().unwrap();
        assert_ne!(t.public_key(), before);
        assert_eq!(
            t.decrypt(&old).unwrap().expose(),
            "pw",
            "in flight across the rotation"
        );
        // A restart within the grace period keeps the previous key working.
        let restarted = open(dir.path(), HOUR, HOUR);
        assert_eq!(restarted.decrypt(&old).unwrap().expose(), "pw");
        let strict = open(dir.path(), HOUR, Duration::ZERO);
        assert!(strict.decrypt(&old).is_none(), "after the grace period");
        assert!(t.decrypt("not base64!").is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for name in [CURRENT, PREVIOUS, LOCK] {
                let mode = std::fs::metadata(dir.path().join(name))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{name}");
            }
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn the_grace_period_runs_from_the_retirement_recorded_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let a = open(dir.path(), 24 * HOUR, HOUR);
        let b = open(dir.path(), 24 * HOUR, HOUR);
        let old = encrypt(&a.public_key(), "pw");
        a.rotate().unwrap();
        assert_eq!(b.decrypt(&old).unwrap().expose(), "pw", "within grace");
        // Two hours later for every process: the previous key was retired too long ago.
        backdate_current(dir.path(), 2 * HOUR);
        assert!(b.reload_if_changed().unwrap());
        assert!(b.decrypt(&old).is_none(), "b, after the grace period");
        assert!(
            open(dir.path(), 24 * HOUR, HOUR).decrypt(&old).is_none(),
            "a new process, after the grace period"
        );
    }

    #[test]
    fn two_processes_on_one_dir_publish_the_same_key_and_follow_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let a = open(dir.path(), 24 * HOUR, HOUR);
        let b = open(dir.path(), 24 * HOUR, HOUR);
        assert_eq!(a.public_key(), b.public_key());
        assert!(!b.reload_if_changed().unwrap(), "nothing changed");

        let old = encrypt(&b.public_key(), "old-pw");
        a.rotate().unwrap();
        assert_ne!(a.public_key(), b.public_key(), "b has not looked yet");
        // A client took the new key from a and sends its password to b.
        let new = encrypt(&a.public_key(), "new-pw");
        assert_eq!(
            b.decrypt(&new).unwrap().expose(),
            "new-pw",
            "reloaded after the failure"
        );
        assert_eq!(a.public_key(), b.public_key());
        assert_eq!(b.decrypt(&old).unwrap().expose(), "old-pw", "previous key");
        assert_eq!(a.decrypt(&old).unwrap().expose(), "old-pw");

        // A third process that only reloads periodically sees the rotation too.
        let c = open(dir.path(), 24 * HOUR, HOUR);
        a.rotate().unwrap();
        assert!(c.reload_if_changed().unwrap());
        assert_eq!(c.public_key(), a.public_key());
        assert!(
            c.decrypt(&old).is_none(),
            "two rotations ago: no longer kept"
        );
    }

    #[test]
    fn a_due_rotation_happens_once_across_processes() {
        let dir = tempfile::tempdir().unwrap();
        let first = open(dir.path(), HOUR, HOUR);
        let original = std::fs::read_to_string(dir.path().join(CURRENT)).unwrap();
        let old = encrypt(&first.public_key(), "pw");
        backdate_current(dir.path(), 2 * HOUR);
        let procs: Vec<RsaTransport> = (0..3).map(|_| open(dir.path(), HOUR, HOUR)).collect();
        let barrier = std::sync::Barrier::new(procs.len());
        let rotated: Vec<bool> = std::thread::scope(|s| {
            let hs: Vec<_> = procs
                .iter()
                .map(|p| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        p.rotate_if_due().unwrap()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(rotated.iter().filter(|r| **r).count(), 1, "{rotated:?}");
        let key = procs[0].public_key();
        assert!(procs.iter().all(|p| p.public_key() == key));
        assert_eq!(
            std::fs::read_to_string(dir.path().join(PREVIOUS)).unwrap(),
            original,
            "the retired key is the original, not an intermediate one"
        );
        assert!(procs.iter().all(|p| !p.rotate_if_due().unwrap()), "fresh");
        assert_eq!(procs[2].decrypt(&old).unwrap().expose(), "pw");
    }

    #[test]
    fn concurrent_first_starts_make_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("nested/keys");
        let barrier = std::sync::Barrier::new(3);
        let published: Vec<String> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..3)
                .map(|_| {
                    let (barrier, keys) = (&barrier, &keys);
                    s.spawn(move || {
                        barrier.wait();
                        open(keys, HOUR, HOUR).public_key()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(published.iter().all(|k| *k == published[0]), "one key");
        assert_eq!(published[0], open(&keys, HOUR, HOUR).public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&keys).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[test]
    fn short_or_broken_keys_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(RsaTransport::open(dir.path(), 1024, HOUR, HOUR).is_err());
        let pem = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024)
            .unwrap()
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap();
        std::fs::write(dir.path().join(CURRENT), pem.as_bytes()).unwrap();
        let e = RsaTransport::open(dir.path(), 2048, HOUR, HOUR)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("too short"), "{e}");
        assert!(e.contains(CURRENT), "{e}");
        std::fs::write(dir.path().join(CURRENT), "garbage").unwrap();
        let e = RsaTransport::open(dir.path(), 2048, HOUR, HOUR)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with(&dir.path().join(CURRENT).display().to_string()),
            "{e}"
        );
        assert!(!e.contains('\n'), "one line: {e}");
        // keys.dir that is a file.
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let e = RsaTransport::open(&file, 2048, HOUR, HOUR)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("not-a-dir"), "{e}");
    }
}
