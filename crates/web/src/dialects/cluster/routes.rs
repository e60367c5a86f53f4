//! `POST /oauth/token` for `cluster` clients, and `POST /oauth/sms/code`: parse, one engine
//! call, render.

use super::render;
use crate::params::FormRequest;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tessera_core::engine::{
    LoginName, Origin, PasswordForm, PasswordLogin, PasswordSignIn, SecondFactorInput,
    SignInFailure, TenantChoice, TokenGrant,
};
use tessera_core::error::LoginFailure;
use tessera_core::model::{Client, Dialect, LoginField};
use tessera_core::secret::{Secret, TokenFormat};
use tessera_core::sms::{SmsFailure, SmsPurpose};

/// The token endpoint for a `cluster` client (already identified).
pub async fn token(st: &AppState, req: &FormRequest, client: &Client) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    match req.non_empty("grant_type") {
        Some("password") => password(st, req, client).await,
        Some("refresh_token") => {
            let Some(rt) = req.non_empty("refresh_token") else {
                return render::missing(e, lang, "refresh_token");
            };
            match e.refresh(client, rt, None, TokenFormat::Uuid).await {
                Ok(Ok(issued)) => match e.tenant_of(&issued.subject).await {
                    Ok(Some(t)) => render::success(&issued, &t),
                    Ok(None) => render::failure(
                        e,
                        lang,
                        StatusCode::UNAUTHORIZED,
                        1001,
                        "cluster.1001",
                        None,
                    ),
                    Err(err) => render::fault(e, lang, &err),
                },
                Ok(Err(_)) => render::failure(
                    e,
                    lang,
                    StatusCode::UNAUTHORIZED,
                    1002,
                    "oauth.invalidRefreshToken",
                    None,
                ),
                Err(err) => render::fault(e, lang, &err),
            }
        }
        Some(other) => render::failure(
            e,
            lang,
            StatusCode::BAD_REQUEST,
            1002,
            "oauth.unsupportedGrantType",
            Some(other),
        ),
        None => render::missing(e, lang, "grant_type"),
    }
}

async fn password(st: &AppState, req: &FormRequest, client: &Client) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    if !client.allows(tessera_core::model::GrantType::Password) {
        return render::failure(
            e,
            lang,
            StatusCode::BAD_REQUEST,
            1002,
            "oauth.unauthorizedClient",
            Some("password"),
        );
    }
    let Some(mobile) = req.non_empty("mobile") else {
        return render::missing(e, lang, "mobile");
    };
    let Some(password) = req.get("password") else {
        return render::missing(e, lang, "password");
    };
    let login = PasswordLogin {
        name: LoginName {
            value: mobile.to_string(),
            field: Some(LoginField::Phone),
        },
        password: Secret::new(password),
        user_type: None,
        tenant: client.tenant_id,
        tenant_choice: TenantChoice::Pick {
            tenant: req
                .non_empty("clusterCode")
                .or(req.non_empty("cluster_code"))
                .map(str::to_string),
            org: req.non_empty("username").map(str::to_string),
        },
        check_verified_field: false,
        second_factor: Some(SecondFactorInput {
            device_key: format!("cluster:{}", req.get("type").unwrap_or("")),
            code: req.non_empty("code").map(str::to_string),
        }),
    };
    let origin = Origin {
        dialect: Dialect::Cluster,
        client_id: Some(client.client_id.0.clone()),
        ip: req.client_ip(&st.settings.trusted_proxies),
        detail: String::new(),
        captcha: None,
    };
    let sign_in = PasswordSignIn {
        login,
        form: PasswordForm::Clear,
        origin: origin.clone(),
    };
    match e.password_sign_in(sign_in).await {
        Ok(Ok(signed)) => {
            let grant = TokenGrant {
                client,
                scope: client.scopes.join(" "),
                device_id: None,
                source_type: None,
                device_unique: false,
                format: TokenFormat::Uuid,
            };
            match e.grant_tokens(&signed, grant, &origin).await {
                Ok(issued) => render::success(&issued, &signed.membership.tenant),
                Err(err) => render::fault(e, lang, &err),
            }
        }
        Ok(Err(SignInFailure::Login(f))) => render::login_failure(e, lang, &f),
        // No captcha and no transported password on this path.
        Ok(Err(
            SignInFailure::CaptchaMissing
            | SignInFailure::CaptchaWrong
            | SignInFailure::Undecodable,
        )) => render::login_failure(e, lang, &LoginFailure::UnknownUser),
        Err(err) => render::fault(e, lang, &err),
    }
}

/// `POST /oauth/sms/code` (`mobile`, optional `clusterCode`): sends the second-factor code.
#[utoipa::path(post, path = "/oauth/sms/code", tag = "cluster", summary = "Send an SMS code (second factor)", request_body(content = super::wire::SmsCodeRequest, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "Sent", content_type = "application/json"), (status = 400, description = "Cluster error shape"), (status = 429, description = "Again too soon"), (status = 502, description = "The SMS gateway failed")))]
pub async fn sms_code(State(st): State<AppState>, req: FormRequest) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    if let Some(bad) = &req.bad {
        return render::bad_input(e, lang, bad);
    }
    let Ok(p) = req.typed::<super::wire::SmsCodeRequest>() else {
        return render::missing(e, lang, "mobile");
    };
    let Some(mobile) = p.mobile.as_deref().or(p.phone.as_deref()) else {
        return render::missing(e, lang, "mobile");
    };
    // The IP's SMS limit comes before the lookup, so that 1004 is no free oracle of which
    // phones are registered (issue 15, finding 11).
    let ip = req.client_ip(&st.settings.trusted_proxies);
    match e.phone_registered_from(mobile, ip.as_deref()).await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => {
            return render::failure(
                e,
                lang,
                StatusCode::UNAUTHORIZED,
                1004,
                "cluster.1004",
                None,
            )
        }
        Ok(Err(_)) => {
            return render::failure(
                e,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                1002,
                "hoth.warn.tooManyRequests",
                None,
            )
        }
        Err(err) => return render::fault(e, lang, &err),
    }
    let named = p
        .cluster_code
        .as_deref()
        .or(p.cluster_code_snake.as_deref());
    let tenant = match e.sms_tenant(mobile, named).await {
        Ok(t) => t,
        Err(err) => return render::fault(e, lang, &err),
    };
    match e
        .send_sms_code(mobile, SmsPurpose::Login2fa, &tenant, ip.as_deref())
        .await
    {
        Ok(Ok(sent)) => render::sms_sent(e, lang, sent.interval),
        Ok(Err(
            SmsFailure::TooSoon { .. } | SmsFailure::DailyCapReached | SmsFailure::IpRateLimited,
        )) => render::failure(
            e,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            1002,
            "hoth.warn.tooManyRequests",
            None,
        ),
        Ok(Err(SmsFailure::SendFailed)) => render::failure(
            e,
            lang,
            StatusCode::BAD_GATEWAY,
            1002,
            "hoth.warn.captcha.sendPhoneCaptchaError",
            None,
        ),
        Err(err) => render::fault(e, lang, &err),
    }
}
