//! Identifying the calling client, and the scope it may have.

use super::Engine;
use crate::clock::UnixTime;
use crate::error::{ClientAuthFailure, EngineError};
use crate::model::Client;
use crate::secret::{Secret, TokenHash};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Registered clients, kept a few seconds so that the hot paths (token, introspection) do not
/// read the client row on every request. Only clients that exist are kept, so unknown
/// `client_id`s cannot grow it. Another process's change to a client is seen within `ttl`.
pub(crate) struct ClientCache {
    ttl: i64,
    map: RwLock<HashMap<String, (Arc<Client>, UnixTime)>>,
}

/// Past this many entries the cache starts over (it only holds registered clients).
const CLIENT_CACHE_MAX: usize = 10_000;

impl ClientCache {
    pub(crate) fn new(ttl: i64) -> Self {
        Self {
            ttl,
            map: RwLock::new(HashMap::new()),
        }
    }

    fn get(&self, id: &str, now: UnixTime) -> Option<Arc<Client>> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(id)
            .filter(|(_, at)| now < at + self.ttl)
            .map(|(c, _)| c.clone())
    }

    /// A client seen before, however long ago (never for authentication: only to pick the
    /// shape of an answer while storage does not answer).
    fn get_any(&self, id: &str) -> Option<Arc<Client>> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(id).map(|(c, _)| c.clone())
    }

    fn put(&self, c: &Arc<Client>, now: UnixTime) {
        if self.ttl <= 0 {
            return;
        }
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CLIENT_CACHE_MAX {
            map.clear();
        }
        map.insert(c.client_id.0.clone(), (c.clone(), now));
    }

    pub(crate) fn clear(&self) {
        self.map.write().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl Engine {
    /// Identifies a client by `client_id` and, for a confidential client, its secret (compared
    /// as SHA-256 digests in constant time). A public client presenting no secret is
    /// identified; whether it may use a grant is the caller's question.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: Option<&Secret>,
    ) -> Result<Result<Arc<Client>, ClientAuthFailure>, EngineError> {
        let Some(client) = self.client_named(client_id).await? else {
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
    /// A client by name without authentication (for the configured
    /// `dialects.cluster.default_client`, whose requests carry no credentials, and for choosing
    /// the dialect that answers a refusal).
    pub async fn client_named(&self, client_id: &str) -> Result<Option<Arc<Client>>, EngineError> {
        let now = self.now();
        if let Some(c) = self.clients.get(client_id, now) {
            return Ok(Some(c));
        }
        let found = self
            .store
            .client_by_client_id(client_id)
            .await?
            .map(Arc::new);
        if let Some(c) = &found {
            self.clients.put(c, now);
        }
        Ok(found)
    }

    /// The dialect of a client this process has seen, however long ago: the shape in which to
    /// answer a fault while storage does not answer (never used to authenticate).
    pub fn remembered_dialect(&self, client_id: &str) -> Option<crate::model::Dialect> {
        self.clients.get_any(client_id).map(|c| c.dialect)
    }

    /// Forgets cached clients, after a change made through this process.
    pub fn forget_clients(&self) {
        self.clients.clear();
    }
}

/// The scope to grant: the client's registered scopes when none is asked for, else the asked
/// scopes if every one is registered (RFC 6749 §3.3). `None` means `invalid_scope`.
///
/// An entry that is not one scope token (stored before issue 15 refused them, e.g.
/// `"x tessera:admin"`) is never granted: joined, it would become two scopes.
pub fn resolve_scope(allowed: &[String], requested: Option<&str>) -> Option<String> {
    let usable = || allowed.iter().filter(|a| super::is_scope_token(a));
    match requested.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(usable().map(String::as_str).collect::<Vec<_>>().join(" ")),
        Some(req) => {
            let mut out: Vec<&str> = Vec::new();
            for s in req.split(' ').filter(|s| !s.is_empty()) {
                if !usable().any(|a| a == s) {
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
