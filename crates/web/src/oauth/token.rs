//! `POST /oauth/token`: the dialect dispatch (`docs/reference/oauth.md`, "Dialect dispatch") and the
//! `standard` grants `client_credentials`, `password` and `refresh_token` (RFC 6749 §4.3, §4.4,
//! §6; OAuth 2.1 §4.3 refresh rotation).

use super::{bad_input, identify_client, invalid_client, missing};
use crate::error::OAuthErrorCode;
use crate::error::{json_no_store, OAuthError};
use crate::params::FormRequest;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tessera_core::engine::{
    resolve_scope, IssueRequest, Issued, LoginName, Origin, PasswordForm, PasswordLogin,
    PasswordSignIn, SignInFailure, TokenGrant,
};
use tessera_core::error::{LoginFailure, RefreshFailure};
use tessera_core::model::{Client, Dialect, GrantType, TokenSubject};
use tessera_core::secret::{Secret, TokenFormat};

#[utoipa::path(post, path = "/oauth/token", tag = "oauth", summary = "Token endpoint; answers in the dialect of the authenticated client", security((), ("client_basic" = [])), request_body(content = crate::openapi::TokenForm, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "Tokens (standard shape shown; cluster and hoth clients get theirs)", body = crate::openapi::TokenAnswer), (status = 400, description = "RFC 6749 §5.2 error (or the dialect's error shape)", body = crate::openapi::OAuthErrorBody), (status = 401, description = "invalid_client", body = crate::openapi::OAuthErrorBody), (status = 503, description = "Password hashing busy or storage down; Retry-After")))]
pub async fn token(State(st): State<AppState>, req: FormRequest) -> Response {
    let (e, lang) = (&st.engine, req.lang());
    if let Some(bad) = &req.bad {
        return match answering_dialect(&st, &req).await {
            Dialect::Cluster => crate::dialects::cluster::render::bad_input(e, lang, bad),
            Dialect::Hoth => crate::dialects::hoth::render::bad_input(e, lang, bad),
            _ => bad_input(&st, &req, bad).into_response(),
        };
    }
    let client = match identify_client(&st, &req, true).await {
        Ok(Ok(c)) => c,
        Ok(Err(n)) => {
            return match n.dialect {
                Dialect::Cluster => crate::dialects::cluster::render::invalid_client(e, lang),
                Dialect::Hoth => {
                    crate::dialects::hoth::render::failure(e, lang, "hoth.warn.clientInvalid", None)
                }
                _ => invalid_client(&st, &req).into_response(),
            }
        }
        // A fault before the client is known (the database did not answer): a client this
        // process has seen before keeps its dialect's shape; seed 000's requests say
        // `client=admin`, so they get theirs too.
        Err(err) if remembered(&st, &req) == Some(Dialect::Hoth) => {
            tracing::debug!(status = %err.status, "fault answered in the hoth shape");
            return crate::dialects::hoth::render::failure(
                e,
                lang,
                "hoth.warn.createClientError",
                None,
            );
        }
        Err(err)
            if req.get("client") == Some("admin")
                || remembered(&st, &req) == Some(Dialect::Cluster) =>
        {
            return if err.status == axum::http::StatusCode::SERVICE_UNAVAILABLE {
                crate::dialects::cluster::render::unavailable(e, lang)
            } else {
                crate::dialects::cluster::render::failure(
                    e,
                    lang,
                    err.status,
                    1002,
                    "oauth.serverError",
                    None,
                )
            };
        }
        Err(err) => return err.into_response(),
    };
    let answer = match client.dialect {
        Dialect::Standard => standard(&st, &req, &client).await,
        Dialect::Cluster => {
            return crate::dialects::cluster::routes::token(&st, &req, &client).await
        }
        Dialect::Hoth => return crate::dialects::hoth::routes::token(&st, &req, &client).await,
        other @ (Dialect::Appkey | Dialect::Maxkey) => Err(OAuthError::new(
            e,
            lang,
            OAuthErrorCode::UnauthorizedClient,
            "oauth.dialectNotServed",
            Some(other.as_str()),
        )),
    };
    match answer {
        Ok(r) => r,
        Err(err) => err.into_response(),
    }
}

/// Which dialect answers a request whose parameters could not be read
/// (`docs/reference/oauth.md`): the client of the Basic header if any, else `cluster` when the query
/// says `client=admin`, else `standard`.
/// The dialect of the calling client if this process has seen it (see
/// `Engine::remembered_dialect`).
fn remembered(st: &AppState, req: &FormRequest) -> Option<Dialect> {
    let id = match &req.basic {
        Some((id, _)) => Some(id.as_str()),
        None => req.get("client_id"),
    }?;
    st.engine.remembered_dialect(id)
}

async fn answering_dialect(st: &AppState, req: &FormRequest) -> Dialect {
    if let Some((id, _)) = &req.basic {
        if let Ok(Some(c)) = st.engine.client_named(id).await {
            return c.dialect;
        }
    }
    if req.raw_query_param("client").as_deref() == Some("admin") {
        return Dialect::Cluster;
    }
    Dialect::Standard
}

/// RFC 6749 §5.1 (and OpenID Connect Core §3.1.3.3 for `id_token`).
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<&'a str>,
}

fn respond(i: &Issued) -> Response {
    respond_with_id(i, None)
}

fn respond_with_id(i: &Issued, id_token: Option<&str>) -> Response {
    json_no_store(&TokenResponse {
        access_token: &i.access_token,
        token_type: "Bearer",
        expires_in: i.expires_in,
        refresh_token: i.refresh_token.as_deref(),
        scope: &i.scope,
        id_token,
    })
}

async fn standard(
    st: &AppState,
    req: &FormRequest,
    client: &Client,
) -> Result<Response, OAuthError> {
    let e = &st.engine;
    let lang = req.lang();
    let fault = |err| OAuthError::fault(e, lang, &err);
    let gt_name = req
        .non_empty("grant_type")
        .ok_or_else(|| missing(st, req, "grant_type"))?;
    let gt = match GrantType::parse(gt_name) {
        Some(
            g @ (GrantType::ClientCredentials
            | GrantType::Password
            | GrantType::RefreshToken
            | GrantType::AuthorizationCode),
        ) => g,
        _ => {
            return Err(OAuthError::new(
                e,
                lang,
                OAuthErrorCode::UnsupportedGrantType,
                "oauth.unsupportedGrantType",
                Some(gt_name),
            ))
        }
    };
    if !client.allows(gt) {
        return Err(OAuthError::new(
            e,
            lang,
            OAuthErrorCode::UnauthorizedClient,
            "oauth.unauthorizedClient",
            Some(gt_name),
        ));
    }
    let scope = || {
        resolve_scope(&client.scopes, req.get("scope")).ok_or_else(|| {
            OAuthError::new(
                e,
                lang,
                OAuthErrorCode::InvalidScope,
                "oauth.invalidScope",
                None,
            )
        })
    };
    let subject = |scope: String| TokenSubject {
        client_id: client.client_id.clone(),
        user_id: None,
        tenant_id: client.tenant_id,
        org_id: None,
        app_key_id: None,
        scope,
        device_id: None,
        source_type: None,
        session_id: None,
    };
    match gt {
        GrantType::ClientCredentials => {
            if client.is_public() {
                return Err(OAuthError::new(
                    e,
                    lang,
                    OAuthErrorCode::UnauthorizedClient,
                    "oauth.clientNotConfidential",
                    None,
                ));
            }
            let issued = e
                .issue(IssueRequest {
                    client,
                    subject: subject(scope()?),
                    refresh: false,
                    format: TokenFormat::Opaque,
                })
                .await
                .map_err(fault)?;
            Ok(respond(&issued))
        }
        GrantType::Password => {
            let username = req
                .non_empty("username")
                .ok_or_else(|| missing(st, req, "username"))?;
            let password = req
                .get("password")
                .ok_or_else(|| missing(st, req, "password"))?;
            let scope = scope()?;
            let login = PasswordLogin::simple(
                LoginName {
                    value: username.to_string(),
                    field: None,
                },
                Secret::new(password),
                client.tenant_id,
            );
            let origin = Origin {
                dialect: Dialect::Standard,
                client_id: Some(client.client_id.0.clone()),
                ip: req.client_ip(&st.settings.trusted_proxies),
                detail: String::new(),
                captcha: None,
            };
            let sign_in = PasswordSignIn {
                login,
                form: PasswordForm::Clear,
                origin: origin.clone(),
            };
            match e.password_sign_in(sign_in).await.map_err(fault)? {
                Ok(signed) => {
                    let grant = TokenGrant {
                        client,
                        scope,
                        device_id: None,
                        source_type: None,
                        device_unique: false,
                        format: TokenFormat::Opaque,
                    };
                    let issued = e
                        .grant_tokens(&signed, grant, &origin)
                        .await
                        .map_err(fault)?;
                    Ok(respond(&issued))
                }
                Err(SignInFailure::Login(failure)) => Err(login_failure(st, req, &failure)),
                // No captcha and no transported password on this path.
                Err(
                    SignInFailure::CaptchaMissing
                    | SignInFailure::CaptchaWrong
                    | SignInFailure::Undecodable,
                ) => Err(login_failure(st, req, &LoginFailure::UnknownUser)),
            }
        }
        GrantType::RefreshToken => {
            let rt = req
                .non_empty("refresh_token")
                .ok_or_else(|| missing(st, req, "refresh_token"))?;
            match e
                .refresh(client, rt, req.get("scope"), TokenFormat::Opaque)
                .await
                .map_err(fault)?
            {
                Ok(issued) => Ok(respond(&issued)),
                Err(RefreshFailure::Invalid | RefreshFailure::Reused) => Err(OAuthError::new(
                    e,
                    lang,
                    OAuthErrorCode::InvalidGrant,
                    "oauth.invalidRefreshToken",
                    None,
                )),
                Err(RefreshFailure::NotAllowed) => Err(OAuthError::new(
                    e,
                    lang,
                    OAuthErrorCode::UnauthorizedClient,
                    "oauth.unauthorizedClient",
                    Some(gt_name),
                )),
                Err(RefreshFailure::ScopeWidened) => Err(OAuthError::new(
                    e,
                    lang,
                    OAuthErrorCode::InvalidScope,
                    "oauth.invalidScope",
                    None,
                )),
            }
        }
        GrantType::AuthorizationCode => {
            let code = req
                .non_empty("code")
                .ok_or_else(|| missing(st, req, "code"))?;
            let tokens = e
                .redeem_code(
                    client,
                    code,
                    req.non_empty("redirect_uri"),
                    req.non_empty("code_verifier"),
                    TokenFormat::Opaque,
                )
                .await
                .map_err(fault)?
                .map_err(|f| crate::dialects::maxkey::routes::code_failure(st, req, f))?;
            Ok(respond_with_id(&tokens.issued, tokens.id_token.as_deref()))
        }
        GrantType::Implicit => Err(OAuthError::new(
            e,
            lang,
            OAuthErrorCode::UnsupportedGrantType,
            "oauth.unsupportedGrantType",
            Some(gt_name),
        )),
    }
}

/// Every sign-in failure is `invalid_grant` in the standard dialect (`docs/reference/oauth.md`:
/// "`standard` always answers `invalid_grant`"); the description says why in the request's
/// language, without telling an unknown user from a wrong password unless
/// `login.hide_unknown_user` is off.
fn login_failure(st: &AppState, req: &FormRequest, f: &LoginFailure) -> OAuthError {
    let e = &st.engine;
    let hide = e.config().hide_unknown_user;
    let left;
    let (code, arg): (&str, Option<&str>) = match f {
        LoginFailure::UnknownUser => ("oauth.invalidCredentials", None),
        LoginFailure::PasswordWrong { .. } if hide => ("oauth.invalidCredentials", None),
        LoginFailure::PasswordWrong { attempts_left } => {
            left = attempts_left.to_string();
            ("oauth.passwordError", Some(left.as_str()))
        }
        LoginFailure::PasswordWrongNowLocked { .. } => ("oauth.loginErrorMaxTimes", None),
        LoginFailure::AccountLocked { .. } => ("oauth.accountLocked", None),
        LoginFailure::LdapDisabled => ("oauth.ldapIsDisable", None),
        LoginFailure::AccountDisabled => ("oauth.accountDisabled", None),
        LoginFailure::NotActivated => ("oauth.userNotActive", None),
        LoginFailure::AccountExpired => ("oauth.accountExpire", None),
        LoginFailure::TenantInvalid => ("oauth.tenantInvalid", None),
        LoginFailure::TenantDisabled => ("oauth.tenantDisabled", None),
        LoginFailure::NoRole => ("oauth.roleNone", None),
        LoginFailure::PhoneNotVerified => ("hoth.warn.phoneNotCheck", None),
        LoginFailure::EmailNotVerified => ("hoth.warn.emailNotCheck", None),
        LoginFailure::PhoneAndEmailNotVerified => ("hoth.warn.phoneAndEmailNotCheck", None),
        LoginFailure::Sms(_) => ("hoth.warn.captchaWrong", None),
        // The standard grant neither picks a tenant nor asks for a second factor; should a
        // future path do so, these are its words.
        LoginFailure::ChooseTenant { .. } | LoginFailure::OrgInvalid => {
            ("oauth.tenantInvalid", None)
        }
        LoginFailure::SecondFactorRequired { .. } | LoginFailure::SecondFactorWrong { .. } => {
            ("cluster.1002.2001", None)
        }
        LoginFailure::NoRoleInDefaultTenant => ("oauth.defaultTenantRoleNull", None),
    };
    OAuthError::new(e, req.lang(), OAuthErrorCode::InvalidGrant, code, arg)
}
