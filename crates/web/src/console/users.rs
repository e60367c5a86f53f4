//! `/console/users`: the list (search and paging in SQL), a user's page, and its actions
//! (enable, disable, unlock, reset the password, revoke the tokens, end a session). Every
//! action is an admin engine call with the operator's actor: the same checks and the same
//! audit as the admin API.

use super::{csrf_ok, fault, operator, operator_for_action, render, when, Frame, Operator};
use crate::params::FormRequest;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use tessera_core::engine::AdminFailure;
use tessera_core::error::EngineError;
use tessera_core::ids::UserId;
use tessera_core::model::User;
use tessera_core::store::{UserFilter, UserPatch};

const PAGE_SIZE: i64 = 50;

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub phone: String,
    pub email: String,
    pub enabled: bool,
    pub locked: bool,
    pub superuser: bool,
}

impl UserRow {
    fn of(u: &User, now: i64) -> UserRow {
        UserRow {
            id: u.id.0,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            phone: u.phone.clone().unwrap_or_default(),
            email: u.email.clone().unwrap_or_default(),
            enabled: u.enabled,
            locked: u.locked_until.is_some_and(|t| t > now),
            superuser: u.superuser,
        }
    }
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    f: Frame,
    q: String,
    rows: Vec<UserRow>,
    total: i64,
    page: i64,
    prev: Option<String>,
    next: Option<String>,
}

fn page_link(q: &str, page: i64) -> String {
    let q =
        serde_urlencoded::to_string([("q", q), ("page", &page.to_string())]).unwrap_or_default();
    format!("/console/users?{q}")
}

/// `GET /console/users`: `q` finds a user by username or phone (exact); `page` from 1.
#[utoipa::path(get, path = "/console/users", tag = "console", summary = "The console's user list", params(("q" = Option<String>, Query), ("page" = Option<i64>, Query), ("lang" = Option<String>, Query)), responses((status = 200, description = "HTML page", content_type = "text/html"), (status = 303, description = "Not signed in: to /login"), (status = 403, description = "No console rights", content_type = "text/html")))]
pub async fn users_list(State(st): State<AppState>, req: FormRequest) -> Response {
    let op = match operator(&st, &req).await {
        Ok(op) => op,
        Err(r) => return r,
    };
    let q = req
        .get("q")
        .unwrap_or("")
        .trim()
        .chars()
        .take(128)
        .collect::<String>();
    let page = req
        .get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 1_000_000);
    let mut filter = UserFilter {
        offset: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
        ..Default::default()
    };
    if !q.is_empty() {
        if q.bytes().all(|b| b.is_ascii_digit() || b == b'+') {
            filter.phone = Some(q.clone());
        } else {
            filter.username = Some(q.clone());
        }
    }
    let (users, total) = match st.engine.admin_list_users(&op.actor, filter).await {
        Ok(Ok(x)) => x,
        Ok(Err(_)) => (vec![], 0),
        Err(e) => {
            tracing::error!(error = %e, "console users");
            return fault(op.lang);
        }
    };
    let now = st.engine.now();
    let tpl = UsersPage {
        f: Frame::of(&op, "/console/users"),
        rows: users.iter().map(|u| UserRow::of(u, now)).collect(),
        prev: (page > 1).then(|| page_link(&q, page - 1)),
        next: (page * PAGE_SIZE < total).then(|| page_link(&q, page + 1)),
        q,
        total,
        page,
    };
    render(&op, StatusCode::OK, &tpl)
}

pub struct MembershipRow {
    pub tenant: String,
    pub org: String,
    pub roles: String,
    pub is_default: bool,
}

pub struct SessionRow {
    pub id: String,
    pub created: String,
    pub last_seen: String,
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    f: Frame,
    u: UserRow,
    real_name: String,
    created: String,
    memberships: Vec<MembershipRow>,
    sessions: Vec<SessionRow>,
    tokens: usize,
    notice: Option<String>,
    error: Option<String>,
    one_time_password: Option<String>,
}

fn user_id(raw: &str) -> Option<UserId> {
    raw.parse::<i64>().ok().map(UserId)
}

/// `GET /console/users/{id}`.
#[utoipa::path(get, path = "/console/users/{id}", tag = "console", summary = "A user's console page", params(("id" = String, Path), ("lang" = Option<String>, Query)), responses((status = 200, description = "HTML page", content_type = "text/html"), (status = 303, description = "Not signed in: to /login"), (status = 403, description = "No console rights", content_type = "text/html"), (status = 404, description = "No such user within reach", content_type = "text/html")))]
pub async fn user_detail(
    State(st): State<AppState>,
    Path(id): Path<String>,
    req: FormRequest,
) -> Response {
    let op = match operator(&st, &req).await {
        Ok(op) => op,
        Err(r) => return r,
    };
    show(&st, &op, &id, StatusCode::OK, None, None, None).await
}

async fn show(
    st: &AppState,
    op: &Operator,
    raw_id: &str,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    one_time_password: Option<String>,
) -> Response {
    let t = super::console_texts(op.lang);
    let Some(id) = user_id(raw_id) else {
        return not_found(op);
    };
    let e = &st.engine;
    let data = async {
        let (u, ms) = match e.admin_get_user(&op.actor, id).await? {
            Ok(x) => x,
            Err(f) => return Ok(Err(f)),
        };
        let sessions = e
            .admin_user_sessions(&op.actor, id)
            .await?
            .unwrap_or_default();
        let tokens = e
            .admin_user_tokens(&op.actor, id)
            .await?
            .map(|t| t.len())
            .unwrap_or(0);
        Ok::<_, EngineError>(Ok((u, ms, sessions, tokens)))
    };
    let (u, ms, sessions, tokens) = match data.await {
        Ok(Ok(x)) => x,
        Ok(Err(AdminFailure::NotFound)) => return not_found(op),
        Ok(Err(f)) => {
            tracing::debug!(?f, "console user page refused");
            return not_found(op);
        }
        Err(err) => {
            tracing::error!(error = %err, "console user page");
            return fault(op.lang);
        }
    };
    let now = e.now();
    let tpl = UserPage {
        f: Frame::of(op, &format!("/console/users/{}", u.id.0)),
        real_name: u.real_name.clone(),
        created: when(u.created_at),
        u: UserRow::of(&u, now),
        memberships: ms
            .into_iter()
            .map(|m| MembershipRow {
                tenant: format!("{} ({})", m.tenant.name, m.tenant.code),
                org: format!("{} ({})", m.org.name, m.org.code),
                roles: m.roles.join(", "),
                is_default: m.is_default,
            })
            .collect(),
        sessions: sessions
            .into_iter()
            .map(|s| SessionRow {
                id: s.id,
                created: when(s.created_at),
                last_seen: when(s.last_seen),
            })
            .collect(),
        tokens,
        notice,
        error: error.or_else(|| (status == StatusCode::BAD_REQUEST).then(|| t.expired_form.into())),
        one_time_password,
    };
    render(op, status, &tpl)
}

fn not_found(op: &Operator) -> Response {
    let t = super::console_texts(op.lang);
    crate::pages::message(op.lang, StatusCode::NOT_FOUND, t.users, t.not_found)
}

/// What a form on the user's page asks for.
enum UserAction {
    Enable,
    Disable,
    Unlock,
    ResetPassword,
    RevokeTokens,
    EndSession(String),
}

impl UserAction {
    fn parse(req: &FormRequest) -> Option<UserAction> {
        Some(match req.get("action")? {
            "enable" => UserAction::Enable,
            "disable" => UserAction::Disable,
            "unlock" => UserAction::Unlock,
            "reset_password" => UserAction::ResetPassword,
            "revoke_tokens" => UserAction::RevokeTokens,
            "end_session" => UserAction::EndSession(req.non_empty("session")?.to_string()),
            _ => return None,
        })
    }
}

/// `POST /console/users/{id}`: one action, CSRF-checked; the page again with its outcome.
#[utoipa::path(post, path = "/console/users/{id}", tag = "console", summary = "An action on a user (enable, disable, unlock, reset_password, revoke_tokens, end_session); CSRF double submit", params(("id" = String, Path)), request_body(content = crate::openapi::ConsoleUserAction, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "The user's page with the outcome", content_type = "text/html"), (status = 303, description = "Not signed in: to /login"), (status = 400, description = "Expired form or unknown action", content_type = "text/html"), (status = 403, description = "No console rights, or the action is beyond the operator's reach", content_type = "text/html"), (status = 404, description = "No such user within reach", content_type = "text/html")))]
pub async fn user_action(
    State(st): State<AppState>,
    Path(id): Path<String>,
    req: FormRequest,
) -> Response {
    let op = match operator_for_action(&st, &req).await {
        Ok(op) => op,
        Err(r) => return r,
    };
    let t = super::console_texts(op.lang);
    let action = match UserAction::parse(&req) {
        Some(a) if req.bad.is_none() && csrf_ok(&req) => a,
        _ => return show(&st, &op, &id, StatusCode::BAD_REQUEST, None, None, None).await,
    };
    let Some(uid) = user_id(&id) else {
        return not_found(&op);
    };
    let (e, actor) = (&st.engine, &op.actor);
    let patch = |enabled| UserPatch {
        enabled: Some(enabled),
        ..Default::default()
    };
    let outcome: Result<Result<Option<String>, AdminFailure>, EngineError> = match action {
        UserAction::Enable => e
            .admin_update_user(actor, uid, &patch(true))
            .await
            .map(|r| r.map(|_| None)),
        UserAction::Disable => e
            .admin_update_user(actor, uid, &patch(false))
            .await
            .map(|r| r.map(|_| None)),
        UserAction::Unlock => e
            .admin_unlock_user(actor, uid)
            .await
            .map(|r| r.map(|_| None)),
        UserAction::ResetPassword => e.admin_reset_password(actor, uid, None).await,
        UserAction::RevokeTokens => e
            .admin_revoke_user_tokens(actor, uid)
            .await
            .map(|r| r.map(|_| None)),
        UserAction::EndSession(sid) => {
            // Only a session of this user: the form names both.
            match e.admin_user_sessions(actor, uid).await {
                Ok(Ok(ss)) if ss.iter().any(|s| s.id == sid) => e
                    .admin_revoke_session(actor, &sid)
                    .await
                    .map(|r| r.map(|_| None)),
                Ok(Ok(_)) => Ok(Err(AdminFailure::NotFound)),
                Ok(Err(f)) => Ok(Err(f)),
                Err(err) => Err(err),
            }
        }
    };
    match outcome {
        Ok(Ok(otp)) => {
            show(
                &st,
                &op,
                &id,
                StatusCode::OK,
                Some(t.done.into()),
                None,
                otp,
            )
            .await
        }
        Ok(Err(AdminFailure::NotFound)) => not_found(&op),
        Ok(Err(AdminFailure::Forbidden(why))) => {
            show(&st, &op, &id, StatusCode::FORBIDDEN, None, Some(why), None).await
        }
        Ok(Err(other)) => {
            let why = match other {
                AdminFailure::Invalid { field, message } => format!("{field}: {message}"),
                AdminFailure::Conflict(m) => m,
                AdminFailure::NotFound | AdminFailure::Forbidden(_) => String::new(),
            };
            show(
                &st,
                &op,
                &id,
                StatusCode::BAD_REQUEST,
                None,
                Some(why),
                None,
            )
            .await
        }
        Err(err) => {
            tracing::error!(error = %err, "console user action");
            fault(op.lang)
        }
    }
}
