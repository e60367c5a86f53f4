//! `/admin/api/v1/users…`: list, get, create, update, soft delete, unlock, password reset,
//! tokens and SSO sessions.

use super::{parse_body, parse_id, Admin, ApiError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tessera_core::engine::CreateUser;
use tessera_core::ids::{FamilyId, UserId};
use tessera_core::model::{Membership, SsoSession, TokenKind, TokenRecord, User, UserType};
use tessera_core::secret::Secret;
use tessera_core::store::{UserFilter, UserPatch};

/// A user as the API shows it: never the password hash.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub user_type: &'static str,
    pub source: &'static str,
    pub display_name: String,
    pub real_name: String,
    pub gender: i64,
    pub birthday: Option<String>,
    pub title: String,
    pub employee_number: String,
    pub portrait: String,
    pub state: String,
    pub enabled: bool,
    pub active: bool,
    pub locked_until: Option<i64>,
    pub expires_at: Option<i64>,
    pub phone_verified: bool,
    pub email_verified: bool,
    pub superuser: bool,
    pub has_password: bool,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memberships: Option<Vec<MembershipView>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MembershipView {
    pub tenant: String,
    pub org: String,
    pub roles: Vec<String>,
    pub default: bool,
}

fn view(u: User, ms: Option<Vec<Membership>>) -> UserView {
    UserView {
        id: u.id.0,
        user_type: match u.user_type {
            UserType::P => "P",
            UserType::C => "C",
        },
        source: match u.source {
            tessera_core::model::UserSource::Local => "local",
            tessera_core::model::UserSource::Ldap => "ldap",
        },
        has_password: u.password_hash.is_some(),
        username: u.username,
        phone: u.phone,
        email: u.email,
        display_name: u.display_name,
        real_name: u.real_name,
        gender: u.gender,
        birthday: u.birthday,
        title: u.title,
        employee_number: u.employee_number,
        portrait: u.portrait,
        state: u.state,
        enabled: u.enabled,
        active: u.active,
        locked_until: u.locked_until,
        expires_at: u.expires_at,
        phone_verified: u.phone_verified,
        email_verified: u.email_verified,
        superuser: u.superuser,
        created_at: u.created_at,
        memberships: ms.map(|ms| {
            ms.into_iter()
                .map(|m| MembershipView {
                    tenant: m.tenant.code,
                    org: m.org.code,
                    roles: m.roles,
                    default: m.is_default,
                })
                .collect()
        }),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub username: Option<String>,
    pub phone: Option<String>,
    pub tenant: Option<String>,
    /// `enabled` or `disabled`.
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/admin/api/v1/users", tag = "admin", summary = "List users (paginated, filtered)", security(("admin" = [])), params(ListQuery), responses((status = 200, description = "{items, total, page, per_page}"), crate::openapi::AdminErrors))]
pub async fn list(
    a: Admin,
    State(st): State<AppState>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad(format!("query: {}", e.body_text())))?;
    let enabled = match q.status.as_deref() {
        None => None,
        Some("enabled") => Some(true),
        Some("disabled") => Some(false),
        Some(_) => return Err(ApiError::bad("status: enabled or disabled")),
    };
    let per_page = q.per_page.unwrap_or(50);
    if !(1..=500).contains(&per_page) {
        return Err(ApiError::bad("per_page: 1 to 500"));
    }
    let page = q.page.unwrap_or(1).max(1);
    let f = UserFilter {
        username: q.username,
        phone: q.phone,
        tenant: q.tenant,
        enabled,
        offset: (page - 1) * per_page,
        limit: per_page,
    };
    let (users, total) = st
        .engine
        .admin_list_users(&a.actor, f)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    let items: Vec<UserView> = users.into_iter().map(|u| view(u, None)).collect();
    Ok(Json(
        serde_json::json!({ "items": items, "total": total, "page": page, "per_page": per_page }),
    )
    .into_response())
}

#[utoipa::path(get, path = "/admin/api/v1/users/{id}", tag = "admin", summary = "A user with memberships", security(("admin" = [])), params(("id" = i64, Path)), responses((status = 200, description = "The user", body = UserView), crate::openapi::AdminErrors))]
pub async fn get(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = UserId(parse_id(&id)?);
    let (u, ms) = st
        .engine
        .admin_get_user(&a.actor, id)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(Json(view(u, Some(ms))).into_response())
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = UserCreateBody)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub username: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub user_type: Option<String>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub real_name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "yes")]
    pub active: bool,
    /// Administers every tenant from the console; set by a global admin only.
    #[serde(default)]
    pub superuser: bool,
}

#[utoipa::path(post, path = "/admin/api/v1/users", tag = "admin", summary = "Create a user", security(("admin" = [])), request_body = CreateBody, responses((status = 201, description = "The user", body = UserView), crate::openapi::AdminErrors))]
pub async fn create(
    a: Admin,
    State(st): State<AppState>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    let b: CreateBody = parse_body(&body)?;
    let user_type = match b.user_type.as_deref() {
        None | Some("P") => UserType::P,
        Some("C") => UserType::C,
        Some(_) => return Err(ApiError::bad("user_type: P or C")),
    };
    let c = CreateUser {
        username: b.username,
        phone: b.phone,
        email: b.email,
        password: b.password.map(Secret::new),
        user_type,
        display_name: b.display_name,
        real_name: b.real_name,
        enabled: b.enabled,
        active: b.active,
        superuser: b.superuser,
    };
    let u = st
        .engine
        .admin_create_user(&a.actor, c)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok((StatusCode::CREATED, Json(view(u, Some(vec![])))).into_response())
}

/// `null` clears a field; absent leaves it.
fn nullable<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = UserUpdateBody)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(default, deserialize_with = "nullable")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub email: Option<Option<String>>,
    pub display_name: Option<String>,
    pub real_name: Option<String>,
    pub title: Option<String>,
    pub enabled: Option<bool>,
    pub active: Option<bool>,
    /// Unix seconds; `null` for never.
    #[serde(default, deserialize_with = "nullable")]
    pub expires_at: Option<Option<i64>>,
    pub phone_verified: Option<bool>,
    pub email_verified: Option<bool>,
    /// Set by a global admin only.
    pub superuser: Option<bool>,
}

#[utoipa::path(patch, path = "/admin/api/v1/users/{id}", tag = "admin", summary = "Update a user", security(("admin" = [])), params(("id" = i64, Path)), request_body = UpdateBody, responses((status = 200, description = "The user", body = UserView), crate::openapi::AdminErrors))]
pub async fn update(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    let id = UserId(parse_id(&id)?);
    let b: UpdateBody = parse_body(&body)?;
    let p = UserPatch {
        phone: b.phone,
        email: b.email,
        display_name: b.display_name,
        real_name: b.real_name,
        title: b.title,
        enabled: b.enabled,
        active: b.active,
        expires_at: b.expires_at,
        phone_verified: b.phone_verified,
        email_verified: b.email_verified,
        superuser: b.superuser,
    };
    let u = st
        .engine
        .admin_update_user(&a.actor, id, &p)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(Json(view(u, None)).into_response())
}

/// Soft delete: the account is disabled (history stays) and its tokens revoked.
#[utoipa::path(delete, path = "/admin/api/v1/users/{id}", tag = "admin", summary = "Soft-delete a user (disabled, tokens revoked)", security(("admin" = [])), params(("id" = i64, Path)), responses((status = 204, description = "Done"), crate::openapi::AdminErrors))]
pub async fn remove(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = UserId(parse_id(&id)?);
    let p = UserPatch {
        enabled: Some(false),
        ..Default::default()
    };
    st.engine
        .admin_update_user(&a.actor, id, &p)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/admin/api/v1/users/{id}/unlock", tag = "admin", summary = "Unlock a user (failure count reset)", security(("admin" = [])), params(("id" = i64, Path)), responses((status = 204, description = "Done"), crate::openapi::AdminErrors))]
pub async fn unlock(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = UserId(parse_id(&id)?);
    st.engine
        .admin_unlock_user(&a.actor, id)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub password: Option<String>,
}

/// Sets the given password, or generates a one-time password answered once.
#[utoipa::path(post, path = "/admin/api/v1/users/{id}/password", tag = "admin", summary = "Set a password, or generate a one-time password", security(("admin" = [])), params(("id" = i64, Path)), request_body = PasswordBody, responses((status = 200, description = "{one_time_password} when generated"), (status = 204, description = "Done"), crate::openapi::AdminErrors))]
pub async fn reset_password(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
    super::Body(body): super::Body,
) -> Result<Response, ApiError> {
    let id = UserId(parse_id(&id)?);
    let b: PasswordBody = if body.iter().all(u8::is_ascii_whitespace) {
        PasswordBody::default()
    } else {
        parse_body(&body)?
    };
    let generated = st
        .engine
        .admin_reset_password(&a.actor, id, b.password.map(Secret::new))
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(match generated {
        Some(p) => Json(serde_json::json!({ "one_time_password": p })).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

#[derive(Serialize)]
struct TokenView {
    kind: &'static str,
    /// Absent for a lone access token (no refresh token, no session).
    family: Option<i64>,
    client_id: String,
    scope: String,
    device_id: Option<String>,
    source_type: Option<String>,
    issued_at: i64,
    expires_at: i64,
}

fn token_view(t: TokenRecord) -> TokenView {
    TokenView {
        kind: match t.kind {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        },
        family: (t.family != FamilyId::NONE).then_some(t.family.0),
        client_id: t.subject.client_id.0,
        scope: t.subject.scope,
        device_id: t.subject.device_id,
        source_type: t.subject.source_type,
        issued_at: t.issued_at,
        expires_at: t.expires_at,
    }
}

#[utoipa::path(get, path = "/admin/api/v1/users/{id}/tokens", tag = "admin", summary = "A user's live tokens", security(("admin" = [])), params(("id" = i64, Path)), responses((status = 200, description = "{items}"), crate::openapi::AdminErrors))]
pub async fn tokens(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = UserId(parse_id(&id)?);
    let ts = st
        .engine
        .admin_user_tokens(&a.actor, id)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    let items: Vec<TokenView> = ts.into_iter().map(token_view).collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

#[utoipa::path(delete, path = "/admin/api/v1/users/{id}/tokens", tag = "admin", summary = "Revoke every token of a user", security(("admin" = [])), params(("id" = i64, Path)), responses((status = 200, description = "{revoked}"), crate::openapi::AdminErrors))]
pub async fn revoke_tokens(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = UserId(parse_id(&id)?);
    let n = st
        .engine
        .admin_revoke_user_tokens(&a.actor, id)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(Json(serde_json::json!({ "revoked": n })).into_response())
}

#[derive(Serialize)]
struct SessionView {
    id: String,
    user_id: i64,
    online_ticket: String,
    tenant_id: Option<i64>,
    created_at: i64,
    last_seen: i64,
    expires_at: i64,
}

#[utoipa::path(get, path = "/admin/api/v1/users/{id}/sessions", tag = "admin", summary = "A user's SSO sessions", security(("admin" = [])), params(("id" = i64, Path)), responses((status = 200, description = "{items}"), crate::openapi::AdminErrors))]
pub async fn sessions(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = UserId(parse_id(&id)?);
    let ss = st
        .engine
        .admin_user_sessions(&a.actor, id)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    let items: Vec<SessionView> = ss.into_iter().map(session_view).collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

fn session_view(s: SsoSession) -> SessionView {
    SessionView {
        online_ticket: format!("OT_{}", s.id),
        user_id: s.user_id.0,
        id: s.id,
        tenant_id: s.tenant_id.map(|t| t.0),
        created_at: s.created_at,
        last_seen: s.last_seen,
        expires_at: s.expires_at,
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SessionQuery {
    /// Only this user's sessions.
    pub user_id: Option<i64>,
}

/// Every live SSO session (newest first, at most 500); a `tessera:admin:CODE` token sees its
/// tenant's only.
#[utoipa::path(get, path = "/admin/api/v1/sessions", tag = "admin", summary = "Live SSO sessions", security(("admin" = [])), params(SessionQuery), responses((status = 200, description = "{items}"), crate::openapi::AdminErrors))]
pub async fn list_sessions(
    a: Admin,
    State(st): State<AppState>,
    q: Result<Query<SessionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad(format!("query: {}", e.body_text())))?;
    let ss = st
        .engine
        .admin_sessions(&a.actor, q.user_id.map(UserId))
        .await
        .map_err(|e| ApiError::fault(&e))?;
    let items: Vec<SessionView> = ss.into_iter().map(session_view).collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

#[utoipa::path(delete, path = "/admin/api/v1/sessions/{id}", tag = "admin", summary = "End an SSO session", security(("admin" = [])), params(("id" = String, Path)), responses((status = 204, description = "Done"), crate::openapi::AdminErrors))]
pub async fn revoke_session(
    a: Admin,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    st.engine
        .admin_revoke_session(&a.actor, &id)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    Ok(StatusCode::NO_CONTENT.into_response())
}
