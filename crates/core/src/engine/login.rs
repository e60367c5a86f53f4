//! Password sign-in and its policy: lockout, account state, tenant and roles. The order of the
//! checks is seed 001's ("so that an account's state is told only to someone holding its
//! password", `http-contract.md`), and every dialect shares it.

use super::Engine;
use crate::error::{EngineError, LoginFailure};
use crate::model::*;
use crate::secret::Secret;

/// How a sign-in names the user.
#[derive(Debug, Clone)]
pub struct LoginName {
    pub value: String,
    /// `None`: the username, else the phone, else the email.
    pub field: Option<LoginField>,
}

#[derive(Debug, Clone)]
pub struct PasswordLogin {
    pub name: LoginName,
    pub password: Secret,
    /// Only users of this type are found (seed 001's `user_type`).
    pub user_type: Option<UserType>,
    /// Only memberships of this tenant count (a client bound to a tenant).
    pub tenant: Option<crate::ids::TenantId>,
}

/// A successful sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    /// The membership the tokens are bound to: the default one among the usable ones.
    pub membership: Membership,
    /// Every membership in an enabled tenant (restricted to the requested tenant).
    pub memberships: Vec<Membership>,
}

impl Engine {
    async fn find_user(
        &self,
        name: &LoginName,
        user_type: Option<UserType>,
    ) -> Result<Option<User>, EngineError> {
        let fields: &[LoginField] = match name.field {
            Some(LoginField::Username) => &[LoginField::Username],
            Some(LoginField::Phone) => &[LoginField::Phone],
            Some(LoginField::Email) => &[LoginField::Email],
            None => &[LoginField::Username, LoginField::Phone, LoginField::Email],
        };
        if name.value.is_empty() {
            return Ok(None);
        }
        for f in fields {
            if let Some(u) = self.store.user_by_login(*f, &name.value).await? {
                if user_type.is_none_or(|t| t == u.user_type) {
                    return Ok(Some(u));
                }
            }
        }
        Ok(None)
    }

    /// Checks a password sign-in against every policy. A wrong password counts toward the
    /// lock; a right one resets the count and re-hashes a bcrypt or outdated hash.
    pub async fn password_login(
        &self,
        req: PasswordLogin,
    ) -> Result<Result<SignedIn, LoginFailure>, EngineError> {
        let now = self.now();
        let Some(user) = self.find_user(&req.name, req.user_type).await? else {
            // Spend the same time as for a known user, so that timing does not tell.
            self.hasher
                .verify(req.password, self.dummy_hash.clone())
                .await?;
            return Ok(Err(LoginFailure::UnknownUser));
        };
        if user.source == UserSource::Ldap && !self.cfg.ldap_enabled {
            return Ok(Err(LoginFailure::LdapDisabled));
        }
        if let Some(until) = user.locked_until.filter(|u| *u > now) {
            return Ok(Err(LoginFailure::AccountLocked { until }));
        }
        let stored = user
            .password_hash
            .clone()
            .unwrap_or_else(|| self.dummy_hash.clone());
        let verified = self.hasher.verify(req.password, stored).await?;
        if !verified.ok || user.password_hash.is_none() {
            let until = now + self.cfg.lock_duration;
            let c = self
                .store
                .record_password_failure(user.id, self.cfg.max_password_failures, until)
                .await?;
            return Ok(Err(match c.locked_until {
                Some(until) => LoginFailure::PasswordWrongNowLocked { until },
                None => LoginFailure::PasswordWrong {
                    attempts_left: u32::try_from(
                        (self.cfg.max_password_failures - c.failures).max(1),
                    )
                    .unwrap_or(1),
                },
            }));
        }
        self.store
            .record_login_success(user.id, verified.rehash.as_deref())
            .await?;
        if !user.enabled {
            return Ok(Err(LoginFailure::AccountDisabled));
        }
        let all = self.store.memberships_of(user.id).await?;
        let scoped: Vec<Membership> = all
            .into_iter()
            .filter(|m| req.tenant.is_none_or(|t| m.tenant.id == t))
            .collect();
        let Some(default) = scoped
            .iter()
            .find(|m| m.is_default)
            .or(scoped.first())
            .cloned()
        else {
            return Ok(Err(LoginFailure::TenantInvalid));
        };
        let usable: Vec<Membership> = scoped
            .iter()
            .filter(|m| m.tenant.enabled)
            .cloned()
            .collect();
        if !default.tenant.enabled {
            return Ok(Err(LoginFailure::TenantDisabled));
        }
        if !user.active {
            return Ok(Err(LoginFailure::NotActivated));
        }
        if user.expires_at.is_some_and(|e| e <= now) {
            return Ok(Err(LoginFailure::AccountExpired));
        }
        if usable.iter().all(|m| m.roles.is_empty()) {
            return Ok(Err(LoginFailure::NoRole));
        }
        if default.roles.is_empty() {
            return Ok(Err(LoginFailure::NoRoleInDefaultTenant));
        }
        Ok(Ok(SignedIn {
            user,
            membership: default,
            memberships: usable,
        }))
    }
}
