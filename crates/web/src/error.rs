//! RFC 6749 §5.2 error responses (dialect `standard`), and the generic answers to faults.
//! A fault's cause is logged with the request's id (`request_tag`) and never sent to the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_core::lang::Lang;
use tessera_core::{Engine, EngineError, StoreError};

/// A JSON answer of the hot paths (token, introspection), with `no_store`'s headers. Written
/// into one `Vec` sized for a token answer: axum's `Json` writes through a `BytesMut` writer
/// that checks and grows its buffer for every fragment, ~7 % of an introspection's
/// instructions (issue 7, callgrind).
pub fn json_no_store<T: serde::Serialize>(v: &T) -> Response {
    let mut buf = Vec::with_capacity(512);
    match serde_json::to_writer(&mut buf, v) {
        Ok(()) => no_store(
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                buf,
            )
                .into_response(),
        ),
        // Only a map with non-string keys fails; answered as axum's `Json` would.
        Err(_) => no_store(Json(v).into_response()),
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1) on a response.
pub fn no_store(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// An OAuth error: `{"error", "error_description"}`.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    /// The message `code` of the catalogue in `lang`, as the description.
    pub fn new(
        engine: &Engine,
        lang: Lang,
        error: &'static str,
        code: &str,
        arg: Option<&str>,
    ) -> Self {
        let status = match error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            error,
            description: engine.catalogue().text(code, lang, arg),
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The answer to a fault: logged here, generic to the client. `Busy` (no password-hashing
    /// slot in time) and storage that does not answer (PostgreSQL or Redis down, no pool
    /// connection in time) are 503 with `Retry-After`: the client may try again.
    pub fn fault(engine: &Engine, lang: Lang, e: &EngineError) -> Self {
        match e {
            EngineError::Busy => {
                tracing::warn!("password hashing saturated: 503");
                Self::new(
                    engine,
                    lang,
                    "temporarily_unavailable",
                    "oauth.serverBusy",
                    None,
                )
            }
            EngineError::Store(StoreError::Unavailable(_)) => {
                tracing::error!(error = %e, "storage unavailable: 503");
                Self::new(
                    engine,
                    lang,
                    "temporarily_unavailable",
                    "oauth.serverBusy",
                    None,
                )
            }
            other => {
                tracing::error!(error = %other, "internal error");
                Self::new(engine, lang, "server_error", "oauth.serverError", None)
            }
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!({ "error": self.error, "error_description": self.description });
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2: a 401 for invalid_client names the scheme the client can use.
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tessera\""),
            );
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        no_store(r)
    }
}

/// A panic in a handler becomes a generic 500; the panic itself was already printed by the
/// panic hook with the request's span.
pub fn panic_response(_err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    let body =
        serde_json::json!({ "error": "server_error", "error_description": "internal error" });
    no_store((StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response())
}
