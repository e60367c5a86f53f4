//! `POST /oauth/introspect` (RFC 7662): `{"active": false}` for anything not live or not the
//! caller's to see.

use super::{bad_input, identify_client, invalid_client, missing};
use crate::error::{no_store, OAuthError};
use crate::params::FormRequest;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
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
    let body = match found {
        None => json!({ "active": false }),
        Some(i) => {
            let s = &i.record.subject;
            let mut b = json!({
                "active": true,
                "scope": s.scope,
                "client_id": s.client_id.0,
                "token_type": match i.record.kind { TokenKind::Access => "Bearer", TokenKind::Refresh => "refresh_token" },
                "exp": i.record.expires_at,
                "iat": i.record.issued_at,
                "iss": st.settings.issuer,
            });
            if let Some(u) = s.user_id {
                b["sub"] = json!(u.0.to_string());
            }
            if let Some(name) = i.username {
                b["username"] = json!(name);
            }
            if let Some(t) = s.tenant_id {
                b["tenant_id"] = json!(t.0);
            }
            b
        }
    };
    Ok(no_store(Json(body).into_response()))
}
