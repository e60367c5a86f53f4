//! The SMS second factor asked after a right password: the code sent, then checked.

use super::*;

/// The password was right and the tenant's SMS second factor applies: sends the code and shows
/// the page that takes it (the sign-in waits 10 minutes under a pending token).
pub(super) async fn ask_code(
    st: &AppState,
    req: &FormRequest,
    user: tessera_core::ids::UserId,
    tenant_code: &str,
    org_code: &str,
    continue_to: &str,
    ip: Option<String>,
) -> Response {
    let (e, lang) = (&st.engine, req.lang());
    let info = match e
        .send_second_factor_code(user, tenant_code, ip.as_deref())
        .await
    {
        Ok(Ok(())) => texts(lang).code_sent.to_string(),
        Ok(Err(_)) => e.catalogue().text("hoth.warn.tooManyRequests", lang, None),
        Err(err) => return fault(lang, &err),
    };
    let held = PendingSignIn::SecondFactor {
        user,
        tenant_code: tenant_code.to_string(),
        org_code: org_code.to_string(),
    };
    let pending = match e.hold_sign_in(&held).await {
        Ok(t) => t,
        Err(err) => return fault(lang, &err),
    };
    render_code(
        st,
        req,
        StatusCode::OK,
        &pending,
        None,
        Some(info),
        continue_to,
    )
}

/// The code of a sign-in held for its SMS second factor.
pub(super) async fn second_factor(
    st: &AppState,
    req: &FormRequest,
    pending: &str,
    continue_to: &str,
    ip: Option<String>,
) -> Response {
    let e = &st.engine;
    let lang = req.lang();
    let code = req.get("sms_code").unwrap_or("").trim();
    let (device, _) = device_of(st, req);
    match e.give_second_factor(pending, &device, code).await {
        Ok(Ok(signed)) => signed_in(st, req, signed, continue_to, ip).await,
        Ok(Err(PendingFailure::Expired)) => {
            let t = texts(lang);
            render_login(
                st,
                req,
                lang,
                StatusCode::BAD_REQUEST,
                "",
                Some(t.expired_form.to_string()),
                continue_to,
            )
            .await
        }
        Ok(Err(PendingFailure::Login(LoginFailure::SecondFactorWrong { .. }))) => {
            let msg = e.catalogue().text("cluster.1002.2002", lang, None);
            render_code(
                st,
                req,
                StatusCode::UNAUTHORIZED,
                pending,
                Some(msg),
                None,
                continue_to,
            )
        }
        Ok(Err(PendingFailure::Login(f))) => failed(st, req, "", &f, continue_to).await,
        Err(err) => fault(lang, &err),
    }
}
