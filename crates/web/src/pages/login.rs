//! `GET/POST /login`: the hosted login page that `authorize` sends a browser to
//! (`http-contract.md`): one form with `username` and `password` (and `captcha` once required),
//! a CSRF token (double submit: a cookie and a hidden input that must match), a tenant choice
//! with radio inputs named `tenant`, and on success an SSO session cookie.

use super::{cookie, page, texts, Texts};
use crate::params::FormRequest;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tessera_core::engine::{LoginName, PasswordLogin, SignedIn, TenantChoice};
use tessera_core::error::LoginFailure;
use tessera_core::lang::Lang;
use tessera_core::secret::{new_token, Secret, TokenFormat};

pub const SSO_COOKIE: &str = "tessera_sso";
const CSRF_COOKIE: &str = "tessera_csrf";

pub struct CaptchaView {
    pub key: String,
    pub image: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Texts,
    csrf: String,
    continue_to: String,
    username: String,
    error: Option<String>,
    captcha: Option<CaptchaView>,
    zh_link: String,
    en_link: String,
}

#[derive(Template)]
#[template(path = "choose.html")]
struct ChoosePage {
    t: Texts,
    csrf: String,
    continue_to: String,
    pending: String,
    options: Vec<(String, String)>,
    zh_link: String,
    en_link: String,
}

/// Only the authorization endpoints may be continued to: no open redirect.
pub fn safe_continue(c: Option<&str>) -> String {
    match c {
        Some(c)
            if c.starts_with("/oauth/authorize?")
                || c.starts_with("/api/sso/authz/oauth/v20/authorize?") =>
        {
            c.to_string()
        }
        _ => String::new(),
    }
}

fn lang_links(continue_to: &str) -> (String, String) {
    let enc = |l: &str| {
        format!(
            "/login?lang={l}&{}",
            serde_urlencoded::to_string([("continue", continue_to)]).unwrap_or_default()
        )
    };
    (enc("zh_CN"), enc("en_US"))
}

fn secure(st: &AppState) -> bool {
    st.settings.issuer.starts_with("https://")
}

/// The CSRF token of this browser, and the cookie to set if it has none yet.
fn csrf_of(st: &AppState, req: &FormRequest) -> (String, Vec<String>) {
    match req.cookie(CSRF_COOKIE).filter(|c| c.len() >= 32) {
        Some(c) => (c.to_string(), vec![]),
        None => {
            let t = new_token(TokenFormat::Opaque);
            (t.clone(), vec![cookie(CSRF_COOKIE, &t, 86_400, secure(st))])
        }
    }
}

async fn render_login(
    st: &AppState,
    req: &FormRequest,
    lang: Lang,
    status: StatusCode,
    username: &str,
    error: Option<String>,
    continue_to: &str,
) -> Response {
    let (csrf, cookies) = csrf_of(st, req);
    let ip = req.client_ip(&st.settings.trusted_proxies);
    let captcha = match st
        .engine
        .captcha_required(Some(username).filter(|u| !u.is_empty()), ip.as_deref())
        .await
    {
        Ok(true) => crate::dialects::hoth::routes::draw_captcha(&st.engine)
            .await
            .ok()
            .map(|(key, image, _)| CaptchaView { key, image }),
        _ => None,
    };
    let (zh_link, en_link) = lang_links(continue_to);
    let html = LoginPage {
        t: texts(lang),
        csrf,
        continue_to: continue_to.to_string(),
        username: username.to_string(),
        error,
        captcha,
        zh_link,
        en_link,
    }
    .render()
    .unwrap_or_default();
    page(status, html, &cookies)
}

/// `GET /login`: the form, or "signed in" when the browser has a session and nowhere to go.
pub async fn get(State(st): State<AppState>, req: FormRequest) -> Response {
    let lang = req.lang();
    let continue_to = safe_continue(req.get("continue"));
    if continue_to.is_empty() {
        if let Some(secret) = req.cookie(SSO_COOKIE) {
            if let Ok(Some(_)) = st.engine.session(secret).await {
                let t = texts(lang);
                return super::message(lang, StatusCode::OK, t.title, t.signed_in);
            }
        }
    }
    render_login(&st, &req, lang, StatusCode::OK, "", None, &continue_to).await
}

/// `POST /login`: checks CSRF, the captcha when required, then the password (or the tenant
/// chosen after it), and starts the SSO session.
pub async fn post(State(st): State<AppState>, req: FormRequest) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    let continue_to = safe_continue(req.get("continue"));
    let csrf_ok = match (req.cookie(CSRF_COOKIE), req.get("csrf")) {
        (Some(c), Some(f)) => subtle::ConstantTimeEq::ct_eq(c.as_bytes(), f.as_bytes()).into(),
        _ => false,
    };
    if req.bad.is_some() || !csrf_ok {
        let t = texts(lang);
        return render_login(
            &st,
            &req,
            lang,
            StatusCode::BAD_REQUEST,
            "",
            Some(t.expired_form.to_string()),
            &continue_to,
        )
        .await;
    }
    let ip = req.client_ip(&st.settings.trusted_proxies);
    // The tenant chosen after a right password.
    if let (Some(pending), Some(tenant)) = (req.non_empty("pending"), req.non_empty("tenant")) {
        let user = match e
            .ephemeral()
            .take(&format!("login:pending:{pending}"))
            .await
        {
            Ok(Some(u)) => u.parse::<i64>().ok(),
            _ => None,
        };
        let Some(user) = user else {
            let t = texts(lang);
            return render_login(
                &st,
                &req,
                lang,
                StatusCode::BAD_REQUEST,
                "",
                Some(t.expired_form.to_string()),
                &continue_to,
            )
            .await;
        };
        return match e
            .complete_login(tessera_core::ids::UserId(user), tenant)
            .await
        {
            Ok(Ok(signed)) => signed_in(&st, &req, signed, &continue_to, ip).await,
            Ok(Err(f)) => failed(&st, &req, "", &f, &continue_to).await,
            Err(err) => fault(lang, &err),
        };
    }
    let username = req.get("username").unwrap_or("").trim().to_string();
    let password = req.get("password").unwrap_or("");
    if username.is_empty() || password.is_empty() {
        let msg = e.catalogue().text("oauth.invalidCredentials", lang, None);
        return render_login(
            &st,
            &req,
            lang,
            StatusCode::BAD_REQUEST,
            &username,
            Some(msg),
            &continue_to,
        )
        .await;
    }
    match e.captcha_required(Some(&username), ip.as_deref()).await {
        Ok(false) => {}
        Ok(true) => {
            let ok = match (req.non_empty("captcha"), req.non_empty("captchaKey")) {
                (Some(a), Some(k)) => e.check_captcha(k, a).await.unwrap_or(false),
                _ => false,
            };
            if !ok {
                let code = if req.non_empty("captcha").is_some() {
                    "hoth.warn.captchaWrong"
                } else {
                    "hoth.warn.captchaNull"
                };
                let msg = e.catalogue().text(code, lang, None);
                return render_login(
                    &st,
                    &req,
                    lang,
                    StatusCode::BAD_REQUEST,
                    &username,
                    Some(msg),
                    &continue_to,
                )
                .await;
            }
        }
        Err(err) => return fault(lang, &err),
    }
    let login = PasswordLogin {
        name: LoginName {
            value: username.clone(),
            field: None,
        },
        password: Secret::new(password),
        user_type: None,
        tenant: None,
        tenant_choice: TenantChoice::Pick {
            tenant: None,
            org: None,
        },
        second_factor: None,
        check_verified_field: false,
    };
    match e.password_login(login).await {
        Ok(Ok(signed)) => {
            let _ = e.clear_failures_for_captcha(&username).await;
            signed_in(&st, &req, signed, &continue_to, ip).await
        }
        Ok(Err(LoginFailure::ChooseTenant { user, options })) => {
            let pending = new_token(TokenFormat::Opaque);
            if let Err(err) = e
                .ephemeral()
                .put(
                    &format!("login:pending:{pending}"),
                    &user.0.to_string(),
                    300,
                )
                .await
            {
                return fault(lang, &err.into());
            }
            let (csrf, cookies) = csrf_of(&st, &req);
            let (zh_link, en_link) = lang_links(&continue_to);
            let html = ChoosePage {
                t: texts(lang),
                csrf,
                continue_to: continue_to.clone(),
                pending,
                options: options.into_iter().map(|o| (o.code, o.name)).collect(),
                zh_link,
                en_link,
            }
            .render()
            .unwrap_or_default();
            page(StatusCode::OK, html, &cookies)
        }
        Ok(Err(f)) => {
            if matches!(
                f,
                LoginFailure::UnknownUser
                    | LoginFailure::PasswordWrong { .. }
                    | LoginFailure::PasswordWrongNowLocked { .. }
            ) {
                let _ = e.note_failure_for_captcha(&username, ip.as_deref()).await;
            }
            e.audit_event(
                "login",
                tessera_core::model::Dialect::Standard,
                f.name(),
                None,
                None,
                ip,
                "login page".into(),
            )
            .await;
            failed(&st, &req, &username, &f, &continue_to).await
        }
        Err(err) => fault(lang, &err),
    }
}

async fn failed(
    st: &AppState,
    req: &FormRequest,
    username: &str,
    f: &LoginFailure,
    continue_to: &str,
) -> Response {
    let lang = req.lang();
    let (code, arg) = crate::dialects::hoth::render::failure_code(&st.engine, f, None);
    let msg = st.engine.catalogue().text(code, lang, arg.as_deref());
    let status = if matches!(
        f,
        LoginFailure::UnknownUser | LoginFailure::PasswordWrong { .. }
    ) {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::FORBIDDEN
    };
    render_login(st, req, lang, status, username, Some(msg), continue_to).await
}

fn fault(lang: Lang, err: &tessera_core::EngineError) -> Response {
    tracing::error!(error = %err, "internal error on the login page");
    let t = texts(lang);
    super::message(lang, StatusCode::INTERNAL_SERVER_ERROR, t.error, t.error)
}

async fn signed_in(
    st: &AppState,
    req: &FormRequest,
    signed: SignedIn,
    continue_to: &str,
    ip: Option<String>,
) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    let (secret, session) = match e.start_session(&signed).await {
        Ok(x) => x,
        Err(err) => return fault(lang, &err),
    };
    e.audit_event(
        "login",
        tessera_core::model::Dialect::Standard,
        "success",
        Some(signed.user.id),
        None,
        ip,
        format!("login page, session {}", session.id),
    )
    .await;
    let max_age = session.expires_at - session.created_at;
    let set = cookie(SSO_COOKIE, &secret, max_age, secure(st));
    if continue_to.is_empty() {
        let t = texts(lang);
        let mut r = super::message(lang, StatusCode::OK, t.title, t.signed_in);
        if let Ok(v) = HeaderValue::from_str(&set) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        return r;
    }
    let mut r = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, continue_to.to_string())],
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&set) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
