//! Which request a log line belongs to, without a tracing span per request.
//!
//! Every fault is logged with the request's id (the `X-Request-Id` answered to the client), its
//! method and its path, so that a client's report can be matched to the cause. A `tracing` span
//! per request did that, but creating it formats its fields and registers it in the
//! subscriber on every request, logged or not: ~8 % of the instructions of an introspection
//! (issue 7, measured with callgrind). Requests log rarely, so the tag is kept in a task-local
//! (a pointer swap per poll) and read only when a line is written: the server's log formatter
//! appends it to any line written while the request's future is being polled
//! (`tessera-server`'s `logs.rs`).

use axum::http::{HeaderValue, Method, Request, Uri};
use std::task::{Context, Poll};
use tokio::task::futures::TaskLocalFuture;

tokio::task_local! {
    static CURRENT: RequestTag;
}

/// The request being served by the current task.
#[derive(Debug, Clone)]
pub struct RequestTag {
    pub id: HeaderValue,
    pub method: Method,
    pub uri: Uri,
}

/// The tag of the request this task is serving, if any (`None` outside a request: start-up,
/// background tasks, the blocking pool).
pub fn current() -> Option<RequestTag> {
    CURRENT.try_with(RequestTag::clone).ok()
}

/// Tags each request with its id (set by `SetRequestIdLayer`, which must run first), method
/// and URI for the time its response is being made.
#[derive(Debug, Clone, Copy, Default)]
pub struct TagLayer;

impl<S> tower::Layer<S> for TagLayer {
    type Service = Tag<S>;
    fn layer(&self, inner: S) -> Tag<S> {
        Tag(inner)
    }
}

/// See [`TagLayer`].
#[derive(Debug, Clone)]
pub struct Tag<S>(S);

impl<S, B> tower::Service<Request<B>> for Tag<S>
where
    S: tower::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<RequestTag, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let tag = RequestTag {
            id: req
                .headers()
                .get("x-request-id")
                .cloned()
                .unwrap_or_else(|| HeaderValue::from_static("-")),
            method: req.method().clone(),
            uri: req.uri().clone(),
        };
        CURRENT.scope(tag, self.0.call(req))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tower::{Layer, Service, ServiceExt};

    #[tokio::test]
    async fn the_tag_is_seen_while_the_request_is_served_and_not_after() {
        let svc = tower::service_fn(|_req: Request<()>| async {
            Ok::<_, std::convert::Infallible>(current())
        });
        let mut svc = TagLayer.layer(svc);
        let req = Request::post("/oauth/token?x=1")
            .header("x-request-id", "abc-1")
            .body(())
            .unwrap();
        let seen = svc.ready().await.unwrap().call(req).await.unwrap().unwrap();
        assert_eq!(seen.id, "abc-1");
        assert_eq!(seen.method, Method::POST);
        assert_eq!(seen.uri.path(), "/oauth/token");
        assert!(current().is_none(), "nothing outside a request");
    }
}
