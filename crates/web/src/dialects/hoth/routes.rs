//! Seed 001's endpoints: init parameters, public key, image captcha, SMS code, and the token
//! endpoint for `hoth` clients (password and SMS login). Parse, one engine call, render.

use super::{render, wire};
use crate::params::FormRequest;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_core::engine::{
    audit_text, IssueRequest, LoginName, PasswordLogin, SignedIn, SmsLogin, TenantChoice,
    AUDIT_NAME_MAX,
};
use tessera_core::error::LoginFailure;
use tessera_core::model::{Client, Dialect, GrantType, LoginField, TokenSubject, UserType};
use tessera_core::secret::TokenFormat;
use tessera_core::sms::{SmsFailure, SmsPurpose};

fn ip(st: &AppState, req: &FormRequest) -> Option<String> {
    req.client_ip(&st.settings.trusted_proxies)
}

fn user_type(req: &FormRequest) -> Result<UserType, ()> {
    match req.non_empty("user_type") {
        None | Some("P") => Ok(UserType::P),
        Some("C") => Ok(UserType::C),
        Some(_) => Err(()),
    }
}

/// `GET /oauth/public/login/init-params?channel=&clientId=&username=`.
#[utoipa::path(get, path = "/oauth/public/login/init-params", tag = "hoth", summary = "Login page parameters", params(("channel" = Option<String>, Query), ("clientId" = Option<String>, Query), ("username" = Option<String>, Query)), responses((status = 200, description = "{openLoginWays, isNeedCaptcha, publicKey}", content_type = "application/json")))]
pub async fn init_params(State(st): State<AppState>, req: FormRequest) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    let ip = ip(&st, &req);
    let need = match e
        .captcha_required(req.non_empty("username"), ip.as_deref())
        .await
    {
        Ok(n) => n,
        Err(err) => return render::fault(e, lang, &err),
    };
    let ways = match e.open_login_ways().await {
        Ok(w) => w,
        Err(err) => return render::fault(e, lang, &err),
    };
    Json(wire::InitParams {
        open_login_ways: ways
            .into_iter()
            .map(|w| wire::OpenLoginWay {
                code: w.code,
                name: w.name,
                url: w.url,
            })
            .collect(),
        is_need_captcha: need,
        public_key: e.transport_public_key(),
    })
    .into_response()
}

/// `GET /oauth/public/key`.
#[utoipa::path(get, path = "/oauth/public/key", tag = "hoth", summary = "RSA transport key", responses((status = 200, description = "{publicKey}", content_type = "application/json")))]
pub async fn public_key(State(st): State<AppState>) -> Response {
    Json(wire::PublicKey {
        public_key: st.engine.transport_public_key(),
    })
    .into_response()
}

/// Draws a captcha of 5 characters and keeps its answer: (key, PNG data URL, answer).
pub async fn draw_captcha(
    e: &tessera_core::Engine,
) -> Result<(String, String, String), tessera_core::EngineError> {
    // Drawing is CPU work: off the async threads.
    let drawn = tokio::task::spawn_blocking(|| {
        use captcha::filters::{Dots, Noise, Wave};
        let mut c = captcha::Captcha::new();
        c.add_chars(5)
            .apply_filter(Noise::new(0.2))
            .apply_filter(Wave::new(2.0, 18.0))
            .view(200, 70)
            .apply_filter(Dots::new(8));
        c.as_base64().map(|png| (c.chars_as_string(), png))
    })
    .await;
    let Ok(Some((answer, png))) = drawn else {
        return Err(tessera_core::EngineError::Internal(
            "captcha drawing failed".into(),
        ));
    };
    let key = e.store_captcha(&answer).await?;
    Ok((key, format!("data:image/png;base64,{png}"), answer))
}

/// `GET /oauth/public/captcha`: a PNG, single use, `captcha_ttl`.
#[utoipa::path(get, path = "/oauth/public/captcha", tag = "hoth", summary = "A new image captcha", responses((status = 200, description = "{captchaKey, image}", content_type = "application/json")))]
pub async fn captcha(State(st): State<AppState>, req: FormRequest) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    match draw_captcha(e).await {
        Ok((key, image, answer)) => crate::error::no_store(
            Json(wire::Captcha {
                captcha_key: key,
                image,
                answer: st.settings.captcha_test_mode.then_some(answer),
            })
            .into_response(),
        ),
        Err(err) => render::fault(e, lang, &err),
    }
}

/// `POST /oauth/public/captcha/sms` (`phone`, `user_type`): sends a sign-in code.
#[utoipa::path(post, path = "/oauth/public/captcha/sms", tag = "hoth", summary = "Send an SMS code", request_body(content = crate::openapi::HothSmsForm, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "{success, captchaKey, interval}", content_type = "application/json"), (status = 400, description = "hoth error shape"), (status = 429, description = "Again within interval"), (status = 502, description = "The SMS gateway failed")))]
pub async fn sms(State(st): State<AppState>, req: FormRequest) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    if let Some(bad) = &req.bad {
        return render::bad_input(e, lang, bad);
    }
    let Some(phone) = req.non_empty("phone") else {
        return render::failure(e, lang, "hoth.warn.phoneOrEmailNotnull", None);
    };
    if st
        .settings
        .phone_pattern
        .as_ref()
        .is_some_and(|p| !p.is_match(phone))
    {
        return render::failure(e, lang, "hoth.warn.phoneOrEmailNotInvalid", None);
    }
    let ip = ip(&st, &req);
    match e.captcha_required(None, ip.as_deref()).await {
        Ok(false) => {}
        Ok(true) => {
            let (Some(answer), Some(key)) = (req.non_empty("captcha"), req.non_empty("captchaKey"))
            else {
                return render::failure(e, lang, "hoth.warn.captchaNotnull", None);
            };
            match e.check_captcha(key, answer).await {
                Ok(true) => {}
                Ok(false) => return render::failure(e, lang, "hoth.warn.captchaWrong", None),
                Err(err) => return render::fault(e, lang, &err),
            }
        }
        Err(err) => return render::fault(e, lang, &err),
    }
    // The IP's SMS limit comes before the lookup: not-register must not be a free oracle.
    match e.phone_registered_from(phone, ip.as_deref()).await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => return render::failure(e, lang, "hoth.user.phone.not-register", None),
        Ok(Err(_)) => return render::failure(e, lang, "hoth.warn.tooManyRequests", None),
        Err(err) => return render::fault(e, lang, &err),
    }
    match e
        .send_sms_code(phone, SmsPurpose::Login, "", ip.as_deref())
        .await
    {
        Ok(Ok(sent)) => Json(wire::SmsSent {
            success: true,
            captcha_key: sent.key,
            interval: sent.interval,
        })
        .into_response(),
        Ok(Err(
            SmsFailure::TooSoon { .. } | SmsFailure::DailyCapReached | SmsFailure::IpRateLimited,
        )) => render::failure(e, lang, "hoth.warn.tooManyRequests", None),
        Ok(Err(SmsFailure::SendFailed)) => {
            render::failure(e, lang, "hoth.warn.captcha.sendPhoneCaptchaError", None)
        }
        Err(err) => render::fault(e, lang, &err),
    }
}

/// The token endpoint for a `hoth` client (already identified).
pub async fn token(st: &AppState, req: &FormRequest, client: &Client) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    match req.non_empty("grant_type") {
        Some("password") if client.allows(GrantType::Password) => password(st, req, client).await,
        Some("implicit") if client.allows(GrantType::Implicit) => sms_login(st, req, client).await,
        Some("refresh_token") => {
            let Some(rt) = req.non_empty("refresh_token") else {
                return render::missing(e, lang, "refresh_token");
            };
            match e.refresh(client, rt, None, TokenFormat::Uuid).await {
                Ok(Ok(issued)) => render::token(&issued),
                Ok(Err(_)) => render::failure(e, lang, "hoth.warn.refreshTokenInvalid", None),
                Err(err) => render::fault(e, lang, &err),
            }
        }
        Some(other) => render::failure(e, lang, "hoth.warn.grantTypeUnsupported", Some(other)),
        None => render::missing(e, lang, "grant_type"),
    }
}

/// `source_type` and `device_id`, which seed 001 marks required (必输 Y) for both sign-ins:
/// the device is what makes tokens device-unique.
fn device_params(
    e: &tessera_core::Engine,
    lang: tessera_core::lang::Lang,
    req: &FormRequest,
) -> Option<Response> {
    ["source_type", "device_id"]
        .into_iter()
        .find(|p| req.non_empty(p).is_none())
        .map(|p| render::missing(e, lang, p))
}

async fn password(st: &AppState, req: &FormRequest, client: &Client) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    let Some(username) = req.non_empty("username") else {
        return render::missing(e, lang, "username");
    };
    let Some(ciphertext) = req.non_empty("password") else {
        return render::missing(e, lang, "password");
    };
    if let Some(r) = device_params(e, lang, req) {
        return r;
    }
    let Ok(user_type) = user_type(req) else {
        return render::missing(e, lang, "user_type");
    };
    let field = match req.non_empty("login_field") {
        None => None,
        Some("username") => Some(LoginField::Username),
        Some("phone") => Some(LoginField::Phone),
        Some("email") => Some(LoginField::Email),
        Some(_) => return render::missing(e, lang, "login_field"),
    };
    let ip = ip(st, req);
    // The captcha, when this username or IP has failed too often; spent by any attempt.
    match e.captcha_required(Some(username), ip.as_deref()).await {
        Ok(false) => {}
        Ok(true) => {
            let Some(answer) = req.non_empty("captcha") else {
                return render::failure(e, lang, "hoth.warn.captchaNull", None);
            };
            match e
                .check_captcha(req.non_empty("captchaKey").unwrap_or(""), answer)
                .await
            {
                Ok(true) => {}
                Ok(false) => return render::failure(e, lang, "hoth.warn.captchaWrong", None),
                Err(err) => return render::fault(e, lang, &err),
            }
        }
        Err(err) => return render::fault(e, lang, &err),
    }
    let outcome = e
        .transported_password_login(ciphertext, |password| PasswordLogin {
            name: LoginName {
                value: username.to_string(),
                field,
            },
            password,
            user_type: Some(user_type),
            tenant: client.tenant_id,
            tenant_choice: TenantChoice::Default,
            second_factor: None,
            check_verified_field: true,
        })
        .await;
    let outcome = match outcome {
        Ok(Some(o)) => Ok(o),
        Ok(None) => {
            // A ciphertext that does not decrypt (or a replay) counts toward the captcha like a
            // wrong password: otherwise the padding oracle could be asked without limit.
            if let Err(err) = e.note_failure_for_captcha(username, ip.as_deref()).await {
                return render::fault(e, lang, &err);
            }
            e.audit_login_refused(
                Dialect::Hoth,
                "password_undecodable",
                username,
                Some(&client.client_id.0),
                ip,
                &audit_detail(req),
            )
            .await;
            return render::failure(e, lang, "hoth.warn.decodePasswordError", None);
        }
        Err(err) => Err(err),
    };
    finish(st, req, client, outcome, username, field).await
}

async fn sms_login(st: &AppState, req: &FormRequest, client: &Client) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    let Some(phone) = req.non_empty("phone") else {
        return render::missing(e, lang, "phone");
    };
    if let Some(r) = device_params(e, lang, req) {
        return r;
    }
    let Ok(user_type) = user_type(req) else {
        return render::missing(e, lang, "user_type");
    };
    let login = SmsLogin {
        phone: phone.to_string(),
        code: req.non_empty("captcha").map(str::to_string),
        key: req.non_empty("captchaKey").map(str::to_string),
        user_type: Some(user_type),
        tenant: client.tenant_id,
    };
    let outcome = e.sms_login(login).await;
    finish(st, req, client, outcome, phone, Some(LoginField::Phone)).await
}

/// The device and source of a sign-in, for its audit event (each value cut short: both come
/// from the caller).
fn audit_detail(req: &FormRequest) -> String {
    let value = |k| audit_text(req.non_empty(k).unwrap_or("-"), AUDIT_NAME_MAX);
    format!(
        "device={} source_type={}",
        value("device_id"),
        value("source_type")
    )
}

/// Audits, counts failures toward the captcha, and on success revokes the tokens of the
/// previous sign-in on this device (device-unique tokens) and issues new ones.
async fn finish(
    st: &AppState,
    req: &FormRequest,
    client: &Client,
    outcome: Result<Result<SignedIn, LoginFailure>, tessera_core::EngineError>,
    name: &str,
    field: Option<LoginField>,
) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    let ip = ip(st, req);
    let device = req.non_empty("device_id").map(str::to_string);
    let source_type = req.non_empty("source_type").map(str::to_string);
    let detail = audit_detail(req);
    match outcome {
        Err(err) => render::fault(e, lang, &err),
        Ok(Err(f)) => {
            if matches!(
                f,
                LoginFailure::UnknownUser
                    | LoginFailure::PasswordWrong { .. }
                    | LoginFailure::PasswordWrongNowLocked { .. }
            ) {
                if let Err(err) = e.note_failure_for_captcha(name, ip.as_deref()).await {
                    return render::fault(e, lang, &err);
                }
            }
            e.audit_login_failure(
                Dialect::Hoth,
                &f,
                name,
                Some(&client.client_id.0),
                ip,
                &detail,
            )
            .await;
            render::login_failure(e, lang, &f, field)
        }
        Ok(Ok(signed)) => {
            let uid = signed.user.id;
            let result = async {
                e.clear_failures_for_captcha(name).await?;
                if let Some(d) = &device {
                    e.revoke_device_tokens(uid, &client.client_id, d).await?;
                }
                let subject = TokenSubject {
                    client_id: client.client_id.clone(),
                    user_id: Some(uid),
                    tenant_id: Some(signed.membership.tenant.id),
                    org_id: Some(signed.membership.org.id),
                    app_key_id: None,
                    scope: client.scopes.join(" "),
                    device_id: device.clone(),
                    source_type: source_type.clone(),
                    session_id: None,
                };
                e.issue(IssueRequest {
                    client,
                    subject,
                    refresh: true,
                    format: TokenFormat::Uuid,
                })
                .await
            }
            .await;
            match result {
                Ok(issued) => {
                    e.audit_event(
                        "login",
                        Dialect::Hoth,
                        "success",
                        Some(uid),
                        Some(&client.client_id.0),
                        ip,
                        detail,
                    )
                    .await;
                    render::token(&issued)
                }
                Err(err) => render::fault(e, lang, &err),
            }
        }
    }
}
