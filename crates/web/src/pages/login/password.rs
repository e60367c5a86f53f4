//! The password form: the engine's sign-in pipeline, the tenant choice page.

use super::second_factor::ask_code;
use super::*;

/// The password form: the engine's sign-in pipeline, then the session, the tenant choice or
/// the second factor.
pub(super) async fn password(
    st: &AppState,
    req: &FormRequest,
    continue_to: &str,
    ip: Option<String>,
) -> Response {
    let (e, lang) = (&st.engine, req.lang());
    let username = req.get("username").unwrap_or("").trim().to_string();
    let password = req.get("password").unwrap_or("");
    if username.is_empty() || password.is_empty() {
        let msg = e.catalogue().text("oauth.invalidCredentials", lang, None);
        return render_login(
            st,
            req,
            lang,
            StatusCode::BAD_REQUEST,
            &username,
            Some(msg),
            continue_to,
        )
        .await;
    }
    let login = PasswordLogin {
        name: LoginName {
            value: username.clone(),
            field: None,
        },
        password: Secret::new(password),
        user_type: None,
        tenant: None,
        // A `tenant` posted with the password picks it at once (the choice page's radios
        // carry the same name); without one, a user of several tenants gets the choice page.
        tenant_choice: TenantChoice::Pick {
            tenant: req.non_empty("tenant").map(str::to_string),
            org: None,
        },
        second_factor: Some(SecondFactorInput {
            device_key: device_of(st, req).0,
            code: None,
        }),
        check_verified_field: false,
    };
    let origin = Origin {
        dialect: tessera_core::model::Dialect::Standard,
        client_id: None,
        ip: ip.clone(),
        detail: "login page".into(),
        captcha: Some(CaptchaAnswer {
            key: req.non_empty("captchaKey").map(str::to_string),
            answer: req.non_empty("captcha").map(str::to_string),
        }),
    };
    let sign_in = PasswordSignIn {
        login,
        form: PasswordForm::Clear,
        origin,
    };
    let failure = match e.password_sign_in(sign_in).await {
        Ok(Ok(signed)) => return signed_in(st, req, signed, continue_to, ip).await,
        Ok(Err(SignInFailure::Login(LoginFailure::ChooseTenant { user, options }))) => {
            let pending = match e.hold_sign_in(&PendingSignIn::TenantChoice { user }).await {
                Ok(t) => t,
                Err(err) => return fault(lang, &err),
            };
            let (csrf, cookies) = csrf_of(st, req);
            let (zh_link, en_link) = lang_links(continue_to);
            let html = match html_of(&ChoosePage {
                t: texts(lang),
                csrf,
                continue_to: continue_to.to_string(),
                pending,
                options: options.into_iter().map(|o| (o.code, o.name)).collect(),
                zh_link,
                en_link,
            }) {
                Some(h) => h,
                None => return template_fault(lang),
            };
            return page(StatusCode::OK, html, &cookies);
        }
        Ok(Err(SignInFailure::Login(LoginFailure::SecondFactorRequired {
            user,
            tenant_code,
            org_code,
        }))) => return ask_code(st, req, user, &tenant_code, &org_code, continue_to, ip).await,
        Ok(Err(SignInFailure::Login(f))) => f,
        Ok(Err(c @ (SignInFailure::CaptchaMissing | SignInFailure::CaptchaWrong))) => {
            let code = if c == SignInFailure::CaptchaMissing {
                "hoth.warn.captchaNull"
            } else {
                "hoth.warn.captchaWrong"
            };
            let msg = e.catalogue().text(code, lang, None);
            return render_login(
                st,
                req,
                lang,
                StatusCode::BAD_REQUEST,
                &username,
                Some(msg),
                continue_to,
            )
            .await;
        }
        // The page sends its password in clear.
        Ok(Err(SignInFailure::Undecodable)) => LoginFailure::UnknownUser,
        Err(err) => return fault(lang, &err),
    };
    failed(st, req, &username, &failure, continue_to).await
}
