//! `/admin/api/v1/app-keys…` (seed 002's app keys): list, create (the secret answered once),
//! enable/disable, rotate the secret. Keys are disabled rather than deleted: their tokens and
//! audit history stay meaningful.

use super::{parse_body, Admin, ApiError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tessera_core::ids::UserId;
use tessera_core::model::AppKey;

fn key_json(k: &AppKey, secret: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "id": k.id.0, "app_id": k.app_id, "app_key": k.app_key, "org_id": k.org_id.0, "product_id": k.product_id.0,
        "user_id": k.user_id.map(|u| u.0), "login_user_type": if k.user_id.is_some() { "USER" } else { "CLIENT" },
        "system_admin": k.system_admin, "enabled": k.enabled,
    });
    if let Some(s) = secret {
        v["app_secret"] = serde_json::json!(s);
    }
    v
}

#[utoipa::path(get, path = "/admin/api/v1/app-keys", tag = "admin", summary = "List app keys", security(("admin" = [])), responses((status = 200, description = "{items}"), crate::openapi::AdminErrors))]
pub async fn list(a: Admin, State(st): State<AppState>) -> Result<Response, ApiError> {
    let ks = st
        .engine
        .admin_list_app_keys(&a.actor)
        .await
        .map_err(|e| ApiError::fault(&e))?;
    Ok(Json(
        serde_json::json!({ "items": ks.iter().map(|k| key_json(k, None)).collect::<Vec<_>>() }),
    )
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = AppKeyCreateBody)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub app_id: String,
    pub app_key: String,
    pub tenant: String,
    pub org: String,
    pub product: i64,
    pub user_id: Option<i64>,
    #[serde(default)]
    pub system_admin: bool,
}

#[utoipa::path(post, path = "/admin/api/v1/app-keys", tag = "admin", summary = "Create an app key (secret returned once)", security(("admin" = [])), request_body = CreateBody, responses((status = 201, description = "The key with app_secret"), crate::openapi::AdminErrors))]
pub async fn create(
    a: Admin,
    State(st): State<AppState>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    let b: CreateBody = parse_body(&body)?;
    a.tenant(&b.tenant)?;
    let (k, secret) = st
        .engine
        .admin_create_app_key(
            &a.actor,
            &b.app_id,
            &b.app_key,
            &b.tenant,
            &b.org,
            b.product,
            b.user_id.map(UserId),
            b.system_admin,
        )
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok((StatusCode::CREATED, Json(key_json(&k, Some(&secret)))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = AppKeyUpdateBody)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    pub enabled: Option<bool>,
    pub system_admin: Option<bool>,
}

#[utoipa::path(patch, path = "/admin/api/v1/app-keys/{key}", tag = "admin", summary = "Enable or disable an app key", security(("admin" = [])), params(("key" = String, Path)), request_body = UpdateBody, responses((status = 200, description = "The key"), crate::openapi::AdminErrors))]
pub async fn update(
    a: Admin,
    State(st): State<AppState>,
    Path(key): Path<String>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    let b: UpdateBody = parse_body(&body)?;
    let k = st
        .engine
        .admin_update_app_key(&a.actor, &key, b.enabled, b.system_admin)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(Json(key_json(&k, None)).into_response())
}

#[utoipa::path(post, path = "/admin/api/v1/app-keys/{key}/secret", tag = "admin", summary = "Rotate an app secret (returned once)", security(("admin" = [])), params(("key" = String, Path)), responses((status = 200, description = "{app_key, app_secret}"), crate::openapi::AdminErrors))]
pub async fn rotate_secret(
    a: Admin,
    State(st): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let s = st
        .engine
        .admin_rotate_app_secret(&a.actor, &key)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(Json(serde_json::json!({ "app_key": key, "app_secret": s })).into_response())
}
