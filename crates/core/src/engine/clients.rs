//! Identifying the calling client, and the scope it may have.

use super::Engine;
use crate::error::{ClientAuthFailure, EngineError};
use crate::model::Client;
use crate::secret::{Secret, TokenHash};

impl Engine {
    /// Identifies a client by `client_id` and, for a confidential client, its secret (compared
    /// as SHA-256 digests in constant time). A public client presenting no secret is
    /// identified; whether it may use a grant is the caller's question.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: Option<&Secret>,
    ) -> Result<Result<Client, ClientAuthFailure>, EngineError> {
        let Some(client) = self.store.client_by_client_id(client_id).await? else {
            return Ok(Err(ClientAuthFailure::UnknownClient));
        };
        match (&client.secret_hash, secret) {
            (None, _) => Ok(Ok(client)),
            (Some(_), None) => Ok(Err(ClientAuthFailure::SecretMissing)),
            (Some(stored), Some(given)) => {
                if stored.ct_eq(&TokenHash::of(given.expose())) {
                    Ok(Ok(client))
                } else {
                    Ok(Err(ClientAuthFailure::WrongSecret))
                }
            }
        }
    }
}

impl Engine {
    /// A client by name without authentication: only for the configured
    /// `dialects.cluster.default_client` (seed 000's requests carry no client credentials).
    pub async fn client_named(&self, client_id: &str) -> Result<Option<Client>, EngineError> {
        Ok(self.store.client_by_client_id(client_id).await?)
    }
}

/// The scope to grant: the client's registered scopes when none is asked for, else the asked
/// scopes if every one is registered (RFC 6749 §3.3). `None` means `invalid_scope`.
pub fn resolve_scope(allowed: &[String], requested: Option<&str>) -> Option<String> {
    match requested.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(allowed.join(" ")),
        Some(req) => {
            let mut out: Vec<&str> = Vec::new();
            for s in req.split(' ').filter(|s| !s.is_empty()) {
                if !allowed.iter().any(|a| a == s) {
                    return None;
                }
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            Some(out.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::resolve_scope;

    #[test]
    fn scope_defaults_to_registered_and_refuses_unregistered() {
        let allowed = vec!["read".to_string(), "write".to_string()];
        assert_eq!(resolve_scope(&allowed, None).as_deref(), Some("read write"));
        assert_eq!(
            resolve_scope(&allowed, Some("")).as_deref(),
            Some("read write")
        );
        assert_eq!(
            resolve_scope(&allowed, Some("write read write")).as_deref(),
            Some("write read")
        );
        assert_eq!(resolve_scope(&allowed, Some("admin")), None);
    }
}
