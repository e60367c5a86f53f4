//! `POST /oauth/introspect` (RFC 7662): `{"active": false}` for anything not live or not the
//! caller's to see.

use super::{bad_input, identify_client, invalid_client, missing};
use crate::error::{json_no_store, OAuthError};
use crate::params::FormRequest;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tessera_core::model::TokenKind;

#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth", summary = "RFC 7662 introspection", security((), ("client_basic" = [])), request_body(content = crate::openapi::TokenParamForm, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "Introspection", body = crate::openapi::IntrospectionAnswer), (status = 400, description = "RFC 6749 §5.2 error (or the dialect's error shape)", body = crate::openapi::OAuthErrorBody), (status = 401, description = "invalid_client", body = crate::openapi::OAuthErrorBody)))]
pub async fn introspect(State(st): State<AppState>, req: FormRequest) -> Response {
    match run(&st, &req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(st: &AppState, req: &FormRequest) -> Result<Response, OAuthError> {
    if let Some(bad) = &req.bad {
        return Err(bad_input(st, req, bad));
    }
    let client = identify_client(st, req, false)
        .await?
        .map_err(|_| invalid_client(st, req))?;
    let token = req
        .non_empty("token")
        .ok_or_else(|| missing(st, req, "token"))?;
    let found = st
        .engine
        .introspect(&client, token)
        .await
        .map_err(|e| OAuthError::fault(&st.engine, req.lang(), &e))?;
    let body = match &found {
        None => Answer::default(),
        Some(i) => {
            let s = &i.record.subject;
            Answer {
                active: true,
                scope: Some(&s.scope),
                client_id: Some(&s.client_id.0),
                token_type: Some(match i.record.kind {
                    TokenKind::Access => "Bearer",
                    TokenKind::Refresh => "refresh_token",
                }),
                exp: Some(i.record.expires_at),
                iat: Some(i.record.issued_at),
                iss: Some(&st.settings.issuer),
                sub: s.user_id.map(|u| u.0.to_string()),
                username: i.username.as_deref(),
                tenant_id: s.tenant_id.map(|t| t.0),
            }
        }
    };
    Ok(json_no_store(&body))
}

/// The RFC 7662 §2.2 answer, serialized straight from borrowed fields (a `json!` map would
/// allocate every key and value on the introspection hot path). `sub` is a string, as the
/// contract shows it; absent members are left out.
#[derive(Serialize, Default)]
struct Answer<'a> {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_id: Option<i64>,
}
