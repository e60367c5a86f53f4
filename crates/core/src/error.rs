//! Expected outcomes are typed data, rendered by each dialect; internal faults are
//! [`EngineError::Store`] (or `Busy`), logged with a request id and never shown.

use crate::clock::UnixTime;
use thiserror::Error;

/// A fault of the storage layer. Never rendered to a client.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("constraint {constraint} violated")]
    Conflict { constraint: String },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Other(String),
}

/// Why a sign-in was refused. Each dialect maps every variant to its codes and messages by an
/// exhaustive `match`, so a new variant does not compile until every dialect handles it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginFailure {
    /// No user with that name (the dialect decides whether to say so: `hide_unknown_user`).
    UnknownUser,
    /// Wrong password; `attempts_left` before the account locks.
    PasswordWrong {
        attempts_left: u32,
    },
    /// This failure reached `max_password_failures` and locked the account.
    PasswordWrongNowLocked {
        until: UnixTime,
    },
    AccountLocked {
        until: UnixTime,
    },
    /// An LDAP user while LDAP is off (seed 001 `ldapIsDisable`).
    LdapDisabled,
    AccountDisabled,
    NotActivated,
    AccountExpired,
    /// No usable tenant membership, or not a member of the client's tenant.
    TenantInvalid,
    /// The default tenant is disabled.
    TenantDisabled,
    /// Several tenants and none chosen (seed 000's 1000): the enabled tenants the user belongs
    /// to, each with the user's org codes there.
    ChooseTenant {
        /// The user whose password was right (the login page finishes with the choice).
        user: crate::ids::UserId,
        options: Vec<TenantOption>,
    },
    /// The chosen org (seed 000's company code) is not one of the user's in that tenant.
    OrgInvalid,
    /// The tenant's SMS second factor applies and no code was given (seed 000's 2001).
    SecondFactorRequired {
        /// The user whose password was right (the login page finishes with the code).
        user: crate::ids::UserId,
        tenant_code: String,
        org_code: String,
    },
    /// The SMS code was wrong, expired or used (seed 000's 2002).
    SecondFactorWrong {
        tenant_code: String,
        org_code: String,
    },
    /// Signed in by phone, the phone not verified (the email is).
    PhoneNotVerified,
    /// Signed in by email, the email not verified (the phone is).
    EmailNotVerified,
    /// Signed in by phone or email, neither verified.
    PhoneAndEmailNotVerified,
    /// Sign-in by SMS code refused (seed 001's SMS login).
    Sms(SmsLoginFailure),
    /// No role in any membership.
    NoRole,
    /// Roles elsewhere, none in the default tenant.
    NoRoleInDefaultTenant,
}

impl LoginFailure {
    /// A stable name for logs, metrics and the audit log.
    pub fn name(&self) -> &'static str {
        match self {
            Self::UnknownUser => "unknown_user",
            Self::PasswordWrong { .. } => "password_wrong",
            Self::PasswordWrongNowLocked { .. } => "password_wrong_locked",
            Self::AccountLocked { .. } => "account_locked",
            Self::LdapDisabled => "ldap_disabled",
            Self::AccountDisabled => "account_disabled",
            Self::NotActivated => "not_activated",
            Self::AccountExpired => "account_expired",
            Self::TenantInvalid => "tenant_invalid",
            Self::TenantDisabled => "tenant_disabled",
            Self::ChooseTenant { .. } => "choose_tenant",
            Self::OrgInvalid => "org_invalid",
            Self::SecondFactorRequired { .. } => "second_factor_required",
            Self::SecondFactorWrong { .. } => "second_factor_wrong",
            Self::PhoneNotVerified => "phone_not_verified",
            Self::EmailNotVerified => "email_not_verified",
            Self::PhoneAndEmailNotVerified => "phone_and_email_not_verified",
            Self::Sms(f) => f.name(),
            Self::NoRole => "no_role",
            Self::NoRoleInDefaultTenant => "no_role_in_default_tenant",
        }
    }
}

/// Why a sign-in by SMS code was refused, in the order of the checks (`docs/reference/oauth.md`,
/// "`hoth` SMS login order").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsLoginFailure {
    CodeMissing,
    /// No live code under that key.
    KeyUnknown,
    /// The key was issued for another phone.
    KeyOtherPhone,
    PhoneNotRegistered,
    CodeWrong,
}

impl SmsLoginFailure {
    pub fn name(&self) -> &'static str {
        match self {
            Self::CodeMissing => "sms_code_missing",
            Self::KeyUnknown => "sms_key_unknown",
            Self::KeyOtherPhone => "sms_key_other_phone",
            Self::PhoneNotRegistered => "phone_not_registered",
            Self::CodeWrong => "sms_code_wrong",
        }
    }
}

/// A tenant to choose from, with the user's org codes in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantOption {
    pub code: String,
    pub name: String,
    pub org_codes: Vec<String>,
}

/// Why a client could not be identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthFailure {
    UnknownClient,
    WrongSecret,
    /// A confidential client sent no secret.
    SecretMissing,
}

/// Why a refresh was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshFailure {
    /// Unknown, expired, revoked, or issued to another client.
    Invalid,
    /// Already spent: the whole family has been revoked.
    Reused,
    /// The client may not use the `refresh_token` grant.
    NotAllowed,
    /// A requested scope beyond the original grant.
    ScopeWidened,
}

#[derive(Debug, Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No password-hashing slot within `passwords.max_wait`: the caller answers 503.
    #[error("password hashing is saturated")]
    Busy,
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// The database or the short-lived store does not answer (or no pool connection came in
    /// time): callers answer 503, the client may retry (issue 7, "Faults").
    pub fn is_unavailable(&self) -> bool {
        matches!(self, EngineError::Store(StoreError::Unavailable(_)))
    }

    /// The one classification of faults every dialect renders, each in its own shape
    /// (`docs/decisions.md`, "Faults"): the client may retry a `Busy` or an `Unavailable`
    /// soon; an `Internal` one is a bug or bad data, logged with the request's id.
    pub fn class(&self) -> FaultClass {
        match self {
            EngineError::Busy => FaultClass::Busy,
            EngineError::Store(StoreError::Unavailable(_)) => FaultClass::Unavailable,
            _ => FaultClass::Internal,
        }
    }
}

/// See [`EngineError::class`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultClass {
    /// No password-hashing slot came in `passwords.max_wait`.
    Busy,
    /// The database or the short-lived store does not answer.
    Unavailable,
    /// Anything else.
    Internal,
}
