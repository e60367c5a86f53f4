//! Engine outcomes in seed 002's shapes.

use super::wire;
use crate::error::no_store;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_core::engine::{AppKeyFailure, AppKeyGrant};
use tessera_core::lang::Lang;
use tessera_core::Engine;

pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// `{"status", "error", "message", "path", "timestamp"}`.
pub fn error(
    e: &Engine,
    lang: Lang,
    status: StatusCode,
    path: &str,
    msg: &str,
    arg: Option<&str>,
) -> Response {
    let body = wire::Error {
        status: status.as_u16(),
        error: status.canonical_reason().unwrap_or("Error"),
        message: e.catalogue().text(msg, lang, arg),
        path,
        timestamp: rfc3339(e.now()),
    };
    no_store((status, Json(body)).into_response())
}

pub fn failure(e: &Engine, lang: Lang, path: &str, f: AppKeyFailure) -> Response {
    match f {
        AppKeyFailure::BadCredentials => error(
            e,
            lang,
            StatusCode::UNAUTHORIZED,
            path,
            "appkey.badCredentials",
            None,
        ),
        AppKeyFailure::Disabled => error(
            e,
            lang,
            StatusCode::FORBIDDEN,
            path,
            "appkey.disabled",
            None,
        ),
    }
}

/// A fault in Spring's shape: 503 when storage does not answer (with `Retry-After`), else 500;
/// the cause is logged, not shown.
pub fn fault(e: &Engine, lang: Lang, path: &str, err: &tessera_core::EngineError) -> Response {
    use tessera_core::error::FaultClass;
    tracing::error!(error = %err, "internal error");
    if matches!(err.class(), FaultClass::Busy | FaultClass::Unavailable) {
        let mut r = error(
            e,
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            path,
            "oauth.serverBusy",
            None,
        );
        r.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("1"),
        );
        return r;
    }
    error(
        e,
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        path,
        "oauth.serverError",
        None,
    )
}

pub fn grant(g: &AppKeyGrant) -> Response {
    let user_org = g.user.as_ref().map(|u| wire::UserOrg {
        account: u.username.clone(),
        id: u.id.0,
        mobile: u.phone.clone().unwrap_or_default(),
        name: u.display_name.clone(),
        org: wire::Org {
            logo: g.org.logo.clone(),
            name: g.org.name.clone(),
            org_type: g.org.org_type.as_str(),
        },
        org_id: g.org.id.0,
        portrait: u.portrait.clone(),
    });
    let user_product = g.user_product.map(|(id, admin)| wire::UserProduct {
        id: id.0,
        org_id: g.org.id.0,
        product_id: g.key.product_id.0,
        system_admin: admin,
    });
    let body = wire::Token {
        access_token: g.issued.access_token.clone(),
        expires_time: rfc3339(g.issued.access_expires_at),
        login_user: wire::LoginUser {
            id: g.user.as_ref().map(|u| u.id.0).unwrap_or(g.key.id.0),
            login_type: "APP_KEY",
            login_user_type: if g.user.is_some() { "USER" } else { "CLIENT" },
            org_product: wire::OrgProduct {
                name: g.org_product_name.clone(),
                org_id: g.org.id.0,
                product_id: g.key.product_id.0,
            },
            user_org,
            user_product,
        },
        refresh_token: g.issued.refresh_token.clone(),
    };
    no_store(Json(body).into_response())
}
