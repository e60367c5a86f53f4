//! The web console at `/console` and the front door at `/` (issue 17, `docs/console.md`).
//!
//! Server-rendered pages (askama) that work without JavaScript. A person signs in through the
//! login page; the console then acts through the same admin engine calls as the admin REST
//! API, with an [`Actor`] named after the person (`Engine::console_access`), so the tenant
//! boundary is the engine's and every action is audited under the person's name.
//!
//! - The console's own cookie `tessera_console` holds the SSO session's secret with
//!   `SameSite=Strict` (HttpOnly, Secure behind https): a page of another site can neither
//!   read it nor send it along with a form. It lives no longer than the SSO session, which the
//!   engine checks on every request.
//! - Every form carries the login page's CSRF token (double submit: cookie and hidden input).

pub mod audit;
pub mod clients;
pub mod front;
pub mod tenants;
mod texts;
pub mod users;

pub use front::front_door;
pub use texts::{console_texts, ConsoleTexts};
pub use users::{user_action, user_detail, users_list};

use crate::pages::{cookie_same_site, page, SameSite};
use crate::params::FormRequest;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use tessera_core::engine::{Actor, ConsoleAccess};
use tessera_core::lang::Lang;
use tessera_core::model::User;
use tessera_core::store::AuditFilter;

const CONSOLE_COOKIE: &str = "tessera_console";

/// A path under the console, which the login page may continue to.
pub fn is_console_path(c: &str) -> bool {
    (c == "/console" || c.starts_with("/console/") || c.starts_with("/console?"))
        && !c.contains("//")
        && !c.contains('\\')
}

/// A person allowed in, and what the page needs to say about them.
pub struct Operator {
    pub user: User,
    pub actor: Actor,
    pub lang: Lang,
    pub csrf: String,
    /// Cookies to set with the page: the console cookie, the CSRF cookie, when new.
    pub cookies: Vec<String>,
}

impl Operator {
    /// The tenant this person administers, or `None` for a superuser.
    pub fn tenant_code(&self) -> Option<&str> {
        self.actor.tenant_code()
    }
}

/// The navigation and the frame around every console page.
pub struct Frame {
    pub t: ConsoleTexts,
    pub who: String,
    pub scope: String,
    pub csrf: String,
    pub zh_link: String,
    pub en_link: String,
}

impl Frame {
    pub fn of(op: &Operator, path: &str) -> Frame {
        let t = console_texts(op.lang);
        Frame {
            who: op.user.username.clone(),
            scope: match op.tenant_code() {
                Some(code) => format!("{} {code}", t.tenant_admin),
                None => t.superuser.to_string(),
            },
            csrf: op.csrf.clone(),
            zh_link: lang_link(path, "zh_CN"),
            en_link: lang_link(path, "en_US"),
            t,
        }
    }
}

fn lang_link(path: &str, lang: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={lang}")
}

fn secure(st: &AppState) -> bool {
    st.settings.issuer.starts_with("https://")
}

/// Who is asking, for a page: the operator, or the answer to give instead (sign in first,
/// 403). The SSO session of the login page is the source of truth: the console cookie is
/// (re)made from it, so a new sign-in in this browser is the console's at once.
pub async fn operator(st: &AppState, req: &FormRequest) -> Result<Operator, Response> {
    let sso = req.cookie(crate::pages::login::SSO_COOKIE);
    let console = req.cookie(CONSOLE_COOKIE);
    let mut found = None;
    for secret in [sso, console].into_iter().flatten() {
        match access(st, req, secret).await? {
            ConsoleAccess::SignIn => continue,
            a => {
                found = Some((secret, a));
                break;
            }
        }
    }
    let Some((secret, access)) = found else {
        return Err(to_sign_in(req));
    };
    granted(st, req, secret, console, access)
}

/// Who is asking, for an action (a POST): the console's own `SameSite=Strict` cookie only, so
/// that no other site's page can act with the person's session (the CSRF token is checked as
/// well).
pub async fn operator_for_action(st: &AppState, req: &FormRequest) -> Result<Operator, Response> {
    let Some(secret) = req.cookie(CONSOLE_COOKIE) else {
        return Err(to_sign_in(req));
    };
    let a = access(st, req, secret).await?;
    granted(st, req, secret, Some(secret), a)
}

async fn access(st: &AppState, req: &FormRequest, secret: &str) -> Result<ConsoleAccess, Response> {
    st.engine.console_access(secret).await.map_err(|e| {
        tracing::error!(error = %e, "console: the session could not be read");
        fault(req.lang())
    })
}

// The refusal is the page to answer, made once per request: boxing it would buy nothing.
#[allow(clippy::result_large_err)]
fn granted(
    st: &AppState,
    req: &FormRequest,
    secret: &str,
    console_cookie: Option<&str>,
    access: ConsoleAccess,
) -> Result<Operator, Response> {
    let lang = req.lang();
    match access {
        ConsoleAccess::SignIn => Err(to_sign_in(req)),
        ConsoleAccess::Refused { user } => {
            let t = console_texts(lang);
            let body = format!("{} ({})", t.refused, user.username);
            Err(crate::pages::message(
                lang,
                StatusCode::FORBIDDEN,
                t.refused_title,
                &body,
            ))
        }
        ConsoleAccess::Granted {
            user,
            session,
            actor,
        } => {
            let mut cookies = vec![];
            if console_cookie != Some(secret) {
                let max_age = (session.expires_at - st.engine.now()).max(0);
                cookies.push(cookie_same_site(
                    CONSOLE_COOKIE,
                    secret,
                    max_age,
                    secure(st),
                    SameSite::Strict,
                ));
            }
            let (csrf, csrf_cookie) = crate::pages::login::csrf_of(st, req);
            cookies.extend(csrf_cookie);
            Ok(Operator {
                user,
                actor,
                lang,
                csrf,
                cookies,
            })
        }
    }
}

/// To the login page, and back here afterwards.
fn to_sign_in(req: &FormRequest) -> Response {
    let back = req.path_for_continue();
    let back = back.trim_end_matches('?').to_string();
    let back = if is_console_path(&back) {
        back
    } else {
        "/console".into()
    };
    let q = serde_urlencoded::to_string([("continue", back.as_str())]).unwrap_or_default();
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, format!("/login?{q}")),
            (header::CACHE_CONTROL, "no-store".into()),
        ],
    )
        .into_response()
}

pub(crate) use crate::pages::login::csrf_ok;

pub fn fault(lang: Lang) -> Response {
    let t = console_texts(lang);
    crate::pages::message(
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        t.fault_title,
        t.fault,
    )
}

/// Renders a template; a template error is a logged fault, never a blank page.
pub fn render(op: &Operator, status: StatusCode, tpl: &impl Template) -> Response {
    match tpl.render() {
        Ok(html) => page(status, html, &op.cookies),
        Err(e) => {
            tracing::error!(error = %e, "console template");
            fault(op.lang)
        }
    }
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct Dashboard {
    f: Frame,
    users: i64,
    tenants: Vec<(String, String, bool)>,
    clients: usize,
    sessions: usize,
    recent: Vec<AuditRow>,
}

/// One line of the audit log as the console shows it.
pub struct AuditRow {
    pub at: String,
    pub kind: String,
    pub outcome: String,
    pub actor: String,
    pub detail: String,
}

impl AuditRow {
    pub fn of(e: &tessera_core::model::AuditEvent) -> AuditRow {
        AuditRow {
            at: when(e.at),
            kind: e.kind.clone(),
            outcome: e.outcome.clone(),
            actor: e
                .user_id
                .map(|u| format!("user {}", u.0))
                .or_else(|| e.client_id.clone())
                .unwrap_or_default(),
            detail: e.detail.clone(),
        }
    }
}

/// A Unix time as UTC `yyyy-mm-dd hh:mm:ss`.
pub fn when(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

/// `GET /console`: the dashboard.
#[utoipa::path(get, path = "/console", tag = "console", summary = "The web console's dashboard (sign-in through /login; superuser or tenant admin)", params(("lang" = Option<String>, Query)), responses((status = 200, description = "HTML page", content_type = "text/html"), (status = 303, description = "Not signed in: to /login"), (status = 403, description = "Signed in without console rights", content_type = "text/html")))]
pub async fn dashboard(State(st): State<AppState>, req: FormRequest) -> Response {
    let op = match operator(&st, &req).await {
        Ok(op) => op,
        Err(r) => return r,
    };
    let e = &st.engine;
    let filter = tessera_core::store::UserFilter {
        limit: 1,
        ..Default::default()
    };
    let data = async {
        let users = match e.admin_list_users(&op.actor, filter).await? {
            Ok((_, n)) => n,
            Err(_) => 0,
        };
        let tenants = e
            .admin_list_tenants(&op.actor)
            .await?
            .into_iter()
            .map(|t| (t.code, t.name, t.enabled))
            .collect();
        let clients = e.admin_list_clients(&op.actor).await?.len();
        let sessions = e.admin_sessions(&op.actor, None).await?.len();
        let recent = if op.actor.is_global() {
            let f = AuditFilter {
                limit: 10,
                ..Default::default()
            };
            match e.admin_audit_log(&op.actor, &f).await? {
                Ok(evs) => evs.iter().map(AuditRow::of).collect(),
                Err(_) => vec![],
            }
        } else {
            vec![]
        };
        Ok::<_, tessera_core::error::EngineError>((users, tenants, clients, sessions, recent))
    };
    let (users, tenants, clients, sessions, recent) = match data.await {
        Ok(d) => d,
        Err(err) => {
            tracing::error!(error = %err, "console dashboard");
            return fault(op.lang);
        }
    };
    let tpl = Dashboard {
        f: Frame::of(&op, "/console"),
        users,
        tenants,
        clients,
        sessions,
        recent,
    };
    render(&op, StatusCode::OK, &tpl)
}
