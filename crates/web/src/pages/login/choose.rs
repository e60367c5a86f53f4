//! The tenant chosen after a right password (the choice page's answer).

use super::second_factor::ask_code;
use super::*;

/// The tenant chosen for a sign-in held for that choice: the account checks again with that
/// tenant, then its SMS second factor.
pub(super) async fn choose_tenant(
    st: &AppState,
    req: &FormRequest,
    pending: &str,
    tenant: &str,
    continue_to: &str,
    ip: Option<String>,
) -> Response {
    let (e, lang) = (&st.engine, req.lang());
    let sf = SecondFactorInput {
        device_key: device_of(st, req).0,
        code: None,
    };
    match e.choose_tenant(pending, tenant, &sf).await {
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
        Ok(Err(PendingFailure::Login(LoginFailure::SecondFactorRequired {
            user,
            tenant_code,
            org_code,
        }))) => ask_code(st, req, user, &tenant_code, &org_code, continue_to, ip).await,
        Ok(Err(PendingFailure::Login(f))) => failed(st, req, "", &f, continue_to).await,
        Err(err) => fault(lang, &err),
    }
}
