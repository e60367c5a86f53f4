//! Tessera's HTTP shell: the standard OAuth 2.1 endpoints, the dialect dispatch at
//! `POST /oauth/token`, and the operations endpoints. Handlers parse, make one engine call and
//! render; every policy lives in `tessera-core`.

pub mod admin;
pub mod dialects;
pub mod error;
pub mod metrics;
pub mod oauth;
pub mod ops;
pub mod pages;
pub mod params;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tessera_core::Engine;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Largest request body accepted anywhere (`http-contract.md`: over 64 KiB answers 413).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Settings of the HTTP layer, from `[server]` and `[dialects]`.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    /// Public base URL (`server.issuer`), used in introspection's `iss`.
    pub issuer: String,
    /// `dialects.cluster.default_client`: the client used when a request says `client=admin`
    /// and carries no client credentials.
    pub cluster_default_client: Option<String>,
    /// `captcha.mode = "test"`: captcha answers are returned to clients (automated tests only).
    pub captcha_test_mode: bool,
    /// `login.phone_pattern`: phones that SMS codes may be sent to.
    pub phone_pattern: Option<regex::Regex>,
    /// `server.trusted_proxies`: peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// What every handler sees.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub settings: Arc<WebSettings>,
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let x_request_id = http::HeaderName::from_static("x-request-id");
    Router::new()
        .route("/oauth/token", post(oauth::token::token))
        .route("/oauth/authorize", get(oauth::authorize::authorize))
        .route("/api/sso/authz/oauth/v20/authorize", get(oauth::authorize::authorize))
        .route("/api/sso/authz/oauth/v20/token", get(dialects::maxkey::routes::token).post(dialects::maxkey::routes::token))
        .route("/api/sso/authz/oauth/v20/me", get(dialects::maxkey::routes::me).post(dialects::maxkey::routes::me))
        .route("/oauth/userinfo", get(oauth::oidc::userinfo).post(oauth::oidc::userinfo))
        .route("/oauth/jwks", get(oauth::oidc::jwks))
        .route("/.well-known/openid-configuration", get(oauth::oidc::discovery))
        .route("/oauth/logout", get(oauth::oidc::logout))
        .route("/login", get(pages::login::get).post(pages::login::post))
        .route("/oauth/introspect", post(oauth::introspect::introspect))
        .route("/oauth/sms/code", post(dialects::cluster::routes::sms_code))
        .route("/oauth/public/login/init-params", get(dialects::hoth::routes::init_params))
        .route("/oauth/public/key", get(dialects::hoth::routes::public_key))
        .route("/oauth/public/captcha", get(dialects::hoth::routes::captcha))
        .route("/oauth/public/captcha/sms", post(dialects::hoth::routes::sms))
        .route("/api/base/token/login", post(dialects::appkey::routes::login))
        .route("/api/base/token/refresh", post(dialects::appkey::routes::refresh))
        .route("/oauth/revoke", post(oauth::revoke::revoke))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(metrics::render))
        .route("/readyz", get(ops::readyz))
        .merge(admin::routes())
        .fallback(ops::not_found)
        .route_layer(axum::middleware::from_fn(metrics::track))
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &http::Request<_>| {
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
}
