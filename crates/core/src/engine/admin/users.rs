//! Admin operations on users: list, read, create, update, password, unlock, tokens and
//! SSO sessions. Each checks how far the actor reaches the user (`Actor`, `Reach`).

use super::{conflict, AdminFailure, CreateUser, Outcome};
use crate::engine::actor::{Actor, Reach};
use crate::engine::{AdminAction, Engine};
use crate::error::EngineError;
use crate::ids::{new_id, UserId};
use crate::model::*;
use crate::secret::{new_token, Secret, TokenFormat};
use crate::store::{NewUser, UserFilter, UserPatch};

impl Engine {
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
        if c.superuser {
            refuse!(actor.global_only("making a superuser"));
        }
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
            superuser: c.superuser,
        };
        if let Err(e) = self.store.create_user(&nu, id, self.now()).await {
            return Ok(Err(conflict(e)?));
        }
        if let Some(t) = actor.tenant_id() {
            // Only this tenant's admin (or a global one) may attach it (issue 15, finding 4).
            self.store.set_user_creator(id, t).await?;
        }
        self.admin_audit(actor, AdminAction::UserCreate, &format!("user {}", id.0))
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
        if p.superuser.is_some() {
            refuse!(actor.global_only("making or unmaking a superuser"));
        }
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
        self.admin_audit(actor, AdminAction::UserUpdate, &format!("user {}", id.0))
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
        self.admin_audit(
            actor,
            AdminAction::UserPasswordReset,
            &format!("user {}", id.0),
        )
        .await;
        Ok(Ok(generated))
    }

    pub async fn admin_unlock_user(&self, actor: &Actor, id: UserId) -> Outcome<()> {
        refuse!(self.admin_reach_user(actor, id, Reach::Account).await?);
        if !self.store.unlock_user(id).await? {
            return Ok(Err(AdminFailure::NotFound));
        }
        self.admin_audit(actor, AdminAction::UserUnlock, &format!("user {}", id.0))
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
            AdminAction::UserTokensRevoke,
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
        self.admin_audit(actor, AdminAction::SessionRevoke, &format!("session {id}"))
            .await;
        Ok(Ok(()))
    }
}
