//! `GET /metrics` (Prometheus text): requests by route and status with latency histograms
//! (this middleware), sign-ins by dialect and outcome, tokens issued/refreshed/revoked and the
//! hashing queue (recorded by the engine), database pool usage (read at scrape time).
//!
//! The `metrics` facade keeps one recorder per process, as `tracing` keeps one subscriber, so
//! the recorder is installed once and shared by every server in the process (the test suite
//! starts many).

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once); `None` if another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), &buckets)
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Counts every request by route (the router's pattern, not the raw path: bounded labels),
/// method and status, and records its latency.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let response = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", |p| p.as_str());
    let status = response.status().as_u16();
    HANDLES.with(|h| {
        let mut h = h.borrow_mut();
        let r = match h.get_mut(route) {
            Some(r) => r,
            None => h.entry(route.to_string()).or_insert_with(|| RouteHandles {
                latency: metrics::histogram!("tessera_http_request_duration_seconds", "route" => route.to_string()),
                requests: Vec::new(),
            }),
        };
        r.latency.record(start.elapsed().as_secs_f64());
        match r.requests.iter().find(|(m, s, _)| *m == method && *s == status) {
            Some((_, _, c)) => c.increment(1),
            None => {
                let c = metrics::counter!("tessera_http_requests_total", "route" => route.to_string(), "method" => method.as_str().to_string(), "status" => status.to_string());
                c.increment(1);
                r.requests.push((method, status, c));
            }
        }
    });
    response
}

/// A route's metric handles: looking a metric up by name and labels allocates and hashes
/// the labels and locks the registry, so each worker thread keeps the handles it has used
/// (bounded: routes × methods × statuses seen).
struct RouteHandles {
    latency: metrics::Histogram,
    requests: Vec<(http::Method, u16, metrics::Counter)>,
}

thread_local! {
    static HANDLES: std::cell::RefCell<std::collections::HashMap<String, RouteHandles>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

#[utoipa::path(get, path = "/metrics", tag = "ops", summary = "Prometheus metrics", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn render(State(st): State<AppState>) -> Response {
    let (size, idle) = st.engine.store().pool_usage();
    metrics::gauge!("tessera_db_pool_connections").set(size as f64);
    metrics::gauge!("tessera_db_pool_idle_connections").set(idle as f64);
    let body = handle().map(|h| h.render()).unwrap_or_default();
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}
