//! The engine's other sign-in flows, called directly on the real store: the refresh
//! (`Engine::refresh`), the code exchange (`Engine::redeem_code`) and the app-key sign-in
//! (`Engine::app_key_login`, `app_key_refresh`). One case for each refusal a flow can produce
//! (issue 16, item 6); the dialects' tests check how each is rendered.

use tessera_core::engine::pkce_s256;
use tessera_core::engine::{
    AppKeyFailure, CodeFailure, CodeGrant, LoginName, Origin, PasswordForm, PasswordLogin,
    PasswordSignIn, TokenGrant,
};
use tessera_core::error::RefreshFailure;
use tessera_core::model::{Client, Dialect};
use tessera_core::secret::{Secret, TokenFormat};
use tessera_testkit::TestApp;

const BOOT: &str = r#"
[[tenants]]
code = "T"
name = "T"
[[orgs]]
tenant = "T"
code = "O"
name = "O"
[[orgs]]
tenant = "T"
code = "DARK"
name = "Dark"
enabled = false
[[products]]
id = 7
name = "CRM"
[[org_products]]
org = "T/O"
product = 7
name = "CRM"
[[org_products]]
org = "T/DARK"
product = 7
name = "CRM dark"
[[users]]
username = "u"
password = "pw-u-12345"
email = "u@t.test"
[[memberships]]
user = "u"
tenant = "T"
org = "O"
roles = ["user"]
[[clients]]
client_id = "c"
client_secret = "c-secret"
grant_types = ["password", "refresh_token", "authorization_code"]
scopes = ["openid", "read", "profile"]
redirect_uris = ["https://c.test/cb"]
[[clients]]
client_id = "other"
client_secret = "other-secret"
grant_types = ["password", "refresh_token", "authorization_code"]
scopes = ["openid", "read"]
redirect_uris = ["https://other.test/cb"]
[[clients]]
client_id = "norefresh"
client_secret = "n-secret"
grant_types = ["password"]
scopes = ["read"]
[[app_keys]]
app_id = "app"
app_key = "key"
app_secret = "app-secret"
org = "T/O"
product = 7
[[app_keys]]
app_id = "app-off"
app_key = "key-off"
app_secret = "off-secret"
org = "T/O"
product = 7
enabled = false
[[app_keys]]
app_id = "app-dark"
app_key = "key-dark"
app_secret = "dark-secret"
org = "T/DARK"
product = 7
"#;

fn origin(client: &str) -> Origin {
    Origin {
        dialect: Dialect::Standard,
        client_id: Some(client.into()),
        ip: Some("192.0.2.8".into()),
        detail: String::new(),
        captcha: None,
    }
}

async fn client(app: &TestApp, id: &str) -> std::sync::Arc<Client> {
    app.engine.client_named(id).await.unwrap().unwrap()
}

/// Signs `u` in and grants `client` an access and a refresh token for `scope`.
async fn tokens(app: &TestApp, client_id: &str, scope: &str) -> (String, String, i64) {
    let c = client(app, client_id).await;
    let signed = app
        .engine
        .password_sign_in(PasswordSignIn {
            login: PasswordLogin::simple(
                LoginName {
                    value: "u".into(),
                    field: None,
                },
                Secret::new("pw-u-12345"),
                None,
            ),
            form: PasswordForm::Clear,
            origin: origin(client_id),
        })
        .await
        .unwrap()
        .unwrap();
    let grant = TokenGrant {
        client: &c,
        scope: scope.into(),
        device_id: None,
        source_type: None,
        device_unique: false,
        format: TokenFormat::Opaque,
    };
    let issued = app
        .engine
        .grant_tokens(&signed, grant, &origin(client_id))
        .await
        .unwrap();
    (
        issued.access_token,
        issued.refresh_token.unwrap(),
        signed.user.id.0,
    )
}

async fn refresh(
    app: &TestApp,
    client_id: &str,
    token: &str,
    scope: Option<&str>,
) -> Result<(String, String), RefreshFailure> {
    let c = client(app, client_id).await;
    app.engine
        .refresh(&c, token, scope, TokenFormat::Opaque)
        .await
        .unwrap()
        .map(|i| (i.access_token, i.refresh_token.unwrap()))
}

async fn active(app: &TestApp, token: &str) -> bool {
    app.introspect(("c", "c-secret"), token).await["active"] == true
}

#[tokio::test]
async fn the_refresh_flow_reaches_every_refusal_and_a_reuse_revokes_the_family() {
    let app = TestApp::spawn(BOOT).await;
    let (access, rt, _) = tokens(&app, "c", "read profile").await;

    assert_eq!(
        refresh(&app, "norefresh", &rt, None).await,
        Err(RefreshFailure::NotAllowed),
        "a client without the refresh_token grant"
    );
    assert_eq!(
        refresh(&app, "c", "no-such-token", None).await,
        Err(RefreshFailure::Invalid)
    );
    assert_eq!(
        refresh(&app, "other", &rt, None).await,
        Err(RefreshFailure::Invalid),
        "another client's refresh token"
    );
    assert_eq!(
        refresh(&app, "other", &rt, Some("read")).await,
        Err(RefreshFailure::Invalid),
        "another client's refresh token, on the narrowing path"
    );
    assert_eq!(
        refresh(&app, "c", &access, None).await,
        Err(RefreshFailure::Invalid),
        "an access token is no refresh token"
    );
    assert_eq!(
        refresh(&app, "c", &access, Some("read")).await,
        Err(RefreshFailure::Invalid),
        "an access token is no refresh token, on the narrowing path"
    );
    assert_eq!(
        refresh(&app, "c", &rt, Some("read openid")).await,
        Err(RefreshFailure::ScopeWidened),
        "openid was not granted"
    );

    // Refused attempts spent nothing: the token still rotates, narrowed on request.
    let (access2, rt2) = refresh(&app, "c", &rt, Some("read")).await.unwrap();
    let seen = app.introspect(("c", "c-secret"), &access2).await;
    assert_eq!(seen["scope"], "read");
    assert!(
        active(&app, &access).await,
        "rotation leaves the old access token"
    );

    // The spent token again: the family is revoked, the new tokens with it.
    assert_eq!(
        refresh(&app, "c", &rt, None).await,
        Err(RefreshFailure::Reused)
    );
    assert!(!active(&app, &access2).await);
    assert_eq!(
        refresh(&app, "c", &rt2, None).await,
        Err(RefreshFailure::Invalid),
        "the revoked family's newest refresh token"
    );

    // The common path (no scope) rotates too, and detects its own reuse.
    let (_, rt3, _) = tokens(&app, "c", "read").await;
    let (access4, _) = refresh(&app, "c", &rt3, None).await.unwrap();
    assert_eq!(
        refresh(&app, "c", &rt3, Some("read")).await,
        Err(RefreshFailure::Reused)
    );
    assert!(!active(&app, &access4).await);
    app.stop().await;
}

fn grant(client: &str, redirect: &str, user_id: i64, challenge: Option<String>) -> CodeGrant {
    CodeGrant {
        client_id: client.into(),
        redirect_uri: redirect.into(),
        redirect_uri_given: true,
        code_challenge: challenge,
        user_id,
        tenant_id: None,
        org_id: None,
        scope: "openid read".into(),
        nonce: Some("n-1".into()),
        session_id: "sid-1".into(),
        auth_time: 1,
    }
}

async fn redeem(
    app: &TestApp,
    client_id: &str,
    code: &str,
    redirect: Option<&str>,
    verifier: Option<&str>,
) -> Result<(String, Option<String>), CodeFailure> {
    let c = client(app, client_id).await;
    app.engine
        .redeem_code(&c, code, redirect, verifier, TokenFormat::Opaque)
        .await
        .unwrap()
        .map(|t| (t.issued.access_token, t.id_token))
}

#[tokio::test]
async fn the_code_exchange_reaches_every_refusal_and_a_reuse_revokes_what_it_issued() {
    let app = TestApp::spawn(BOOT).await;
    let (_, _, uid) = tokens(&app, "c", "read").await;
    let cb = "https://c.test/cb";

    let code = app
        .engine
        .issue_code(&grant("c", cb, uid, None))
        .await
        .unwrap();
    assert_eq!(
        redeem(&app, "other", &code, Some(cb), None).await,
        Err(CodeFailure::Invalid),
        "another client's code"
    );
    assert_eq!(
        redeem(&app, "c", &code, Some("https://c.test/other"), None).await,
        Err(CodeFailure::Invalid),
        "another redirect URI"
    );
    assert_eq!(
        redeem(&app, "c", &code, Some(cb), None).await,
        Err(CodeFailure::Invalid),
        "a code refused once is gone (RFC 6749 §4.1.2: single use)"
    );
    assert_eq!(
        redeem(&app, "c", "no-such-code", Some(cb), None).await,
        Err(CodeFailure::Invalid)
    );

    let verifier = "v".repeat(50);
    let code = app
        .engine
        .issue_code(&grant("c", cb, uid, Some(pkce_s256(&verifier))))
        .await
        .unwrap();
    assert_eq!(
        redeem(&app, "c", &code, Some(cb), None).await,
        Err(CodeFailure::PkceFailed),
        "no verifier"
    );
    let code = app
        .engine
        .issue_code(&grant("c", cb, uid, Some(pkce_s256(&verifier))))
        .await
        .unwrap();
    assert_eq!(
        redeem(&app, "c", &code, Some(cb), Some("w".repeat(50).as_str())).await,
        Err(CodeFailure::PkceFailed),
        "a wrong verifier"
    );

    let code = app
        .engine
        .issue_code(&grant("c", cb, uid, Some(pkce_s256(&verifier))))
        .await
        .unwrap();
    let (access, id_token) = redeem(&app, "c", &code, Some(cb), Some(&verifier))
        .await
        .unwrap();
    assert!(id_token.is_some(), "openid was granted");
    assert!(active(&app, &access).await);
    assert_eq!(
        redeem(&app, "c", &code, Some(cb), Some(&verifier)).await,
        Err(CodeFailure::Reused)
    );
    assert!(
        !active(&app, &access).await,
        "a second use revokes what the first issued (RFC 6749 §4.1.2)"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_app_key_flow_refuses_bad_credentials_and_disabled_keys_and_orgs() {
    let app = TestApp::spawn(BOOT).await;
    let o = origin("appkey");
    let login = |id: &'static str, key: &'static str, secret: &'static str| {
        let (app, o) = (&app, o.clone());
        async move {
            app.engine
                .app_key_login(id, key, &Secret::new(secret), &o)
                .await
                .unwrap()
        }
    };
    let failure = |r: Result<_, AppKeyFailure>| r.err();
    assert_eq!(
        failure(login("app", "key", "wrong").await),
        Some(AppKeyFailure::BadCredentials)
    );
    assert_eq!(
        failure(login("other-app", "key", "app-secret").await),
        Some(AppKeyFailure::BadCredentials),
        "the key of another app id"
    );
    assert_eq!(
        failure(login("app", "no-key", "app-secret").await),
        Some(AppKeyFailure::BadCredentials)
    );
    assert_eq!(
        failure(login("app-off", "key-off", "off-secret").await),
        Some(AppKeyFailure::Disabled),
        "a disabled key"
    );
    assert_eq!(
        failure(login("app-dark", "key-dark", "dark-secret").await),
        Some(AppKeyFailure::Disabled),
        "a key of a disabled org"
    );

    let granted = login("app", "key", "app-secret").await.unwrap();
    let rt = granted.issued.refresh_token.clone().unwrap();
    let again = app.engine.app_key_refresh(&rt).await.unwrap().unwrap();
    assert_ne!(again.issued.refresh_token.as_deref(), Some(rt.as_str()));
    assert_eq!(
        app.engine.app_key_refresh(&rt).await.unwrap().err(),
        Some(AppKeyFailure::BadCredentials),
        "a spent refresh token"
    );
    assert_eq!(
        app.engine
            .app_key_refresh(&granted.issued.access_token)
            .await
            .unwrap()
            .err(),
        Some(AppKeyFailure::BadCredentials),
        "an access token"
    );
    let (_, user_rt, _) = tokens(&app, "c", "read").await;
    assert_eq!(
        app.engine.app_key_refresh(&user_rt).await.unwrap().err(),
        Some(AppKeyFailure::BadCredentials),
        "a refresh token of another kind of sign-in"
    );
    app.stop().await;
}
