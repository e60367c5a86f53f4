//! Seed 002: an application signs in with `appId` / `appKey` / `appSecret` and refreshes by
//! refresh token alone. Credentials are checked before the key's state (a disabled key with a
//! wrong secret is 401, `docs/reference/appkey.md`).

use super::Engine;
use crate::error::EngineError;
use crate::ids::{new_id, ClientId, FamilyId, UserProductId};
use crate::model::*;
use crate::secret::{Secret, TokenFormat, TokenHash};

/// Why an app key sign-in or refresh was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKeyFailure {
    /// Unknown key, wrong app id or secret; a dead, expired or reused refresh token (401).
    BadCredentials,
    /// The key, its org, its tenant or its user is disabled (403).
    Disabled,
}

/// Everything seed 002's `loginUser` shows, and the tokens.
#[derive(Debug, Clone)]
pub struct AppKeyGrant {
    pub key: AppKey,
    pub org: Org,
    pub org_product_name: String,
    /// Set for a key bound to a user (`loginUserType` `USER`).
    pub user: Option<User>,
    pub user_product: Option<(UserProductId, bool)>,
    pub issued: super::Issued,
}

/// Tokens of app keys carry this client id, so that no OAuth client can refresh or revoke them.
fn client_id_of(key: &AppKey) -> ClientId {
    ClientId(format!("appkey:{}", key.app_key))
}

impl Engine {
    /// Seed 002's sign-in, from credential to grant: checks, audits (with the origin's IP)
    /// and issues.
    pub async fn app_key_login(
        &self,
        app_id: &str,
        app_key: &str,
        secret: &Secret,
        origin: &super::Origin,
    ) -> Result<Result<AppKeyGrant, AppKeyFailure>, EngineError> {
        let found = self.store.app_key_by_key(app_key).await?;
        // Hash the secret whether or not the key exists: the same work either way.
        let given = TokenHash::of(secret.expose());
        let known_app = found.as_ref().is_some_and(|k| k.app_id == app_id);
        let Some(key) = found.filter(|k| k.app_id == app_id && k.secret_hash.ct_eq(&given)) else {
            // Audited like every failed sign-in: the app id as given (cut short) when a key of
            // that app was named, else only its digest (it may be anything, a secret too).
            let shown = if known_app {
                super::audit_text(app_id, super::AUDIT_NAME_MAX)
            } else {
                super::unknown_name(app_id)
            };
            self.audit_login(
                Dialect::Appkey,
                super::LoginOutcome::BadCredentials,
                None,
                Some(&shown),
                origin.ip.clone(),
            )
            .await;
            return Ok(Err(AppKeyFailure::BadCredentials));
        };
        let (org, user) = match self.app_key_state(&key).await? {
            Ok(x) => x,
            Err(f) => {
                self.audit_login(
                    Dialect::Appkey,
                    super::LoginOutcome::KeyDisabled,
                    key.user_id,
                    Some(&key.app_id),
                    origin.ip.clone(),
                )
                .await;
                return Ok(Err(f));
            }
        };
        let subject = TokenSubject {
            client_id: client_id_of(&key),
            user_id: key.user_id,
            tenant_id: Some(org.tenant_id),
            org_id: Some(org.id),
            app_key_id: Some(key.id),
            scope: String::new(),
            device_id: None,
            source_type: None,
            session_id: None,
        };
        let (grant, issued) = self.build_grant(
            self.ttls(None),
            FamilyId(new_id()),
            subject,
            true,
            TokenFormat::Opaque,
            self.now(),
        );
        self.store.insert_grant(&grant).await?;
        metrics::counter!("tessera_tokens_issued_total", "dialect" => Dialect::Appkey.as_str())
            .increment(1);
        self.audit_login(
            Dialect::Appkey,
            super::LoginOutcome::Success,
            key.user_id,
            Some(&key.app_id),
            origin.ip.clone(),
        )
        .await;
        self.app_key_grant(key, org, user, issued).await.map(Ok)
    }

    /// Rotates an app key's refresh token; a spent one revokes its family.
    pub async fn app_key_refresh(
        &self,
        refresh_token: &str,
    ) -> Result<Result<AppKeyGrant, AppKeyFailure>, EngineError> {
        let hash = TokenHash::of_token(refresh_token);
        let Some(rec) = self.store.token_by_hash(&hash).await? else {
            return Ok(Err(AppKeyFailure::BadCredentials));
        };
        let Some(key_id) = rec.subject.app_key_id else {
            return Ok(Err(AppKeyFailure::BadCredentials));
        };
        let key_name = rec
            .subject
            .client_id
            .0
            .strip_prefix("appkey:")
            .unwrap_or("")
            .to_string();
        let Some(key) = self
            .store
            .app_key_by_key(&key_name)
            .await?
            .filter(|k| k.id == key_id)
        else {
            return Ok(Err(AppKeyFailure::BadCredentials));
        };
        let (org, user) = match self.app_key_state(&key).await? {
            Ok(x) => x,
            Err(f) => return Ok(Err(f)),
        };
        match self
            .rotate(&hash, rec, None, self.ttls(None), TokenFormat::Opaque)
            .await?
        {
            Ok(issued) => self.app_key_grant(key, org, user, issued).await.map(Ok),
            Err(_) => Ok(Err(AppKeyFailure::BadCredentials)),
        }
    }

    /// The key's org and user, if the key, org, tenant and user are all enabled.
    async fn app_key_state(
        &self,
        key: &AppKey,
    ) -> Result<Result<(Org, Option<User>), AppKeyFailure>, EngineError> {
        if !key.enabled {
            return Ok(Err(AppKeyFailure::Disabled));
        }
        let Some(org) = self.store.org_by_id(key.org_id).await? else {
            return Ok(Err(AppKeyFailure::Disabled));
        };
        let tenant_enabled = self
            .store
            .tenant_by_id(org.tenant_id)
            .await?
            .is_some_and(|t| t.enabled);
        if !org.enabled || !tenant_enabled {
            return Ok(Err(AppKeyFailure::Disabled));
        }
        let user = match key.user_id {
            Some(uid) => match self.store.user_by_id(uid).await? {
                // The lock applies to every dialect (docs/reference/appkey.md, "Lockout counting"), and
                // so do the account's activation and expiry (issue 15).
                Some(u)
                    if u.enabled
                        && u.active
                        && u.locked_until.is_none_or(|l| l <= self.now())
                        && u.expires_at.is_none_or(|e| e > self.now()) =>
                {
                    Some(u)
                }
                _ => return Ok(Err(AppKeyFailure::Disabled)),
            },
            None => None,
        };
        Ok(Ok((org, user)))
    }

    async fn app_key_grant(
        &self,
        key: AppKey,
        org: Org,
        user: Option<User>,
        issued: super::Issued,
    ) -> Result<AppKeyGrant, EngineError> {
        let org_product_name = self
            .store
            .org_product_name(org.id, key.product_id)
            .await?
            .unwrap_or_default();
        let user_product = match &user {
            Some(u) => {
                self.store
                    .user_product(u.id, org.id, key.product_id)
                    .await?
            }
            None => None,
        };
        Ok(AppKeyGrant {
            key,
            org,
            org_product_name,
            user,
            user_product,
            issued,
        })
    }
}
