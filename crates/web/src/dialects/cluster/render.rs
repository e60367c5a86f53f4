//! Engine outcomes in seed 000's shapes. One exhaustive `match` over `LoginFailure`: a new
//! failure does not compile until this dialect says how it answers.

use super::wire::*;
use crate::error::no_store;
use crate::params::BadInput;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_core::error::LoginFailure;
use tessera_core::lang::Lang;
use tessera_core::Engine;

fn json(status: StatusCode, body: impl serde::Serialize) -> Response {
    no_store((status, Json(body)).into_response())
}

/// `{"success": false, "code", "message"}`.
pub fn failure(
    e: &Engine,
    lang: Lang,
    status: StatusCode,
    code: u16,
    msg_code: &str,
    arg: Option<&str>,
) -> Response {
    json(
        status,
        Failure {
            success: false,
            code,
            message: e.catalogue().text(msg_code, lang, arg),
        },
    )
}

/// A malformed request: 400, code 1002.
pub fn bad_input(e: &Engine, lang: Lang, bad: &BadInput) -> Response {
    let max = crate::params::MAX_PARAMS.to_string();
    let (status, msg, arg) = match bad {
        BadInput::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "oauth.bodyTooLarge", None),
        BadInput::ContentType => (StatusCode::BAD_REQUEST, "oauth.badContentType", None),
        BadInput::Encoding => (StatusCode::BAD_REQUEST, "oauth.badEncoding", None),
        BadInput::Repeated(p) => (
            StatusCode::BAD_REQUEST,
            "oauth.paramRepeated",
            Some(p.as_str()),
        ),
        BadInput::TooMany => (
            StatusCode::BAD_REQUEST,
            "oauth.tooManyParams",
            Some(max.as_str()),
        ),
        BadInput::BadBasic => (StatusCode::UNAUTHORIZED, "oauth.invalidClient", None),
    };
    failure(e, lang, status, 1002, msg, arg)
}

pub fn missing(e: &Engine, lang: Lang, name: &str) -> Response {
    failure(
        e,
        lang,
        StatusCode::BAD_REQUEST,
        1002,
        "oauth.paramMissing",
        Some(name),
    )
}

pub fn invalid_client(e: &Engine, lang: Lang) -> Response {
    failure(
        e,
        lang,
        StatusCode::UNAUTHORIZED,
        1002,
        "oauth.invalidClient",
        None,
    )
}

/// A fault: 500 (503 when password hashing is saturated or storage does not answer) in this
/// dialect's shape; the cause is logged, not shown.
pub fn fault(e: &Engine, lang: Lang, err: &tessera_core::EngineError) -> Response {
    use tessera_core::error::FaultClass;
    match err.class() {
        // Both mean "try again soon": 503, code 1002, `Retry-After`.
        FaultClass::Busy | FaultClass::Unavailable => {
            tracing::warn!(error = %err, "busy or storage unavailable: 503");
            unavailable(e, lang)
        }
        FaultClass::Internal => {
            tracing::error!(error = %err, "internal error");
            failure(
                e,
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                1002,
                "oauth.serverError",
                None,
            )
        }
    }
}

/// 503 with `Retry-After`, code 1002: storage does not answer.
pub fn unavailable(e: &Engine, lang: Lang) -> Response {
    let mut r = failure(
        e,
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        1002,
        "oauth.serverBusy",
        None,
    );
    r.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("1"),
    );
    r
}

/// Every refusal of the password grant (`docs/reference/cluster.md`, steps 1-5).
pub fn login_failure(e: &Engine, lang: Lang, f: &LoginFailure) -> Response {
    let c = e.catalogue();
    let unauthorized = StatusCode::UNAUTHORIZED;
    let second = |desc: &'static str, msg: &str, tenant: &str, org: &str| {
        json(
            unauthorized,
            SecondFactor {
                success: false,
                code: 1002,
                error: "unauthorized",
                error_description: desc,
                message: c.text(msg, lang, None),
                cluster_code: tenant,
                company_code: org,
            },
        )
    };
    match f {
        LoginFailure::UnknownUser => failure(e, lang, unauthorized, 1004, "cluster.1004", None),
        LoginFailure::PasswordWrong { attempts_left } => failure(
            e,
            lang,
            unauthorized,
            1002,
            "oauth.passwordError",
            Some(&attempts_left.to_string()),
        ),
        LoginFailure::PasswordWrongNowLocked { .. } => failure(
            e,
            lang,
            unauthorized,
            1002,
            "oauth.loginErrorMaxTimes",
            None,
        ),
        LoginFailure::AccountLocked { .. } => {
            failure(e, lang, unauthorized, 1002, "oauth.accountLocked", None)
        }
        LoginFailure::LdapDisabled => {
            failure(e, lang, unauthorized, 1002, "oauth.ldapIsDisable", None)
        }
        LoginFailure::AccountDisabled => {
            failure(e, lang, unauthorized, 1002, "oauth.accountDisabled", None)
        }
        LoginFailure::NotActivated => {
            failure(e, lang, unauthorized, 1002, "oauth.userNotActive", None)
        }
        LoginFailure::AccountExpired => {
            failure(e, lang, unauthorized, 1002, "oauth.accountExpire", None)
        }
        LoginFailure::NoRole => failure(e, lang, unauthorized, 1002, "oauth.roleNone", None),
        LoginFailure::PhoneNotVerified => {
            failure(e, lang, unauthorized, 1002, "hoth.warn.phoneNotCheck", None)
        }
        LoginFailure::EmailNotVerified => {
            failure(e, lang, unauthorized, 1002, "hoth.warn.emailNotCheck", None)
        }
        LoginFailure::PhoneAndEmailNotVerified => failure(
            e,
            lang,
            unauthorized,
            1002,
            "hoth.warn.phoneAndEmailNotCheck",
            None,
        ),
        LoginFailure::Sms(_) => failure(e, lang, unauthorized, 1002, "cluster.1002.2002", None),
        LoginFailure::NoRoleInDefaultTenant => failure(
            e,
            lang,
            unauthorized,
            1002,
            "oauth.defaultTenantRoleNull",
            None,
        ),
        LoginFailure::TenantInvalid | LoginFailure::TenantDisabled | LoginFailure::OrgInvalid => {
            failure(e, lang, unauthorized, 1001, "cluster.1001", None)
        }
        LoginFailure::ChooseTenant { options, .. } => json(
            StatusCode::OK,
            ChooseCluster {
                code: 1000,
                message: c.text("cluster.1000", lang, None),
                cluster_codes: options
                    .iter()
                    .map(|o| ClusterCode {
                        cluster_code: &o.code,
                        name: &o.name,
                        company_code: &o.org_codes,
                    })
                    .collect(),
            },
        ),
        LoginFailure::SecondFactorRequired {
            tenant_code,
            org_code,
            ..
        } => second("2001", "cluster.1002.2001", tenant_code, org_code),
        LoginFailure::SecondFactorWrong {
            tenant_code,
            org_code,
        } => second("2002", "cluster.1002.2002", tenant_code, org_code),
    }
}

pub fn success(i: &tessera_core::engine::Issued, tenant: &tessera_core::model::Tenant) -> Response {
    json(
        StatusCode::OK,
        Success {
            code: 200,
            access_token: &i.access_token,
            token_type: "bearer",
            refresh_token: i.refresh_token.as_deref(),
            expires_in: i.expires_in,
            scope: &i.scope,
            cluster_code: &tenant.code,
            sso_url: &tenant.sso_url,
            server_url: &tenant.server_url,
        },
    )
}

pub fn sms_sent(e: &Engine, lang: Lang, interval: u64) -> Response {
    json(
        StatusCode::OK,
        SmsSent {
            success: true,
            code: 200,
            message: e.catalogue().text("cluster.smsSent", lang, None),
            interval,
        },
    )
}
