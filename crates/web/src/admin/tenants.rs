//! `/admin/api/v1/tenants…`: tenants, their orgs, and users' memberships with roles.

use super::{parse_body, parse_id, Admin, ApiError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tessera_core::ids::{OrgId, TenantId, UserId};
use tessera_core::model::{Org, OrgType, SmsSecondFactor, Tenant};

fn tenant_json(t: &Tenant) -> serde_json::Value {
    serde_json::json!({
        "id": t.id.0, "code": t.code, "name": t.name, "enabled": t.enabled, "sso_url": t.sso_url,
        "server_url": t.server_url, "sms_second_factor": t.sms_second_factor.as_str(),
    })
}

fn org_json(o: &Org) -> serde_json::Value {
    serde_json::json!({ "id": o.id.0, "code": o.code, "name": o.name, "type": o.org_type.as_str(), "logo": o.logo, "enabled": o.enabled })
}

#[utoipa::path(get, path = "/admin/api/v1/tenants", tag = "admin", summary = "List tenants", security(("admin" = [])), responses((status = 200, description = "{items}"), crate::openapi::AdminErrors))]
pub async fn list(a: Admin, State(st): State<AppState>) -> Result<Response, ApiError> {
    let ts = st
        .engine
        .admin_list_tenants(&a.actor)
        .await
        .map_err(|e| ApiError::fault(&e))?;
    Ok(
        Json(serde_json::json!({ "items": ts.iter().filter(|t| a.tenant(&t.code).is_ok()).map(tenant_json).collect::<Vec<_>>() }))
            .into_response(),
    )
}

#[utoipa::path(get, path = "/admin/api/v1/tenants/{code}", tag = "admin", summary = "A tenant", security(("admin" = [])), params(("code" = String, Path)), responses((status = 200, description = "The tenant"), crate::openapi::AdminErrors))]
pub async fn get(
    a: Admin,
    State(st): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    a.tenant(&code)?;
    let t = st
        .engine
        .admin_tenant(&code)
        .await
        .map_err(|e| ApiError::fault(&e))?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(tenant_json(&t)).into_response())
}

fn yes() -> bool {
    true
}
fn never() -> SmsSecondFactor {
    SmsSecondFactor::Never
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantBody {
    pub code: String,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub sso_url: String,
    #[serde(default)]
    pub server_url: String,
    #[serde(default = "never")]
    pub sms_second_factor: SmsSecondFactor,
}

#[utoipa::path(post, path = "/admin/api/v1/tenants", tag = "admin", summary = "Create a tenant", security(("admin" = [])), request_body = TenantBody, responses((status = 201, description = "The tenant"), crate::openapi::AdminErrors))]
pub async fn create(
    a: Admin,
    State(st): State<AppState>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    a.global("creating a tenant")?;
    let b: TenantBody = parse_body(&body)?;
    let t = Tenant {
        id: TenantId(0),
        code: b.code,
        name: b.name,
        enabled: b.enabled,
        sso_url: b.sso_url,
        server_url: b.server_url,
        sms_second_factor: b.sms_second_factor,
    };
    let t = st
        .engine
        .admin_put_tenant(&a.actor, t, true)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok((StatusCode::CREATED, Json(tenant_json(&t))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub sso_url: Option<String>,
    pub server_url: Option<String>,
    pub sms_second_factor: Option<SmsSecondFactor>,
}

#[utoipa::path(patch, path = "/admin/api/v1/tenants/{code}", tag = "admin", summary = "Update a tenant", security(("admin" = [])), params(("code" = String, Path)), request_body = TenantPatch, responses((status = 200, description = "The tenant"), crate::openapi::AdminErrors))]
pub async fn update(
    a: Admin,
    State(st): State<AppState>,
    Path(code): Path<String>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    a.tenant(&code)?;
    let b: TenantPatch = parse_body(&body)?;
    let mut t = st
        .engine
        .admin_tenant(&code)
        .await
        .map_err(|e| ApiError::fault(&e))?
        .ok_or_else(ApiError::not_found)?;
    if let Some(v) = b.name {
        t.name = v;
    }
    if let Some(v) = b.enabled {
        t.enabled = v;
    }
    if let Some(v) = b.sso_url {
        t.sso_url = v;
    }
    if let Some(v) = b.server_url {
        t.server_url = v;
    }
    if let Some(v) = b.sms_second_factor {
        t.sms_second_factor = v;
    }
    let t = st
        .engine
        .admin_put_tenant(&a.actor, t, false)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(Json(tenant_json(&t)).into_response())
}

#[utoipa::path(get, path = "/admin/api/v1/tenants/{code}/orgs", tag = "admin", summary = "A tenant's orgs", security(("admin" = [])), params(("code" = String, Path)), responses((status = 200, description = "{items}"), crate::openapi::AdminErrors))]
pub async fn orgs(
    a: Admin,
    State(st): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    a.tenant(&code)?;
    let os = st
        .engine
        .admin_list_orgs(&a.actor, &code)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(
        Json(serde_json::json!({ "items": os.iter().map(org_json).collect::<Vec<_>>() }))
            .into_response(),
    )
}

fn saas() -> OrgType {
    OrgType::Saas
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgBody {
    pub code: String,
    pub name: String,
    #[serde(rename = "type", default = "saas")]
    pub org_type: OrgType,
    #[serde(default)]
    pub logo: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[utoipa::path(post, path = "/admin/api/v1/tenants/{code}/orgs", tag = "admin", summary = "Create an org", security(("admin" = [])), params(("code" = String, Path)), request_body = OrgBody, responses((status = 201, description = "The org"), crate::openapi::AdminErrors))]
pub async fn create_org(
    a: Admin,
    State(st): State<AppState>,
    Path(code): Path<String>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    a.tenant(&code)?;
    let b: OrgBody = parse_body(&body)?;
    let o = Org {
        id: OrgId(0),
        tenant_id: TenantId(0),
        code: b.code,
        name: b.name,
        org_type: b.org_type,
        logo: b.logo,
        enabled: b.enabled,
    };
    let o = st
        .engine
        .admin_put_org(&a.actor, &code, o, true)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok((StatusCode::CREATED, Json(org_json(&o))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgPatch {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub org_type: Option<OrgType>,
    pub logo: Option<String>,
    pub enabled: Option<bool>,
}

#[utoipa::path(patch, path = "/admin/api/v1/tenants/{code}/orgs/{org}", tag = "admin", summary = "Update an org", security(("admin" = [])), params(("code" = String, Path), ("org" = String, Path)), request_body = OrgPatch, responses((status = 200, description = "The org"), crate::openapi::AdminErrors))]
pub async fn update_org(
    a: Admin,
    State(st): State<AppState>,
    Path((code, org)): Path<(String, String)>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    a.tenant(&code)?;
    let b: OrgPatch = parse_body(&body)?;
    let orgs = st
        .engine
        .admin_list_orgs(&a.actor, &code)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    let mut o = orgs
        .into_iter()
        .find(|o| o.code == org)
        .ok_or_else(ApiError::not_found)?;
    if let Some(v) = b.name {
        o.name = v;
    }
    if let Some(v) = b.org_type {
        o.org_type = v;
    }
    if let Some(v) = b.logo {
        o.logo = v;
    }
    if let Some(v) = b.enabled {
        o.enabled = v;
    }
    let o = st
        .engine
        .admin_put_org(&a.actor, &code, o, false)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(Json(org_json(&o)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipBody {
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub default: bool,
}

/// `PUT /admin/api/v1/users/{id}/memberships/{tenant}/{org}`.
#[utoipa::path(put, path = "/admin/api/v1/users/{id}/memberships/{tenant}/{org}", tag = "admin", summary = "Add or change a membership", security(("admin" = [])), params(("id" = i64, Path), ("tenant" = String, Path), ("org" = String, Path)), request_body = MembershipBody, responses((status = 204, description = "Done"), crate::openapi::AdminErrors))]
pub async fn put_membership(
    a: Admin,
    State(st): State<AppState>,
    Path((id, tenant, org)): Path<(String, String, String)>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    let id = UserId(parse_id(&id)?);
    a.tenant(&tenant)?;
    let b: MembershipBody = parse_body(&body)?;
    st.engine
        .admin_put_membership(&a.actor, id, &tenant, &org, &b.roles, b.default)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(delete, path = "/admin/api/v1/users/{id}/memberships/{tenant}/{org}", tag = "admin", summary = "Remove a membership", security(("admin" = [])), params(("id" = i64, Path), ("tenant" = String, Path), ("org" = String, Path)), responses((status = 204, description = "Done"), crate::openapi::AdminErrors))]
pub async fn delete_membership(
    a: Admin,
    State(st): State<AppState>,
    Path((id, tenant, org)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let id = UserId(parse_id(&id)?);
    a.tenant(&tenant)?;
    st.engine
        .admin_delete_membership(&a.actor, id, &tenant, &org)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(StatusCode::NO_CONTENT.into_response())
}
