//! The standard endpoints: every grant, every RFC 6749 error, rotation, introspection,
//! revocation (RFC 6749, 7009, 7662; OAuth 2.1 §4.3.1).

use crate::fixtures::*;
use reqwest::StatusCode;
use serde_json::Value;
use tessera_core::model::LoginField;
use tessera_testkit::TestApp;

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} missing in {v}"))
        .to_string()
}

async fn error_of(
    app: &TestApp,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let a = app.post_form("/oauth/token", basic, form).await;
    assert_eq!(
        a.header("cache-control"),
        Some("no-store"),
        "errors are not cached either"
    );
    (a.status, a.json())
}

async fn password(app: &TestApp, user: &str, pw: &str) -> (StatusCode, Value) {
    error_of(
        app,
        Some(STD),
        &[
            ("grant_type", "password"),
            ("username", user),
            ("password", pw),
            ("lang", "en_US"),
        ],
    )
    .await
}

#[tokio::test]
async fn client_credentials_issues_an_opaque_bearer_token_with_no_store() {
    let app = app().await;
    let a = app
        .post_form(
            "/oauth/token",
            Some(STD),
            &[("grant_type", "client_credentials"), ("scope", "read")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.header("cache-control"), Some("no-store"));
    assert_eq!(a.header("pragma"), Some("no-cache"));
    let v = a.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["scope"], "read");
    assert_eq!(v["expires_in"], 7200);
    assert!(
        v.get("refresh_token").is_none(),
        "no refresh token for client_credentials (RFC 6749 §4.4.3)"
    );
    assert!(
        s(&v, "access_token").len() >= 43,
        "at least 256 bits, base64url"
    );
    let i = app.introspect(STD, &s(&v, "access_token")).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["client_id"], "std");
}

#[tokio::test]
async fn client_credentials_without_scope_grants_the_registered_scopes_and_accepts_form_credentials(
) {
    let app = app().await;
    let v = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "std"),
                ("client_secret", "std-secret"),
            ],
        )
        .await
        .json();
    assert_eq!(v["scope"], "read write");
}

#[tokio::test]
async fn wrong_or_missing_client_credentials_are_invalid_client_401_with_www_authenticate() {
    let app = app().await;
    for (basic, form) in [
        (
            Some(("std", "nope")),
            vec![("grant_type", "client_credentials")],
        ),
        (
            Some(("ghost", "x")),
            vec![("grant_type", "client_credentials")],
        ),
        (None, vec![("grant_type", "client_credentials")]),
        (
            None,
            vec![("grant_type", "client_credentials"), ("client_id", "std")],
        ),
    ] {
        let a = app.post_form("/oauth/token", basic, &form).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{basic:?} {form:?}");
        assert_eq!(a.json()["error"], "invalid_client");
        assert!(a
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic")));
    }
}

#[tokio::test]
async fn request_errors_follow_rfc_6749_section_5_2() {
    let app = app().await;
    type Case<'a> = (Option<(&'a str, &'a str)>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (Some(STD), vec![], "invalid_request"),
        (
            Some(STD),
            vec![("grant_type", "magic")],
            "unsupported_grant_type",
        ),
        (
            Some(NOPASS),
            vec![
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-pw"),
            ],
            "unauthorized_client",
        ),
        (
            Some(STD),
            vec![
                ("grant_type", "client_credentials"),
                ("scope", "read admin"),
            ],
            "invalid_scope",
        ),
        (
            None,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "public"),
            ],
            "unauthorized_client",
        ),
        (
            Some(STD),
            vec![("grant_type", "password"), ("username", "alice")],
            "invalid_request",
        ),
        (
            Some(STD),
            vec![("grant_type", "refresh_token")],
            "invalid_request",
        ),
        (
            Some(STD),
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "not-a-token"),
            ],
            "invalid_grant",
        ),
        (
            Some(STD),
            vec![("grant_type", "authorization_code"), ("code", "x")],
            "unauthorized_client",
        ),
        (
            Some(STD),
            vec![("grant_type", "implicit")],
            "unsupported_grant_type",
        ),
    ];
    for (basic, form, expected) in cases {
        let (status, v) = error_of(&app, basic, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}: {v}");
        assert_eq!(v["error"], expected, "{form:?}: {v}");
        assert!(v["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()));
    }
}

#[tokio::test]
async fn error_descriptions_follow_the_request_language() {
    let app = app().await;
    let (_, zh) = error_of(&app, Some(STD), &[("grant_type", "magic")]).await;
    assert_eq!(zh["error_description"], "不支持的授权类型magic");
    let (_, en) = error_of(
        &app,
        Some(STD),
        &[("grant_type", "magic"), ("lang", "en_US")],
    )
    .await;
    assert_eq!(en["error_description"], "Unsupported grant type magic");
    let a = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth("std", Some("std-secret"))
        .header("accept-language", "fr;q=0.9, en-US;q=0.8")
        .form(&[("grant_type", "magic")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        a.json::<Value>().await.unwrap()["error_description"],
        "Unsupported grant type magic"
    );
}

#[tokio::test]
async fn password_grant_issues_access_and_refresh_tokens_bound_to_the_user() {
    let app = app().await;
    let v = app
        .token(
            STD,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-pw"),
                ("scope", "read"),
            ],
        )
        .await;
    assert_eq!(v["scope"], "read");
    assert!(v["refresh_token"].is_string());
    let i = app.introspect(STD, &s(&v, "access_token")).await;
    assert_eq!(
        (i["active"].clone(), i["username"].clone()),
        (Value::Bool(true), Value::from("alice"))
    );
    // The phone and the email name the user too.
    app.token(
        STD,
        &[
            ("grant_type", "password"),
            ("username", "alice@example.test"),
            ("password", "alice-pw"),
        ],
    )
    .await;
    let ev = app.store.recent_audit(10).await.unwrap();
    assert!(
        ev.iter()
            .any(|e| e.kind == "login" && e.outcome == "success"),
        "sign-ins are audited"
    );
}

#[tokio::test]
async fn unknown_user_and_wrong_password_are_the_same_invalid_grant() {
    let app = app().await;
    let (s1, unknown) = password(&app, "nobody", "x").await;
    let (s2, wrong) = password(&app, "alice", "x").await;
    assert_eq!((s1, s2), (StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST));
    assert_eq!(unknown, wrong);
    assert_eq!(wrong["error"], "invalid_grant");
    assert_eq!(wrong["error_description"], "Wrong username or password");
}

#[tokio::test]
async fn the_fifth_wrong_password_locks_the_account_even_for_the_right_password() {
    let app = app().await;
    for _ in 0..4 {
        assert_eq!(
            password(&app, "bob", "wrong").await.1["error_description"],
            "Wrong username or password"
        );
    }
    let (_, fifth) = password(&app, "bob", "wrong").await;
    assert_eq!(
        fifth["error_description"],
        "Too many wrong passwords: the account is locked"
    );
    let (status, right) = password(&app, "bob", "bob-pw").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(right["error_description"], "The account is locked");
    let u = app
        .store
        .user_by_login(LoginField::Username, "bob")
        .await
        .unwrap()
        .unwrap();
    assert!(
        u.locked_until
            .is_some_and(|l| l > app.engine.now() + 29 * 60),
        "locked for login.lock_duration"
    );
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let app = app().await;
    for _ in 0..4 {
        password(&app, "mia", "wrong").await;
    }
    assert_eq!(password(&app, "mia", "mia-pw").await.0, StatusCode::OK);
    for _ in 0..4 {
        password(&app, "mia", "wrong").await;
    }
    assert_eq!(
        password(&app, "mia", "mia-pw").await.0,
        StatusCode::OK,
        "four failures after a success do not lock"
    );
}

#[tokio::test]
async fn account_and_tenant_state_refuse_with_their_own_description() {
    let app = app().await;
    for (user, desc) in [
        ("dora", "The account is disabled"),
        ("ivy", "The account is not activated"),
        ("ezra", "The account has expired"),
        ("lena", "LDAP is disabled"),
        ("nora", "The user has no role"),
        ("olaf", "The organization is disabled"),
        ("lock", "The account is locked"),
    ] {
        let (status, v) = password(&app, user, &format!("{user}-pw")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{user}");
        assert_eq!(
            (v["error"].as_str(), v["error_description"].as_str()),
            (Some("invalid_grant"), Some(desc)),
            "{user}"
        );
    }
}

#[tokio::test]
async fn a_client_bound_to_a_tenant_refuses_members_of_other_tenants() {
    let app = app().await;
    let (status, v) = error_of(
        &app,
        Some(BOUND),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-pw"),
            ("lang", "en"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "invalid_grant");
    assert_eq!(v["error_description"], "The organization is invalid");
}

#[tokio::test]
async fn bcrypt_users_sign_in_and_are_rehashed_to_argon2id() {
    let app = app().await;
    for user in ["carl", "spring"] {
        let before = app
            .store
            .user_by_login(LoginField::Username, user)
            .await
            .unwrap()
            .unwrap();
        assert!(before.password_hash.as_deref().unwrap().contains("$2b$"));
        let pw = "carl-pw"; // `spring` holds the same bcrypt hash without the `{bcrypt}` prefix
        app.token(
            STD,
            &[
                ("grant_type", "password"),
                ("username", user),
                ("password", pw),
            ],
        )
        .await;
        let after = app
            .store
            .user_by_login(LoginField::Username, user)
            .await
            .unwrap()
            .unwrap();
        assert!(
            after
                .password_hash
                .as_deref()
                .unwrap()
                .starts_with("$argon2id$"),
            "{user} re-hashed"
        );
        app.token(
            STD,
            &[
                ("grant_type", "password"),
                ("username", user),
                ("password", pw),
            ],
        )
        .await;
        assert_eq!(
            password(&app, user, "wrong").await.0,
            StatusCode::BAD_REQUEST
        );
    }
}

#[tokio::test]
async fn refresh_rotates_and_a_spent_refresh_token_no_longer_works() {
    let app = app().await;
    let first = app
        .token(
            STD,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-pw"),
            ],
        )
        .await;
    let second = app
        .token(
            STD,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&first, "refresh_token")),
            ],
        )
        .await;
    assert_ne!(first["refresh_token"], second["refresh_token"]);
    assert_ne!(first["access_token"], second["access_token"]);
    assert_eq!(second["scope"], "read write");
    let third = app
        .token(
            STD,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&second, "refresh_token")),
            ],
        )
        .await;
    assert_eq!(
        app.introspect(STD, &s(&third, "access_token")).await["username"],
        "alice"
    );
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_revokes_the_newer_tokens_too() {
    let app = app().await;
    let first = app
        .token(
            STD,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-pw"),
            ],
        )
        .await;
    let second = app
        .token(
            STD,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&first, "refresh_token")),
            ],
        )
        .await;
    let (status, v) = error_of(
        &app,
        Some(STD),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &s(&first, "refresh_token")),
        ],
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    for t in [
        s(&first, "access_token"),
        s(&second, "access_token"),
        s(&second, "refresh_token"),
    ] {
        assert_eq!(
            app.introspect(STD, &t).await,
            serde_json::json!({ "active": false })
        );
    }
    let (_, v) = error_of(
        &app,
        Some(STD),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &s(&second, "refresh_token")),
        ],
    )
    .await;
    assert_eq!(
        v["error"], "invalid_grant",
        "the newer refresh token died with its family"
    );
}

#[tokio::test]
async fn a_refresh_token_works_only_for_the_client_it_was_issued_to() {
    let app = app().await;
    let first = app
        .token(
            STD,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-pw"),
            ],
        )
        .await;
    let (_, v) = error_of(
        &app,
        Some(OTHER),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &s(&first, "refresh_token")),
        ],
    )
    .await;
    assert_eq!(v["error"], "invalid_grant");
    app.token(
        STD,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &s(&first, "refresh_token")),
        ],
    )
    .await;
}

#[tokio::test]
async fn refresh_may_narrow_the_scope_but_never_widen_it() {
    let app = app().await;
    let first = app
        .token(
            STD,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-pw"),
                ("scope", "read"),
            ],
        )
        .await;
    let (_, v) = error_of(
        &app,
        Some(STD),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &s(&first, "refresh_token")),
            ("scope", "read write"),
        ],
    )
    .await;
    assert_eq!(v["error"], "invalid_scope");
    let full = app
        .token(
            STD,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-pw"),
            ],
        )
        .await;
    let narrow = app
        .token(
            STD,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&full, "refresh_token")),
                ("scope", "write"),
            ],
        )
        .await;
    assert_eq!(narrow["scope"], "write");
}

#[tokio::test]
async fn introspection_answers_active_only_for_live_tokens() {
    let clock = tessera_testkit::manual_clock();
    let app = TestApp::spawn_at(&bootstrap(), |_| {}, clock.clone()).await;
    let live = app
        .token(
            STD,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-pw"),
            ],
        )
        .await;
    let i = app.introspect(STD, &s(&live, "access_token")).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["token_type"], "Bearer");
    assert!(i["exp"].as_i64().unwrap() > i["iat"].as_i64().unwrap());
    assert_eq!(
        app.introspect(STD, &s(&live, "refresh_token")).await["token_type"],
        "refresh_token"
    );
    assert_eq!(
        app.introspect(STD, "unknown").await,
        serde_json::json!({ "active": false })
    );
    // Revoked.
    let a = app
        .post_form(
            "/oauth/revoke",
            Some(STD),
            &[("token", &s(&live, "access_token"))],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        app.introspect(STD, &s(&live, "access_token")).await["active"],
        false
    );
    // Expired: the `short` client's tokens live two seconds; the clock moves three.
    let short = app
        .token(
            SHORT,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-pw"),
            ],
        )
        .await;
    assert_eq!(
        app.introspect(SHORT, &s(&short, "access_token")).await["active"],
        true
    );
    clock.advance(3);
    assert_eq!(
        app.introspect(SHORT, &s(&short, "access_token")).await["active"],
        false
    );
    let (_, v) = error_of(
        &app,
        Some(SHORT),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &s(&short, "refresh_token")),
        ],
    )
    .await;
    assert_eq!(
        v["error"], "invalid_grant",
        "an expired refresh token is refused"
    );
}

#[tokio::test]
async fn another_clients_token_is_inactive_unless_the_caller_may_introspect_any() {
    let app = app().await;
    let v = app
        .token(STD, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(
        app.introspect(OTHER, &s(&v, "access_token")).await["active"],
        false
    );
    assert_eq!(
        app.introspect(SPY, &s(&v, "access_token")).await["active"],
        true
    );
}

#[tokio::test]
async fn introspection_and_revocation_require_client_authentication_and_a_token() {
    let app = app().await;
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let a = app
            .post_form(path, Some(("std", "bad")), &[("token", "x")])
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(a.json()["error"], "invalid_client");
        let a = app.post_form(path, None, &[("token", "x")]).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        let a = app.post_form(path, Some(STD), &[]).await;
        assert_eq!(
            (a.status, a.json()["error"].clone()),
            (StatusCode::BAD_REQUEST, Value::from("invalid_request")),
            "{path}"
        );
    }
}

#[tokio::test]
async fn revocation_answers_200_always_and_a_refresh_token_takes_its_family() {
    let app = app().await;
    assert_eq!(
        app.post_form("/oauth/revoke", Some(STD), &[("token", "never-issued")])
            .await
            .status,
        StatusCode::OK
    );
    let v = app
        .token(
            STD,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-pw"),
            ],
        )
        .await;
    // Another client cannot revoke it.
    assert_eq!(
        app.post_form(
            "/oauth/revoke",
            Some(OTHER),
            &[("token", &s(&v, "refresh_token"))]
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        app.introspect(STD, &s(&v, "access_token")).await["active"],
        true
    );
    let a = app
        .post_form(
            "/oauth/revoke",
            Some(STD),
            &[
                ("token", &s(&v, "refresh_token")),
                ("token_type_hint", "refresh_token"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        app.introspect(STD, &s(&v, "access_token")).await["active"],
        false
    );
    let (_, e) = error_of(
        &app,
        Some(STD),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &s(&v, "refresh_token")),
        ],
    )
    .await;
    assert_eq!(e["error"], "invalid_grant");
}

#[tokio::test]
async fn the_token_endpoint_dispatches_on_the_clients_dialect() {
    let app = app().await;
    let form = [
        ("grant_type", "password"),
        ("mobile", "19999999999"),
        ("password", "x"),
    ];
    let (status, v) = error_of(&app, Some(CLUSTER), &form).await;
    assert_eq!(
        (status, v["code"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(1004)),
        "cluster answers in seed 000's shape: {v}"
    );
    let (status, v) = error_of(&app, Some(HOTH), &form).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("hoth.warn.paramMissing")),
        "hoth in seed 001's: {v}"
    );
    // The maxkey dialect's token endpoint is its own path (issue 5); at /oauth/token the seam
    // answers in RFC 6749.
    let (status, v) = error_of(&app, Some(MAXKEY), &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "unauthorized_client");
}

/// Tokens issued before opaque tokens carried ordering bytes (43 characters, stored under
/// their full SHA-256) keep working after an upgrade: introspection finds them and a refresh
/// token of that shape rotates into the new shape.
#[tokio::test]
async fn tokens_of_the_earlier_opaque_format_still_work() {
    use tessera_core::ids::{ClientId, FamilyId, UserId};
    use tessera_core::model::{NewGrant, NewToken, TokenKind, TokenSubject};
    use tessera_core::secret::{new_token, TokenFormat, TokenHash};
    let app = app().await;
    let signed_in = app
        .token(
            STD,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "alice-pw"),
            ],
        )
        .await;
    assert_eq!(s(&signed_in, "access_token").len(), 54, "the new shape");
    let who = app.introspect(STD, &s(&signed_in, "access_token")).await;
    let (old_access, old_refresh) = (
        new_token(TokenFormat::Opaque),
        new_token(TokenFormat::Opaque),
    );
    assert_eq!(old_access.len(), 43);
    let now = app.engine.now();
    let subject = TokenSubject {
        client_id: ClientId(STD.0.to_string()),
        user_id: Some(UserId(s(&who, "sub").parse().unwrap())),
        tenant_id: None,
        org_id: None,
        app_key_id: None,
        scope: "read".into(),
        device_id: None,
        source_type: None,
        session_id: None,
    };
    app.store
        .insert_grant(&NewGrant {
            family: FamilyId(4242),
            subject,
            issued_at: now,
            auth_time: now,
            tokens: vec![
                NewToken {
                    hash: TokenHash::of(&old_access),
                    kind: TokenKind::Access,
                    expires_at: now + 600,
                },
                NewToken {
                    hash: TokenHash::of(&old_refresh),
                    kind: TokenKind::Refresh,
                    expires_at: now + 6000,
                },
            ],
        })
        .await
        .unwrap();
    let seen = app.introspect(STD, &old_access).await;
    assert_eq!(
        (seen["active"].as_bool(), seen["username"].as_str()),
        (Some(true), Some("alice"))
    );
    let rotated = app
        .token(
            STD,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &old_refresh),
            ],
        )
        .await;
    assert_eq!(s(&rotated, "refresh_token").len(), 54);
    assert_eq!(rotated["scope"], "read");
    assert_eq!(
        app.introspect(STD, &s(&rotated, "access_token")).await["username"],
        "alice"
    );
}
