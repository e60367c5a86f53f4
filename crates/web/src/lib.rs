//! Tessera's HTTP shell: the standard OAuth 2.1 endpoints, the dialect dispatch at
//! `POST /oauth/token`, and the operations endpoints. Handlers parse, make one engine call and
//! render; every policy lives in `tessera-core`.

pub mod admin;
pub mod console;
pub mod dialects;
pub mod error;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod params;
pub mod request_tag;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tessera_core::Engine;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest request body accepted anywhere (`docs/reference/oauth.md`: over 64 KiB answers 413).
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

/// Request ids: a random 64-bit prefix drawn once per process and a counter, so every id is
/// unique across processes without a `getrandom` system call per request (a UUID per request
/// showed as 2% of the core in the introspection profile, `BENCHMARKS.md`).
#[derive(Clone)]
struct RequestIds {
    prefix: u64,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        Self {
            prefix: rand::random(),
            next: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        use std::io::Write as _;
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Written on the stack: 16 + 1 + at most 16 hex digits.
        let mut buf = [0u8; 33];
        let mut w = &mut buf[..];
        write!(w, "{:016x}-{n:x}", self.prefix).ok()?;
        let len = 33 - w.len();
        http::HeaderValue::from_bytes(&buf[..len])
            .ok()
            .map(RequestId::new)
    }
}

/// What every handler sees.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub settings: Arc<WebSettings>,
}

/// Every route, with its OpenAPI description: `routes!` takes the method and the path from the
/// handler's `#[utoipa::path]`, so the router and `/openapi.json` are one list (no route may be
/// added with a bare `.route`; a unit test below checks the sources).
pub fn api() -> OpenApiRouter<AppState> {
    use dialects::{appkey, cluster, hoth, maxkey};
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(oauth::token::token))
        .routes(routes!(oauth::authorize::authorize))
        .routes(routes!(oauth::authorize::authorize_maxkey))
        .routes(routes!(maxkey::routes::token))
        .routes(routes!(maxkey::routes::me))
        .routes(routes!(oauth::oidc::userinfo))
        .routes(routes!(oauth::oidc::jwks))
        .routes(routes!(oauth::oidc::discovery))
        .routes(routes!(oauth::oidc::logout))
        .routes(routes!(pages::login::get, pages::login::post))
        .routes(routes!(console::front::front_door))
        .routes(routes!(console::dashboard))
        .routes(routes!(console::users::users_list))
        .routes(routes!(console::audit::audit_log))
        .routes(routes!(
            console::clients::clients,
            console::clients::client_action
        ))
        .routes(routes!(
            console::tenants::tenants,
            console::tenants::tenant_action
        ))
        .routes(routes!(
            console::audit::sessions,
            console::audit::end_session
        ))
        .routes(routes!(
            console::users::user_detail,
            console::users::user_action
        ))
        .routes(routes!(oauth::introspect::introspect))
        .routes(routes!(oauth::revoke::revoke))
        .routes(routes!(cluster::routes::sms_code))
        .routes(routes!(hoth::routes::init_params))
        .routes(routes!(hoth::routes::public_key))
        .routes(routes!(hoth::routes::captcha))
        .routes(routes!(hoth::routes::sms))
        .routes(routes!(appkey::routes::login))
        .routes(routes!(appkey::routes::refresh))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(metrics::render))
        .routes(routes!(openapi::document))
        .merge(admin::routes())
}

/// The OpenAPI document of [`api`].
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = api().into_openapi();
    openapi::unique_operation_ids(&mut doc);
    doc
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let x_request_id = http::HeaderName::from_static("x-request-id");
    let (routes, mut doc) = api().split_for_parts();
    openapi::unique_operation_ids(&mut doc);
    // Serialized once; `to_json` only fails on non-string map keys, which the document has none of.
    let doc = openapi::Document(doc.to_json().unwrap_or_else(|_| "{}".into()).into());
    routes
        .fallback(ops::not_found)
        .with_state(state)
        // One `ServiceBuilder` stack, not one `.layer` call per middleware: each `Router::layer`
        // boxes every route again, so a request went through seven boxed services (a clone and
        // a boxed future each) before reaching its handler. First listed is outermost.
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(
                    x_request_id.clone(),
                    RequestIds::new(),
                ))
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(request_tag::TagLayer)
                .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                    http::StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(30),
                ))
                .layer(CatchPanicLayer::custom(error::panic_response))
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
                .layer(axum::Extension(doc))
                .layer(metrics::TrackLayer),
        )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    /// Routes are added only through `routes!` (see [`super::api`]), so that none escapes the
    /// OpenAPI document: no source file of this crate registers a bare route.
    #[test]
    fn no_route_is_registered_outside_the_documented_list() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let needle = [".", "route("].concat();
                    for (n, line) in text.lines().enumerate() {
                        if line.contains(&needle) {
                            found.push(format!("{}:{}", path.display(), n + 1));
                        }
                    }
                }
            }
        }
        let mut found = vec![];
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(found.is_empty(), "bare routes: {found:?}");
    }
}
