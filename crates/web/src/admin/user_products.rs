//! `/admin/api/v1/users/{id}/products…`: a user's product links in an org (seed 002's
//! `userProduct`, whose `systemAdmin` the appkey dialect answers).

use super::{parse_body, parse_id, Admin, ApiError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tessera_core::ids::UserId;

/// One product link of a user.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserProductView {
    pub tenant: String,
    pub org: String,
    pub product_id: i64,
    pub system_admin: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserProductBody {
    #[serde(default)]
    pub system_admin: bool,
}

#[utoipa::path(get, path = "/admin/api/v1/users/{id}/products", tag = "admin", summary = "A user's product links", security(("admin" = [])), params(("id" = i64, Path)), responses((status = 200, description = "{items: [UserProductView]}"), crate::openapi::AdminErrors))]
pub async fn list(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = UserId(parse_id(&id)?);
    let links = st
        .engine
        .admin_user_products(&a.actor, id)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    let items: Vec<UserProductView> = links
        .into_iter()
        .map(|(tenant, org, p, system_admin)| UserProductView {
            tenant,
            org,
            product_id: p.0,
            system_admin,
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

#[utoipa::path(put, path = "/admin/api/v1/users/{id}/products/{tenant}/{org}/{product}", tag = "admin", summary = "Link a user to a product in one of the user's orgs", security(("admin" = [])), params(("id" = i64, Path), ("tenant" = String, Path), ("org" = String, Path), ("product" = i64, Path)), request_body = UserProductBody, responses((status = 204, description = "Done"), crate::openapi::AdminErrors))]
pub async fn put(
    a: Admin,
    State(st): State<AppState>,
    Path((id, tenant, org, product)): Path<(String, String, String, String)>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    let (id, product) = (UserId(parse_id(&id)?), parse_id(&product)?);
    a.tenant(&tenant)?;
    let b: UserProductBody = parse_body(&body)?;
    st.engine
        .admin_user_product(&a.actor, id, &tenant, &org, product, Some(b.system_admin))
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(delete, path = "/admin/api/v1/users/{id}/products/{tenant}/{org}/{product}", tag = "admin", summary = "Remove a user's product link", security(("admin" = [])), params(("id" = i64, Path), ("tenant" = String, Path), ("org" = String, Path), ("product" = i64, Path)), responses((status = 204, description = "Done"), crate::openapi::AdminErrors))]
pub async fn delete(
    a: Admin,
    State(st): State<AppState>,
    Path((id, tenant, org, product)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let (id, product) = (UserId(parse_id(&id)?), parse_id(&product)?);
    a.tenant(&tenant)?;
    st.engine
        .admin_user_product(&a.actor, id, &tenant, &org, product, None)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(StatusCode::NO_CONTENT.into_response())
}
