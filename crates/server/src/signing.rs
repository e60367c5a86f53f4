//! The ID-token signing key (`keys.dir/signing.pem`, RSA, PKCS#8, mode 0600), made on first
//! start under the lock of `keys.dir` (see `keys.rs`), so that processes sharing the folder sign
//! with one key. JWTs are RS256 (jsonwebtoken) with a `kid` derived from the public key
//! (RFC 7638 thumbprint), so that a second key can be published beside the first when keys
//! rotate.

use base64::Engine as _;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};
use std::path::Path;
use tessera_core::signer::IdTokenSigner;

const SIGNING: &str = "signing.pem";

pub struct RsaSigner {
    key: jsonwebtoken::EncodingKey,
    kid: String,
    jwk: serde_json::Value,
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl RsaSigner {
    /// Loads `dir/signing.pem`, making it on first start under the lock of `keys.dir`, so that
    /// processes starting together on a shared `keys.dir` agree on one key.
    pub fn open(dir: &Path, bits: usize) -> Result<Self, crate::keys::KeyError> {
        use crate::keys::KeyError;
        crate::keydir::create_dir(dir)?;
        crate::keys::create_once(dir, SIGNING, bits)?;
        let path = dir.join(SIGNING);
        let pem = std::fs::read_to_string(&path).map_err(|source| {
            KeyError::Dir(crate::keydir::KeyDirError::Io {
                path: path.clone(),
                source,
            })
        })?;
        let private = crate::keys::parse_private(&path, &pem)?;
        let (n, e) = (
            b64url(&private.n().to_bytes_be()),
            b64url(&private.e().to_bytes_be()),
        );
        // RFC 7638: the thumbprint of the required members in lexicographic order.
        let thumb = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = b64url(&Sha256::digest(thumb.as_bytes()));
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| {
            KeyError::NotAKey {
                path: path.clone(),
                message: e.to_string(),
            }
        })?;
        let jwk = serde_json::json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e });
        Ok(Self { key, kid, jwk })
    }
}

impl IdTokenSigner for RsaSigner {
    fn sign(&self, claims: &serde_json::Value) -> Result<String, String> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|e| format!("signing: {e}"))
    }

    fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.jwk] })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_first_starts_sign_with_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let barrier = std::sync::Barrier::new(3);
        let kids: Vec<String> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..3)
                .map(|_| {
                    let barrier = &barrier;
                    let dir = dir.path();
                    s.spawn(move || {
                        barrier.wait();
                        RsaSigner::open(dir, 2048).unwrap().kid
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(kids.iter().all(|k| *k == kids[0]), "{kids:?}");
        assert_eq!(RsaSigner::open(dir.path(), 2048).unwrap().kid, kids[0]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SIGNING))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
