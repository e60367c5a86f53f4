//! The standard endpoints: token (with the dialect dispatch), introspection, revocation.

pub mod authorize;
pub mod introspect;
pub mod oidc;
pub mod revoke;
pub mod token;

use crate::error::OAuthError;
use crate::error::OAuthErrorCode;
use crate::params::{BadInput, FormRequest};
use crate::AppState;
use std::sync::Arc;
use tessera_core::error::ClientAuthFailure;
use tessera_core::model::{Client, Dialect};
use tessera_core::secret::Secret;

/// Why the caller is not an identified client, and which dialect should say so
/// (`docs/reference/oauth.md`, "Which dialect answers an unparseable request").
#[derive(Debug)]
pub struct NotIdentified {
    pub failure: ClientAuthFailure,
    pub dialect: Dialect,
}

/// Identifies the calling client: HTTP Basic, else `client_id` + `client_secret` parameters,
/// else (when `cluster_default` and the request says `client=admin`) the configured
/// `dialects.cluster.default_client`.
pub async fn identify_client(
    st: &AppState,
    req: &FormRequest,
    cluster_default: bool,
) -> Result<Result<Arc<Client>, NotIdentified>, OAuthError> {
    let lang = req.lang();
    let fault = |e| OAuthError::fault(&st.engine, lang, &e);
    let param_secret: Option<Secret>;
    let (id, secret): (&str, Option<&Secret>) = match (&req.basic, req.non_empty("client_id")) {
        (Some((id, s)), _) => (id, Some(s)),
        (None, Some(id)) => {
            param_secret = req.get("client_secret").map(Secret::new);
            (id, param_secret.as_ref())
        }
        (None, None) => {
            let default = st
                .settings
                .cluster_default_client
                .as_deref()
                .filter(|_| cluster_default && req.get("client") == Some("admin"));
            if let Some(name) = default {
                return match st.engine.client_named(name).await.map_err(fault)? {
                    Some(c) => Ok(Ok(c)),
                    None => {
                        tracing::error!(
                            client = name,
                            "dialects.cluster.default_client names no registered client"
                        );
                        Ok(Err(NotIdentified {
                            failure: ClientAuthFailure::UnknownClient,
                            dialect: Dialect::Cluster,
                        }))
                    }
                };
            }
            let dialect = if req.get("client") == Some("admin") {
                Dialect::Cluster
            } else {
                Dialect::Standard
            };
            return Ok(Err(NotIdentified {
                failure: ClientAuthFailure::UnknownClient,
                dialect,
            }));
        }
    };
    match st
        .engine
        .authenticate_client(id, secret)
        .await
        .map_err(fault)?
    {
        Ok(c) => Ok(Ok(c)),
        Err(failure) => {
            // A known client with a wrong secret is answered in its own dialect.
            let dialect = match st.engine.client_named(id).await.map_err(fault)? {
                Some(c) => c.dialect,
                None if req.get("client") == Some("admin") => Dialect::Cluster,
                None => Dialect::Standard,
            };
            Ok(Err(NotIdentified { failure, dialect }))
        }
    }
}

/// `invalid_client`, 401 with `WWW-Authenticate` (RFC 6749 §5.2).
pub fn invalid_client(st: &AppState, req: &FormRequest) -> OAuthError {
    OAuthError::new(
        &st.engine,
        req.lang(),
        OAuthErrorCode::InvalidClient,
        "oauth.invalidClient",
        None,
    )
}

/// The standard answer to unreadable parameters.
pub fn bad_input(st: &AppState, req: &FormRequest, bad: &BadInput) -> OAuthError {
    let e = &st.engine;
    let lang = req.lang();
    match bad {
        BadInput::TooLarge => OAuthError::new(
            e,
            lang,
            OAuthErrorCode::InvalidRequest,
            "oauth.bodyTooLarge",
            None,
        )
        .with_status(axum::http::StatusCode::PAYLOAD_TOO_LARGE),
        BadInput::ContentType => OAuthError::new(
            e,
            lang,
            OAuthErrorCode::InvalidRequest,
            "oauth.badContentType",
            None,
        ),
        BadInput::Encoding => OAuthError::new(
            e,
            lang,
            OAuthErrorCode::InvalidRequest,
            "oauth.badEncoding",
            None,
        ),
        BadInput::Repeated(p) => OAuthError::new(
            e,
            lang,
            OAuthErrorCode::InvalidRequest,
            "oauth.paramRepeated",
            Some(p),
        ),
        BadInput::TooMany => OAuthError::new(
            e,
            lang,
            OAuthErrorCode::InvalidRequest,
            "oauth.tooManyParams",
            Some(&crate::params::MAX_PARAMS.to_string()),
        ),
        BadInput::BadBasic => invalid_client(st, req),
    }
}

/// `invalid_request` for a missing parameter.
pub fn missing(st: &AppState, req: &FormRequest, name: &str) -> OAuthError {
    OAuthError::new(
        &st.engine,
        req.lang(),
        OAuthErrorCode::InvalidRequest,
        "oauth.paramMissing",
        Some(name),
    )
}
