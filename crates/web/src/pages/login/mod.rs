//! `GET/POST /login`: the hosted login page that `authorize` sends a browser to
//! (`docs/reference/login-page.md`): one form with `username` and `password` (and `captcha` once required),
//! a CSRF token (double submit: a cookie and a hidden input that must match), a tenant choice
//! with radio inputs named `tenant`, and on success an SSO session cookie.
//!
//! `post` parses the request into a [`LoginAction`] and hands it to the step's module:
//! `password` (the form, the tenant choice page), `choose` (the tenant chosen),
//! `second_factor` (the SMS code asked after the password), `sms` (the SMS tab). Every sign-in
//! goes through the engine's pipeline (`tessera_core::engine::signin`).

mod choose;
mod password;
mod second_factor;
mod sms;

use super::{cookie, page, texts, Texts};
use crate::params::FormRequest;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tessera_core::engine::{
    CaptchaAnswer, LoginName, Origin, PasswordForm, PasswordLogin, PasswordSignIn, PendingFailure,
    PendingSignIn, SecondFactorInput, SignInFailure, SignedIn, SmsLogin, TenantChoice,
};
use tessera_core::error::LoginFailure;
use tessera_core::lang::Lang;
use tessera_core::secret::{new_token, Secret, TokenFormat};

pub const SSO_COOKIE: &str = "tessera_sso";

const CSRF_COOKIE: &str = "tessera_csrf";

pub struct CaptchaView {
    pub key: String,
    pub image: String,
    /// The answer, in `captcha.mode = "test"` only (configuration.md): filled into the input
    /// so that an automated test can read it from the page, as it reads `answer` from
    /// `GET /oauth/public/captcha`.
    pub test_answer: Option<String>,
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
    sms_link: String,
    zh_link: String,
    en_link: String,
}

#[derive(Template)]
#[template(path = "sms.html")]
struct SmsPage {
    t: Texts,
    csrf: String,
    continue_to: String,
    phone: String,
    key: String,
    error: Option<String>,
    info: Option<String>,
    password_link: String,
    zh_link: String,
    en_link: String,
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    t: Texts,
    csrf: String,
    continue_to: String,
    pending: String,
    error: Option<String>,
    info: Option<String>,
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

/// Only the authorization endpoints and the console may be continued to: no open redirect.
pub fn safe_continue(c: Option<&str>) -> String {
    match c {
        Some(c)
            if c.starts_with("/oauth/authorize?")
                || c.starts_with("/api/sso/authz/oauth/v20/authorize?")
                || crate::console::is_console_path(c) =>
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

/// A form's `csrf` field equals this browser's CSRF cookie (double submit), compared in
/// constant time. The login page and every console form use this one check.
pub(crate) fn csrf_ok(req: &FormRequest) -> bool {
    match (req.cookie(CSRF_COOKIE), req.get("csrf")) {
        (Some(c), Some(f)) if c.len() >= 32 => {
            subtle::ConstantTimeEq::ct_eq(c.as_bytes(), f.as_bytes()).into()
        }
        _ => false,
    }
}

/// The CSRF token of this browser, and the cookie to set if it has none yet.
pub(crate) fn csrf_of(st: &AppState, req: &FormRequest) -> (String, Vec<String>) {
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
            .map(|(key, image, answer)| CaptchaView {
                key,
                image,
                test_answer: st.settings.captcha_test_mode.then_some(answer),
            }),
        _ => None,
    };
    let (zh_link, en_link) = lang_links(continue_to);
    let html = match html_of(&LoginPage {
        t: texts(lang),
        csrf,
        continue_to: continue_to.to_string(),
        username: username.to_string(),
        error,
        captcha,
        sms_link: mode_link(lang, "sms", continue_to),
        zh_link,
        en_link,
    }) {
        Some(h) => h,
        None => return template_fault(lang),
    };
    page(status, html, &cookies)
}

/// `/login` in a language and mode (`sms` or the password form), keeping `continue`.
fn mode_link(lang: Lang, mode: &str, continue_to: &str) -> String {
    let l = texts(lang).lang;
    serde_urlencoded::to_string([("mode", mode), ("lang", l), ("continue", continue_to)])
        .map(|q| format!("/login?{q}"))
        .unwrap_or_else(|_| "/login".into())
}

#[allow(clippy::too_many_arguments)]
fn render_sms(
    st: &AppState,
    req: &FormRequest,
    lang: Lang,
    status: StatusCode,
    phone: &str,
    key: &str,
    error: Option<String>,
    info: Option<String>,
    continue_to: &str,
) -> Response {
    let (csrf, cookies) = csrf_of(st, req);
    let (zh_link, en_link) = (
        mode_link(Lang::ZhCn, "sms", continue_to),
        mode_link(Lang::EnUs, "sms", continue_to),
    );
    let html = match html_of(&SmsPage {
        t: texts(lang),
        csrf,
        continue_to: continue_to.to_string(),
        phone: phone.to_string(),
        key: key.to_string(),
        error,
        info,
        password_link: mode_link(lang, "password", continue_to),
        zh_link,
        en_link,
    }) {
        Some(h) => h,
        None => return template_fault(lang),
    };
    page(status, html, &cookies)
}

fn render_code(
    st: &AppState,
    req: &FormRequest,
    status: StatusCode,
    pending: &str,
    error: Option<String>,
    info: Option<String>,
    continue_to: &str,
) -> Response {
    let lang = req.lang();
    let (csrf, mut cookies) = csrf_of(st, req);
    let (_, device_cookie) = device_of(st, req);
    cookies.extend(device_cookie);
    let (zh_link, en_link) = lang_links(continue_to);
    let html = match html_of(&CodePage {
        t: texts(lang),
        csrf,
        continue_to: continue_to.to_string(),
        pending: pending.to_string(),
        error,
        info,
        zh_link,
        en_link,
    }) {
        Some(h) => h,
        None => return template_fault(lang),
    };
    page(status, html, &cookies)
}

const DEVICE_COOKIE: &str = "tessera_device";

/// This browser's long-lived device id, for the `new_device` second-factor policy, and the
/// cookie to set if it has none yet.
fn device_of(st: &AppState, req: &FormRequest) -> (String, Vec<String>) {
    match req.cookie(DEVICE_COOKIE).filter(|c| c.len() >= 32) {
        Some(c) => (format!("browser:{c}"), vec![]),
        None => {
            let t = new_token(TokenFormat::Opaque);
            (
                format!("browser:{t}"),
                vec![cookie(DEVICE_COOKIE, &t, 400 * 86_400, secure(st))],
            )
        }
    }
}

#[derive(Template)]
#[template(path = "signed_in.html")]
struct SignedInPage<'a> {
    t: Texts,
    who: &'a str,
    console: &'static str,
    sign_out: &'static str,
    zh_link: String,
    en_link: String,
}

/// Who is signed in, with the way to the front door, the console and out.
fn signed_in_page(lang: Lang, who: &str) -> Response {
    let ct = crate::console::console_texts(lang);
    let html = html_of(&SignedInPage {
        t: texts(lang),
        who,
        console: ct.console,
        sign_out: ct.sign_out,
        zh_link: "/login?lang=zh_CN".into(),
        en_link: "/login?lang=en_US".into(),
    });
    match html {
        Some(h) => page(StatusCode::OK, h, &[]),
        None => template_fault(lang),
    }
}

/// `GET /login`: the form, or "signed in" when the browser has a session and nowhere to go.
#[utoipa::path(get, path = "/login", tag = "pages", summary = "The hosted login page", params(("continue" = Option<String>, Query), ("mode" = Option<String>, Query), ("lang" = Option<String>, Query)), responses((status = 200, description = "HTML login page", content_type = "text/html")))]
pub async fn get(State(st): State<AppState>, req: FormRequest) -> Response {
    let lang = req.lang();
    let continue_to = safe_continue(req.get("continue"));
    if req.get("mode") == Some("sms") {
        return render_sms(
            &st,
            &req,
            lang,
            StatusCode::OK,
            "",
            "",
            None,
            None,
            &continue_to,
        );
    }
    if continue_to.is_empty() {
        if let Some(secret) = req.cookie(SSO_COOKIE) {
            if let Ok(Some(user)) = st.engine.session_user(secret).await {
                return signed_in_page(lang, &user.username);
            }
        }
    }
    render_login(&st, &req, lang, StatusCode::OK, "", None, &continue_to).await
}

/// `POST /login`: checks CSRF, the captcha when required, then the password (or the tenant
/// chosen after it), and starts the SSO session.
#[utoipa::path(post, path = "/login", tag = "pages", summary = "Sign in through the login page (CSRF double submit)", request_body(content = crate::openapi::LoginForm, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "The page again, with a message", content_type = "text/html"), (status = 303, description = "Signed in: on to the authorization request")))]
pub async fn post(State(st): State<AppState>, req: FormRequest) -> Response {
    let lang = req.lang();
    let continue_to = safe_continue(req.get("continue"));
    let csrf_ok = csrf_ok(&req);
    if req.bad == Some(crate::params::BadInput::TooLarge) {
        let t = texts(lang);
        let body = if lang == tessera_core::lang::Lang::ZhCn {
            "请求体过大。"
        } else {
            "The request body is too large."
        };
        return crate::pages::message(lang, StatusCode::PAYLOAD_TOO_LARGE, t.error, body);
    }
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
    match LoginAction::of(&req) {
        LoginAction::ChooseTenant { pending, tenant } => {
            choose::choose_tenant(&st, &req, pending, tenant, &continue_to, ip).await
        }
        LoginAction::SecondFactor { pending } => {
            second_factor::second_factor(&st, &req, pending, &continue_to, ip).await
        }
        LoginAction::SendSms => sms::send_sms(&st, &req, &continue_to, ip).await,
        LoginAction::SmsSignIn => sms::sms_sign_in(&st, &req, &continue_to, ip).await,
        LoginAction::Password => password::password(&st, &req, &continue_to, ip).await,
    }
}

/// What a `POST /login` asks for, parsed at the edge: each step has its module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoginAction<'a> {
    /// The tenant chosen after a right password (`pending`, `tenant`).
    ChooseTenant { pending: &'a str, tenant: &'a str },
    /// The SMS code of a sign-in held for its second factor (`pending2fa`, `sms_code`).
    SecondFactor { pending: &'a str },
    /// The SMS tab: send a sign-in code (`action=send_sms`, `phone`).
    SendSms,
    /// The SMS tab: sign in with the code (`action=sms`, `phone`, `sms_code`).
    SmsSignIn,
    /// The password form (`username`, `password`, `captcha`, `tenant`).
    Password,
}

impl<'a> LoginAction<'a> {
    fn of(req: &'a FormRequest) -> Self {
        if let (Some(pending), Some(tenant)) = (req.non_empty("pending"), req.non_empty("tenant")) {
            return Self::ChooseTenant { pending, tenant };
        }
        if let Some(pending) = req.non_empty("pending2fa") {
            return Self::SecondFactor { pending };
        }
        match req.get("action") {
            Some("send_sms") => Self::SendSms,
            Some("sms") => Self::SmsSignIn,
            _ => Self::Password,
        }
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

/// A page's HTML; `None` (logged) when the template fails to render, which the caller answers
/// with [`template_fault`]: a fault, never a blank page.
fn html_of<T: Template>(page: &T) -> Option<String> {
    page.render()
        .map_err(|err| tracing::error!(error = %err, "a login page template failed to render"))
        .ok()
}

fn template_fault(lang: Lang) -> Response {
    let t = texts(lang);
    super::message(lang, StatusCode::INTERNAL_SERVER_ERROR, t.error, t.error)
}

fn fault(lang: Lang, err: &tessera_core::EngineError) -> Response {
    tracing::error!(error = %err, "internal error on the login page");
    let t = texts(lang);
    let status = if err.is_unavailable() || matches!(err, tessera_core::EngineError::Busy) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    super::message(lang, status, t.error, t.error)
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
    let origin = Origin {
        dialect: tessera_core::model::Dialect::Standard,
        client_id: None,
        ip,
        detail: "login page".into(),
        captcha: None,
    };
    let (secret, session) = match e.open_session(&signed, &origin).await {
        Ok(x) => x,
        Err(err) => return fault(lang, &err),
    };
    let max_age = session.expires_at - session.created_at;
    let set = cookie(SSO_COOKIE, &secret, max_age, secure(st));
    if continue_to.is_empty() {
        let mut r = signed_in_page(lang, &signed.user.username);
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
