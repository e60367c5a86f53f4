//! `POST /oauth/revoke` (RFC 7009): 200 whether or not the token existed.

use super::{bad_input, identify_client, invalid_client, missing};
use crate::error::{no_store, OAuthError};
use crate::params::FormRequest;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth", summary = "RFC 7009 revocation", security((), ("client_basic" = [])), request_body(content = crate::openapi::TokenParamForm, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "Revoked, or there was nothing to revoke"), (status = 400, description = "RFC 6749 §5.2 error (or the dialect's error shape)", body = crate::openapi::OAuthErrorBody), (status = 401, description = "invalid_client", body = crate::openapi::OAuthErrorBody)))]
pub async fn revoke(State(st): State<AppState>, req: FormRequest) -> Response {
    match run(&st, &req).await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => e.into_response(),
    }
}

async fn run(st: &AppState, req: &FormRequest) -> Result<(), OAuthError> {
    if let Some(bad) = &req.bad {
        return Err(bad_input(st, req, bad));
    }
    let client = identify_client(st, req, false)
        .await?
        .map_err(|_| invalid_client(st, req))?;
    let token = req
        .non_empty("token")
        .ok_or_else(|| missing(st, req, "token"))?;
    st.engine
        .revoke(&client, token)
        .await
        .map_err(|e| OAuthError::fault(&st.engine, req.lang(), &e))
}
