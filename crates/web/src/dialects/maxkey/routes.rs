//! `GET/POST /api/sso/authz/oauth/v20/token` and `/me`.

use super::wire;
use crate::error::OAuthErrorCode;
use crate::error::{no_store, OAuthError};
use crate::oauth::{identify_client, invalid_client, missing};
use crate::params::FormRequest;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_core::engine::CodeFailure;
use tessera_core::model::{Dialect, GrantType};
use tessera_core::secret::TokenFormat;

#[utoipa::path(method(get, post), path = "/api/sso/authz/oauth/v20/token", tag = "maxkey", summary = "Seed 003 token request (authorization_code)", params(("grant_type" = Option<String>, Query), ("client_id" = Option<String>, Query), ("client_secret" = Option<String>, Query), ("redirect_uri" = Option<String>, Query), ("code" = Option<String>, Query)), request_body(content = crate::openapi::MaxkeyTokenForm, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "{access_token, token_type: bearer, expires_in, scope}", content_type = "application/json"), (status = 400, description = "RFC 6749 §5.2 error (or the dialect's error shape)", body = crate::openapi::OAuthErrorBody), (status = 401, description = "invalid_client", body = crate::openapi::OAuthErrorBody)))]
pub async fn token(State(st): State<AppState>, req: FormRequest) -> Response {
    match run(&st, &req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(st: &AppState, req: &FormRequest) -> Result<Response, OAuthError> {
    let e = &st.engine;
    let lang = req.lang();
    if let Some(bad) = &req.bad {
        return Err(crate::oauth::bad_input(st, req, bad));
    }
    let client = identify_client(st, req, false)
        .await?
        .map_err(|_| invalid_client(st, req))?;
    match req.non_empty("grant_type") {
        Some("authorization_code") => {}
        Some(other) => {
            return Err(OAuthError::new(
                e,
                lang,
                OAuthErrorCode::UnsupportedGrantType,
                "oauth.unsupportedGrantType",
                Some(other),
            ))
        }
        None => return Err(missing(st, req, "grant_type")),
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            e,
            lang,
            OAuthErrorCode::UnauthorizedClient,
            "oauth.unauthorizedClient",
            Some("authorization_code"),
        ));
    }
    let code = req
        .non_empty("code")
        .ok_or_else(|| missing(st, req, "code"))?;
    let tokens = e
        .redeem_code(
            &client,
            code,
            req.non_empty("redirect_uri"),
            req.non_empty("code_verifier"),
            TokenFormat::Uuid,
        )
        .await
        .map_err(|err| OAuthError::fault(e, lang, &err))?
        .map_err(|f| code_failure(st, req, f))?;
    let i = &tokens.issued;
    Ok(no_store(
        Json(wire::Token {
            access_token: &i.access_token,
            token_type: "bearer",
            expires_in: i.expires_in,
            scope: &i.scope,
        })
        .into_response(),
    ))
}

/// Every code failure is `invalid_grant` (RFC 6749 §5.2).
pub fn code_failure(st: &AppState, req: &FormRequest, f: CodeFailure) -> OAuthError {
    let code = match f {
        CodeFailure::Invalid | CodeFailure::Reused => "oauth.invalidCode",
        CodeFailure::PkceFailed => "oauth.pkceFailed",
    };
    OAuthError::new(
        &st.engine,
        req.lang(),
        OAuthErrorCode::InvalidGrant,
        code,
        None,
    )
}

fn format_time(unix: i64, fmt: &[time::format_description::FormatItem<'_>]) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_default()
}

#[utoipa::path(method(get, post), path = "/api/sso/authz/oauth/v20/me", tag = "maxkey", summary = "Seed 003 user profile", params(("access_token" = Option<String>, Query)), security((), ("bearer" = [])), responses((status = 200, description = "Every seed field", content_type = "application/json"), (status = 400, description = "invalid_request: unreadable parameters"), (status = 401, description = "{error: invalid_token}"), (status = 413, description = "Body over 64 KiB")))]
pub async fn me(State(st): State<AppState>, req: FormRequest) -> Response {
    if let Some(bad) = req
        .bad
        .as_ref()
        .filter(|b| **b != crate::params::BadInput::BadBasic)
    {
        return crate::oauth::bad_input(&st, &req, bad).into_response();
    }
    let Some(token) = crate::oauth::oidc::bearer(&req) else {
        return crate::oauth::oidc::invalid_token();
    };
    let e = &st.engine;
    let (rec, u) = match e.token_user(token).await {
        Ok(Some(x)) => x,
        Ok(None) => return crate::oauth::oidc::invalid_token(),
        Err(err) => return OAuthError::fault(e, req.lang(), &err).into_response(),
    };
    let (org, tenant) = match e.token_org(&rec).await {
        Ok(x) => x,
        Err(err) => return OAuthError::fault(e, req.lang(), &err).into_response(),
    };
    let datetime =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let id = u.id.0.to_string();
    let body = wire::Me {
        birthday: u.birthday.clone(),
        gender: u.gender,
        display_name: u.display_name.clone(),
        department_id: org.as_ref().map(|o| o.id.0.to_string()).unwrap_or_default(),
        department: org.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        mobile: u.phone.clone().unwrap_or_default(),
        createdate: format_time(u.created_at, datetime),
        title: u.title.clone(),
        user_id: id.clone(),
        online_ticket: format!("OT_{}", rec.subject.session_id.clone().unwrap_or_default()),
        employee_number: u.employee_number.clone(),
        realname: if u.real_name.is_empty() {
            u.display_name.clone()
        } else {
            u.real_name.clone()
        },
        institution: tenant.map(|t| t.id.0.to_string()).unwrap_or_default(),
        random_id: uuid::Uuid::new_v4().to_string(),
        id,
        state: u.state.clone(),
        user: u.username.clone(),
        email: u.email.clone().unwrap_or_default(),
        username: u.username.clone(),
    };
    // Seed 003's whole profile is for maxkey clients; a token of any other client sees only
    // what its scopes open (docs/decisions.md, "maxkey /me and scopes").
    let client = match e.client_named(&rec.subject.client_id.0).await {
        Ok(c) => c,
        Err(err) => return OAuthError::fault(e, req.lang(), &err).into_response(),
    };
    if client.is_some_and(|c| c.dialect == Dialect::Maxkey) {
        return no_store(Json(body).into_response());
    }
    let scopes: Vec<&str> = rec.subject.scope.split_whitespace().collect();
    let mut fields = match serde_json::to_value(&body) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    fields.retain(|k, _| me_field_allowed(k, &scopes));
    no_store(Json(serde_json::Value::Object(fields)).into_response())
}

/// The `/me` fields each scope opens to a token of a client that is not a maxkey client, in
/// the spirit of OpenID Connect Core §5.4: the subject's identifiers always; `openid` the
/// sign-in session (`online_ticket`, like `sid`); `profile` names, birthday, gender, title,
/// creation date and place in the organisation; `email` the e-mail address; `phone` the mobile
/// number; `address` the work province/city (`state`).
const ME_FIELDS_BY_SCOPE: &[(Option<&str>, &[&str])] = &[
    (None, &["id", "userId", "randomId"]),
    (Some("openid"), &["online_ticket"]),
    (
        Some("profile"),
        &[
            "displayName",
            "realname",
            "username",
            "user",
            "birthday",
            "gender",
            "createdate",
            "title",
            "employeeNumber",
            "department",
            "departmentId",
            "institution",
        ],
    ),
    (Some("email"), &["email"]),
    (Some("phone"), &["mobile"]),
    (Some("address"), &["state"]),
];

fn me_field_allowed(field: &str, scopes: &[&str]) -> bool {
    ME_FIELDS_BY_SCOPE
        .iter()
        .any(|(scope, fields)| scope.is_none_or(|s| scopes.contains(&s)) && fields.contains(&field))
}
