//! What the admin API does, as engine operations: each validates, changes the store, and
//! writes an audit event (`kind = "admin"`). Refusals are typed ([`AdminFailure`]).

use super::Engine;
use crate::error::{EngineError, StoreError};
use crate::ids::{new_id, UserId};
use crate::model::*;
use crate::secret::{new_token, Secret, TokenFormat};
use crate::store::{AuditFilter, NewUser, UserFilter, UserPatch};

/// Why an admin operation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminFailure {
    NotFound,
    /// A unique value is taken (username, phone, email, client id…).
    Conflict(String),
    /// A field's value is not acceptable.
    Invalid {
        field: &'static str,
        message: String,
    },
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub username: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub password: Option<Secret>,
    pub user_type: UserType,
    pub display_name: String,
    pub real_name: String,
    pub enabled: bool,
    pub active: bool,
}

type Outcome<T> = Result<Result<T, AdminFailure>, EngineError>;

fn conflict(e: StoreError) -> Result<AdminFailure, EngineError> {
    match e {
        StoreError::Conflict { constraint } => Ok(AdminFailure::Conflict(constraint)),
        other => Err(other.into()),
    }
}

impl Engine {
    async fn admin_audit(&self, actor: &str, action: &str, target: &str) {
        self.audit(AuditEvent {
            at: self.now(),
            kind: "admin".into(),
            dialect: "admin".into(),
            outcome: action.into(),
            user_id: None,
            client_id: Some(actor.to_string()),
            ip: None,
            detail: target.to_string(),
        })
        .await
    }

    /// The org `org` of the tenant `tenant` (codes), with its tenant.
    async fn org_by_codes(
        &self,
        tenant: &str,
        org: &str,
    ) -> Result<Option<(Tenant, Org)>, EngineError> {
        let Some(t) = self.store.tenant_by_code(tenant).await? else {
            return Ok(None);
        };
        let o = self
            .store
            .list_orgs(t.id)
            .await?
            .into_iter()
            .find(|x| x.code == org);
        Ok(o.map(|o| (t, o)))
    }

    pub async fn admin_list_users(&self, f: &UserFilter) -> Result<(Vec<User>, i64), EngineError> {
        Ok(self.store.list_users(f).await?)
    }

    pub async fn admin_get_user(
        &self,
        id: UserId,
    ) -> Result<Option<(User, Vec<Membership>)>, EngineError> {
        let Some(u) = self.store.user_by_id(id).await? else {
            return Ok(None);
        };
        let ms = self.store.memberships_of(id).await?;
        Ok(Some((u, ms)))
    }

    pub async fn admin_create_user(&self, actor: &str, c: CreateUser) -> Outcome<User> {
        if c.username.trim().is_empty() || c.username.len() > 128 {
            return Ok(Err(AdminFailure::Invalid {
                field: "username",
                message: "1 to 128 characters".into(),
            }));
        }
        if c.email.as_deref().is_some_and(|e| !e.contains('@')) {
            return Ok(Err(AdminFailure::Invalid {
                field: "email",
                message: "not an email address".into(),
            }));
        }
        let password_hash = match c.password {
            Some(p) if p.expose().len() < 8 => {
                return Ok(Err(AdminFailure::Invalid {
                    field: "password",
                    message: "at least 8 characters".into(),
                }))
            }
            Some(p) => Some(self.hasher.hash(p).await?),
            None => None,
        };
        let id = UserId(new_id());
        let nu = NewUser {
            username: c.username.trim().to_string(),
            phone: c.phone.filter(|p| !p.is_empty()),
            email: c.email.filter(|e| !e.is_empty()),
            password_hash,
            user_type: c.user_type,
            display_name: c.display_name,
            real_name: c.real_name,
            enabled: c.enabled,
            active: c.active,
        };
        if let Err(e) = self.store.create_user(&nu, id, self.now()).await {
            return Ok(Err(conflict(e)?));
        }
        self.admin_audit(actor, "user.create", &format!("user {}", id.0))
            .await;
        match self.store.user_by_id(id).await? {
            Some(u) => Ok(Ok(u)),
            None => Ok(Err(AdminFailure::NotFound)),
        }
    }

    pub async fn admin_update_user(&self, actor: &str, id: UserId, p: &UserPatch) -> Outcome<User> {
        match self.store.update_user(id, p).await {
            Ok(true) => {}
            Ok(false) => return Ok(Err(AdminFailure::NotFound)),
            Err(e) => return Ok(Err(conflict(e)?)),
        }
        if p.enabled == Some(false) {
            // A disabled account keeps no live tokens.
            self.store.revoke_user_tokens(id, self.now()).await?;
            self.tokens.clear();
        }
        self.admin_audit(actor, "user.update", &format!("user {}", id.0))
            .await;
        Ok(self
            .store
            .user_by_id(id)
            .await?
            .ok_or(AdminFailure::NotFound))
    }

    /// Sets a new password (given, or a generated one-time password that is answered once);
    /// the lock and failure count are cleared and the user's tokens revoked.
    pub async fn admin_reset_password(
        &self,
        actor: &str,
        id: UserId,
        password: Option<Secret>,
    ) -> Outcome<Option<String>> {
        if password.as_ref().is_some_and(|p| p.expose().len() < 8) {
            return Ok(Err(AdminFailure::Invalid {
                field: "password",
                message: "at least 8 characters".into(),
            }));
        }
        let Some(u) = self.store.user_by_id(id).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        if u.source == UserSource::Ldap {
            return Ok(Err(AdminFailure::Invalid {
                field: "password",
                message: "LDAP users cannot change their password here".into(),
            }));
        }
        let (secret, generated) = match password {
            Some(p) => (p, None),
            None => {
                let g = new_token(TokenFormat::Opaque)[..16].to_string();
                (Secret::new(g.clone()), Some(g))
            }
        };
        let hash = self.hasher.hash(secret).await?;
        self.store.set_password_hash(id, &hash).await?;
        self.store.revoke_user_tokens(id, self.now()).await?;
        self.tokens.clear();
        self.admin_audit(actor, "user.password_reset", &format!("user {}", id.0))
            .await;
        Ok(Ok(generated))
    }

    pub async fn admin_unlock_user(&self, actor: &str, id: UserId) -> Outcome<()> {
        if !self.store.unlock_user(id).await? {
            return Ok(Err(AdminFailure::NotFound));
        }
        self.admin_audit(actor, "user.unlock", &format!("user {}", id.0))
            .await;
        Ok(Ok(()))
    }

    pub async fn admin_user_tokens(&self, id: UserId) -> Outcome<Vec<TokenRecord>> {
        if self.store.user_by_id(id).await?.is_none() {
            return Ok(Err(AdminFailure::NotFound));
        }
        Ok(Ok(self.store.user_tokens(id, self.now()).await?))
    }

    pub async fn admin_revoke_user_tokens(&self, actor: &str, id: UserId) -> Outcome<u64> {
        if self.store.user_by_id(id).await?.is_none() {
            return Ok(Err(AdminFailure::NotFound));
        }
        let n = self.store.revoke_user_tokens(id, self.now()).await?;
        self.tokens.clear();
        self.admin_audit(
            actor,
            "user.tokens_revoke",
            &format!("user {} ({n} tokens)", id.0),
        )
        .await;
        Ok(Ok(n))
    }

    pub async fn admin_user_sessions(&self, id: UserId) -> Outcome<Vec<SsoSession>> {
        if self.store.user_by_id(id).await?.is_none() {
            return Ok(Err(AdminFailure::NotFound));
        }
        Ok(Ok(self.store.user_sessions(id, self.now()).await?))
    }

    /// Live SSO sessions (`GET /admin/api/v1/sessions`), of one tenant and/or one user.
    pub async fn admin_sessions(
        &self,
        tenant: Option<crate::ids::TenantId>,
        user: Option<UserId>,
    ) -> Result<Vec<SsoSession>, EngineError> {
        Ok(self.store.live_sessions(tenant, user, self.now()).await?)
    }

    /// An SSO session by its public id (for tenant-scoped admin checks).
    pub async fn admin_session(&self, id: &str) -> Result<Option<SsoSession>, EngineError> {
        Ok(self.store.session_by_id(id).await?)
    }

    /// An org by id (for tenant-scoped admin checks of app keys).
    pub async fn admin_org(&self, id: crate::ids::OrgId) -> Result<Option<Org>, EngineError> {
        Ok(self.store.org_by_id(id).await?)
    }

    pub async fn admin_revoke_session(&self, actor: &str, id: &str) -> Outcome<()> {
        if self.store.session_by_id(id).await?.is_none() {
            return Ok(Err(AdminFailure::NotFound));
        }
        self.store.revoke_session(id, self.now()).await?;
        self.admin_audit(actor, "session.revoke", &format!("session {id}"))
            .await;
        Ok(Ok(()))
    }

    pub async fn admin_list_tenants(&self) -> Result<Vec<Tenant>, EngineError> {
        Ok(self.store.list_tenants().await?)
    }

    pub async fn admin_tenant(&self, code: &str) -> Result<Option<Tenant>, EngineError> {
        Ok(self.store.tenant_by_code(code).await?)
    }

    /// Creates (`create`: 409 if the code is taken) or updates (404 if missing) a tenant.
    pub async fn admin_put_tenant(
        &self,
        actor: &str,
        mut t: Tenant,
        create: bool,
    ) -> Outcome<Tenant> {
        if t.code.trim().is_empty() || t.code.len() > 64 {
            return Ok(Err(AdminFailure::Invalid {
                field: "code",
                message: "1 to 64 characters".into(),
            }));
        }
        match (self.store.tenant_by_code(&t.code).await?, create) {
            (Some(_), true) => return Ok(Err(AdminFailure::Conflict("code".into()))),
            (None, false) => return Ok(Err(AdminFailure::NotFound)),
            (Some(old), false) => t.id = old.id,
            (None, true) => t.id = crate::ids::TenantId(new_id()),
        }
        self.store.put_tenant(&t, self.now()).await?;
        self.admin_audit(
            actor,
            if create {
                "tenant.create"
            } else {
                "tenant.update"
            },
            &format!("tenant {}", t.code),
        )
        .await;
        Ok(Ok(t))
    }

    pub async fn admin_list_orgs(&self, tenant: &str) -> Outcome<Vec<Org>> {
        let Some(t) = self.store.tenant_by_code(tenant).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        Ok(Ok(self.store.list_orgs(t.id).await?))
    }

    /// Creates or updates the org `code` of tenant `tenant` (`o.id`/`o.tenant_id` are set here).
    pub async fn admin_put_org(
        &self,
        actor: &str,
        tenant: &str,
        mut o: Org,
        create: bool,
    ) -> Outcome<Org> {
        let Some(t) = self.store.tenant_by_code(tenant).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        if o.code.trim().is_empty() || o.code.len() > 64 {
            return Ok(Err(AdminFailure::Invalid {
                field: "code",
                message: "1 to 64 characters".into(),
            }));
        }
        let existing = self
            .store
            .list_orgs(t.id)
            .await?
            .into_iter()
            .find(|x| x.code == o.code);
        match (existing, create) {
            (Some(_), true) => return Ok(Err(AdminFailure::Conflict("code".into()))),
            (None, false) => return Ok(Err(AdminFailure::NotFound)),
            (Some(old), false) => o.id = old.id,
            (None, true) => o.id = crate::ids::OrgId(new_id()),
        }
        o.tenant_id = t.id;
        self.store.put_org(&o).await?;
        self.admin_audit(
            actor,
            if create { "org.create" } else { "org.update" },
            &format!("org {tenant}/{}", o.code),
        )
        .await;
        Ok(Ok(o))
    }

    /// Puts a user in a tenant's org with roles (or changes them).
    pub async fn admin_put_membership(
        &self,
        actor: &str,
        user: UserId,
        tenant: &str,
        org: &str,
        roles: &[String],
        default: bool,
    ) -> Outcome<()> {
        let (Some(_), Some((t, o))) = (
            self.store.user_by_id(user).await?,
            self.org_by_codes(tenant, org).await?,
        ) else {
            return Ok(Err(AdminFailure::NotFound));
        };
        self.store
            .put_membership(user, t.id, o.id, roles, default)
            .await?;
        self.admin_audit(
            actor,
            "membership.put",
            &format!("user {} in {tenant}/{org}: {}", user.0, roles.join(",")),
        )
        .await;
        Ok(Ok(()))
    }

    pub async fn admin_delete_membership(
        &self,
        actor: &str,
        user: UserId,
        tenant: &str,
        org: &str,
    ) -> Outcome<()> {
        let Some((t, o)) = self.org_by_codes(tenant, org).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        if !self.store.delete_membership(user, t.id, o.id).await? {
            return Ok(Err(AdminFailure::NotFound));
        }
        self.admin_audit(
            actor,
            "membership.delete",
            &format!("user {} in {tenant}/{org}", user.0),
        )
        .await;
        Ok(Ok(()))
    }

    pub async fn admin_list_products(&self) -> Result<Vec<Product>, EngineError> {
        Ok(self.store.list_products().await?)
    }

    /// Creates (409 if the id is taken) or renames (404 if missing) a product.
    pub async fn admin_put_product(
        &self,
        actor: &str,
        p: Product,
        create: bool,
    ) -> Outcome<Product> {
        if p.name.trim().is_empty() {
            return Ok(Err(AdminFailure::Invalid {
                field: "name",
                message: "required".into(),
            }));
        }
        let exists = self
            .store
            .list_products()
            .await?
            .iter()
            .any(|x| x.id == p.id);
        match (exists, create) {
            (true, true) => return Ok(Err(AdminFailure::Conflict("id".into()))),
            (false, false) => return Ok(Err(AdminFailure::NotFound)),
            _ => {}
        }
        self.store.put_product(&p).await?;
        self.admin_audit(
            actor,
            if create {
                "product.create"
            } else {
                "product.update"
            },
            &format!("product {}", p.id.0),
        )
        .await;
        Ok(Ok(p))
    }

    /// Links (or unlinks, `name = None`) the org `tenant/org` and a product.
    pub async fn admin_org_product(
        &self,
        actor: &str,
        tenant: &str,
        org: &str,
        product: i64,
        name: Option<&str>,
    ) -> Outcome<()> {
        let Some((_, o)) = self.org_by_codes(tenant, org).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        let pid = crate::ids::ProductId(product);
        if !self
            .store
            .list_products()
            .await?
            .iter()
            .any(|x| x.id == pid)
        {
            return Ok(Err(AdminFailure::NotFound));
        }
        match name {
            Some(n) => self.store.put_org_product(o.id, pid, n).await?,
            None => {
                if !self.store.delete_org_product(o.id, pid).await? {
                    return Ok(Err(AdminFailure::NotFound));
                }
            }
        }
        self.admin_audit(
            actor,
            if name.is_some() {
                "org_product.put"
            } else {
                "org_product.delete"
            },
            &format!("{tenant}/{org} product {product}"),
        )
        .await;
        Ok(Ok(()))
    }

    /// A user's product links, or `None` for an unknown user.
    pub async fn admin_user_products(
        &self,
        user: UserId,
    ) -> Result<Option<Vec<(String, String, crate::ids::ProductId, bool)>>, EngineError> {
        if self.store.user_by_id(user).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.store.list_user_products(user).await?))
    }

    /// Links a user to a product in one of the user's orgs (`system_admin = Some`), or removes
    /// the link (`None`). The org must be linked to the product and the user a member of the org.
    pub async fn admin_user_product(
        &self,
        actor: &str,
        user: UserId,
        tenant: &str,
        org: &str,
        product: i64,
        system_admin: Option<bool>,
    ) -> Outcome<()> {
        let Some((t, o)) = self.org_by_codes(tenant, org).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        let Some((_, ms)) = self.admin_get_user(user).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        let pid = crate::ids::ProductId(product);
        match system_admin {
            Some(flag) => {
                if self.store.org_product_name(o.id, pid).await?.is_none() {
                    return Ok(Err(AdminFailure::Invalid {
                        field: "product",
                        message: format!("{tenant}/{org} is not linked to product {product}"),
                    }));
                }
                if !ms.iter().any(|m| m.tenant.id == t.id && m.org.id == o.id) {
                    return Ok(Err(AdminFailure::Invalid {
                        field: "org",
                        message: format!("the user is not a member of {tenant}/{org}"),
                    }));
                }
                let id = crate::ids::UserProductId(crate::ids::new_id());
                self.store
                    .put_user_product(id, user, o.id, pid, flag)
                    .await?;
            }
            None => {
                if !self.store.delete_user_product(user, o.id, pid).await? {
                    return Ok(Err(AdminFailure::NotFound));
                }
            }
        }
        self.admin_audit(
            actor,
            if system_admin.is_some() {
                "user_product.put"
            } else {
                "user_product.delete"
            },
            &format!("user {} {tenant}/{org} product {product}", user.0),
        )
        .await;
        Ok(Ok(()))
    }

    pub async fn admin_open_login_ways(&self) -> Result<Vec<OpenLoginWay>, EngineError> {
        Ok(self.store.open_login_ways().await?)
    }

    pub async fn admin_put_open_login_way(
        &self,
        actor: &str,
        w: OpenLoginWay,
        position: i64,
    ) -> Outcome<OpenLoginWay> {
        if w.code.trim().is_empty() || w.name.trim().is_empty() {
            return Ok(Err(AdminFailure::Invalid {
                field: "code",
                message: "code and name are required".into(),
            }));
        }
        self.store.put_open_login_way(&w, position).await?;
        self.admin_audit(
            actor,
            "open_login_way.put",
            &format!("open login way {}", w.code),
        )
        .await;
        Ok(Ok(w))
    }

    pub async fn admin_delete_open_login_way(&self, actor: &str, code: &str) -> Outcome<()> {
        if !self.store.delete_open_login_way(code).await? {
            return Ok(Err(AdminFailure::NotFound));
        }
        self.admin_audit(
            actor,
            "open_login_way.delete",
            &format!("open login way {code}"),
        )
        .await;
        Ok(Ok(()))
    }

    pub async fn admin_list_app_keys(&self) -> Result<Vec<AppKey>, EngineError> {
        Ok(self.store.list_app_keys().await?)
    }

    /// Creates an app key bound to the org `tenant/org` and a product (and a user if given);
    /// its secret is answered once.
    #[allow(clippy::too_many_arguments)]
    pub async fn admin_create_app_key(
        &self,
        actor: &str,
        app_id: &str,
        app_key: &str,
        tenant: &str,
        org: &str,
        product: i64,
        user: Option<UserId>,
        system_admin: bool,
    ) -> Outcome<(AppKey, String)> {
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
            if self.store.user_by_id(u).await?.is_none() {
                return Ok(Err(AdminFailure::Invalid {
                    field: "user_id",
                    message: "no such user".into(),
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
        self.admin_audit(actor, "app_key.create", &format!("app key {app_key}"))
            .await;
        Ok(Ok((k, secret)))
    }

    /// Enables or disables an app key, or makes its user a system admin.
    pub async fn admin_update_app_key(
        &self,
        actor: &str,
        app_key: &str,
        enabled: Option<bool>,
        system_admin: Option<bool>,
    ) -> Outcome<AppKey> {
        let Some(mut k) = self.store.app_key_by_key(app_key).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        if let Some(e) = enabled {
            k.enabled = e;
        }
        if let Some(s) = system_admin {
            k.system_admin = s;
        }
        self.store.put_app_key(&k, self.now()).await?;
        self.admin_audit(actor, "app_key.update", &format!("app key {app_key}"))
            .await;
        Ok(Ok(k))
    }

    /// A new app secret, answered once; the old one stops working.
    pub async fn admin_rotate_app_secret(&self, actor: &str, app_key: &str) -> Outcome<String> {
        let Some(mut k) = self.store.app_key_by_key(app_key).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        let s = new_token(TokenFormat::Opaque);
        k.secret_hash = crate::secret::TokenHash::of(&s);
        self.store.put_app_key(&k, self.now()).await?;
        self.admin_audit(
            actor,
            "app_key.secret_rotate",
            &format!("app key {app_key}"),
        )
        .await;
        Ok(Ok(s))
    }

    pub async fn admin_list_clients(&self) -> Result<Vec<Client>, EngineError> {
        Ok(self.store.list_clients().await?)
    }

    /// Creates (`create`) or replaces a client; a new confidential client gets a generated
    /// secret, answered once. Client ids are unique (409).
    pub async fn admin_put_client(
        &self,
        actor: &str,
        mut c: Client,
        create: bool,
        confidential: bool,
    ) -> Outcome<(Client, Option<String>)> {
        let id = c.client_id.0.trim().to_string();
        if id.is_empty() || id.len() > 128 {
            return Ok(Err(AdminFailure::Invalid {
                field: "client_id",
                message: "1 to 128 characters".into(),
            }));
        }
        let existing = self.store.client_by_client_id(&id).await?;
        let mut secret = None;
        match (&existing, create) {
            (Some(_), true) => return Ok(Err(AdminFailure::Conflict("client_id".into()))),
            (None, false) => return Ok(Err(AdminFailure::NotFound)),
            (Some(old), false) => {
                c.row_id = old.row_id;
                c.secret_hash = old.secret_hash;
            }
            (None, true) => {
                c.row_id = crate::ids::ClientRowId(new_id());
                if confidential {
                    let s = new_token(TokenFormat::Opaque);
                    c.secret_hash = Some(crate::secret::TokenHash::of(&s));
                    secret = Some(s);
                }
            }
        }
        if let Err(e) = self.store.put_client(&c, self.now()).await {
            return Ok(Err(conflict(e)?));
        }
        self.forget_clients();
        self.admin_audit(
            actor,
            if create {
                "client.create"
            } else {
                "client.update"
            },
            &format!("client {id}"),
        )
        .await;
        Ok(Ok((c, secret)))
    }

    /// A new secret for a confidential client, answered once; the old one stops working.
    pub async fn admin_rotate_client_secret(
        &self,
        actor: &str,
        client_id: &str,
    ) -> Outcome<String> {
        let Some(mut c) = self.store.client_by_client_id(client_id).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        let s = new_token(TokenFormat::Opaque);
        c.secret_hash = Some(crate::secret::TokenHash::of(&s));
        self.store.put_client(&c, self.now()).await?;
        self.forget_clients();
        self.admin_audit(
            actor,
            "client.secret_rotate",
            &format!("client {client_id}"),
        )
        .await;
        Ok(Ok(s))
    }

    pub async fn admin_delete_client(&self, actor: &str, client_id: &str) -> Outcome<()> {
        if !self.store.delete_client(client_id, self.now()).await? {
            return Ok(Err(AdminFailure::NotFound));
        }
        self.forget_clients();
        self.tokens.clear();
        self.admin_audit(actor, "client.delete", &format!("client {client_id}"))
            .await;
        Ok(Ok(()))
    }

    pub async fn admin_audit_log(&self, f: &AuditFilter) -> Result<Vec<AuditEvent>, EngineError> {
        Ok(self.store.query_audit(f).await?)
    }
}
