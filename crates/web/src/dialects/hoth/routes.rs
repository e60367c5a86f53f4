//! Seed 001's endpoints: init parameters, public key, image captcha, SMS code, and the token
//! endpoint for `hoth` clients (password and SMS login). Parse, one engine call, render.

use super::{render, wire};
use crate::params::FormRequest;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_core::engine::{
    audit_text, CaptchaAnswer, CaptchaRefusal, LoginName, Origin, PasswordForm, PasswordLogin,
    PasswordSignIn, SignInFailure, SignedIn, SmsLogin, TenantChoice, TokenGrant, AUDIT_NAME_MAX,
};
use tessera_core::model::{Client, Dialect, GrantType, LoginField, UserType};
use tessera_core::secret::Secret;
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
#[utoipa::path(post, path = "/oauth/public/captcha/sms", tag = "hoth", summary = "Send an SMS code", request_body(content = wire::SmsRequest, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "{success, captchaKey, interval}", content_type = "application/json"), (status = 400, description = "hoth error shape"), (status = 429, description = "Again within interval"), (status = 502, description = "The SMS gateway failed")))]
pub async fn sms(State(st): State<AppState>, req: FormRequest) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    if let Some(bad) = &req.bad {
        return render::bad_input(e, lang, bad);
    }
    let Ok(p) = req.typed::<wire::SmsRequest>() else {
        return render::failure(e, lang, "hoth.warn.phoneOrEmailNotnull", None);
    };
    let Some(phone) = p.phone.as_deref() else {
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
    let answer = CaptchaAnswer {
        key: p.captcha_key.clone(),
        answer: p.captcha.clone(),
    };
    match e.captcha_gate(None, ip.as_deref(), &answer).await {
        Ok(Ok(())) => {}
        Ok(Err(CaptchaRefusal::Missing)) => {
            return render::failure(e, lang, "hoth.warn.captchaNotnull", None)
        }
        Ok(Err(CaptchaRefusal::Wrong)) => {
            return render::failure(e, lang, "hoth.warn.captchaWrong", None)
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
    let origin = origin(st, req, client, true);
    let sign_in = PasswordSignIn {
        login: PasswordLogin {
            name: LoginName {
                value: username.to_string(),
                field,
            },
            password: Secret::new(ciphertext),
            user_type: Some(user_type),
            tenant: client.tenant_id,
            tenant_choice: TenantChoice::Default,
            second_factor: None,
            check_verified_field: true,
        },
        form: PasswordForm::Transported,
        origin: origin.clone(),
    };
    let code = match e.password_sign_in(sign_in).await {
        Err(err) => return render::fault(e, lang, &err),
        Ok(Ok(signed)) => return grant(st, req, client, &signed, &origin).await,
        Ok(Err(SignInFailure::Login(f))) => return render::login_failure(e, lang, &f, field),
        Ok(Err(SignInFailure::CaptchaMissing)) => "hoth.warn.captchaNull",
        Ok(Err(SignInFailure::CaptchaWrong)) => "hoth.warn.captchaWrong",
        Ok(Err(SignInFailure::Undecodable)) => "hoth.warn.decodePasswordError",
    };
    render::failure(e, lang, code, None)
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
    let origin = origin(st, req, client, false);
    match e.sms_sign_in(login, &origin).await {
        Err(err) => render::fault(e, lang, &err),
        Ok(Ok(signed)) => grant(st, req, client, &signed, &origin).await,
        Ok(Err(f)) => render::login_failure(e, lang, &f, Some(LoginField::Phone)),
    }
}

/// Where a hoth sign-in comes from: the client, the IP, the device and source for the audit,
/// and the captcha answer (password sign-ins only: seed 001's SMS sign-in has none).
fn origin(st: &AppState, req: &FormRequest, client: &Client, captcha: bool) -> Origin {
    Origin {
        dialect: Dialect::Hoth,
        client_id: Some(client.client_id.0.clone()),
        ip: ip(st, req),
        detail: audit_detail(req),
        captcha: captcha.then(|| CaptchaAnswer {
            key: req.non_empty("captchaKey").map(str::to_string),
            answer: req.non_empty("captcha").map(str::to_string),
        }),
    }
}

/// Seed 001's tokens are device-unique: the previous sign-in's on this device go.
async fn grant(
    st: &AppState,
    req: &FormRequest,
    client: &Client,
    signed: &SignedIn,
    origin: &Origin,
) -> Response {
    let e = &st.engine;
    let grant = TokenGrant {
        client,
        scope: client.scopes.join(" "),
        device_id: req.non_empty("device_id").map(str::to_string),
        source_type: req.non_empty("source_type").map(str::to_string),
        device_unique: true,
        format: TokenFormat::Uuid,
    };
    match e.grant_tokens(signed, grant, origin).await {
        Ok(issued) => render::token(&issued),
        Err(err) => render::fault(e, req.lang(), &err),
    }
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
