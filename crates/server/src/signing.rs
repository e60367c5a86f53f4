//! The ID-token signing key (`keys.dir/signing.pem`, RSA, PKCS#8, mode 0600), made on first
//! start. JWTs are RS256 (jsonwebtoken) with a `kid` derived from the public key (RFC 7638
//! thumbprint), so that a second key can be published beside the first when keys rotate.

use base64::Engine as _;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};
use std::path::Path;
use tessera_core::signer::IdTokenSigner;

pub struct RsaSigner {
    key: jsonwebtoken::EncodingKey,
    kid: String,
    jwk: serde_json::Value,
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl RsaSigner {
    pub fn open(dir: &Path, bits: usize) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("keys.dir {}: {e}", dir.display()))?;
        let path = dir.join("signing.pem");
        if !path.exists() {
            crate::keys::write_private(&path, &crate::keys::generate_pem(bits)?)?;
        }
        let pem = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let private = RsaPrivateKey::from_pkcs8_pem(&pem)
            .map_err(|e| format!("{}: not a PKCS#8 RSA key: {e}", path.display()))?;
        if private.size() * 8 < 2048 {
            return Err(format!(
                "{}: a {}-bit key is too short: 2048 bits at least",
                path.display(),
                private.size() * 8
            ));
        }
        let (n, e) = (
            b64url(&private.n().to_bytes_be()),
            b64url(&private.e().to_bytes_be()),
        );
        // RFC 7638: the thumbprint of the required members in lexicographic order.
        let thumb = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = b64url(&Sha256::digest(thumb.as_bytes()));
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
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
