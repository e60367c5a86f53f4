//! `GET /metrics` (Prometheus text): requests by route and status with latency histograms
//! (this middleware), sign-ins by dialect and outcome, tokens issued/refreshed/revoked and the
//! hashing queue (recorded by the engine), database pool usage (read at scrape time).
//!
//! The `metrics` facade keeps one recorder per process, as `tracing` keeps one subscriber, so
//! the recorder is installed once and shared by every server in the process (the test suite
//! starts many).

use crate::AppState;
use axum::extract::{MatchedPath, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
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
/// method and status, and records its latency. A plain tower layer in the router's one
/// middleware stack (`lib.rs`), where `MatchedPath` is already set: `middleware::from_fn`
/// would clone a boxed service and box a future per request.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrackLayer;

impl<S> tower::Layer<S> for TrackLayer {
    type Service = Track<S>;
    fn layer(&self, inner: S) -> Track<S> {
        Track(inner)
    }
}

/// See [`TrackLayer`].
#[derive(Debug, Clone)]
pub struct Track<S>(S);

impl<S, B, RB> tower::Service<http::Request<B>> for Track<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Tracked<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let route = req.extensions().get::<MatchedPath>().cloned();
        let method = req.method().clone();
        Tracked {
            start: Instant::now(),
            route,
            method,
            inner: self.0.call(req),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Track`].
    pub struct Tracked<F> {
        #[pin]
        inner: F,
        start: Instant,
        route: Option<MatchedPath>,
        method: http::Method,
    }
}

impl<F, RB, E> Future for Tracked<F>
where
    F: Future<Output = Result<http::Response<RB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = std::task::ready!(this.inner.poll(cx));
        if let Ok(r) = &out {
            let route = this.route.as_ref().map_or("unmatched", |p| p.as_str());
            record(route, this.method, r.status().as_u16(), *this.start);
            // At `debug`, one line per request (with its tag, `request_tag`); when the level
            // is off this is one atomic load.
            tracing::debug!(
                status = r.status().as_u16(),
                latency_us = this.start.elapsed().as_micros() as u64,
                "finished processing request"
            );
        }
        Poll::Ready(out)
    }
}

fn record(route: &str, method: &http::Method, status: u16, start: Instant) {
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
        match r.requests.iter().find(|(m, s, _)| m == method && *s == status) {
            Some((_, _, c)) => c.increment(1),
            None => {
                let c = metrics::counter!("tessera_http_requests_total", "route" => route.to_string(), "method" => method.as_str().to_string(), "status" => status.to_string());
                c.increment(1);
                r.requests.push((method.clone(), status, c));
            }
        }
    });
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
    let (size, idle) = st.engine.pool_usage();
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
