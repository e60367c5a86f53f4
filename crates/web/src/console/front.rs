//! `GET /`: the front door. The product's name and version, and the ways in.

use super::{console_texts, ConsoleTexts};
use crate::pages::page;
use crate::params::FormRequest;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

#[derive(Template)]
#[template(path = "front.html")]
struct Front {
    t: ConsoleTexts,
    version: &'static str,
    signed_in: Option<String>,
}

#[utoipa::path(get, path = "/", tag = "console", summary = "The front door: name, version and links (sign in, console, discovery, OpenAPI)", params(("lang" = Option<String>, Query)), responses((status = 200, description = "HTML page", content_type = "text/html")))]
pub async fn front_door(State(st): State<AppState>, req: FormRequest) -> Response {
    let lang = req.lang();
    let signed_in = match req.cookie(crate::pages::login::SSO_COOKIE) {
        Some(secret) => match st.engine.session_user(secret).await {
            Ok(u) => u.map(|u| u.username),
            Err(e) => {
                // The front door still opens without the database; it just greets no one.
                tracing::warn!(error = %e, "front door: the session could not be read");
                None
            }
        },
        None => None,
    };
    let tpl = Front {
        t: console_texts(lang),
        version: env!("CARGO_PKG_VERSION"),
        signed_in,
    };
    match tpl.render() {
        Ok(html) => page(StatusCode::OK, html, &[]),
        Err(e) => {
            tracing::error!(error = %e, "front door template");
            super::fault(lang)
        }
    }
}
