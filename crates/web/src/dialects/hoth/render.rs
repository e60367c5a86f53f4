//! Engine outcomes in seed 001's shape: `{"success": false, "code": "hoth.…", "message"}` with
//! the status of `docs/reference/errors.md`. One exhaustive `match` over `LoginFailure`.

use super::wire;
use crate::error::no_store;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_core::error::{LoginFailure, SmsLoginFailure};
use tessera_core::lang::Lang;
use tessera_core::model::LoginField;
use tessera_core::Engine;

/// A failure with the code's own status from the catalogue.
pub fn failure(e: &Engine, lang: Lang, code: &'static str, arg: Option<&str>) -> Response {
    let c = e.catalogue();
    let status = c
        .status(code)
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::BAD_REQUEST);
    no_store(
        (
            status,
            Json(wire::Failure {
                success: false,
                code,
                message: c.text(code, lang, arg),
            }),
        )
            .into_response(),
    )
}

/// Parameters that could not be read (docs/reference/hoth.md: 413 over 64 KiB, else 400).
pub fn bad_input(e: &Engine, lang: Lang, bad: &crate::params::BadInput) -> Response {
    match bad {
        crate::params::BadInput::TooLarge => failure(e, lang, "hoth.warn.bodyTooLarge", None),
        _ => failure(e, lang, "hoth.warn.badRequest", None),
    }
}

pub fn missing(e: &Engine, lang: Lang, name: &str) -> Response {
    failure(e, lang, "hoth.warn.paramMissing", Some(name))
}

pub fn fault(e: &Engine, lang: Lang, err: &tessera_core::EngineError) -> Response {
    use tessera_core::error::FaultClass;
    match err.class() {
        // No hashing slot in time: seed 001's own "try again later" (429), with
        // `Retry-After`; its clients already retry on it.
        FaultClass::Busy => {
            tracing::warn!("password hashing saturated: 429");
            let mut r = failure(e, lang, "hoth.warn.tooManyRequests", None);
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
            r
        }
        // The contract gives storage trouble one hoth code: createClientError, 500.
        FaultClass::Unavailable => {
            tracing::error!(error = %err, "storage unavailable");
            failure(e, lang, "hoth.warn.createClientError", None)
        }
        FaultClass::Internal => {
            tracing::error!(error = %err, "internal error");
            failure(e, lang, "hoth.warn.createClientError", None)
        }
    }
}

/// `field` is the `login_field` the client named, for `usernameNotFound` / `phoneNotFound`.
pub fn login_failure(
    e: &Engine,
    lang: Lang,
    f: &LoginFailure,
    field: Option<LoginField>,
) -> Response {
    let (code, arg) = failure_code(e, f, field);
    failure(e, lang, code, arg.as_deref())
}

/// The seed 001 code of a sign-in failure, and its `{0}`. The hosted login page shows the same
/// messages.
pub fn failure_code(
    e: &Engine,
    f: &LoginFailure,
    field: Option<LoginField>,
) -> (&'static str, Option<String>) {
    let hide = e.config().hide_unknown_user;
    let code = match f {
        LoginFailure::UnknownUser if hide => "hoth.warn.usernameNotFoundOrPasswordIsWrong",
        LoginFailure::UnknownUser if field == Some(LoginField::Phone) => "hoth.warn.phoneNotFound",
        LoginFailure::UnknownUser => "hoth.warn.usernameNotFound",
        LoginFailure::PasswordWrong { .. } if hide => "hoth.warn.usernameNotFoundOrPasswordIsWrong",
        LoginFailure::PasswordWrong { attempts_left } => {
            return ("hoth.warn.passwordError", Some(attempts_left.to_string()))
        }
        LoginFailure::PasswordWrongNowLocked { .. } => "hoth.warn.loginErrorMaxTimes",
        LoginFailure::AccountLocked { .. } => "hoth.warn.accountLocked",
        LoginFailure::LdapDisabled => "hoth.warn.ldapIsDisable",
        // The seed has no code for a disabled account: "not activated" is the nearest.
        LoginFailure::AccountDisabled | LoginFailure::NotActivated => "hoth.warn.userNotActive",
        LoginFailure::AccountExpired => "hoth.warn.accountExpire",
        LoginFailure::TenantInvalid
        | LoginFailure::OrgInvalid
        | LoginFailure::ChooseTenant { .. } => "hoth.warn.tenantInvalid",
        LoginFailure::TenantDisabled => "hoth.warn.tenantDisabled",
        LoginFailure::PhoneNotVerified => "hoth.warn.phoneNotCheck",
        LoginFailure::EmailNotVerified => "hoth.warn.emailNotCheck",
        LoginFailure::PhoneAndEmailNotVerified => "hoth.warn.phoneAndEmailNotCheck",
        LoginFailure::NoRole => "hoth.warn.roleNone",
        LoginFailure::NoRoleInDefaultTenant => "hoth.warn.defaultTenantRoleNull",
        LoginFailure::SecondFactorRequired { .. } | LoginFailure::SecondFactorWrong { .. } => {
            "hoth.warn.captchaWrong"
        }
        LoginFailure::Sms(s) => match s {
            SmsLoginFailure::CodeMissing => "hoth.warn.loginMobileCaptchaNull",
            SmsLoginFailure::KeyUnknown => "hoth.warn.validCaptchaFirst",
            SmsLoginFailure::KeyOtherPhone => "hoth.warn.accountNotEquals",
            SmsLoginFailure::PhoneNotRegistered => "hoth.user.phone.not-register",
            SmsLoginFailure::CodeWrong => "hoth.warn.captchaWrong",
        },
    };
    (code, None)
}

pub fn token(i: &tessera_core::engine::Issued) -> Response {
    no_store(
        Json(wire::Token {
            access_token: &i.access_token,
            token_type: "bearer",
            refresh_token: i.refresh_token.as_deref(),
            expires_in: i.expires_in,
            scope: &i.scope,
        })
        .into_response(),
    )
}
