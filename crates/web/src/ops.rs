//! Liveness and readiness (`docs/reference/oauth.md`, "Operations").

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// 200 while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "ops", summary = "Liveness", responses((status = 200, description = "{status: ok}", content_type = "application/json")))]
pub async fn healthz() -> Response {
    Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// 200 when the database answers, else 503.
#[utoipa::path(get, path = "/readyz", tag = "ops", summary = "Readiness: database and short-lived store answer", responses((status = 200, description = "{status: ready}", content_type = "application/json"), (status = 503, description = "A dependency is down", content_type = "application/json")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let r = state.engine.readiness().await;
    if r.database && r.short_lived_store {
        return Json(serde_json::json!({ "status": "ready" })).into_response();
    }
    // Names which dependency does not answer.
    let word = |up: bool| if up { "up" } else { "down" };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({
            "status": "unavailable",
            "database": word(r.database),
            "short_lived_store": word(r.short_lived_store),
        })),
    )
        .into_response()
}

pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": "not_found" })),
    )
        .into_response()
}
