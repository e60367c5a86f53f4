//! `/console/clients`: the clients within reach (a tenant admin: those bound to its tenant),
//! and the rotation of a confidential client's secret, shown once. Through
//! `Engine::admin_list_clients` and `admin_rotate_client_secret`, with their checks and audit.

use super::{csrf_ok, fault, operator, operator_for_action, render, Frame, Operator};
use crate::params::FormRequest;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tessera_core::engine::AdminFailure;

pub struct ClientRow {
    pub client_id: String,
    pub dialect: &'static str,
    pub confidential: bool,
    pub grants: String,
    pub redirect_uris: Vec<String>,
    pub scopes: String,
}

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ClientsPage {
    f: Frame,
    rows: Vec<ClientRow>,
    /// The client whose secret was just rotated, and the new secret (shown this once).
    rotated: Option<(String, String)>,
    error: Option<String>,
}

async fn page(
    st: &AppState,
    op: &Operator,
    status: StatusCode,
    rotated: Option<(String, String)>,
    error: Option<String>,
) -> Response {
    let cs = match st.engine.admin_list_clients(&op.actor).await {
        Ok(cs) => cs,
        Err(e) => {
            tracing::error!(error = %e, "console clients");
            return fault(op.lang);
        }
    };
    let tpl = ClientsPage {
        f: Frame::of(op, "/console/clients"),
        rows: cs
            .into_iter()
            .map(|c| ClientRow {
                confidential: !c.is_public(),
                dialect: c.dialect.as_str(),
                grants: c
                    .grant_types
                    .iter()
                    .map(|g| g.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                redirect_uris: c.redirect_uris,
                scopes: c.scopes.join(" "),
                client_id: c.client_id.0,
            })
            .collect(),
        rotated,
        error,
    };
    render(op, status, &tpl)
}

/// `GET /console/clients`.
#[utoipa::path(get, path = "/console/clients", tag = "console", summary = "The console's clients", params(("lang" = Option<String>, Query)), responses((status = 200, description = "HTML page", content_type = "text/html"), (status = 303, description = "Not signed in: to /login"), (status = 403, description = "No console rights", content_type = "text/html")))]
pub async fn clients(State(st): State<AppState>, req: FormRequest) -> Response {
    match operator(&st, &req).await {
        Ok(op) => page(&st, &op, StatusCode::OK, None, None).await,
        Err(r) => r,
    }
}

/// `POST /console/clients`: `action=rotate_secret`, `client_id`; CSRF-checked. The new secret
/// is on the answer's page once; only its hash is kept.
#[utoipa::path(post, path = "/console/clients", tag = "console", summary = "Rotate a confidential client's secret, shown once (CSRF double submit)", request_body(content = crate::openapi::ConsoleClientAction, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "The clients page with the new secret", content_type = "text/html"), (status = 303, description = "Not signed in: to /login"), (status = 400, description = "Expired form, unknown action, or a public client", content_type = "text/html"), (status = 403, description = "Beyond the operator's reach", content_type = "text/html"), (status = 404, description = "No such client within reach", content_type = "text/html")))]
pub async fn client_action(State(st): State<AppState>, req: FormRequest) -> Response {
    let op = match operator_for_action(&st, &req).await {
        Ok(op) => op,
        Err(r) => return r,
    };
    let t = super::console_texts(op.lang);
    let client_id = match (req.get("action"), req.non_empty("client_id")) {
        (Some("rotate_secret"), Some(id)) if req.bad.is_none() && csrf_ok(&req) => id.to_string(),
        _ => {
            let e = Some(t.expired_form.to_string());
            return page(&st, &op, StatusCode::BAD_REQUEST, None, e).await;
        }
    };
    // A public client has no secret to rotate: giving it one would change what it is.
    match st.engine.admin_client(&op.actor, &client_id).await {
        Ok(Ok(c)) if c.is_public() => {
            let e = Some(t.public_client.to_string());
            return page(&st, &op, StatusCode::BAD_REQUEST, None, e).await;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "console client");
            return fault(op.lang);
        }
    }
    match st
        .engine
        .admin_rotate_client_secret(&op.actor, &client_id)
        .await
    {
        Ok(Ok(secret)) => page(&st, &op, StatusCode::OK, Some((client_id, secret)), None).await,
        Ok(Err(AdminFailure::Forbidden(why))) => {
            page(&st, &op, StatusCode::FORBIDDEN, None, Some(why)).await
        }
        Ok(Err(_)) => {
            let e = Some(t.not_found.to_string());
            page(&st, &op, StatusCode::NOT_FOUND, None, e).await
        }
        Err(e) => {
            tracing::error!(error = %e, "console rotate secret");
            fault(op.lang)
        }
    }
}
