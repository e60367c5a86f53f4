//! `GET /oauth/authorize` and its seed twin `GET /api/sso/authz/oauth/v20/authorize`
//! (RFC 6749 §4.1, PKCE RFC 7636, OpenID Connect Core §3.1.2). Errors about the client or its
//! redirect URI are an error page, never a redirect (RFC 6749 §4.1.2.1); the others go back to
//! the registered redirect URI with `error` and `state`.

use crate::error::OAuthErrorCode;
use crate::pages::login::SSO_COOKIE;
use crate::params::FormRequest;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tessera_core::engine::{resolve_scope, CodeGrant};
use tessera_core::model::GrantType;

/// 302, as RFC 6749 §4.1.2 shows it (and what clients of other servers expect to see).
pub(crate) fn redirect(to: &str) -> Response {
    let mut r = (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `uri` with `params` added to its query.
fn with_params(uri: &str, params: &[(&str, &str)]) -> String {
    let q = serde_urlencoded::to_string(params).unwrap_or_default();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{q}")
}

#[utoipa::path(get, path = "/oauth/authorize", tag = "oauth", summary = "Authorization code flow (PKCE S256)", params(("response_type" = Option<String>, Query), ("client_id" = Option<String>, Query), ("redirect_uri" = Option<String>, Query), ("scope" = Option<String>, Query), ("state" = Option<String>, Query), ("nonce" = Option<String>, Query), ("code_challenge" = Option<String>, Query), ("code_challenge_method" = Option<String>, Query), ("prompt" = Option<String>, Query)), responses((status = 302, description = "To the login page or back to the client with a code or an error"), (status = 400, description = "HTML error page: unknown client or unregistered redirect URI", content_type = "text/html")))]
pub async fn authorize(State(st): State<AppState>, req: FormRequest) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    let zh = lang == tessera_core::lang::Lang::ZhCn;
    let page_error = |body_zh: &str, body_en: &str| {
        let t = crate::pages::texts(lang);
        crate::pages::message(
            lang,
            StatusCode::BAD_REQUEST,
            t.error,
            if zh { body_zh } else { body_en },
        )
    };
    if req.bad.is_some() {
        return page_error("请求参数无效。", "The request's parameters are invalid.");
    }
    let Some(client_id) = req.non_empty("client_id") else {
        return page_error("缺少参数 client_id。", "Missing parameter client_id.");
    };
    let client = match e.client_named(client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return page_error("未知的客户端。", "Unknown client."),
        Err(err) => {
            tracing::error!(error = %err, "internal error");
            return page_error("服务器内部错误。", "Internal server error.");
        }
    };
    // Exact match against the registered URIs (RFC 9700 §4.1.3); with one registered URI the
    // parameter may be left out.
    let redirect_uri = match req.non_empty("redirect_uri") {
        Some(r) if client.redirect_uris.iter().any(|u| u == r) => r.to_string(),
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        _ => {
            return page_error(
                "redirect_uri 未注册。",
                "The redirect_uri is not registered for this client.",
            )
        }
    };
    let state = req.get("state").unwrap_or("");
    let back = |error: OAuthErrorCode| {
        let mut p = vec![("error", error.as_str())];
        if !state.is_empty() {
            p.push(("state", state));
        }
        redirect(&with_params(&redirect_uri, &p))
    };
    // RFC 6749 §4.1.2.1: a missing parameter is `invalid_request`, an unknown type
    // `unsupported_response_type`.
    match req.non_empty("response_type") {
        Some("code") => {}
        None => return back(OAuthErrorCode::InvalidRequest),
        Some(_) => return back(OAuthErrorCode::UnsupportedResponseType),
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return back(OAuthErrorCode::UnauthorizedClient);
    }
    let challenge = req.non_empty("code_challenge");
    let method = req.non_empty("code_challenge_method");
    // A challenge without a method is `plain` (RFC 7636 §4.3), which is not offered: only S256
    // (docs/reference/oauth.md, "PKCE").
    match (challenge, method) {
        (Some(_), Some("S256")) => {}
        (Some(_), _) => return back(OAuthErrorCode::InvalidRequest),
        (None, _) if client.is_public() => return back(OAuthErrorCode::InvalidRequest),
        (None, _) => {}
    }
    let Some(scope) = resolve_scope(&client.scopes, req.get("scope")) else {
        return back(OAuthErrorCode::InvalidScope);
    };
    let prompt = req.get("prompt").unwrap_or("");
    let session = match req.cookie(SSO_COOKIE) {
        Some(secret) if prompt != "login" => e.session(secret).await.ok().flatten(),
        _ => None,
    };
    let Some(session) = session else {
        if prompt == "none" {
            return back(OAuthErrorCode::LoginRequired);
        }
        // To the login page, then back here without `prompt` (or it would ask again).
        let path = req.path_for_continue();
        return redirect(&with_params(
            "/login",
            &[("continue", &path), ("lang", lang_code(lang))],
        ));
    };
    // The session's user must still be allowed in (a client bound to a tenant, a disabled user).
    let membership = match e.session_membership(&session, client.tenant_id).await {
        Ok(Some(m)) => m,
        Ok(None) => return back(OAuthErrorCode::AccessDenied),
        Err(err) => {
            tracing::error!(error = %err, "internal error");
            return back(OAuthErrorCode::ServerError);
        }
    };
    let grant = CodeGrant {
        client_id: client.client_id.0.clone(),
        redirect_uri: redirect_uri.clone(),
        redirect_uri_given: req.non_empty("redirect_uri").is_some(),
        code_challenge: challenge.map(str::to_string),
        user_id: session.user_id.0,
        tenant_id: Some(membership.tenant.id.0),
        org_id: Some(membership.org.id.0),
        scope,
        nonce: req.non_empty("nonce").map(str::to_string),
        session_id: session.id.clone(),
        auth_time: session.created_at,
    };
    match e.issue_code(&grant).await {
        Ok(code) => {
            let mut p = vec![("code", code.as_str())];
            if !state.is_empty() {
                p.push(("state", state));
            }
            redirect(&with_params(&redirect_uri, &p))
        }
        Err(err) => {
            tracing::error!(error = %err, "internal error");
            back(OAuthErrorCode::ServerError)
        }
    }
}

fn lang_code(l: tessera_core::lang::Lang) -> &'static str {
    match l {
        tessera_core::lang::Lang::ZhCn => "zh_CN",
        tessera_core::lang::Lang::EnUs => "en_US",
    }
}

/// Seed 003's SSO path (`docs/reference/oauth.md`, dialect `maxkey`): the same flow as
/// `/oauth/authorize`, documented at its own path.
#[utoipa::path(get, path = "/api/sso/authz/oauth/v20/authorize", tag = "maxkey", summary = "As /oauth/authorize (seed 003's SSO path)", params(("response_type" = Option<String>, Query), ("client_id" = Option<String>, Query), ("redirect_uri" = Option<String>, Query), ("scope" = Option<String>, Query), ("state" = Option<String>, Query), ("nonce" = Option<String>, Query), ("code_challenge" = Option<String>, Query), ("code_challenge_method" = Option<String>, Query), ("prompt" = Option<String>, Query)), responses((status = 302, description = "To the login page or back to the client with a code or an error"), (status = 400, description = "HTML error page: unknown client or unregistered redirect URI", content_type = "text/html")))]
pub async fn authorize_maxkey(st: State<AppState>, req: FormRequest) -> Response {
    authorize(st, req).await
}
