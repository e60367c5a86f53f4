//! Server-rendered pages (askama templates in `crates/web/templates/`): the hosted login page,
//! its tenant choice, and messages. Every page is `no-store`, refuses framing, and carries a
//! strict CSP: no script at all.

pub mod login;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tessera_core::lang::Lang;

/// The page texts in one language.
pub struct Texts {
    pub lang: &'static str,
    pub html_lang: &'static str,
    pub title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub captcha: &'static str,
    pub submit: &'static str,
    pub choose: &'static str,
    pub signed_in: &'static str,
    pub signed_out: &'static str,
    pub signed_out_body: &'static str,
    pub error: &'static str,
    pub expired_form: &'static str,
    pub sms_tab: &'static str,
    pub password_tab: &'static str,
    pub phone: &'static str,
    pub send_code: &'static str,
    pub sms_code: &'static str,
    pub code_sent: &'static str,
    pub second_factor: &'static str,
}

pub fn texts(lang: Lang) -> Texts {
    match lang {
        Lang::ZhCn => Texts {
            lang: "zh_CN",
            html_lang: "zh-CN",
            title: "登录",
            username: "账号 / 手机号 / 邮箱",
            password: "密码",
            captcha: "验证码",
            submit: "登录",
            choose: "请选择组织",
            signed_in: "您已登录",
            signed_out: "您已退出登录",
            signed_out_body: "本次登录会话已结束，可以关闭此页面或重新登录。",
            error: "请求无效",
            expired_form: "页面已过期,请重新登录",
            sms_tab: "短信验证码登录",
            password_tab: "账号密码登录",
            phone: "手机号",
            send_code: "发送验证码",
            sms_code: "短信验证码",
            code_sent: "验证码已发送至您的手机",
            second_factor: "短信验证",
        },
        Lang::EnUs => Texts {
            lang: "en_US",
            html_lang: "en",
            title: "Sign in",
            username: "Account, phone or email",
            password: "Password",
            captcha: "Verification code",
            submit: "Sign in",
            choose: "Choose an organization",
            signed_in: "You are signed in",
            signed_out: "You are signed out",
            signed_out_body: "Your session has ended. You may close this page or sign in again.",
            error: "Invalid request",
            expired_form: "This page has expired; please sign in again",
            sms_tab: "Sign in with an SMS code",
            password_tab: "Sign in with a password",
            phone: "Phone number",
            send_code: "Send the code",
            sms_code: "SMS code",
            code_sent: "A code has been sent to your phone",
            second_factor: "SMS verification",
        },
    }
}

/// Adds the headers every page carries.
pub fn page(status: StatusCode, html: String, set_cookies: &[String]) -> Response {
    let mut r = (status, Html(html)).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // No `form-action`: Chrome applies it to the redirects that follow a form post too, and
    // the login form's post ends at the client's redirect URI, on another origin.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"),
    );
    for c in set_cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    r
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` behind https.
pub fn cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    cookie_same_site(name, value, max_age, secure, SameSite::Lax)
}

/// The `SameSite` of a cookie: `Lax` for the SSO session, which must come along on the
/// top-level redirects of an authorization request; `Strict` for the console's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
}

/// [`cookie`] with its `SameSite` chosen.
pub fn cookie_same_site(
    name: &str,
    value: &str,
    max_age: i64,
    secure: bool,
    same_site: SameSite,
) -> String {
    let same_site = match same_site {
        SameSite::Lax => "Lax",
        SameSite::Strict => "Strict",
    };
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

#[derive(askama::Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub t: Texts,
    pub heading: &'a str,
    pub body: &'a str,
    pub zh_link: String,
    pub en_link: String,
}

/// A plain page with a heading and a sentence.
pub fn message(lang: Lang, status: StatusCode, heading: &str, body: &str) -> Response {
    use askama::Template;
    let html = MessagePage {
        t: texts(lang),
        heading,
        body,
        zh_link: "?lang=zh_CN".into(),
        en_link: "?lang=en_US".into(),
    }
    .render()
    .unwrap_or_else(|_| body.to_string());
    page(status, html, &[])
}
