//! `/admin/api/v1/products…`, org–product links, and `/admin/api/v1/open-login-ways…` (the
//! third-party sign-ins seed 001's init parameters list).

use super::{parse_body, parse_id, Admin, ApiError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tessera_core::ids::ProductId;
use tessera_core::model::{OpenLoginWay, Product};

#[utoipa::path(get, path = "/admin/api/v1/products", tag = "admin", summary = "List products", security(("admin" = [])), responses((status = 200, description = "{items}"), crate::openapi::AdminErrors))]
pub async fn products(_a: Admin, State(st): State<AppState>) -> Result<Response, ApiError> {
    let ps = st
        .engine
        .admin_list_products()
        .await
        .map_err(|e| ApiError::fault(&e))?;
    let items: Vec<_> = ps
        .iter()
        .map(|p| serde_json::json!({ "id": p.id.0, "name": p.name }))
        .collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    pub id: i64,
    pub name: String,
}

#[utoipa::path(post, path = "/admin/api/v1/products", tag = "admin", summary = "Create a product", security(("admin" = [])), request_body = ProductBody, responses((status = 201, description = "{id, name}"), crate::openapi::AdminErrors))]
pub async fn create_product(
    a: Admin,
    State(st): State<AppState>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    a.global("creating a product")?;
    let b: ProductBody = parse_body(&body)?;
    let p = st
        .engine
        .admin_put_product(
            &a.actor,
            Product {
                id: ProductId(b.id),
                name: b.name,
            },
            true,
        )
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "id": p.id.0, "name": p.name })),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    pub name: String,
}

#[utoipa::path(patch, path = "/admin/api/v1/products/{id}", tag = "admin", summary = "Rename a product", security(("admin" = [])), params(("id" = i64, Path)), request_body = NameBody, responses((status = 200, description = "{id, name}"), crate::openapi::AdminErrors))]
pub async fn update_product(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    a.global("renaming a product")?;
    let id = parse_id(&id)?;
    let b: NameBody = parse_body(&body)?;
    let p = st
        .engine
        .admin_put_product(
            &a.actor,
            Product {
                id: ProductId(id),
                name: b.name,
            },
            false,
        )
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(Json(serde_json::json!({ "id": p.id.0, "name": p.name })).into_response())
}

/// `PUT /admin/api/v1/tenants/{code}/orgs/{org}/products/{id}` with `{"name"}`.
#[utoipa::path(put, path = "/admin/api/v1/tenants/{code}/orgs/{org}/products/{id}", tag = "admin", summary = "Link an org to a product", security(("admin" = [])), params(("code" = String, Path), ("org" = String, Path), ("id" = i64, Path)), request_body = NameBody, responses((status = 204, description = "Done"), crate::openapi::AdminErrors))]
pub async fn put_org_product(
    a: Admin,
    State(st): State<AppState>,
    Path((tenant, org, id)): Path<(String, String, String)>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    a.tenant(&tenant)?;
    let id = parse_id(&id)?;
    let b: NameBody = parse_body(&body)?;
    st.engine
        .admin_org_product(&a.actor, &tenant, &org, id, Some(&b.name))
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(delete, path = "/admin/api/v1/tenants/{code}/orgs/{org}/products/{id}", tag = "admin", summary = "Unlink an org from a product", security(("admin" = [])), params(("code" = String, Path), ("org" = String, Path), ("id" = i64, Path)), responses((status = 204, description = "Done"), crate::openapi::AdminErrors))]
pub async fn delete_org_product(
    a: Admin,
    State(st): State<AppState>,
    Path((tenant, org, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    a.tenant(&tenant)?;
    let id = parse_id(&id)?;
    st.engine
        .admin_org_product(&a.actor, &tenant, &org, id, None)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/admin/api/v1/open-login-ways", tag = "admin", summary = "List open login ways (hoth init-params)", security(("admin" = [])), responses((status = 200, description = "{items}"), crate::openapi::AdminErrors))]
pub async fn open_login_ways(_a: Admin, State(st): State<AppState>) -> Result<Response, ApiError> {
    let ws = st
        .engine
        .admin_open_login_ways()
        .await
        .map_err(|e| ApiError::fault(&e))?;
    let items: Vec<_> = ws
        .iter()
        .map(|w| serde_json::json!({ "code": w.code, "name": w.name, "url": w.url }))
        .collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WayBody {
    pub name: String,
    #[serde(default)]
    pub url: String,
    /// Order in the list (smaller first).
    #[serde(default)]
    pub position: i64,
}

/// `PUT /admin/api/v1/open-login-ways/{code}`: creates or replaces.
#[utoipa::path(put, path = "/admin/api/v1/open-login-ways/{code}", tag = "admin", summary = "Create or replace an open login way", security(("admin" = [])), params(("code" = String, Path)), request_body = WayBody, responses((status = 200, description = "{code, name, url}"), crate::openapi::AdminErrors))]
pub async fn put_open_login_way(
    a: Admin,
    State(st): State<AppState>,
    Path(code): Path<String>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    a.global("changing open login ways")?;
    let b: WayBody = parse_body(&body)?;
    let url_ok = b.url.is_empty() || b.url.starts_with("https://") || b.url.starts_with("http://");
    if !url_ok {
        return Err(ApiError::bad("url: an absolute http(s) URL"));
    }
    let w = OpenLoginWay {
        code,
        name: b.name,
        url: b.url,
    };
    let w = st
        .engine
        .admin_put_open_login_way(&a.actor, w, b.position)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(Json(serde_json::json!({ "code": w.code, "name": w.name, "url": w.url })).into_response())
}

#[utoipa::path(delete, path = "/admin/api/v1/open-login-ways/{code}", tag = "admin", summary = "Delete an open login way", security(("admin" = [])), params(("code" = String, Path)), responses((status = 204, description = "Done"), crate::openapi::AdminErrors))]
pub async fn delete_open_login_way(
    a: Admin,
    State(st): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    a.global("changing open login ways")?;
    st.engine
        .admin_delete_open_login_way(&a.actor, &code)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(StatusCode::NO_CONTENT.into_response())
}
