//! The SMS tab: a sign-in code sent to a registered phone, then the sign-in with it.

use super::*;

/// The SMS tab: sends a sign-in code to a registered phone.
pub(super) async fn send_sms(
    st: &AppState,
    req: &FormRequest,
    continue_to: &str,
    ip: Option<String>,
) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    let phone = req.get("phone").unwrap_or("").trim().to_string();
    let c = e.catalogue();
    let err = |code: &str| Some(c.text(code, lang, None));
    let bad = StatusCode::BAD_REQUEST;
    if phone.is_empty() {
        return render_sms(
            st,
            req,
            lang,
            bad,
            &phone,
            "",
            err("hoth.warn.phoneOrEmailNotnull"),
            None,
            continue_to,
        );
    }
    if st
        .settings
        .phone_pattern
        .as_ref()
        .is_some_and(|p| !p.is_match(&phone))
    {
        return render_sms(
            st,
            req,
            lang,
            bad,
            &phone,
            "",
            err("hoth.warn.phoneOrEmailNotInvalid"),
            None,
            continue_to,
        );
    }
    // The IP's SMS limit comes before the lookup (issue 15, finding 11).
    match e.phone_registered_from(&phone, ip.as_deref()).await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => {
            return render_sms(
                st,
                req,
                lang,
                bad,
                &phone,
                "",
                err("hoth.user.phone.not-register"),
                None,
                continue_to,
            )
        }
        Ok(Err(_)) => {
            return render_sms(
                st,
                req,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                &phone,
                "",
                err("hoth.warn.tooManyRequests"),
                None,
                continue_to,
            )
        }
        Err(er) => return fault(lang, &er),
    }
    match e
        .send_sms_code(
            &phone,
            tessera_core::sms::SmsPurpose::Login,
            "",
            ip.as_deref(),
        )
        .await
    {
        Ok(Ok(sent)) => render_sms(
            st,
            req,
            lang,
            StatusCode::OK,
            &phone,
            &sent.key,
            None,
            Some(texts(lang).code_sent.to_string()),
            continue_to,
        ),
        Ok(Err(tessera_core::sms::SmsFailure::SendFailed)) => render_sms(
            st,
            req,
            lang,
            StatusCode::BAD_GATEWAY,
            &phone,
            "",
            err("hoth.warn.captcha.sendPhoneCaptchaError"),
            None,
            continue_to,
        ),
        Ok(Err(_)) => render_sms(
            st,
            req,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &phone,
            "",
            err("hoth.warn.tooManyRequests"),
            None,
            continue_to,
        ),
        Err(er) => fault(lang, &er),
    }
}

/// The SMS tab: signs in with the code.
pub(super) async fn sms_sign_in(
    st: &AppState,
    req: &FormRequest,
    continue_to: &str,
    ip: Option<String>,
) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    let phone = req.get("phone").unwrap_or("").trim().to_string();
    let key = req.get("captchaKey").unwrap_or("").to_string();
    let login = SmsLogin {
        phone: phone.clone(),
        code: req.non_empty("sms_code").map(str::to_string),
        key: Some(key.clone()).filter(|k| !k.is_empty()),
        user_type: None,
        tenant: None,
    };
    let origin = Origin {
        dialect: tessera_core::model::Dialect::Standard,
        client_id: None,
        ip: ip.clone(),
        detail: "login page, SMS".into(),
        captcha: None,
    };
    match e.sms_sign_in(login, &origin).await {
        Ok(Ok(signed)) => signed_in(st, req, signed, continue_to, ip).await,
        Ok(Err(f)) => {
            let (code, arg) = crate::dialects::hoth::render::failure_code(
                e,
                &f,
                Some(tessera_core::model::LoginField::Phone),
            );
            let msg = e.catalogue().text(code, lang, arg.as_deref());
            render_sms(
                st,
                req,
                lang,
                StatusCode::UNAUTHORIZED,
                &phone,
                &key,
                Some(msg),
                None,
                continue_to,
            )
        }
        Err(er) => fault(lang, &er),
    }
}
