//! Browser SSO over HTTP, the login form driven as a browser would: the authorization code
//! flow with PKCE, ID tokens checked against the JWKS, userinfo, the SSO session across a
//! standard and a maxkey client, code reuse, expiry, logout, and the login page's policies.

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::Value;
use tessera_testkit::{SmsInbox, TestApp};

pub(crate) const BOOT: &str = r#"
[[tenants]]
code = "S"
id = 77
name = "SSO 租户"
[[tenants]]
code = "S2"
name = "第二租户"
[[orgs]]
tenant = "S"
code = "D1"
id = 701
name = "研发部"
[[orgs]]
tenant = "S2"
code = "E1"
name = "E1"
[[users]]
username = "sso"
phone = "13700000001"
email = "sso@example.test"
password = "pw-sso"
display_name = "单点"
real_name = "单点用户"
gender = 1
birthday = "1991-02-03"
title = "工程师"
employee_number = "E9"
state = "上海"
email_verified = true
[[users]]
username = "multi"
password = "pw-multi"
[[users]]
username = "multi2f"
password = "pw-multi2f"
phone = "13700000003"
[[memberships]]
user = "multi2f"
tenant = "S"
org = "D1"
roles = ["user"]
default = true
[[memberships]]
user = "multi2f"
tenant = "TWOF"
org = "T1"
roles = ["user"]
[[memberships]]
user = "sso"
tenant = "S"
org = "D1"
roles = ["user"]
default = true
[[memberships]]
user = "multi"
tenant = "S"
org = "D1"
roles = ["user"]
default = true
[[memberships]]
user = "multi"
tenant = "S2"
org = "E1"
roles = ["user"]
[[tenants]]
code = "TWOF"
name = "双因素"
sms_second_factor = "new_device"
[[orgs]]
tenant = "TWOF"
code = "T1"
name = "T1"
[[users]]
username = "twof"
phone = "13700000002"
password = "pw-twof"
[[memberships]]
user = "twof"
tenant = "TWOF"
org = "T1"
roles = ["user"]
default = true
[[clients]]
client_id = "rp"
client_secret = "rp-secret"
grant_types = ["authorization_code", "refresh_token"]
redirect_uris = ["http://127.0.0.1:9/cb"]
post_logout_redirect_uris = ["http://127.0.0.1:9/bye"]
scopes = ["openid", "profile", "email", "phone"]
[[clients]]
client_id = "spa"
grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1:9/spa"]
scopes = ["openid"]
[[clients]]
client_id = "mk"
client_secret = "mk-secret"
dialect = "maxkey"
grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1:9/mk"]
scopes = ["all"]
[[clients]]
client_id = "adm"
client_secret = "adm-secret"
grant_types = ["client_credentials"]
scopes = ["tessera:admin"]
"#;

/// A browser: cookies kept, redirects not followed (the test reads each `Location`).
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn app() -> TestApp {
    TestApp::spawn(BOOT).await
}

pub(crate) fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The value of a hidden input in a page.
pub(crate) fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    // Undo the template's HTML escaping of the value.
    html[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
}

/// A new browser sent from the `rp` client's authorization request to the login page: the
/// browser, and the form's `csrf` and `continue`.
pub(crate) async fn to_login_page(app: &TestApp) -> (reqwest::Client, String, String) {
    let b = browser();
    let r = b
        .get(app.url("/oauth/authorize?response_type=code&client_id=rp"))
        .send()
        .await
        .unwrap();
    let page = b
        .get(app.url(&location(&r)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (csrf, cont) = (hidden(&page, "csrf"), hidden(&page, "continue"));
    (b, csrf, cont)
}

/// GET the authorize URL; sign in on the login page if sent there; answer the final redirect.
pub(crate) async fn authorize(
    app: &TestApp,
    b: &reqwest::Client,
    query: &str,
    user: &str,
    password: &str,
) -> String {
    let r = b
        .get(app.url(&format!("/oauth/authorize?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let to = location(&r);
    if !to.starts_with("/login") {
        return to;
    }
    let page = b
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("csrf", hidden(&page, "csrf")),
        ("continue", hidden(&page, "continue")),
        ("username", user.into()),
        ("password", password.into()),
    ];
    let r = b.post(app.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let back = location(&r);
    let r = b.get(app.url(&back)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    location(&r)
}

fn pkce() -> (String, String) {
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_string();
    (verifier.clone(), tessera_core::engine::pkce_s256(&verifier))
}

pub(crate) async fn exchange(
    app: &TestApp,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let a = app.post_form("/oauth/token", basic, form).await;
    (a.status, a.json())
}

/// Verifies an ID token's RS256 signature against the published JWKS.
async fn verify_id_token(app: &TestApp, token: &str, aud: &str) -> Value {
    let jwks = app.get("/oauth/jwks").await.json();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .expect("kid in JWKS");
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[aud]);
    v.set_issuer(&[app.engine.config().issuer.as_str()]);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .expect("valid ID token")
        .claims
}

#[tokio::test]
async fn the_code_flow_issues_tokens_and_an_id_token_valid_against_the_jwks() {
    let app = app().await;
    let b = browser();
    let (verifier, challenge) = pkce();
    let q = format!("response_type=code&client_id=rp&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=openid%20profile%20email&state=s1&nonce=n1&code_challenge={challenge}&code_challenge_method=S256");
    let back = authorize(&app, &b, &q, "sso", "pw-sso").await;
    assert!(back.starts_with("http://127.0.0.1:9/cb?"), "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some("s1"));
    let code = query_param(&back, "code").unwrap();
    let (status, v) = exchange(
        &app,
        Some(("rp", "rp-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["scope"], "openid profile email");
    assert!(v["refresh_token"].is_string());
    let claims = verify_id_token(&app, v["id_token"].as_str().unwrap(), "rp").await;
    assert_eq!(claims["nonce"], "n1");
    assert_eq!(claims["email"], "sso@example.test");
    assert!(claims["auth_time"].is_i64() && claims["sub"].is_string());
    let digest =
        <sha2::Sha256 as sha2::Digest>::digest(v["access_token"].as_str().unwrap().as_bytes());
    assert_eq!(
        claims["at_hash"],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
    );
    let info = app
        .http
        .get(app.url("/oauth/userinfo"))
        .bearer_auth(v["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let info: Value = info.json().await.unwrap();
    assert_eq!(
        (
            info["sub"].clone(),
            info["preferred_username"].clone(),
            info["email_verified"].clone()
        ),
        (claims["sub"].clone(), Value::from("sso"), Value::Bool(true))
    );
    assert!(
        info.get("phone_number").is_none(),
        "no phone scope, no phone claim"
    );
}

#[tokio::test]
async fn one_sign_in_serves_a_second_client_and_the_maxkey_dialect() {
    let app = app().await;
    let b = browser();
    authorize(&app, &b, "response_type=code&client_id=rp&scope=openid&code_challenge=abc&code_challenge_method=S256", "sso", "pw-sso").await;
    // No password this time: the session answers.
    let r = b.get(app.url("/api/sso/authz/oauth/v20/authorize?response_type=code&client_id=mk&redirect_uri=http://127.0.0.1:9/mk&state=x")).send().await.unwrap();
    let back = location(&r);
    assert!(back.starts_with("http://127.0.0.1:9/mk?code="), "{back}");
    let code = query_param(&back, "code").unwrap();
    let url = format!("/api/sso/authz/oauth/v20/token?client_id=mk&client_secret=mk-secret&grant_type=authorization_code&redirect_uri=http://127.0.0.1:9/mk&code={code}");
    let v = app.get(&url).await.json();
    let keys: Vec<&str> = {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort();
        k
    };
    assert_eq!(
        keys,
        ["access_token", "expires_in", "scope", "token_type"],
        "{v}"
    );
    assert_eq!(
        (v["token_type"].as_str(), v["scope"].as_str()),
        (Some("bearer"), Some("all"))
    );
    assert!(v["expires_in"].is_i64());
    assert_eq!(
        v["access_token"].as_str().unwrap().len(),
        36,
        "UUID, as the seed shows"
    );
    let me = app
        .post_form(
            "/api/sso/authz/oauth/v20/me",
            None,
            &[("access_token", v["access_token"].as_str().unwrap())],
        )
        .await
        .json();
    let mut keys: Vec<&str> = me.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "birthday",
            "createdate",
            "department",
            "departmentId",
            "displayName",
            "email",
            "employeeNumber",
            "gender",
            "id",
            "institution",
            "mobile",
            "online_ticket",
            "randomId",
            "realname",
            "state",
            "title",
            "user",
            "userId",
            "username"
        ]
    );
    assert_eq!(
        (
            me["birthday"].as_str(),
            me["gender"].as_i64(),
            me["displayName"].as_str()
        ),
        (Some("1991-02-03"), Some(1), Some("单点"))
    );
    assert_eq!(
        (
            me["departmentId"].as_str(),
            me["department"].as_str(),
            me["institution"].as_str()
        ),
        (Some("701"), Some("研发部"), Some("77"))
    );
    assert_eq!(
        (
            me["user"].as_str(),
            me["username"].as_str(),
            me["realname"].as_str()
        ),
        (Some("sso"), Some("sso"), Some("单点用户"))
    );
    assert!(
        me["online_ticket"].as_str().unwrap().starts_with("OT_")
            && me["online_ticket"].as_str().unwrap().len() > 3
    );
    assert_eq!(me["userId"], me["id"]);
    let created = me["createdate"].as_str().unwrap();
    assert!(
        time::PrimitiveDateTime::parse(
            created,
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]")
        )
        .is_ok(),
        "{created}"
    );
    let bearer = app
        .http
        .get(app.url("/api/sso/authz/oauth/v20/me"))
        .bearer_auth(v["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    let dead = app
        .post_form(
            "/api/sso/authz/oauth/v20/me",
            None,
            &[("access_token", "nope")],
        )
        .await;
    assert_eq!(
        (dead.status, dead.json()),
        (
            StatusCode::UNAUTHORIZED,
            serde_json::json!({ "error": "invalid_token" })
        )
    );
    assert_eq!(
        app.get("/api/sso/authz/oauth/v20/me").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_code_works_once_and_its_second_use_revokes_what_the_first_issued() {
    let app = app().await;
    let b = browser();
    let back = authorize(
        &app,
        &b,
        "response_type=code&client_id=rp&scope=openid",
        "sso",
        "pw-sso",
    )
    .await;
    let code = query_param(&back, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://127.0.0.1:9/cb"),
    ];
    let (status, first) = exchange(&app, Some(("rp", "rp-secret")), &form).await;
    assert_eq!(status, StatusCode::OK);
    let (status, second) = exchange(&app, Some(("rp", "rp-secret")), &form).await;
    assert_eq!(
        (status, second["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(
        app.introspect(("rp", "rp-secret"), first["access_token"].as_str().unwrap())
            .await["active"],
        false
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_an_error_page_never_a_redirect() {
    let app = app().await;
    for q in [
        "response_type=code&client_id=rp&redirect_uri=http://evil.test/cb",
        "response_type=code&client_id=nobody",
        "response_type=code&client_id=rp&redirect_uri=http://127.0.0.1:9/cb/extra",
    ] {
        let r = browser()
            .get(app.url(&format!("/oauth/authorize?{q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
        assert!(r.headers().get("location").is_none());
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
    // Other errors go back to the client.
    let r = browser()
        .get(app.url("/oauth/authorize?response_type=token&client_id=rp&state=z"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        "http://127.0.0.1:9/cb?error=unsupported_response_type&state=z"
    );
    let r = browser()
        .get(app.url("/oauth/authorize?response_type=code&client_id=rp&scope=admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "http://127.0.0.1:9/cb?error=invalid_scope");
}

#[tokio::test]
async fn pkce_is_required_for_public_clients_and_checked_at_the_exchange() {
    let app = app().await;
    let r = browser()
        .get(app.url("/oauth/authorize?response_type=code&client_id=spa"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "http://127.0.0.1:9/spa?error=invalid_request");
    let r = browser().get(app.url("/oauth/authorize?response_type=code&client_id=spa&code_challenge=x&code_challenge_method=plain")).send().await.unwrap();
    assert_eq!(location(&r), "http://127.0.0.1:9/spa?error=invalid_request");
    // Without a method the challenge is `plain` (RFC 7636 §4.3): refused the same way.
    let r = browser()
        .get(app.url("/oauth/authorize?response_type=code&client_id=spa&code_challenge=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), "http://127.0.0.1:9/spa?error=invalid_request");
    // RFC 6749 §4.1.2.1: no response_type is invalid_request, an unknown one unsupported.
    let r = browser()
        .get(app.url("/oauth/authorize?client_id=rp"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "http://127.0.0.1:9/cb?error=invalid_request");
    let r = browser()
        .get(app.url("/oauth/authorize?client_id=rp&response_type=token"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        "http://127.0.0.1:9/cb?error=unsupported_response_type"
    );
    let (verifier, challenge) = pkce();
    let b = browser();
    let q = format!("response_type=code&client_id=spa&code_challenge={challenge}&code_challenge_method=S256&scope=openid");
    for (v, ok) in [
        (None, false),
        (Some("wrong-verifier-wrong-verifier-wrong-verifier"), false),
        (Some(verifier.as_str()), true),
    ] {
        let back = authorize(&app, &b, &q, "sso", "pw-sso").await;
        let code = query_param(&back, "code").unwrap();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", "spa"),
        ];
        if let Some(v) = v {
            form.push(("code_verifier", v));
        }
        let (status, body) = exchange(&app, None, &form).await;
        assert_eq!(status == StatusCode::OK, ok, "{v:?}: {body}");
        if !ok {
            assert_eq!(body["error"], "invalid_grant");
        }
    }
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant() {
    let clock = tessera_testkit::manual_clock();
    let app = TestApp::spawn_at(
        BOOT,
        |c| c.tokens.auth_code_ttl = "1s".parse().unwrap(),
        clock.clone(),
    )
    .await;
    let b = browser();
    let back = authorize(&app, &b, "response_type=code&client_id=rp", "sso", "pw-sso").await;
    let code = query_param(&back, "code").unwrap();
    clock.advance(2);
    let (_, v) = exchange(
        &app,
        Some(("rp", "rp-secret")),
        &[("grant_type", "authorization_code"), ("code", &code)],
    )
    .await;
    assert_eq!(v["error"], "invalid_grant");
}

#[tokio::test]
async fn prompt_none_without_a_session_and_prompt_login_with_one() {
    let app = app().await;
    let b = browser();
    let r = b
        .get(app.url("/oauth/authorize?response_type=code&client_id=rp&prompt=none&state=q"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        "http://127.0.0.1:9/cb?error=login_required&state=q"
    );
    authorize(&app, &b, "response_type=code&client_id=rp", "sso", "pw-sso").await;
    let r = b
        .get(app.url("/oauth/authorize?response_type=code&client_id=rp&prompt=login"))
        .send()
        .await
        .unwrap();
    assert!(
        location(&r).starts_with("/login?"),
        "prompt=login asks again"
    );
    let r = b
        .get(app.url("/oauth/authorize?response_type=code&client_id=rp&prompt=none"))
        .send()
        .await
        .unwrap();
    assert!(location(&r).contains("code="), "prompt=none with a session");
}

#[tokio::test]
async fn logout_ends_the_session_and_goes_back_only_to_a_registered_uri() {
    let app = app().await;
    let b = browser();
    authorize(&app, &b, "response_type=code&client_id=rp", "sso", "pw-sso").await;
    let r = b
        .get(app.url(
            "/oauth/logout?client_id=rp&post_logout_redirect_uri=http://127.0.0.1:9/bye&state=st",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "http://127.0.0.1:9/bye?state=st");
    let r = b
        .get(app.url("/oauth/authorize?response_type=code&client_id=rp"))
        .send()
        .await
        .unwrap();
    assert!(location(&r).starts_with("/login?"), "the session is over");
    let r = b
        .get(app.url("/oauth/logout?client_id=rp&post_logout_redirect_uri=http://evil.test/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
}

#[tokio::test]
async fn the_login_page_is_safe_and_shows_the_engines_messages() {
    let app = app().await;
    let b = browser();
    let r = b.get(app.url("/login?lang=en_US")).send().await.unwrap();
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let page = r.text().await.unwrap();
    assert!(
        page.contains("name=\"username\"")
            && page.contains("name=\"password\"")
            && page.contains("<form method=\"post\"")
    );
    let csrf = hidden(&page, "csrf");
    // Without the CSRF token: refused.
    let r = browser()
        .post(app.url("/login"))
        .form(&[
            ("username", "sso"),
            ("password", "pw-sso"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "the token without its cookie"
    );
    // A wrong password: the catalogue's message, in the page's language.
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("username", "sso"),
            ("password", "bad"),
            ("csrf", csrf.as_str()),
            ("lang", "en_US"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Wrong account or password"));
    for _ in 0..2 {
        b.post(app.url("/login"))
            .form(&[
                ("username", "sso"),
                ("password", "bad"),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
    }
    let page = b
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("name=\"captcha\"") && page.contains("data:image/png;base64,"),
        "a captcha after three failures"
    );
}

#[tokio::test]
async fn a_user_of_several_tenants_chooses_one_on_the_login_page() {
    let app = app().await;
    let (b, csrf, cont) = to_login_page(&app).await;
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("continue", cont.as_str()),
            ("username", "multi"),
            ("password", "pw-multi"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let choose = r.text().await.unwrap();
    assert!(
        choose.contains("type=\"radio\" name=\"tenant\" value=\"S\"")
            && choose.contains("value=\"S2\""),
        "{choose}"
    );
    let pending = hidden(&choose, "pending");
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("continue", cont.as_str()),
            ("pending", pending.as_str()),
            ("tenant", "S2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = b.get(app.url(&location(&r))).send().await.unwrap();
    let code = query_param(&location(&r), "code").unwrap();
    let (_, v) = exchange(
        &app,
        Some(("rp", "rp-secret")),
        &[("grant_type", "authorization_code"), ("code", &code)],
    )
    .await;
    let i = app
        .introspect(("rp", "rp-secret"), v["access_token"].as_str().unwrap())
        .await;
    assert_ne!(i["tenant_id"], 77, "bound to the chosen tenant S2");
    // A `tenant` posted with the password picks it at once, without the choice page.
    let (b, csrf, cont) = to_login_page(&app).await;
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("continue", cont.as_str()),
            ("username", "multi"),
            ("password", "pw-multi"),
            ("tenant", "S2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = b.get(app.url(&location(&r))).send().await.unwrap();
    assert!(query_param(&location(&r), "code").is_some());
}

#[tokio::test]
async fn discovery_lists_the_endpoints_and_s256() {
    let app = app().await;
    let d = app.get("/.well-known/openid-configuration").await.json();
    assert_eq!(d["issuer"], app.engine.config().issuer.as_str());
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    for k in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "grant_types_supported",
    ] {
        assert!(!d[k].is_null(), "{k}");
    }
    let jwks = app.get("/oauth/jwks").await.json();
    assert_eq!(
        (
            jwks["keys"][0]["kty"].as_str(),
            jwks["keys"][0]["alg"].as_str()
        ),
        (Some("RSA"), Some("RS256"))
    );
}

async fn app_with_sms() -> (TestApp, SmsInbox) {
    let inbox = SmsInbox::start().await;
    let url = inbox.url.clone();
    let app = TestApp::spawn_with(BOOT, |c| {
        c.sms.sender = tessera_server::config::SmsSenderKind::Webhook;
        c.sms.webhook_url = url;
    })
    .await;
    (app, inbox)
}

#[tokio::test]
async fn the_sms_tab_signs_in_with_a_code() {
    let (app, inbox) = app_with_sms().await;
    let b = browser();
    let page = b
        .get(app.url("/login?mode=sms&lang=en_US"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"phone\""));
    let csrf = hidden(&page, "csrf");
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "send_sms"),
            ("phone", "13700000001"),
            ("lang", "en_US"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("A code has been sent to your phone"),
        "{page}"
    );
    let key = hidden(&page, "captchaKey");
    let code = inbox.last_code("13700000001").unwrap();
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "sms"),
            ("phone", "13700000001"),
            ("captchaKey", key.as_str()),
            ("sms_code", "000000x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "sms"),
            ("phone", "13700000001"),
            ("captchaKey", key.as_str()),
            ("sms_code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("tessera_sso="));
    let r = b
        .get(app.url("/oauth/authorize?response_type=code&client_id=rp"))
        .send()
        .await
        .unwrap();
    assert!(
        location(&r).contains("code="),
        "signed in by SMS: SSO works"
    );
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "send_sms"),
            ("phone", "13799999999"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "unregistered phone");
}

#[tokio::test]
async fn the_tenants_sms_second_factor_asks_once_per_browser() {
    let (app, inbox) = app_with_sms().await;
    let sign_in = |b: reqwest::Client| {
        let app = &app;
        async move {
            // Signed out first: the device cookie stays, the session goes.
            b.get(app.url("/oauth/logout")).send().await.unwrap();
            let page = b
                .get(app.url("/login"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let csrf = hidden(&page, "csrf");
            let r = b
                .post(app.url("/login"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("username", "twof"),
                    ("password", "pw-twof"),
                ])
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap(), csrf)
        }
    };
    let b = browser();
    let (status, page, csrf) = sign_in(b.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("name=\"pending2fa\""),
        "a code is asked: {page}"
    );
    let pending = hidden(&page, "pending2fa");
    let msg = inbox.all().pop().unwrap();
    assert_eq!(
        (msg["purpose"].as_str(), msg["tenant"].as_str()),
        (Some("login_2fa"), Some("TWOF"))
    );
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("pending2fa", pending.as_str()),
            ("sms_code", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("短信验证码错误或已过期"));
    let code = inbox.last_code("13700000002").unwrap();
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("pending2fa", pending.as_str()),
            ("sms_code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("tessera_sso="));
    // The same browser again: no code.
    let (_, page, _) = sign_in(b.clone()).await;
    assert!(
        !page.contains("pending2fa"),
        "a known browser is not asked again"
    );
    // Another browser: asked again.
    let (_, page, _) = sign_in(browser()).await;
    assert!(page.contains("pending2fa"));
}

/// RFC 6749 §4.1.3: when the authorization request named `redirect_uri`, the token request
/// must name the same one; when it did not (one registered URI), it may be left out.
#[tokio::test]
async fn the_exchange_needs_the_redirect_uri_when_the_authorization_request_named_it() {
    let app = app().await;
    let b = browser();
    let back = authorize(
        &app,
        &b,
        "response_type=code&client_id=rp&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb",
        "sso",
        "pw-sso",
    )
    .await;
    let code = query_param(&back, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
    ];
    let (status, v) = exchange(&app, Some(("rp", "rp-secret")), &form).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let back = authorize(
        &app,
        &b,
        "response_type=code&client_id=rp&scope=openid",
        "sso",
        "pw-sso",
    )
    .await;
    let code = query_param(&back, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
    ];
    let (status, v) = exchange(&app, Some(("rp", "rp-secret")), &form).await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

/// docs/reference/login-page.md, "Operations": the admin API lists SSO sessions and revokes them.
#[tokio::test]
async fn the_admin_api_lists_live_sso_sessions_and_ends_them() {
    let app = app().await;
    let b = browser();
    authorize(
        &app,
        &b,
        "response_type=code&client_id=rp&scope=openid",
        "sso",
        "pw-sso",
    )
    .await;
    let token = app
        .post_form(
            "/oauth/token",
            Some(("adm", "adm-secret")),
            &[("grant_type", "client_credentials")],
        )
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    let list = |q: &'static str| {
        let (http, url, token) = (
            &http,
            app.url(&format!("/admin/api/v1/sessions{q}")),
            &token,
        );
        async move {
            let r = http.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(
                r.headers().get("cache-control").unwrap().to_str().unwrap(),
                "no-store"
            );
            r.json::<Value>().await.unwrap()["items"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let all = list("").await;
    assert_eq!(all.len(), 1, "{all:?}");
    let s = &all[0];
    let (id, user) = (s["id"].as_str().unwrap(), s["user_id"].as_i64().unwrap());
    assert_eq!(s["online_ticket"], format!("OT_{id}"));
    let mine = http
        .get(app.url(&format!("/admin/api/v1/sessions?user_id={user}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert!(list("?user_id=1").await.is_empty());
    let r = http
        .delete(app.url(&format!("/admin/api/v1/sessions/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(list("").await.is_empty());
}

/// docs/reference/login-page.md: the SMS second factor applies to the login page, also when the tenant is
/// picked on the choice page after the password.
#[tokio::test]
async fn a_tenant_chosen_after_the_password_still_asks_its_sms_second_factor() {
    let (app, inbox) = app_with_sms().await;
    let (b, csrf, cont) = to_login_page(&app).await;
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("continue", cont.as_str()),
            ("username", "multi2f"),
            ("password", "pw-multi2f"),
        ])
        .send()
        .await
        .unwrap();
    let choose = r.text().await.unwrap();
    let pending = hidden(&choose, "pending");
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("continue", cont.as_str()),
            ("pending", pending.as_str()),
            ("tenant", "TWOF"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("name=\"pending2fa\""),
        "a code is asked: {page}"
    );
    let msg = inbox.all().pop().unwrap();
    assert_eq!(
        (msg["purpose"].as_str(), msg["tenant"].as_str()),
        (Some("login_2fa"), Some("TWOF"))
    );
    // The tenant whose policy is `never` signs in at once.
    let (b, csrf, cont) = to_login_page(&app).await;
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("continue", cont.as_str()),
            ("username", "multi2f"),
            ("password", "pw-multi2f"),
            ("tenant", "S"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
