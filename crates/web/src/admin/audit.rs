//! `GET /admin/api/v1/audit`: the audit log, newest first, filtered by user, client, dialect,
//! outcome, kind and time range (Unix seconds, `from` inclusive, `to` exclusive).

use super::{Admin, ApiError};
use crate::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tessera_core::ids::UserId;
use tessera_core::store::AuditFilter;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub user: Option<i64>,
    pub client: Option<String>,
    pub dialect: Option<String>,
    pub outcome: Option<String>,
    pub kind: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/admin/api/v1/audit", tag = "admin", summary = "Query the audit log", security(("admin" = [])), params(AuditQuery), responses((status = 200, description = "{items}"), crate::openapi::AdminErrors))]
pub async fn query(
    a: Admin,
    State(st): State<AppState>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad(format!("query: {}", e.body_text())))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad("limit: 1 to 1000"));
    }
    let f = AuditFilter {
        user: q.user.map(UserId),
        client: q.client,
        dialect: q.dialect,
        outcome: q.outcome,
        kind: q.kind,
        from: q.from,
        to: q.to,
        limit,
    };
    let events = st
        .engine
        .admin_audit_log(&a.actor, &f)
        .await
        .map_err(|e| ApiError::fault(&e))??;
    let items: Vec<serde_json::Value> = events
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "at": e.at, "kind": e.kind, "dialect": e.dialect, "outcome": e.outcome,
                "user_id": e.user_id.map(|u| u.0), "client_id": e.client_id, "ip": e.ip, "detail": e.detail,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}
