//! Seed 001's password transport: the browser encrypts the password with the server's RSA
//! public key (PKCS#1 v1.5, base64, as JSEncrypt does). The key files and the RSA work live in
//! the server crate; the engine sees this trait.

use crate::secret::Secret;

pub trait PasswordTransport: Send + Sync + 'static {
    /// The current public key: base64 of the DER SubjectPublicKeyInfo.
    fn public_key(&self) -> String;
    /// The clear password, if `ciphertext_b64` decrypts under the current key or, during its
    /// grace period, the previous one.
    fn decrypt(&self, ciphertext_b64: &str) -> Option<Secret>;
}

/// No transport key: every ciphertext fails (engines built without one, in unit tests).
pub struct NoTransport;

impl PasswordTransport for NoTransport {
    fn public_key(&self) -> String {
        String::new()
    }
    fn decrypt(&self, _ciphertext_b64: &str) -> Option<Secret> {
        None
    }
}
