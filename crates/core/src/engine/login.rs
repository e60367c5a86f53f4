//! Password sign-in and its policy: lockout, account state, tenant choice, roles and the SMS
//! second factor. The order of the checks is seed 001's ("so that an account's state is told
//! only to someone holding its password", `docs/reference/oauth.md`), and every dialect shares it.

use super::Engine;
use crate::error::{EngineError, LoginFailure, TenantOption};
use crate::model::*;
use crate::secret::Secret;
use crate::sms::{CodeCheck, SmsPurpose};

/// How a sign-in names the user.
#[derive(Debug, Clone)]
pub struct LoginName {
    pub value: String,
    /// `None`: the username, else the phone, else the email.
    pub field: Option<LoginField>,
}

/// Which membership the tokens are bound to.
#[derive(Debug, Clone, Default)]
pub enum TenantChoice {
    /// The user's default membership (standard, hoth).
    #[default]
    Default,
    /// Seed 000: a tenant code (or, with one tenant only, none) and perhaps an org code; several
    /// tenants and none named is [`LoginFailure::ChooseTenant`].
    Pick {
        tenant: Option<String>,
        org: Option<String>,
    },
}

/// Where the SMS second factor applies (cluster, login page): the device the sign-in comes
/// from, and the code if the client sent one.
#[derive(Debug, Clone)]
pub struct SecondFactorInput {
    /// Names the device for the `new_device` policy (cluster: its `type`).
    pub device_key: String,
    pub code: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PasswordLogin {
    pub name: LoginName,
    pub password: Secret,
    /// Only users of this type are found (seed 001's `user_type`).
    pub user_type: Option<UserType>,
    /// Only memberships of this tenant count (a client bound to a tenant).
    pub tenant: Option<crate::ids::TenantId>,
    pub tenant_choice: TenantChoice,
    /// `None`: no second factor asked (standard and hoth password grants).
    pub second_factor: Option<SecondFactorInput>,
    /// Refuse a sign-in by phone or email that is not verified (seed 001's `phoneNotCheck`,
    /// `emailNotCheck`, `phoneAndEmailNotCheck`).
    pub check_verified_field: bool,
}

impl PasswordLogin {
    /// A sign-in with the default membership and no second factor.
    pub fn simple(name: LoginName, password: Secret, tenant: Option<crate::ids::TenantId>) -> Self {
        Self {
            name,
            password,
            user_type: None,
            tenant,
            tenant_choice: TenantChoice::Default,
            second_factor: None,
            check_verified_field: false,
        }
    }
}

/// A successful sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    /// The membership the tokens are bound to.
    pub membership: Membership,
    /// Every membership in an enabled tenant (restricted to the requested tenant).
    pub memberships: Vec<Membership>,
}

impl Engine {
    pub(crate) async fn find_user(
        &self,
        name: &LoginName,
        user_type: Option<UserType>,
    ) -> Result<Option<(User, LoginField)>, EngineError> {
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
                    return Ok(Some((u, *f)));
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
        let Some((user, field)) = self.find_user(&req.name, req.user_type).await? else {
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
        let verify = req.check_verified_field.then_some(field);
        let (chosen, usable) = match self
            .admit(&user, req.tenant, &req.tenant_choice, verify)
            .await?
        {
            Ok(x) => x,
            Err(f) => return Ok(Err(f)),
        };
        if let Some(sf) = &req.second_factor {
            if let Err(f) = self.second_factor(&user, &chosen, sf).await? {
                return Ok(Err(f));
            }
        }
        Ok(Ok(SignedIn {
            user,
            membership: chosen,
            memberships: usable,
        }))
    }

    /// The checks after the credentials, shared by every way of signing in: enabled, tenant
    /// (and its choice), activated, expiry, the field used verified, roles.
    pub(crate) async fn admit(
        &self,
        user: &User,
        tenant_filter: Option<crate::ids::TenantId>,
        choice: &TenantChoice,
        verify: Option<LoginField>,
    ) -> Result<Result<(Membership, Vec<Membership>), LoginFailure>, EngineError> {
        let now = self.now();
        if !user.enabled {
            return Ok(Err(LoginFailure::AccountDisabled));
        }
        let all = self.store.memberships_of(user.id).await?;
        let scoped: Vec<Membership> = all
            .into_iter()
            .filter(|m| tenant_filter.is_none_or(|t| m.tenant.id == t))
            .collect();
        let usable: Vec<Membership> = scoped
            .iter()
            .filter(|m| m.tenant.enabled)
            .cloned()
            .collect();
        let chosen = match choice {
            TenantChoice::Default => {
                let Some(default) = scoped
                    .iter()
                    .find(|m| m.is_default)
                    .or(scoped.first())
                    .cloned()
                else {
                    return Ok(Err(LoginFailure::TenantInvalid));
                };
                if !default.tenant.enabled {
                    return Ok(Err(LoginFailure::TenantDisabled));
                }
                default
            }
            TenantChoice::Pick { tenant, org } => {
                match pick(user.id, &usable, tenant.as_deref(), org.as_deref()) {
                    Ok(m) => m,
                    Err(f) => return Ok(Err(f)),
                }
            }
        };
        if !user.active {
            return Ok(Err(LoginFailure::NotActivated));
        }
        if user.expires_at.is_some_and(|e| e <= now) {
            return Ok(Err(LoginFailure::AccountExpired));
        }
        match verify {
            Some(LoginField::Phone) if !user.phone_verified => {
                return Ok(Err(if user.email_verified {
                    LoginFailure::PhoneNotVerified
                } else {
                    LoginFailure::PhoneAndEmailNotVerified
                }));
            }
            Some(LoginField::Email) if !user.email_verified => {
                return Ok(Err(if user.phone_verified {
                    LoginFailure::EmailNotVerified
                } else {
                    LoginFailure::PhoneAndEmailNotVerified
                }));
            }
            _ => {}
        }
        if usable.iter().all(|m| m.roles.is_empty()) {
            return Ok(Err(LoginFailure::NoRole));
        }
        if chosen.roles.is_empty() {
            return Ok(Err(LoginFailure::NoRoleInDefaultTenant));
        }
        Ok(Ok((chosen, usable)))
    }

    /// The tenant's SMS policy (`always`, `new_device`, `never`) for a sign-in whose password was
    /// right. A device passes `new_device` once it has signed in with a code.
    pub(crate) async fn second_factor(
        &self,
        user: &User,
        m: &Membership,
        sf: &SecondFactorInput,
    ) -> Result<Result<(), LoginFailure>, EngineError> {
        let needed = match m.tenant.sms_second_factor {
            SmsSecondFactor::Never => false,
            SmsSecondFactor::Always => true,
            SmsSecondFactor::NewDevice => {
                !self.store.is_known_device(user.id, &sf.device_key).await?
            }
        };
        let (tenant_code, org_code) = (m.tenant.code.clone(), m.org.code.clone());
        if needed {
            let Some(code) = sf.code.as_deref().filter(|c| !c.is_empty()) else {
                return Ok(Err(LoginFailure::SecondFactorRequired {
                    user: user.id,
                    tenant_code,
                    org_code,
                }));
            };
            let phone = user.phone.as_deref().unwrap_or("");
            if phone.is_empty() || !self.second_factor_code_ok(phone, code).await? {
                return Ok(Err(LoginFailure::SecondFactorWrong {
                    tenant_code,
                    org_code,
                }));
            }
        }
        self.store
            .remember_device(user.id, &sf.device_key, self.now())
            .await?;
        Ok(Ok(()))
    }
}

impl Engine {
    /// A second-factor code is one sent for the second factor (`POST /oauth/sms/code`, the
    /// login page) or for an SMS sign-in (`POST /oauth/public/captcha/sms`): docs/reference/oauth.md
    /// lets a `cluster` client ask for it either way (cluster, step 5).
    async fn second_factor_code_ok(&self, phone: &str, code: &str) -> Result<bool, EngineError> {
        if self
            .verify_sms_code(phone, SmsPurpose::Login2fa, code)
            .await?
            == CodeCheck::Valid
        {
            return Ok(true);
        }
        Ok(self.verify_sms_code(phone, SmsPurpose::Login, code).await? == CodeCheck::Valid)
    }
}

/// Seed 000's choice of tenant and company among the usable memberships.
fn pick(
    user: crate::ids::UserId,
    usable: &[Membership],
    tenant: Option<&str>,
    org: Option<&str>,
) -> Result<Membership, LoginFailure> {
    let mut codes: Vec<&str> = Vec::new();
    for m in usable {
        if !codes.contains(&m.tenant.code.as_str()) {
            codes.push(&m.tenant.code);
        }
    }
    let tenant = match tenant.filter(|t| !t.is_empty()) {
        Some(t) => t,
        None => match codes.as_slice() {
            [] => return Err(LoginFailure::TenantInvalid),
            [one] => one,
            _ => {
                let options = codes
                    .iter()
                    .map(|c| {
                        let ms: Vec<&Membership> =
                            usable.iter().filter(|m| m.tenant.code == *c).collect();
                        TenantOption {
                            code: c.to_string(),
                            name: ms[0].tenant.name.clone(),
                            org_codes: ms.iter().map(|m| m.org.code.clone()).collect(),
                        }
                    })
                    .collect();
                return Err(LoginFailure::ChooseTenant { user, options });
            }
        },
    };
    let in_tenant: Vec<&Membership> = usable.iter().filter(|m| m.tenant.code == tenant).collect();
    if in_tenant.is_empty() {
        return Err(LoginFailure::TenantInvalid);
    }
    let chosen = match org.filter(|o| !o.is_empty()) {
        Some(o) => in_tenant
            .iter()
            .find(|m| m.org.code == o)
            .ok_or(LoginFailure::OrgInvalid)?,
        None => in_tenant
            .iter()
            .find(|m| m.is_default)
            .unwrap_or(&in_tenant[0]),
    };
    Ok((*chosen).clone())
}
