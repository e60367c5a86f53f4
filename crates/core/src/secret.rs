//! Secrets that never show in logs, token generation and the SHA-256 digests stored instead of
//! tokens and client secrets (random and long: a slow hash would only slow every token request;
//! see `docs/reference/model.md`, "Storage and scale").

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
    /// The key a token is stored and looked up under. For a token from
    /// [`new_ordered_token`] it is the token's 8 ordering bytes followed by the first 24 bytes
    /// of its SHA-256, so that new rows land at the end of the store's index instead of on a
    /// random page (one page per batch instead of one per token: issue 7, `BENCHMARKS.md`);
    /// 192 bits of digest still cannot be inverted or collided. Any other token (UUIDs,
    /// opaque tokens issued before this format) is keyed by its full SHA-256 as before. The
    /// two kinds cannot meet: finding a token whose digest tail equals a full digest's is a
    /// 192-bit preimage.
    pub fn of_token(token: &str) -> Self {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        match ordering_bytes(token) {
            Some(order) => {
                let mut key = [0u8; 32];
                key[..8].copy_from_slice(&order);
                key[8..].copy_from_slice(&digest[..24]);
                Self(key)
            }
            None => Self(digest),
        }
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

/// A fresh token from a CSPRNG: `rand`'s thread-local generator (ChaCha12, seeded from the
/// operating system and reseeded from it every 64 KiB of output; docs.rs/rand/0.8, `ThreadRng`).
/// Asking the kernel for every token (`OsRng`) was one `getrandom` system call per token, ~2 %
/// of the core on the refresh path (issue 7, perf).
pub fn new_token(format: TokenFormat) -> String {
    match format {
        TokenFormat::Opaque => {
            let mut b = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut b);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        }
        TokenFormat::Uuid => uuid::Uuid::new_v4().to_string(),
    }
}

/// Length of an ordered opaque token: 40 bytes (8 ordering + 32 random), base64url.
const ORDERED_LEN: usize = 54;

/// A new opaque token whose first 8 bytes are `order` (big-endian) and whose other 32 are
/// random (from the same generator): 256 random bits, like [`new_token`], and stored under a key that sorts by `order`
/// ([`TokenHash::of_token`]). `order` is the issue second and a per-process sequence
/// (`Engine::token_order`); it tells a holder when the token was issued, which introspection
/// tells anyway, and nothing secret.
pub fn new_ordered_token(order: u64) -> String {
    let mut b = [0u8; 40];
    b[..8].copy_from_slice(&order.to_be_bytes());
    rand::thread_rng().fill_bytes(&mut b[8..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The ordering bytes of a token made by [`new_ordered_token`], if it has that shape.
fn ordering_bytes(token: &str) -> Option<[u8; 8]> {
    if token.len() != ORDERED_LEN {
        return None;
    }
    let mut b = [0u8; 42];
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode_slice(token.as_bytes(), &mut b)
        .ok()?;
    (n == 40).then(|| {
        let mut o = [0u8; 8];
        o.copy_from_slice(&b[..8]);
        o
    })
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
    fn ordered_tokens_carry_256_random_bits_and_keys_sort_by_order() {
        let a = new_ordered_token(7 << 32);
        let b = new_ordered_token((7 << 32) + 1);
        let c = new_ordered_token(8 << 32);
        assert_eq!(a.len(), ORDERED_LEN);
        let (ka, kb, kc) = (
            TokenHash::of_token(&a),
            TokenHash::of_token(&b),
            TokenHash::of_token(&c),
        );
        assert!(ka.0 < kb.0 && kb.0 < kc.0);
        // The key is the order then the digest: another token with the same order differs.
        let a2 = new_ordered_token(7 << 32);
        assert_eq!(TokenHash::of_token(&a2).0[..8], ka.0[..8]);
        assert_ne!(TokenHash::of_token(&a2), ka);
        assert_eq!(&ka.0[8..], &TokenHash::of(&a).0[..24]);
    }

    #[test]
    fn other_tokens_keep_the_full_digest() {
        for t in [
            new_token(TokenFormat::Opaque),
            new_token(TokenFormat::Uuid),
            "x".repeat(ORDERED_LEN), // right length, but not 40 bytes of base64url
            "!".repeat(ORDERED_LEN),
        ] {
            assert_eq!(TokenHash::of_token(&t), TokenHash::of(&t), "{t}");
        }
    }

    #[test]
    fn hash_round_trips_through_hex_and_compares() {
        let h = TokenHash::of("x");
        assert!(TokenHash::from_hex(&h.to_hex()).is_some_and(|g| g.ct_eq(&h)));
        assert!(!h.ct_eq(&TokenHash::of("y")));
        assert_eq!(format!("{:?}", Secret::new("pw")), "Secret(***)");
    }
}
