//! The admin REST API under `/admin/api/v1/` (`docs/reference/admin-api.md`, "Operations"): JSON,
//! authorized by a Bearer token of a client holding the scope `tessera:admin`. Refusals are
//! `{"error", "message"}` with 400 (naming the field), 401, 403, 404 or 409; no endpoint ever
//! answers a password hash or a secret.

pub mod app_keys;
pub mod audit;
pub mod catalog;
pub mod clients;
pub mod tenants;
pub mod user_products;
pub mod users;

use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_core::engine::{Actor, AdminFailure, Authority};

pub use tessera_core::engine::{ADMIN_SCOPE, TENANT_ADMIN_PREFIX};

/// An admin API error.
pub struct ApiError {
    pub status: StatusCode,
    pub error: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            message: message.into(),
        }
    }
    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such object")
    }
    pub fn fault(e: &tessera_core::EngineError) -> Self {
        tracing::error!(error = %e, "internal error in the admin API");
        use tessera_core::error::FaultClass;
        if matches!(e.class(), FaultClass::Busy | FaultClass::Unavailable) {
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "storage does not answer; try again",
            );
        }
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal error",
        )
    }
}

impl From<AdminFailure> for ApiError {
    fn from(f: AdminFailure) -> Self {
        match f {
            AdminFailure::NotFound => ApiError::not_found(),
            AdminFailure::Conflict(what) => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("already taken ({what})"),
            ),
            AdminFailure::Invalid { field, message } => {
                ApiError::bad(format!("{field}: {message}"))
            }
            AdminFailure::Forbidden(message) => {
                ApiError::new(StatusCode::FORBIDDEN, "insufficient_scope", message)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(serde_json::json!({ "error": self.error, "message": self.message })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tessera-admin\""),
            );
        }
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

/// The caller of an admin route: a live access token with the scope `tessera:admin`, or
/// `tessera:admin:CODE` for an operator of the tenant `CODE` only. What each may do is decided
/// by the engine from the [`Actor`] (`tessera_core::engine::actor`, `docs/security.md`).
pub struct Admin {
    pub actor: Actor,
}

/// Early answers for a request the engine would refuse anyway (before its body is read); the
/// engine checks again in every operation.
impl Admin {
    /// 403 unless the token may act on every tenant.
    pub fn global(&self, what: &str) -> Result<(), ApiError> {
        self.actor.global_only(what).map_err(ApiError::from)
    }

    /// 404 for a tenant outside a scoped token's tenant.
    pub fn tenant(&self, code: &str) -> Result<(), ApiError> {
        self.actor.may_tenant(code).map_err(ApiError::from)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "a Bearer token is required",
                )
            })?;
        let rec = st
            .engine
            .check_access_token(token)
            .await
            .map_err(|e| ApiError::fault(&e))?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the token is not live",
                )
            })?;
        let scopes = || rec.subject.scope.split(' ');
        let held: Vec<String> = scopes().map(str::to_string).collect();
        let name = rec.subject.client_id.0.clone();
        if scopes().any(|s| s == ADMIN_SCOPE) {
            return Ok(Admin {
                actor: Actor {
                    name,
                    authority: Authority::Global,
                    scopes: held,
                },
            });
        }
        let refused = || {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("the scope {ADMIN_SCOPE} (or {TENANT_ADMIN_PREFIX}TENANT) is required"),
            )
        };
        let code = scopes()
            .find_map(|s| s.strip_prefix(TENANT_ADMIN_PREFIX))
            .filter(|c| !c.is_empty())
            .ok_or_else(refused)?;
        let tenant = st
            .engine
            .admin_tenant(code)
            .await
            .map_err(|e| ApiError::fault(&e))?
            .ok_or_else(refused)?;
        Ok(Admin {
            actor: Actor {
                name,
                authority: Authority::Tenant {
                    id: tenant.id,
                    code: tenant.code,
                },
                scopes: held,
            },
        })
    }
}

/// The raw body of an admin request. A body that cannot be read (over 64 KiB: 413) is refused
/// in the API's own `{"error", "message"}` shape, not as axum's plain text.
pub struct Body(pub axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, st: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(req, st)
            .await
            .map(Body)
            .map_err(|r| match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "invalid_request",
                    "the body is over 64 KiB",
                ),
                s => ApiError::new(s, "invalid_request", "the body could not be read"),
            })
    }
}

/// A JSON body as `T`, or a 400 that names the field (serde's message does).
pub fn parse_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad(format!("body: {e}")))
}

/// A numeric id from the path.
pub fn parse_id(s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>().map_err(|_| ApiError::not_found())
}

/// The admin routes, documented (see [`crate::api`]).
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::remove))
        .routes(routes!(users::unlock))
        .routes(routes!(users::reset_password))
        .routes(routes!(users::tokens, users::revoke_tokens))
        .routes(routes!(users::sessions))
        .routes(routes!(user_products::list))
        .routes(routes!(user_products::put, user_products::delete))
        .routes(routes!(users::list_sessions))
        .routes(routes!(users::revoke_session))
        .routes(routes!(audit::query))
        .routes(routes!(catalog::products, catalog::create_product))
        .routes(routes!(catalog::update_product))
        .routes(routes!(
            catalog::put_org_product,
            catalog::delete_org_product
        ))
        .routes(routes!(catalog::open_login_ways))
        .routes(routes!(
            catalog::put_open_login_way,
            catalog::delete_open_login_way
        ))
        .routes(routes!(app_keys::list, app_keys::create))
        .routes(routes!(app_keys::update))
        .routes(routes!(app_keys::rotate_secret))
        .routes(routes!(tenants::list, tenants::create))
        .routes(routes!(tenants::get, tenants::update))
        .routes(routes!(tenants::orgs, tenants::create_org))
        .routes(routes!(tenants::update_org))
        .routes(routes!(tenants::put_membership, tenants::delete_membership))
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::get, clients::update, clients::remove))
        .routes(routes!(clients::rotate_secret))
        .layer(axum::middleware::map_response(no_store))
}

/// Every admin answer is `Cache-Control: no-store`: some carry a secret shown once (a new
/// client secret, a one-time password), and none is worth keeping in a cache.
async fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
