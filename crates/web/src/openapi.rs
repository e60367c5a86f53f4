//! The OpenAPI 3 document served at `GET /openapi.json` (`docs/reference/oauth.md`, "Operations").
//!
//! The document and the router are one list: every route is registered through
//! `utoipa_axum::routes!` from the `#[utoipa::path]` attribute on its handler (see
//! [`crate::router`]), so a route cannot exist without being documented. The form parameters
//! below describe what the hand-written strict parser in [`crate::params`] reads (it refuses
//! repeated keys and bad UTF-8, which serde's form parser would not); the handlers read exactly
//! these names.

use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Serialize;
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

/// The document's fixed parts; paths come from the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera",
        description = "Identity server: standard OAuth 2.1 / OpenID Connect and the wire dialects \
                       cluster, hoth, appkey and maxkey on one engine, plus the admin API."
    ),
    modifiers(&Security),
    components(schemas(ApiErrorBody, OAuthErrorBody)),
    tags(
        (name = "oauth", description = "Standard OAuth 2.1 / OpenID Connect, and the token endpoint every form dialect posts to"),
        (name = "cluster", description = "Seed 000"),
        (name = "hoth", description = "Seed 001"),
        (name = "appkey", description = "Seed 002"),
        (name = "maxkey", description = "Seed 003"),
        (name = "pages", description = "HTML pages for browsers"),
        (name = "console", description = "The web console and the front door (HTML; sign in through /login)"),
        (name = "ops", description = "Health, readiness, metrics, this document"),
        (name = "admin", description = "Admin REST API: Bearer token with the scope tessera:admin")
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token of a client holding the scope tessera:admin \
                         (client_credentials at /oauth/token)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as served, made once at start.
#[derive(Clone)]
pub struct Document(pub Arc<str>);

/// OpenAPI asks for operation ids unique in the document; utoipa takes them from handler names,
/// which repeat across modules (`list`, `create`) and across the methods of one handler
/// (`method(get, post)`). Each id that is not unique becomes its method and path
/// (`get_admin_api_v1_users_id`), which is.
pub fn unique_operation_ids(doc: &mut utoipa::openapi::OpenApi) {
    use std::collections::HashMap;
    fn ops(
        item: &mut utoipa::openapi::PathItem,
    ) -> [(&'static str, &mut Option<utoipa::openapi::path::Operation>); 8] {
        [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("options", &mut item.options),
            ("head", &mut item.head),
            ("patch", &mut item.patch),
            ("trace", &mut item.trace),
        ]
    }
    let mut count: HashMap<String, usize> = HashMap::new();
    for item in doc.paths.paths.values_mut() {
        for (_, op) in ops(item) {
            if let Some(id) = op.as_ref().and_then(|o| o.operation_id.clone()) {
                *count.entry(id).or_default() += 1;
            }
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let slug: String = path
            .chars()
            .filter(|c| !matches!(c, '{' | '}'))
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        for (method, op) in ops(item) {
            let Some(op) = op.as_mut() else { continue };
            if op.operation_id.as_ref().is_some_and(|id| count[id] > 1) {
                op.operation_id = Some(format!("{method}{slug}"));
            }
        }
    }
}

/// `GET /openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "This OpenAPI 3 document", content_type = "application/json")))]
pub async fn document(Extension(doc): Extension<Document>) -> Response {
    (
        [(http::header::CONTENT_TYPE, "application/json")],
        doc.0.to_string(),
    )
        .into_response()
}

// ---- Request parameters of the form endpoints (documentation of what `params` reads) ----

/// `POST /oauth/token`: one form for every dialect; the client's registered dialect decides
/// which parameters matter and the answer's shape (`docs/reference/oauth.md`, "Dialect dispatch").
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct TokenForm {
    /// `client_credentials`, `password`, `refresh_token`, `authorization_code`, or (hoth SMS
    /// login) `implicit`.
    grant_type: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    /// cluster: the phone number.
    mobile: Option<String>,
    /// cluster: the device type (it names the device for the `new_device` second factor).
    #[serde(rename = "type")]
    device_type: Option<String>,
    /// cluster: `admin` selects `dialects.cluster.default_client`.
    client: Option<String>,
    /// cluster: the tenant code (`cluster_code` is accepted too).
    #[serde(rename = "clusterCode")]
    cluster_code: Option<String>,
    #[serde(rename = "cluster_code")]
    cluster_code_snake: Option<String>,
    /// hoth: `web` or `app`.
    source_type: Option<String>,
    device_id: Option<String>,
    /// hoth: `P` (default) or `C`.
    user_type: Option<String>,
    /// hoth: `username`, `phone` or `email`.
    login_field: Option<String>,
    phone: Option<String>,
    captcha: Option<String>,
    #[serde(rename = "captchaKey")]
    captcha_key: Option<String>,
    lang: Option<String>,
}

/// RFC 7662 / RFC 7009 request.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct TokenParamForm {
    token: String,
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// `POST /console/users/{id}` (HTML form).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ConsoleUserAction {
    /// Must equal the `tessera_csrf` cookie (double submit).
    csrf: String,
    /// `enable`, `disable`, `unlock`, `reset_password`, `revoke_tokens` or `end_session`.
    action: String,
    /// The session to end (`end_session`).
    session: Option<String>,
    lang: Option<String>,
}

/// `POST /console/tenants` (HTML form).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ConsoleTenantAction {
    /// Must equal the `tessera_csrf` cookie (double submit).
    csrf: String,
    /// `create`, `enable`, `disable` or `second_factor`.
    action: String,
    code: String,
    /// `create` only.
    name: Option<String>,
    /// `second_factor` only: `always`, `new_device` or `never`.
    policy: Option<String>,
    lang: Option<String>,
}

/// `POST /console/clients` (HTML form).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ConsoleClientAction {
    /// Must equal the `tessera_csrf` cookie (double submit).
    csrf: String,
    /// `rotate_secret`.
    action: String,
    client_id: String,
    lang: Option<String>,
}

/// `POST /console/sessions` (HTML form).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ConsoleEndSession {
    /// Must equal the `tessera_csrf` cookie (double submit).
    csrf: String,
    /// The session's id.
    session: String,
    lang: Option<String>,
}

/// `POST /login` (HTML form).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct LoginForm {
    /// Must equal the `tessera_csrf` cookie (double submit).
    csrf: String,
    /// Where to go once signed in (a path of this server only).
    #[serde(rename = "continue")]
    continue_to: Option<String>,
    lang: Option<String>,
    username: Option<String>,
    password: Option<String>,
    captcha: Option<String>,
    #[serde(rename = "captchaKey")]
    captcha_key: Option<String>,
    /// The tenant picked with the password, or on the choice page.
    tenant: Option<String>,
    /// The choice page's held sign-in.
    pending: Option<String>,
    /// The second-factor page's held sign-in.
    pending2fa: Option<String>,
    /// `send_sms` or `sms` (the SMS tab); absent for the password form.
    action: Option<String>,
    phone: Option<String>,
    /// The SMS code (second factor or SMS sign-in).
    sms_code: Option<String>,
}

/// maxkey's token request (`GET` query or `POST` form).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct MaxkeyTokenForm {
    grant_type: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    code: Option<String>,
}

/// appkey login body (seed 002).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "camelCase")]
pub struct AppKeyLogin {
    /// A string in seed 002.
    app_id: String,
    app_key: String,
    app_secret: String,
    /// `APP_KEY`.
    login_type: String,
}

/// appkey refresh body (or the `refreshToken` query parameter).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "camelCase")]
pub struct AppKeyRefresh {
    refresh_token: String,
}

// ---- Answers built with `json!` in the handlers ----

/// RFC 6749 §5.1 (standard dialect); cluster and hoth clients get their own shapes, see the
/// contract.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct TokenAnswer {
    access_token: String,
    token_type: String,
    expires_in: i64,
    refresh_token: Option<String>,
    scope: String,
    id_token: Option<String>,
}

/// RFC 6749 §5.2.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct OAuthErrorBody {
    error: String,
    error_description: Option<String>,
}

/// RFC 7662 §2.2 (`active: false` alone for anything not live).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct IntrospectionAnswer {
    active: bool,
    scope: Option<String>,
    client_id: Option<String>,
    username: Option<String>,
    /// The tenant the token is bound to.
    tenant_id: Option<i64>,
    token_type: Option<String>,
    exp: Option<i64>,
    iat: Option<i64>,
    sub: Option<String>,
    iss: Option<String>,
}

/// The admin API's refusals.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ApiErrorBody {
    error: String,
    message: String,
}

/// Every admin route may answer these.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum AdminErrors {
    /// A field or query parameter is invalid; the message names it.
    #[response(status = 400)]
    Bad(ApiErrorBody),
    /// No Bearer token, or not a live one.
    #[response(status = 401)]
    Unauthorized(ApiErrorBody),
    /// The token lacks the scope `tessera:admin` (or is scoped to another tenant).
    #[response(status = 403)]
    Forbidden(ApiErrorBody),
    /// No such object.
    #[response(status = 404)]
    NotFound(ApiErrorBody),
    /// A unique value is taken.
    #[response(status = 409)]
    Conflict(ApiErrorBody),
}
