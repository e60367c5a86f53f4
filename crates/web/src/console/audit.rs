//! `/console/audit`: the audit log, filtered by user, client (or console actor), kind,
//! outcome and time; and `/console/sessions`: the live SSO sessions within reach, each with
//! an end button. Both read through the admin engine calls, so a tenant admin sees what the
//! admin API would show it: its tenant's sessions, and the audit trail of one user of its
//! tenant at a time.

use super::{csrf_ok, fault, operator, operator_for_action, render, when, AuditRow, Frame};
use crate::params::FormRequest;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tessera_core::engine::AdminFailure;
use tessera_core::ids::UserId;
use tessera_core::store::AuditFilter;

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    f: Frame,
    user: String,
    client: String,
    kind: String,
    outcome: String,
    from: String,
    to: String,
    rows: Vec<AuditRow>,
    error: Option<String>,
}

/// A filter value from the query: trimmed, at most 128 characters, `None` when empty.
fn field(req: &FormRequest, name: &str) -> String {
    req.get(name)
        .unwrap_or("")
        .trim()
        .chars()
        .take(128)
        .collect()
}

/// `yyyy-mm-dd` (UTC midnight) or Unix seconds.
fn instant(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let d = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp())
}

/// `GET /console/audit`.
#[utoipa::path(get, path = "/console/audit", tag = "console", summary = "The console's audit log, filtered", params(("user" = Option<String>, Query, description = "user id"), ("client" = Option<String>, Query, description = "client id, or a console actor user:NAME"), ("kind" = Option<String>, Query), ("outcome" = Option<String>, Query), ("from" = Option<String>, Query, description = "yyyy-mm-dd or Unix seconds"), ("to" = Option<String>, Query, description = "yyyy-mm-dd or Unix seconds"), ("lang" = Option<String>, Query)), responses((status = 200, description = "HTML page", content_type = "text/html"), (status = 303, description = "Not signed in: to /login"), (status = 403, description = "No console rights", content_type = "text/html")))]
pub async fn audit_log(State(st): State<AppState>, req: FormRequest) -> Response {
    let op = match operator(&st, &req).await {
        Ok(op) => op,
        Err(r) => return r,
    };
    let t = super::console_texts(op.lang);
    let (user, client, kind, outcome, from, to) = (
        field(&req, "user"),
        field(&req, "client"),
        field(&req, "kind"),
        field(&req, "outcome"),
        field(&req, "from"),
        field(&req, "to"),
    );
    let mut error = None;
    let opt = |s: &String| Some(s.clone()).filter(|s| !s.is_empty());
    let user_id = match user.as_str() {
        "" => None,
        u => match u.parse::<i64>() {
            Ok(n) => Some(UserId(n)),
            Err(_) => {
                error = Some(format!("user: {}", t.bad_number));
                None
            }
        },
    };
    let (from_t, to_t) = (
        opt(&from).and_then(|s| instant(&s)),
        opt(&to).and_then(|s| instant(&s)),
    );
    if (!from.is_empty() && from_t.is_none()) || (!to.is_empty() && to_t.is_none()) {
        error = Some(t.bad_date.to_string());
    }
    let filter = AuditFilter {
        user: user_id,
        client: opt(&client),
        dialect: None,
        outcome: opt(&outcome),
        kind: opt(&kind),
        from: from_t,
        // A day given as `to` includes that day.
        to: to_t.map(|x| if to.contains('-') { x + 86_399 } else { x }),
        limit: 200,
    };
    let rows = if error.is_some() {
        vec![]
    } else {
        match st.engine.admin_audit_log(&op.actor, &filter).await {
            Ok(Ok(evs)) => evs.iter().map(AuditRow::of).collect(),
            Ok(Err(AdminFailure::Invalid { .. })) => {
                error = Some(t.audit_needs_user.to_string());
                vec![]
            }
            Ok(Err(_)) => {
                error = Some(t.not_found.to_string());
                vec![]
            }
            Err(e) => {
                tracing::error!(error = %e, "console audit");
                return fault(op.lang);
            }
        }
    };
    let tpl = AuditPage {
        f: Frame::of(&op, "/console/audit"),
        user,
        client,
        kind,
        outcome,
        from,
        to,
        rows,
        error,
    };
    render(&op, StatusCode::OK, &tpl)
}

pub struct LiveSession {
    pub id: String,
    pub user_id: i64,
    pub created: String,
    pub last_seen: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "console/sessions.html")]
struct SessionsPage {
    f: Frame,
    rows: Vec<LiveSession>,
    notice: Option<String>,
    error: Option<String>,
}

async fn sessions_page(
    st: &AppState,
    op: &super::Operator,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let ss = match st.engine.admin_sessions(&op.actor, None).await {
        Ok(ss) => ss,
        Err(e) => {
            tracing::error!(error = %e, "console sessions");
            return fault(op.lang);
        }
    };
    let tpl = SessionsPage {
        f: Frame::of(op, "/console/sessions"),
        rows: ss
            .into_iter()
            .map(|s| LiveSession {
                user_id: s.user_id.0,
                created: when(s.created_at),
                last_seen: when(s.last_seen),
                expires: when(s.expires_at),
                id: s.id,
            })
            .collect(),
        notice,
        error,
    };
    render(op, status, &tpl)
}

/// `GET /console/sessions`.
#[utoipa::path(get, path = "/console/sessions", tag = "console", summary = "The console's live SSO sessions", params(("lang" = Option<String>, Query)), responses((status = 200, description = "HTML page", content_type = "text/html"), (status = 303, description = "Not signed in: to /login"), (status = 403, description = "No console rights", content_type = "text/html")))]
pub async fn sessions(State(st): State<AppState>, req: FormRequest) -> Response {
    match operator(&st, &req).await {
        Ok(op) => sessions_page(&st, &op, StatusCode::OK, None, None).await,
        Err(r) => r,
    }
}

/// `POST /console/sessions`: ends the session `session`; CSRF-checked.
#[utoipa::path(post, path = "/console/sessions", tag = "console", summary = "End a live SSO session from the console (CSRF double submit)", request_body(content = crate::openapi::ConsoleEndSession, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "The sessions page with the outcome", content_type = "text/html"), (status = 303, description = "Not signed in: to /login"), (status = 400, description = "Expired form", content_type = "text/html"), (status = 403, description = "Beyond the operator's reach", content_type = "text/html"), (status = 404, description = "No such session within reach", content_type = "text/html")))]
pub async fn end_session(State(st): State<AppState>, req: FormRequest) -> Response {
    let op = match operator_for_action(&st, &req).await {
        Ok(op) => op,
        Err(r) => return r,
    };
    let t = super::console_texts(op.lang);
    let sid = match req.non_empty("session") {
        Some(s) if req.bad.is_none() && csrf_ok(&req) => s.to_string(),
        _ => {
            let msg = Some(t.expired_form.to_string());
            return sessions_page(&st, &op, StatusCode::BAD_REQUEST, None, msg).await;
        }
    };
    match st.engine.admin_revoke_session(&op.actor, &sid).await {
        Ok(Ok(())) => sessions_page(&st, &op, StatusCode::OK, Some(t.done.into()), None).await,
        Ok(Err(AdminFailure::Forbidden(why))) => {
            sessions_page(&st, &op, StatusCode::FORBIDDEN, None, Some(why)).await
        }
        Ok(Err(_)) => {
            let msg = Some(t.not_found.to_string());
            sessions_page(&st, &op, StatusCode::NOT_FOUND, None, msg).await
        }
        Err(e) => {
            tracing::error!(error = %e, "console end session");
            fault(op.lang)
        }
    }
}
