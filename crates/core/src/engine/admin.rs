//! What the admin API does, as engine operations: each validates, changes the store, and
//! writes an audit event (`kind = "admin"`). Refusals are typed ([`AdminFailure`]).

use super::actor::{is_scope_token, Actor, Reach};
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
    /// The actor may see the object but not do this to it (a tenant admin and a global
    /// object, a user shared with another tenant, a scope it cannot grant).
    Forbidden(String),
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

/// `?` for an expected refusal inside an [`Outcome`].
macro_rules! refuse {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(f) => return Ok(Err(f)),
        }
    };
}

fn conflict(e: StoreError) -> Result<AdminFailure, EngineError> {
    match e {
        StoreError::Conflict { constraint } => Ok(AdminFailure::Conflict(constraint)),
        other => Err(other.into()),
    }
}

impl Engine {
    async fn admin_audit(&self, actor: &Actor, action: &str, target: &str) {
        let actor = actor.name.as_str();
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

    /// Users, filtered; a tenant actor lists its tenant's members only.
    pub async fn admin_list_users(
        &self,
        actor: &Actor,
        mut f: UserFilter,
    ) -> Outcome<(Vec<User>, i64)> {
        if let Some(own) = actor.tenant_code() {
            match &f.tenant {
                None => f.tenant = Some(own.to_string()),
                Some(t) => refuse!(actor.may_tenant(t)),
            }
        }
        Ok(Ok(self.store.list_users(&f).await?))
    }

    /// A user with its memberships; a tenant actor sees the memberships in its tenant only.
    pub async fn admin_get_user(
        &self,
        actor: &Actor,
        id: UserId,
    ) -> Outcome<(User, Vec<Membership>)> {
        let (u, mut ms) = refuse!(self.admin_reach_user(actor, id, Reach::Read).await?);
        if let Some(own) = actor.tenant_id() {
            ms.retain(|m| m.tenant.id == own);
        }
        Ok(Ok((u, ms)))
    }

    pub async fn admin_create_user(&self, actor: &Actor, c: CreateUser) -> Outcome<User> {
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
        refuse!(
            self.check_user_names(
                Some(c.username.as_str()),
                c.phone.as_deref(),
                c.email.as_deref(),
                None
            )
            .await?
        );
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
        if let Some(t) = actor.tenant_id() {
            // Only this tenant's admin (or a global one) may attach it (issue 15, finding 4).
            self.store.set_user_creator(id, t).await?;
        }
        self.admin_audit(actor, "user.create", &format!("user {}", id.0))
            .await;
        match self.store.user_by_id(id).await? {
            Some(u) => Ok(Ok(u)),
            None => Ok(Err(AdminFailure::NotFound)),
        }
    }

    pub async fn admin_update_user(
        &self,
        actor: &Actor,
        id: UserId,
        p: &UserPatch,
    ) -> Outcome<User> {
        refuse!(self.admin_reach_user(actor, id, Reach::Account).await?);
        let phone = p.phone.as_ref().and_then(|x| x.as_deref());
        let email = p.email.as_ref().and_then(|x| x.as_deref());
        if phone.is_some() || email.is_some() {
            refuse!(self.check_user_names(None, phone, email, Some(id)).await?);
        }
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
        actor: &Actor,
        id: UserId,
        password: Option<Secret>,
    ) -> Outcome<Option<String>> {
        if password.as_ref().is_some_and(|p| p.expose().len() < 8) {
            return Ok(Err(AdminFailure::Invalid {
                field: "password",
                message: "at least 8 characters".into(),
            }));
        }
        let (u, _) = refuse!(self.admin_reach_user(actor, id, Reach::Account).await?);
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

    pub async fn admin_unlock_user(&self, actor: &Actor, id: UserId) -> Outcome<()> {
        refuse!(self.admin_reach_user(actor, id, Reach::Account).await?);
        if !self.store.unlock_user(id).await? {
            return Ok(Err(AdminFailure::NotFound));
        }
        self.admin_audit(actor, "user.unlock", &format!("user {}", id.0))
            .await;
        Ok(Ok(()))
    }

    /// A user's live tokens; a tenant actor sees those bound to its tenant only.
    pub async fn admin_user_tokens(&self, actor: &Actor, id: UserId) -> Outcome<Vec<TokenRecord>> {
        refuse!(self.admin_reach_user(actor, id, Reach::Read).await?);
        let mut ts = self.store.user_tokens(id, self.now()).await?;
        if let Some(own) = actor.tenant_id() {
            ts.retain(|t| t.subject.tenant_id == Some(own));
        }
        Ok(Ok(ts))
    }

    pub async fn admin_revoke_user_tokens(&self, actor: &Actor, id: UserId) -> Outcome<u64> {
        refuse!(self.admin_reach_user(actor, id, Reach::Account).await?);
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

    /// A user's SSO sessions; a tenant actor sees those in its tenant only.
    pub async fn admin_user_sessions(&self, actor: &Actor, id: UserId) -> Outcome<Vec<SsoSession>> {
        refuse!(self.admin_reach_user(actor, id, Reach::Read).await?);
        let mut ss = self.store.user_sessions(id, self.now()).await?;
        if let Some(own) = actor.tenant_id() {
            ss.retain(|s| s.tenant_id == Some(own));
        }
        Ok(Ok(ss))
    }

    /// Live SSO sessions (`GET /admin/api/v1/sessions`), of one user if asked; a tenant
    /// actor sees its tenant's only.
    pub async fn admin_sessions(
        &self,
        actor: &Actor,
        user: Option<UserId>,
    ) -> Result<Vec<SsoSession>, EngineError> {
        Ok(self
            .store
            .live_sessions(actor.tenant_id(), user, self.now())
            .await?)
    }

    /// Ends an SSO session. A tenant actor ends the sessions in its tenant, or any session of a
    /// user wholly within its tenant.
    pub async fn admin_revoke_session(&self, actor: &Actor, id: &str) -> Outcome<()> {
        let Some(session) = self.store.session_by_id(id).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        if let Some(own) = actor.tenant_id() {
            if session.tenant_id != Some(own) {
                refuse!(
                    self.admin_reach_user(actor, session.user_id, Reach::Account)
                        .await?
                );
            }
        }
        self.store.revoke_session(id, self.now()).await?;
        self.admin_audit(actor, "session.revoke", &format!("session {id}"))
            .await;
        Ok(Ok(()))
    }

    /// The tenants the actor may see.
    pub async fn admin_list_tenants(&self, actor: &Actor) -> Result<Vec<Tenant>, EngineError> {
        let mut ts = self.store.list_tenants().await?;
        ts.retain(|t| actor.may_tenant(&t.code).is_ok());
        Ok(ts)
    }

    pub async fn admin_tenant(&self, code: &str) -> Result<Option<Tenant>, EngineError> {
        Ok(self.store.tenant_by_code(code).await?)
    }

    /// Creates (`create`: 409 if the code is taken) or updates (404 if missing) a tenant.
    pub async fn admin_put_tenant(
        &self,
        actor: &Actor,
        mut t: Tenant,
        create: bool,
    ) -> Outcome<Tenant> {
        if create {
            refuse!(actor.global_only("creating a tenant"));
        } else {
            refuse!(actor.may_tenant(&t.code));
        }
        if let Err(f) = check_tenant_code(&t.code) {
            return Ok(Err(f));
        }
        match (self.store.tenant_by_code(&t.code).await?, create) {
            (Some(_), true) => return Ok(Err(AdminFailure::Conflict("code".into()))),
            (None, false) => return Ok(Err(AdminFailure::NotFound)),
            (Some(old), false) => {
                // Suspending or restoring a tenant is the global admin's: a tenant's own
                // admin cannot undo a suspension.
                if old.enabled != t.enabled {
                    refuse!(actor.global_only("enabling or disabling a tenant"));
                }
                t.id = old.id
            }
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

    pub async fn admin_list_orgs(&self, actor: &Actor, tenant: &str) -> Outcome<Vec<Org>> {
        refuse!(actor.may_tenant(tenant));
        let Some(t) = self.store.tenant_by_code(tenant).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        Ok(Ok(self.store.list_orgs(t.id).await?))
    }

    /// Creates or updates the org `code` of tenant `tenant` (`o.id`/`o.tenant_id` are set here).
    pub async fn admin_put_org(
        &self,
        actor: &Actor,
        tenant: &str,
        mut o: Org,
        create: bool,
    ) -> Outcome<Org> {
        refuse!(actor.may_tenant(tenant));
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
        actor: &Actor,
        user: UserId,
        tenant: &str,
        org: &str,
        roles: &[String],
        default: bool,
    ) -> Outcome<()> {
        refuse!(actor.may_tenant(tenant));
        // Making a membership the default takes the flag from the user's others, which may be
        // in another tenant: an account-level change.
        let reach = if default {
            Reach::Account
        } else {
            Reach::Membership
        };
        refuse!(self.admin_reach_user(actor, user, reach).await?);
        let Some((t, o)) = self.org_by_codes(tenant, org).await? else {
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
        actor: &Actor,
        user: UserId,
        tenant: &str,
        org: &str,
    ) -> Outcome<()> {
        refuse!(actor.may_tenant(tenant));
        refuse!(
            self.admin_reach_user(actor, user, Reach::Membership)
                .await?
        );
        let Some((t, o)) = self.org_by_codes(tenant, org).await? else {
            return Ok(Err(AdminFailure::NotFound));
        };
        if !self.store.delete_membership(user, t.id, o.id).await? {
            return Ok(Err(AdminFailure::NotFound));
        }
        // An app key of that org signs in as its user only while the user is a member there
        // (issue 15): the keys that named this user are disabled with the membership.
        for mut k in self.store.list_app_keys().await? {
            if k.user_id == Some(user) && k.org_id == o.id && k.enabled {
                k.enabled = false;
                self.store.put_app_key(&k, self.now()).await?;
                self.admin_audit(
                    actor,
                    "app_key.update",
                    &format!("app key {} disabled with the membership", k.app_key),
                )
                .await;
            }
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
        actor: &Actor,
        p: Product,
        create: bool,
    ) -> Outcome<Product> {
        refuse!(actor.global_only(if create {
            "creating a product"
        } else {
            "renaming a product"
        }));
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
        actor: &Actor,
        tenant: &str,
        org: &str,
        product: i64,
        name: Option<&str>,
    ) -> Outcome<()> {
        refuse!(actor.may_tenant(tenant));
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

    /// A user's product links (a tenant actor sees those in its tenant).
    pub async fn admin_user_products(
        &self,
        actor: &Actor,
        user: UserId,
    ) -> Outcome<Vec<(String, String, crate::ids::ProductId, bool)>> {
        refuse!(self.admin_reach_user(actor, user, Reach::Read).await?);
        let mut links = self.store.list_user_products(user).await?;
        if let Some(own) = actor.tenant_code() {
            links.retain(|(t, ..)| t == own);
        }
        Ok(Ok(links))
    }

    /// Links a user to a product in one of the user's orgs (`system_admin = Some`), or removes
    /// the link (`None`). The org must be linked to the product and the user a member of the org.
    pub async fn admin_user_product(
        &self,
        actor: &Actor,
        user: UserId,
        tenant: &str,
        org: &str,
        product: i64,
        system_admin: Option<bool>,
    ) -> Outcome<()> {
        refuse!(actor.may_tenant(tenant));
        let (_, ms) = refuse!(
            self.admin_reach_user(actor, user, Reach::Membership)
                .await?
        );
        let Some((t, o)) = self.org_by_codes(tenant, org).await? else {
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
        actor: &Actor,
        w: OpenLoginWay,
        position: i64,
    ) -> Outcome<OpenLoginWay> {
        refuse!(actor.global_only("changing open login ways"));
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

    pub async fn admin_delete_open_login_way(&self, actor: &Actor, code: &str) -> Outcome<()> {
        refuse!(actor.global_only("changing open login ways"));
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
        self.admin_audit(actor, "app_key.create", &format!("app key {app_key}"))
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
        self.admin_audit(actor, "app_key.update", &format!("app key {app_key}"))
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
            "app_key.secret_rotate",
            &format!("app key {app_key}"),
        )
        .await;
        Ok(Ok(s))
    }

    /// The clients the actor may see: a tenant actor's are those bound to its tenant.
    pub async fn admin_list_clients(&self, actor: &Actor) -> Result<Vec<Client>, EngineError> {
        let mut cs = self.store.list_clients().await?;
        cs.retain(|c| actor.may_tenant_id(c.tenant_id).is_ok());
        Ok(cs)
    }

    /// The client `client_id` if the actor may see it.
    pub async fn admin_client(&self, actor: &Actor, client_id: &str) -> Outcome<Client> {
        match self.store.client_by_client_id(client_id).await? {
            Some(c) if actor.may_tenant_id(c.tenant_id).is_ok() => Ok(Ok(c)),
            _ => Ok(Err(AdminFailure::NotFound)),
        }
    }

    /// The client `client_id` if the actor may change it: it sees it, and could grant every
    /// scope it holds. A tenant admin does not take over (rotate, re-point, delete) a client a
    /// global admin gave `tessera:introspect` or an admin scope.
    async fn admin_client_in_hand(&self, actor: &Actor, client_id: &str) -> Outcome<Client> {
        let c = refuse!(self.admin_client(actor, client_id).await?);
        refuse!(may_grant_held(actor, &c.scopes));
        Ok(Ok(c))
    }

    /// Creates (`create`) or replaces a client; a new confidential client gets a generated
    /// secret, answered once. Client ids are unique (409).
    pub async fn admin_put_client(
        &self,
        actor: &Actor,
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
        if let Err(f) = check_client_id(&id) {
            return Ok(Err(f));
        }
        if let Some(own) = actor.tenant_id() {
            // A tenant's operator registers clients bound to that tenant.
            match c.tenant_id {
                None if create => c.tenant_id = Some(own),
                t => refuse!(actor.may_tenant_id(t)),
            }
        }
        let existing = self.store.client_by_client_id(&id).await?;
        if let Some(old) = &existing {
            // Not found for another tenant's client, whatever `create` says; forbidden for a
            // client holding more than the actor could grant (no take-over).
            refuse!(actor.may_tenant_id(old.tenant_id));
            refuse!(may_grant_held(actor, &old.scopes));
        }
        // Every entry must be one scope token, and one the actor may grant.
        refuse!(actor.may_grant(&c.scopes));
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
        actor: &Actor,
        client_id: &str,
    ) -> Outcome<String> {
        let mut c = refuse!(self.admin_client_in_hand(actor, client_id).await?);
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

    pub async fn admin_delete_client(&self, actor: &Actor, client_id: &str) -> Outcome<()> {
        refuse!(self.admin_client_in_hand(actor, client_id).await?);
        if !self.store.delete_client(client_id, self.now()).await? {
            return Ok(Err(AdminFailure::NotFound));
        }
        self.forget_clients();
        self.tokens.clear();
        self.admin_audit(actor, "client.delete", &format!("client {client_id}"))
            .await;
        Ok(Ok(()))
    }

    /// The audit log. A tenant actor reads one user's events at a time (events carry a user
    /// and a client, not a tenant), and only of a user wholly within its tenant.
    pub async fn admin_audit_log(
        &self,
        actor: &Actor,
        f: &AuditFilter,
    ) -> Outcome<Vec<AuditEvent>> {
        if !actor.is_global() {
            let Some(user) = f.user else {
                return Ok(Err(AdminFailure::Invalid {
                    field: "user",
                    message: "required for a tenant-scoped token".into(),
                }));
            };
            refuse!(self.admin_reach_user(actor, user, Reach::Account).await?);
        }
        Ok(Ok(self.store.query_audit(f).await?))
    }
}

/// Whether the actor could grant the well-formed scopes a client already holds (entries stored
/// before scope tokens were checked are never granted, `resolve_scope`, and are skipped here).
fn may_grant_held(actor: &Actor, held: &[String]) -> Result<(), AdminFailure> {
    let held: Vec<String> = held.iter().filter(|s| is_scope_token(s)).cloned().collect();
    actor.may_grant(&held)
}

/// Client ids under `appkey:` are the app keys' own (their tokens carry `appkey:KEY`): a client
/// of that name could refresh, revoke or, deleted, revoke every token of that key (issue 15).
pub const RESERVED_CLIENT_PREFIX: &str = "appkey:";

/// A client id an admin or the bootstrap may register.
pub fn check_client_id(id: &str) -> Result<(), AdminFailure> {
    if id.starts_with(RESERVED_CLIENT_PREFIX) {
        return Err(AdminFailure::Invalid {
            field: "client_id",
            message: format!("{RESERVED_CLIENT_PREFIX}… is reserved for app keys"),
        });
    }
    Ok(())
}

/// A tenant code: 1 to 64 characters, one scope token (it becomes `tessera:admin:CODE`).
pub fn check_tenant_code(code: &str) -> Result<(), AdminFailure> {
    if code.len() > 64 || !is_scope_token(code) {
        return Err(AdminFailure::Invalid {
            field: "code",
            message: "1 to 64 characters, no spaces, quotes or backslashes (one scope token)"
                .into(),
        });
    }
    Ok(())
}
