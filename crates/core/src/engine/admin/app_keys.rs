//! Admin operations on app keys (seed 002).

use super::{conflict, AdminFailure, Outcome};
use crate::engine::actor::Actor;
use crate::engine::{AdminAction, Engine};
use crate::error::EngineError;
use crate::ids::{new_id, UserId};
use crate::model::*;
use crate::secret::{new_token, TokenFormat};

impl Engine {
    /// The app keys the actor may see: a tenant actor's are those of its tenant's orgs.
    pub async fn admin_list_app_keys(&self, actor: &Actor) -> Result<Vec<AppKey>, EngineError> {
        let mut ks = self.store.list_app_keys().await?;
        if let Some(own) = actor.tenant_id() {
            let orgs: Vec<crate::ids::OrgId> = self
                .store
                .list_orgs(own)
                .await?
                .iter()
                .map(|o| o.id)
                .collect();
            ks.retain(|k| orgs.contains(&k.org_id));
        }
        Ok(ks)
    }

    /// The app key `app_key` if the actor may see it.
    async fn app_key_in_reach(&self, actor: &Actor, app_key: &str) -> Outcome<AppKey> {
        let Some(k) = self.store.app_key_by_key(app_key).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        if let Some(own) = actor.tenant_id() {
            match self.store.org_by_id(k.org_id).await? {
                Some(o) if o.tenant_id == own => {}
                _ => return Ok(Err(AdminFailure::NotFound)),
            }
        }
        Ok(Ok(k))
    }

    /// Creates an app key bound to the org `tenant/org` and a product (and a user if given);
    /// its secret is answered once.
    #[allow(clippy::too_many_arguments)]
    pub async fn admin_create_app_key(
        &self,
        actor: &Actor,
        app_id: &str,
        app_key: &str,
        tenant: &str,
        org: &str,
        product: i64,
        user: Option<UserId>,
        system_admin: bool,
    ) -> Outcome<(AppKey, String)> {
        refuse!(actor.may_tenant(tenant));
        if app_key.trim().is_empty() || app_id.trim().is_empty() {
            return Ok(Err(AdminFailure::Invalid {
                field: "app_key",
                message: "app_id and app_key are required".into(),
            }));
        }
        if self.store.app_key_by_key(app_key).await?.is_some() {
            return Ok(Err(AdminFailure::Conflict("app_key".into())));
        }
        let Some((_, o)) = self.org_by_codes(tenant, org).await? else {
            return Ok(Err(AdminFailure::Invalid {
                field: "org",
                message: format!("no org {tenant}/{org}"),
            }));
        };
        if self
            .store
            .org_product_name(o.id, crate::ids::ProductId(product))
            .await?
            .is_none()
        {
            return Ok(Err(AdminFailure::Invalid {
                field: "product",
                message: format!("product {product} is not linked to {tenant}/{org}"),
            }));
        }
        if let Some(u) = user {
            // The key signs in as this user: the user must be a member of the key's org. An
            // unknown id and another tenant's user get the same answer (issue 15, finding 3).
            let member = self
                .store
                .memberships_of(u)
                .await?
                .iter()
                .any(|m| m.org.id == o.id);
            if !member {
                return Ok(Err(AdminFailure::Invalid {
                    field: "user_id",
                    message: format!("not a member of {tenant}/{org}"),
                }));
            }
        }
        let secret = new_token(TokenFormat::Opaque);
        let k = AppKey {
            id: crate::ids::AppKeyId(new_id()),
            app_id: app_id.to_string(),
            app_key: app_key.to_string(),
            secret_hash: crate::secret::TokenHash::of(&secret),
            org_id: o.id,
            product_id: crate::ids::ProductId(product),
            user_id: user,
            system_admin,
            enabled: true,
        };
        if let Err(e) = self.store.put_app_key(&k, self.now()).await {
            return Ok(Err(conflict(e)?));
        }
        self.admin_audit(
            actor,
            AdminAction::AppKeyCreate,
            &format!("app key {app_key}"),
        )
        .await;
        Ok(Ok((k, secret)))
    }

    /// Enables or disables an app key, or makes its user a system admin.
    pub async fn admin_update_app_key(
        &self,
        actor: &Actor,
        app_key: &str,
        enabled: Option<bool>,
        system_admin: Option<bool>,
    ) -> Outcome<AppKey> {
        let mut k = refuse!(self.app_key_in_reach(actor, app_key).await?);
        if let Some(e) = enabled {
            k.enabled = e;
        }
        if let Some(s) = system_admin {
            k.system_admin = s;
        }
        self.store.put_app_key(&k, self.now()).await?;
        self.admin_audit(
            actor,
            AdminAction::AppKeyUpdate,
            &format!("app key {app_key}"),
        )
        .await;
        Ok(Ok(k))
    }

    /// A new app secret, answered once; the old one stops working.
    pub async fn admin_rotate_app_secret(&self, actor: &Actor, app_key: &str) -> Outcome<String> {
        let mut k = refuse!(self.app_key_in_reach(actor, app_key).await?);
        let s = new_token(TokenFormat::Opaque);
        k.secret_hash = crate::secret::TokenHash::of(&s);
        self.store.put_app_key(&k, self.now()).await?;
        self.admin_audit(
            actor,
            AdminAction::AppKeySecretRotate,
            &format!("app key {app_key}"),
        )
        .await;
        Ok(Ok(s))
    }
}
