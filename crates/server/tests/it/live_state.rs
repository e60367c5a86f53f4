//! Issue 15, finding 6 and the last item of finding 11: a change of state reaches live refresh
//! tokens and SSO sessions, a refresh family ends, and a code presented by the wrong client is
//! refused without being spent.

use crate::sso::{authorize, browser, exchange, query_param, BOOT};
use reqwest::{Method as M, StatusCode};
use serde_json::{json, Value};
use tessera_testkit::TestApp;

const RP: (&str, &str) = ("rp", "rp-secret");

async fn admin(app: &TestApp) -> String {
    app.token(
        ("adm", "adm-secret"),
        &[("grant_type", "client_credentials")],
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn call(app: &TestApp, token: &str, m: M, path: &str, body: Option<Value>) -> StatusCode {
    let mut rb = app.http.request(m, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    rb.send().await.unwrap().status()
}

/// Signs `sso` in through the code flow of `rp` (tenant S): the token answer.
async fn sign_in(app: &TestApp) -> Value {
    let b = browser();
    let back = authorize(
        app,
        &b,
        "response_type=code&client_id=rp&scope=openid%20profile",
        "sso",
        "pw-sso",
    )
    .await;
    let code = query_param(&back, "code").expect("a code");
    let (status, v) = exchange(
        app,
        Some(RP),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// A code of `rp` for `sso`, from a fresh browser.
async fn rp_code(app: &TestApp) -> String {
    let back = authorize(
        app,
        &browser(),
        "response_type=code&client_id=rp&scope=openid",
        "sso",
        "pw-sso",
    )
    .await;
    query_param(&back, "code").expect("a code")
}

/// A refresh; `scope` takes the other path of the engine (a narrower grant).
async fn refresh(app: &TestApp, token: &str, scope: Option<&str>) -> (StatusCode, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    exchange(app, Some(RP), &form).await
}

async fn user_id(app: &TestApp, adm: &str, name: &str) -> i64 {
    let v: Value = app
        .http
        .get(app.url(&format!("/admin/api/v1/users?username={name}")))
        .bearer_auth(adm)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["items"][0]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_refresh_stops_when_the_user_may_no_longer_sign_in_there() {
    let app = TestApp::spawn(BOOT).await;
    let adm = admin(&app).await;
    let id = user_id(&app, &adm, "sso").await;
    let user = format!("/admin/api/v1/users/{id}");
    let membership = format!("/admin/api/v1/users/{id}/memberships/S/D1");
    // (what to change, how to change it back)
    type Call = (M, String, Option<Value>);
    let changes: Vec<(&str, Call, Call)> = vec![
        (
            "tenant disabled",
            (
                M::PATCH,
                "/admin/api/v1/tenants/S".into(),
                Some(json!({"enabled": false})),
            ),
            (
                M::PATCH,
                "/admin/api/v1/tenants/S".into(),
                Some(json!({"enabled": true})),
            ),
        ),
        (
            "membership removed",
            (M::DELETE, membership.clone(), None),
            (
                M::PUT,
                membership.clone(),
                Some(json!({"roles": ["user"], "default": true})),
            ),
        ),
        (
            "account expired",
            (M::PATCH, user.clone(), Some(json!({"expires_at": 1}))),
            (M::PATCH, user.clone(), Some(json!({"expires_at": null}))),
        ),
        (
            "account deactivated",
            (M::PATCH, user.clone(), Some(json!({"active": false}))),
            (M::PATCH, user.clone(), Some(json!({"active": true}))),
        ),
    ];
    for (what, (m, path, body), (um, upath, ubody)) in changes {
        for scope in [None, Some("openid")] {
            let t = sign_in(&app).await;
            let r = t["refresh_token"].as_str().unwrap().to_string();
            let (s, next) = refresh(&app, &r, scope).await;
            assert_eq!(s, StatusCode::OK, "{what}: before the change: {next}");
            let r = next["refresh_token"].as_str().unwrap().to_string();
            assert!(
                call(&app, &adm, m.clone(), &path, body.clone())
                    .await
                    .is_success(),
                "{what}"
            );
            let (s, v) = refresh(&app, &r, scope).await;
            assert_eq!(
                (s, v["error"].as_str()),
                (StatusCode::BAD_REQUEST, Some("invalid_grant")),
                "{what} (scope {scope:?}): {v}"
            );
            assert!(
                call(&app, &adm, um.clone(), &upath, ubody.clone())
                    .await
                    .is_success(),
                "{what}: undo"
            );
        }
    }
    // With everything back, a new sign-in refreshes again.
    let t = sign_in(&app).await;
    let (s, _) = refresh(&app, t["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a_live_sso_session_issues_no_code_once_the_account_is_deactivated_or_expired() {
    let app = TestApp::spawn(BOOT).await;
    let adm = admin(&app).await;
    let id = user_id(&app, &adm, "sso").await;
    let user = format!("/admin/api/v1/users/{id}");
    let b = browser();
    let q = "response_type=code&client_id=rp&scope=openid";
    let first = authorize(&app, &b, q, "sso", "pw-sso").await;
    assert!(query_param(&first, "code").is_some(), "{first}");
    for (change, undo) in [
        (json!({"active": false}), json!({"active": true})),
        (json!({"expires_at": 1}), json!({"expires_at": null})),
    ] {
        assert!(call(&app, &adm, M::PATCH, &user, Some(change.clone()))
            .await
            .is_success());
        // The same browser, its session still live: no code.
        let back = authorize(&app, &b, q, "sso", "pw-sso").await;
        assert_eq!(query_param(&back, "code"), None, "{change}: {back}");
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("access_denied"),
            "{change}: {back}"
        );
        assert!(call(&app, &adm, M::PATCH, &user, Some(undo))
            .await
            .is_success());
        let back = authorize(&app, &b, q, "sso", "pw-sso").await;
        assert!(query_param(&back, "code").is_some(), "{back}");
    }
}

#[tokio::test]
async fn a_refresh_family_ends_refresh_family_max_after_its_sign_in() {
    let clock = tessera_testkit::manual_clock();
    let app = TestApp::spawn_at(
        BOOT,
        |c| c.tokens.refresh_family_max = "2s".parse().unwrap(),
        clock.clone(),
    )
    .await;
    let t = sign_in(&app).await;
    let (s, next) = refresh(&app, t["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(s, StatusCode::OK, "{next}");
    let r = next["refresh_token"].as_str().unwrap().to_string();
    // Rotation gave that token a fresh `refresh_ttl` (30 days); the family still ends.
    clock.advance(3);
    for scope in [None, Some("openid")] {
        let (s, v) = refresh(&app, &r, scope).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant")),
            "{scope:?}: {v}"
        );
    }
}

#[tokio::test]
async fn a_code_presented_by_another_client_is_refused_and_not_spent() {
    let app = TestApp::spawn(BOOT).await;
    let code = rp_code(&app).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://127.0.0.1:9/cb"),
    ];
    let (s, v) = exchange(&app, Some(("mk", "mk-secret")), &form).await;
    assert!(s.is_client_error(), "{v}");
    let (s, v) = exchange(&app, Some(RP), &form).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the code still works for its client: {v}"
    );
}

/// A session signed in to one tenant does not carry its user into a client of another
/// tenant whose SMS second factor was never asked (review of issue 15).
#[tokio::test]
async fn a_session_does_not_skip_another_tenants_second_factor() {
    let boot = format!(
        r#"{BOOT}
[[clients]]
client_id = "rp-s"
client_secret = "rp-s-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1:9/s"]
scopes = ["openid"]
tenant = "S"
[[clients]]
client_id = "rp-twof"
client_secret = "rp-twof-secret"
grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1:9/twof"]
scopes = ["openid"]
tenant = "TWOF"
"#
    );
    let app = TestApp::spawn(&boot).await;
    // Signed in to tenant S (a tenant posted with the password picks it at once).
    let (b, csrf, cont) = crate::sso::to_login_page(&app).await;
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
    let r = b
        .get(app.url(&crate::sso::location(&r)))
        .send()
        .await
        .unwrap();
    assert!(query_param(&crate::sso::location(&r), "code").is_some());
    // The same session, a client of tenant TWOF (SMS second factor for new devices): no code.
    let r = b
        .get(app.url("/oauth/authorize?response_type=code&client_id=rp-twof&scope=openid"))
        .send()
        .await
        .unwrap();
    let to = crate::sso::location(&r);
    assert_eq!(query_param(&to, "code"), None, "{to}");
    assert_eq!(query_param(&to, "error").as_deref(), Some("access_denied"));
}

/// A used code presented again by another client revokes nothing of what its own client got.
#[tokio::test]
async fn a_used_code_presented_by_another_client_revokes_nothing() {
    let app = TestApp::spawn(BOOT).await;
    let code = rp_code(&app).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://127.0.0.1:9/cb"),
    ];
    let (s, first) = exchange(&app, Some(RP), &form).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = exchange(&app, Some(("mk", "mk-secret")), &form).await;
    assert!(s.is_client_error());
    assert_eq!(
        app.introspect(RP, first["access_token"].as_str().unwrap())
            .await["active"],
        true
    );
}
