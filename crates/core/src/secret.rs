//! Secrets that never show in logs, token generation and the SHA-256 digests stored instead of
//! tokens and client secrets (random and long: a slow hash would only slow every token request;
//! see `spec/README.md`, "Storage and scale").

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A clear-text secret from the wire or a file. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// SHA-256 of a token or client secret: what the store keeps.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn of(s: &str) -> Self {
        Self(Sha256::digest(s.as_bytes()).into())
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    pub fn from_hex(s: &str) -> Option<Self> {
        let v = hex::decode(s).ok()?;
        Some(Self(v.try_into().ok()?))
    }
    /// Constant-time comparison (`subtle`), so that a secret's check takes the same time
    /// wherever the first wrong byte is.
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenHash({}…)", &self.to_hex()[..8])
    }
}

/// The shape of a new opaque token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFormat {
    /// 32 random bytes, base64url without padding (256 bits).
    Opaque,
    /// A random UUID string, for dialects whose clients show UUID tokens (seed 000). Note: a v4
    /// UUID carries 122 random bits.
    Uuid,
}

/// A fresh token from the operating system's CSPRNG.
pub fn new_token(format: TokenFormat) -> String {
    match format {
        TokenFormat::Opaque => {
            let mut b = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut b);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        }
        TokenFormat::Uuid => uuid::Uuid::new_v4().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_tokens_carry_256_bits_and_differ() {
        let a = new_token(TokenFormat::Opaque);
        let b = new_token(TokenFormat::Opaque);
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn hash_round_trips_through_hex_and_compares() {
        let h = TokenHash::of("x");
        assert!(TokenHash::from_hex(&h.to_hex()).is_some_and(|g| g.ct_eq(&h)));
        assert!(!h.ct_eq(&TokenHash::of("y")));
        assert_eq!(format!("{:?}", Secret::new("pw")), "Secret(***)");
    }
}
