//! `/admin/api/v1/clients…`: list, get, create (the secret answered once), update, delete,
//! rotate the secret. A secret or its hash is never shown again.

use super::{parse_body, Admin, ApiError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tessera_core::ids::{ClientId, ClientRowId, TenantId};
use tessera_core::model::{Client, Dialect, GrantType};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub public: bool,
    pub dialect: &'static str,
    pub grant_types: Vec<&'static str>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub tenant_id: Option<i64>,
    pub access_ttl: Option<i64>,
    pub refresh_ttl: Option<i64>,
    /// Only in the answer that created the client or rotated its secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

fn view(c: &Client, secret: Option<String>) -> ClientView {
    ClientView {
        client_id: c.client_id.0.clone(),
        public: c.is_public(),
        dialect: c.dialect.as_str(),
        grant_types: c.grant_types.iter().map(|g| g.as_str()).collect(),
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        scopes: c.scopes.clone(),
        tenant_id: c.tenant_id.map(|t| t.0),
        access_ttl: c.access_ttl,
        refresh_ttl: c.refresh_ttl,
        client_secret: secret,
    }
}

#[utoipa::path(get, path = "/admin/api/v1/clients", tag = "admin", summary = "List clients", security(("admin" = [])), responses((status = 200, description = "{items}"), crate::openapi::AdminErrors))]
pub async fn list(a: Admin, State(st): State<AppState>) -> Result<Response, ApiError> {
    let cs = st
        .engine
        .admin_list_clients(&a.actor)
        .await
        .map_err(|e| ApiError::fault(&e))?;
    let items: Vec<ClientView> = cs.iter().map(|c| view(c, None)).collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

#[utoipa::path(get, path = "/admin/api/v1/clients/{id}", tag = "admin", summary = "A client", security(("admin" = [])), params(("id" = String, Path)), responses((status = 200, description = "The client", body = ClientView), crate::openapi::AdminErrors))]
pub async fn get(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let c = st
        .engine
        .admin_client(&a.actor, &id)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(Json(view(&c, None)).into_response())
}

fn standard() -> Dialect {
    Dialect::Standard
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ClientCreateBody)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub client_id: String,
    #[serde(default)]
    pub public: bool,
    #[serde(default = "standard")]
    pub dialect: Dialect,
    #[serde(default)]
    pub grant_types: Vec<GrantType>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub tenant_id: Option<i64>,
    /// Seconds.
    pub access_ttl: Option<i64>,
    pub refresh_ttl: Option<i64>,
}

fn check_ttl(field: &'static str, v: Option<i64>) -> Result<(), ApiError> {
    match v {
        Some(s) if !(1..=366 * 86_400).contains(&s) => {
            Err(ApiError::bad(format!("{field}: 1 second to 366 days")))
        }
        _ => Ok(()),
    }
}

fn check_uris(field: &'static str, uris: &[String]) -> Result<(), ApiError> {
    match uris
        .iter()
        .find(|u| !(u.starts_with("https://") || u.starts_with("http://")) || u.contains('#'))
    {
        Some(u) => Err(ApiError::bad(format!(
            "{field}: {u:?} is not an absolute http(s) URI without fragment"
        ))),
        None => Ok(()),
    }
}

#[utoipa::path(post, path = "/admin/api/v1/clients", tag = "admin", summary = "Register a client (secret returned once)", security(("admin" = [])), request_body = CreateBody, responses((status = 201, description = "The client with client_secret", body = ClientView), crate::openapi::AdminErrors))]
pub async fn create(
    a: Admin,
    State(st): State<AppState>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    let b: CreateBody = parse_body(&body)?;
    check_ttl("access_ttl", b.access_ttl)?;
    check_ttl("refresh_ttl", b.refresh_ttl)?;
    check_uris("redirect_uris", &b.redirect_uris)?;
    check_uris("post_logout_redirect_uris", &b.post_logout_redirect_uris)?;
    let c = Client {
        row_id: ClientRowId(0),
        client_id: ClientId(b.client_id),
        secret_hash: None,
        dialect: b.dialect,
        grant_types: b.grant_types,
        redirect_uris: b.redirect_uris,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        scopes: b.scopes,
        tenant_id: b.tenant_id.map(TenantId),
        access_ttl: b.access_ttl,
        refresh_ttl: b.refresh_ttl,
    };
    let (c, secret) = st
        .engine
        .admin_put_client(&a.actor, c, true, !b.public)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok((StatusCode::CREATED, Json(view(&c, secret))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ClientUpdateBody)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    pub dialect: Option<Dialect>,
    pub grant_types: Option<Vec<GrantType>>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub access_ttl: Option<i64>,
    pub refresh_ttl: Option<i64>,
}

#[utoipa::path(patch, path = "/admin/api/v1/clients/{id}", tag = "admin", summary = "Update a client", security(("admin" = [])), params(("id" = String, Path)), request_body = UpdateBody, responses((status = 200, description = "The client", body = ClientView), crate::openapi::AdminErrors))]
pub async fn update(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    let b: UpdateBody = parse_body(&body)?;
    check_ttl("access_ttl", b.access_ttl)?;
    check_ttl("refresh_ttl", b.refresh_ttl)?;
    let mut c = st
        .engine
        .admin_client(&a.actor, &id)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    if let Some(d) = b.dialect {
        c.dialect = d;
    }
    if let Some(g) = b.grant_types {
        c.grant_types = g;
    }
    if let Some(r) = b.redirect_uris {
        check_uris("redirect_uris", &r)?;
        c.redirect_uris = r;
    }
    if let Some(r) = b.post_logout_redirect_uris {
        check_uris("post_logout_redirect_uris", &r)?;
        c.post_logout_redirect_uris = r;
    }
    if let Some(s) = b.scopes {
        c.scopes = s;
    }
    if b.access_ttl.is_some() {
        c.access_ttl = b.access_ttl;
    }
    if b.refresh_ttl.is_some() {
        c.refresh_ttl = b.refresh_ttl;
    }
    let (c, _) = st
        .engine
        .admin_put_client(&a.actor, c, false, false)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(Json(view(&c, None)).into_response())
}

#[utoipa::path(delete, path = "/admin/api/v1/clients/{id}", tag = "admin", summary = "Delete a client (its tokens revoked)", security(("admin" = [])), params(("id" = String, Path)), responses((status = 204, description = "Done"), crate::openapi::AdminErrors))]
pub async fn remove(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    st.engine
        .admin_delete_client(&a.actor, &id)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/admin/api/v1/clients/{id}/secret", tag = "admin", summary = "Rotate a client secret (returned once)", security(("admin" = [])), params(("id" = String, Path)), responses((status = 200, description = "{client_id, client_secret}"), crate::openapi::AdminErrors))]
pub async fn rotate_secret(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let s = st
        .engine
        .admin_rotate_client_secret(&a.actor, &id)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(Json(serde_json::json!({ "client_id": id, "client_secret": s })).into_response())
}
