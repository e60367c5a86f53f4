//! OpenID Connect: discovery (Discovery 1.0 §3), the JWKS, userinfo (Core §5.3), and
//! RP-initiated logout (RP-Initiated Logout 1.0).

use crate::error::no_store;
use crate::pages::login::SSO_COOKIE;
use crate::params::FormRequest;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::json;

#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oauth", summary = "OpenID Connect Discovery 1.0", responses((status = 200, description = "Provider metadata", content_type = "application/json")))]
pub async fn discovery(State(st): State<AppState>) -> Response {
    let i = &st.settings.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/oauth/authorize"),
        "token_endpoint": format!("{i}/oauth/token"),
        "userinfo_endpoint": format!("{i}/oauth/userinfo"),
        "jwks_uri": format!("{i}/oauth/jwks"),
        "end_session_endpoint": format!("{i}/oauth/logout"),
        "introspection_endpoint": format!("{i}/oauth/introspect"),
        "revocation_endpoint": format!("{i}/oauth/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "password"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "name",
            "preferred_username", "birthdate", "gender", "picture", "email", "email_verified",
            "phone_number", "phone_number_verified"],
        "prompt_values_supported": ["none", "login"],
    }))
    .into_response()
}

#[utoipa::path(get, path = "/oauth/jwks", tag = "oauth", summary = "Public signing keys (JWKS)", responses((status = 200, description = "JWK set", content_type = "application/json")))]
pub async fn jwks(State(st): State<AppState>) -> Response {
    Json(st.engine.jwks()).into_response()
}

/// `401` with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3).
pub fn invalid_token() -> Response {
    let mut r = (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "error": "invalid_token" })),
    )
        .into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    no_store(r)
}

/// The access token of a resource request: `Authorization: Bearer`, else `access_token`.
pub fn bearer(req: &FormRequest) -> Option<&str> {
    req.bearer
        .as_deref()
        .filter(|t| !t.is_empty())
        .or(req.non_empty("access_token"))
}

#[utoipa::path(method(get, post), path = "/oauth/userinfo", tag = "oauth", summary = "OpenID claims for a Bearer access token", security(("bearer" = [])), responses((status = 200, description = "Claims by scope", content_type = "application/json"), (status = 400, description = "invalid_request: unreadable parameters"), (status = 401, description = "invalid_token"), (status = 413, description = "Body over 64 KiB")))]
pub async fn userinfo(State(st): State<AppState>, req: FormRequest) -> Response {
    // Unreadable parameters are refused like everywhere else (docs/reference/oauth.md: 413 over
    // 64 KiB, 400 otherwise); a Basic header means nothing here.
    if let Some(bad) = req
        .bad
        .as_ref()
        .filter(|b| **b != crate::params::BadInput::BadBasic)
    {
        return super::bad_input(&st, &req, bad).into_response();
    }
    let Some(token) = bearer(&req) else {
        return invalid_token();
    };
    match st.engine.token_user(token).await {
        Ok(Some((rec, user))) => {
            let scopes: Vec<&str> = rec.subject.scope.split(' ').collect();
            let claims: serde_json::Map<String, serde_json::Value> =
                tessera_core::engine::user_claims(&user, &scopes)
                    .into_iter()
                    .collect();
            no_store(Json(claims).into_response())
        }
        Ok(None) => invalid_token(),
        Err(err) => {
            tracing::error!(error = %err, "internal error");
            no_store(
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({ "error": "server_error" })),
                )
                    .into_response(),
            )
        }
    }
}

/// The `aud` of an ID token, read without checking the signature: it only names the client
/// whose registered `post_logout_redirect_uris` the redirect must be one of.
fn aud_of(id_token: &str) -> Option<String> {
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    match &v["aud"] {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(a) => a.first().and_then(|x| x.as_str()).map(str::to_string),
        _ => None,
    }
}

/// `GET /oauth/logout`: ends the SSO session; goes back to `post_logout_redirect_uri` only if
/// the client registered it.
#[utoipa::path(get, path = "/oauth/logout", tag = "oauth", summary = "RP-initiated logout", params(("client_id" = Option<String>, Query), ("id_token_hint" = Option<String>, Query), ("post_logout_redirect_uri" = Option<String>, Query), ("state" = Option<String>, Query)), responses((status = 200, description = "Signed-out page", content_type = "text/html"), (status = 302, description = "To the registered post_logout_redirect_uri")))]
pub async fn logout(State(st): State<AppState>, req: FormRequest) -> Response {
    let lang = req.lang();
    let t = crate::pages::texts(lang);
    if let Some(secret) = req.cookie(SSO_COOKIE) {
        if let Err(err) = st.engine.end_session(secret).await {
            tracing::error!(error = %err, "logout failed");
        }
    }
    let clear = crate::pages::cookie(
        SSO_COOKIE,
        "",
        0,
        st.settings.issuer.starts_with("https://"),
    );
    let mut r = match req.non_empty("post_logout_redirect_uri") {
        None => crate::pages::message(lang, StatusCode::OK, t.signed_out, t.signed_out_body),
        Some(uri) => {
            let client_id = req
                .non_empty("client_id")
                .map(str::to_string)
                .or_else(|| req.non_empty("id_token_hint").and_then(aud_of));
            let client = match client_id {
                Some(id) => st.engine.client_named(&id).await.ok().flatten(),
                None => None,
            };
            if client.is_some_and(|c| c.post_logout_redirect_uris.iter().any(|u| u == uri)) {
                let to = match req.non_empty("state") {
                    Some(s) => format!(
                        "{uri}{}{}",
                        if uri.contains('?') { '&' } else { '?' },
                        serde_urlencoded::to_string([("state", s)]).unwrap_or_default()
                    ),
                    None => uri.to_string(),
                };
                super::authorize::redirect(&to)
            } else {
                let body = if lang == tessera_core::lang::Lang::ZhCn {
                    "您已退出登录;post_logout_redirect_uri 未注册。"
                } else {
                    "You are signed out; the post_logout_redirect_uri is not registered."
                };
                crate::pages::message(lang, StatusCode::BAD_REQUEST, t.signed_out, body)
            }
        }
    };
    if let Ok(v) = HeaderValue::from_str(&clear) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}
