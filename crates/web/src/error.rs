//! RFC 6749 §5.2 error responses (dialect `standard`), and the generic answers to faults.
//! A fault's cause is logged with the request's id (`request_tag`) and never sent to the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_core::lang::Lang;
use tessera_core::{Engine, EngineError};

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

/// The `error` codes Tessera answers (RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1), each with
/// its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    ServerError,
    TemporarilyUnavailable,
    /// Authorization redirects only (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6).
    AccessDenied,
    UnsupportedResponseType,
    LoginRequired,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::LoginRequired => "login_required",
        }
    }

    /// RFC 6749 §5.2: 400, except a failed client authentication (401); faults are 500 and
    /// 503 (RFC 6749 §4.1.2.1 names them for the redirect; the token endpoint uses the same
    /// codes with their statuses).
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidClient => StatusCode::UNAUTHORIZED,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::InvalidRequest
            | Self::InvalidGrant
            | Self::UnauthorizedClient
            | Self::UnsupportedGrantType
            | Self::InvalidScope
            | Self::UnsupportedResponseType
            | Self::LoginRequired => StatusCode::BAD_REQUEST,
            Self::AccessDenied => StatusCode::FORBIDDEN,
        }
    }
}

/// An OAuth error: `{"error", "error_description"}`.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: OAuthErrorCode,
    pub description: String,
}

impl OAuthError {
    /// The message `code` of the catalogue in `lang`, as the description.
    pub fn new(
        engine: &Engine,
        lang: Lang,
        error: OAuthErrorCode,
        code: &str,
        arg: Option<&str>,
    ) -> Self {
        Self {
            status: error.status(),
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
        use tessera_core::error::FaultClass;
        match e.class() {
            FaultClass::Busy | FaultClass::Unavailable => {
                tracing::warn!(error = %e, "busy or storage unavailable: 503");
                Self::new(
                    engine,
                    lang,
                    OAuthErrorCode::TemporarilyUnavailable,
                    "oauth.serverBusy",
                    None,
                )
            }
            FaultClass::Internal => {
                tracing::error!(error = %e, "internal error");
                Self::new(
                    engine,
                    lang,
                    OAuthErrorCode::ServerError,
                    "oauth.serverError",
                    None,
                )
            }
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.error.as_str(), "error_description": self.description });
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
