//! OpenID Connect ID tokens are JWTs signed with a key the server makes and publishes in its
//! JWKS. The key files and the signing live in the server crate; the engine sees this trait.

pub trait IdTokenSigner: Send + Sync + 'static {
    /// A compact JWS (RS256) of `claims`, with the current key's `kid`.
    fn sign(&self, claims: &serde_json::Value) -> Result<String, String>;
    /// The public keys, as a JWK Set (RFC 7517).
    fn jwks(&self) -> serde_json::Value;
}

/// No signing key (unit tests): signing fails.
pub struct NoSigner;

impl IdTokenSigner for NoSigner {
    fn sign(&self, _claims: &serde_json::Value) -> Result<String, String> {
        Err("no signing key".into())
    }
    fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [] })
    }
}
