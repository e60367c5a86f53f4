//! The RSA transport key of seed 001 (`keys.dir`): made on first start, kept as PKCS#8 PEM with
//! mode 0600, published as base64 DER SubjectPublicKeyInfo (what JSEncrypt's `setPublicKey`
//! takes), rotated after `keys.transport_rotate`; the previous key keeps decrypting for
//! `keys.transport_grace`, so that logins in flight across a rotation still work.
//!
//! Note: PKCS#1 v1.5 decryption is what the seed's front-ends use; the `rsa` crate's
//! implementation is not constant-time (RUSTSEC-2023-0071). The decryption error is not shown
//! to the client beyond `decodePasswordError`, and replayed ciphertexts are refused.

use base64::Engine as _;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey};
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, SystemTime};
use tessera_core::secret::Secret;
use tessera_core::transport::PasswordTransport;

const CURRENT: &str = "transport.pem";
const PREVIOUS: &str = "transport.previous.pem";

struct Key {
    key: RsaPrivateKey,
    public_b64: String,
    /// When it became current (file mtime).
    since: SystemTime,
}

struct Keys {
    current: Key,
    /// The key before, and when it stopped being current.
    previous: Option<Key>,
}

pub struct RsaTransport {
    dir: PathBuf,
    bits: usize,
    rotate_after: Duration,
    grace: Duration,
    keys: RwLock<Keys>,
}

/// A new private key as PKCS#8 PEM.
pub fn generate_pem(bits: usize) -> Result<String, String> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
        .map_err(|e| format!("RSA key generation: {e}"))?;
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|p| p.to_string())
        .map_err(|e| format!("RSA key encoding: {e}"))
}

pub(crate) fn write_private(path: &Path, pem: &str) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(pem.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn load(path: &Path, min_bits: usize) -> Result<Option<Key>, String> {
    if !path.exists() {
        return Ok(None);
    }
    let pem = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let key = RsaPrivateKey::from_pkcs8_pem(&pem)
        .map_err(|e| format!("{}: not a PKCS#8 RSA key: {e}", path.display()))?;
    if key.size() * 8 < min_bits.max(2048) {
        return Err(format!(
            "{}: a {}-bit key is too short: 2048 bits at least",
            path.display(),
            key.size() * 8
        ));
    }
    let since = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| SystemTime::now());
    Ok(Some(Key {
        public_b64: public_b64(&key)?,
        key,
        since,
    }))
}

fn public_b64(key: &RsaPrivateKey) -> Result<String, String> {
    let der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| format!("RSA public key: {e}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(der.as_bytes()))
}

impl RsaTransport {
    /// Loads the keys of `dir`, making the folder and a key on first start. A key shorter than
    /// 2048 bits (or than `bits`) is refused.
    pub fn open(
        dir: &Path,
        bits: usize,
        rotate_after: Duration,
        grace: Duration,
    ) -> Result<Self, String> {
        if bits < 2048 {
            return Err(format!("keys.rsa_bits = {bits}: 2048 at least"));
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("keys.dir {}: {e}", dir.display()))?;
        let current = match load(&dir.join(CURRENT), 2048)? {
            Some(k) => k,
            None => {
                write_private(&dir.join(CURRENT), &generate_pem(bits)?)?;
                load(&dir.join(CURRENT), bits)?.ok_or("transport key vanished")?
            }
        };
        let previous = load(&dir.join(PREVIOUS), 2048)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            bits,
            rotate_after,
            grace,
            keys: RwLock::new(Keys { current, previous }),
        })
    }

    /// Makes a new current key once the current one is older than `rotate_after`.
    pub fn rotate_if_due(&self) -> Result<bool, String> {
        let due = {
            let k = self.keys.read().unwrap_or_else(|e| e.into_inner());
            k.current.since.elapsed().unwrap_or_default() >= self.rotate_after
        };
        if due {
            self.rotate()?;
        }
        Ok(due)
    }

    /// The current key becomes the previous one; a new key becomes current.
    pub fn rotate(&self) -> Result<(), String> {
        let pem = generate_pem(self.bits)?;
        let (cur, prev) = (self.dir.join(CURRENT), self.dir.join(PREVIOUS));
        std::fs::rename(&cur, &prev).map_err(|e| format!("{}: {e}", cur.display()))?;
        write_private(&cur, &pem)?;
        let current = load(&cur, self.bits)?.ok_or("transport key vanished")?;
        let mut k = self.keys.write().unwrap_or_else(|e| e.into_inner());
        let mut old = std::mem::replace(&mut k.current, current);
        old.since = SystemTime::now();
        k.previous = Some(old);
        tracing::info!("RSA transport key rotated");
        Ok(())
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
        let k = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let try_key = |key: &RsaPrivateKey| {
            key.decrypt(Pkcs1v15Encrypt, &bytes)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
        };
        let clear = try_key(&k.current.key).or_else(|| {
            let prev = k.previous.as_ref()?;
            // `since` of the previous key is when it was retired.
            (prev.since.elapsed().unwrap_or_default() < self.grace)
                .then(|| try_key(&prev.key))
                .flatten()
        })?;
        Some(Secret::new(clear))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rsa::pkcs8::DecodePublicKey;

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

    #[test]
    fn a_rotated_key_keeps_decrypting_within_the_grace_period_only() {
        let dir = tempfile::tempdir().unwrap();
        let t = RsaTransport::open(
            dir.path(),
            2048,
            Duration::from_secs(3600),
            Duration::from_secs(3600),
        )
        .unwrap();
        let old = encrypt(&t.public_key(), "pw");
        assert_eq!(t.decrypt(&old).unwrap().expose(), "pw");
        t.rotate().unwrap();
        assert_ne!(encrypt(&t.public_key(), "x"), old);
        assert_eq!(
            t.decrypt(&old).unwrap().expose(),
            "pw",
            "in flight across the rotation"
        );
        let strict =
            RsaTransport::open(dir.path(), 2048, Duration::from_secs(3600), Duration::ZERO)
                .unwrap();
        assert!(strict.decrypt(&old).is_none(), "after the grace period");
        assert!(t.decrypt("not base64!").is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(CURRENT))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn short_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(RsaTransport::open(
            dir.path(),
            1024,
            Duration::from_secs(1),
            Duration::from_secs(1)
        )
        .is_err());
        let pem = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024)
            .unwrap()
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap();
        std::fs::write(dir.path().join(CURRENT), pem.as_bytes()).unwrap();
        let e = RsaTransport::open(
            dir.path(),
            2048,
            Duration::from_secs(1),
            Duration::from_secs(1),
        )
        .err()
        .unwrap();
        assert!(e.contains("too short"), "{e}");
    }
}
