//! The front door and the web console (issue 17): who gets in, what a tenant admin can reach,
//! CSRF on every action, each action's effect seen through the engine, and names rendered as
//! text.

use crate::sso::{browser, hidden, location};
use reqwest::StatusCode;
use tessera_core::engine::Actor;
use tessera_core::ids::UserId;
use tessera_core::store::AuditFilter;
use tessera_testkit::TestApp;

const BOOT: &str = r#"
[[tenants]]
code = "A"
name = "Tenant A"
[[tenants]]
code = "B"
name = "Tenant B"
[[orgs]]
tenant = "A"
code = "O"
name = "O"
[[orgs]]
tenant = "B"
code = "O"
name = "O"
[[users]]
username = "root"
id = 7001
password = "root-pass-123"
superuser = true
[[users]]
username = "ada"
id = 7002
password = "ada-pass-123"
[[memberships]]
user = "ada"
tenant = "A"
org = "O"
roles = ["tessera:admin"]
[[users]]
username = "bob"
id = 7003
password = "bob-pass-123"
display_name = "<script>alert('x')</script>\""
[[memberships]]
user = "bob"
tenant = "B"
org = "O"
roles = ["user"]
[[users]]
username = "amy"
id = 7004
password = "amy-pass-123"
[[memberships]]
user = "amy"
tenant = "A"
org = "O"
roles = ["user"]
[[memberships]]
user = "root"
tenant = "A"
org = "O"
roles = ["user"]
[[clients]]
client_id = "ca"
client_secret = "ca-secret"
grant_types = ["client_credentials"]
tenant = "A"
[[clients]]
client_id = "cb"
client_secret = "cb-secret"
grant_types = ["client_credentials"]
tenant = "B"
[[clients]]
client_id = "pub"
grant_types = ["authorization_code"]
redirect_uris = ["https://pub.test/cb"]
"#;

/// A browser signed in through the login page, continuing to the console.
async fn signed_in(app: &TestApp, user: &str, password: &str) -> reqwest::Client {
    let b = browser();
    let r = b.get(app.url("/console")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert_eq!(to, "/login?continue=%2Fconsole");
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
        ("username", user.to_string()),
        ("password", password.to_string()),
    ];
    let r = b.post(app.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/console");
    b
}

async fn get(b: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = b.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn act(
    b: &reqwest::Client,
    app: &TestApp,
    user: i64,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let r = b
        .post(app.url(&format!("/console/users/{user}")))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn user(app: &TestApp, id: i64) -> tessera_core::model::User {
    app.engine
        .admin_get_user(&Actor::global("test"), UserId(id))
        .await
        .unwrap()
        .unwrap()
        .0
}

#[tokio::test]
async fn the_front_door_names_the_product_and_links_the_ways_in_in_both_languages() {
    let app = TestApp::spawn(BOOT).await;
    let b = browser();
    let (status, en) = get(&b, &app, "/?lang=en_US").await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "Tessera",
        env!("CARGO_PKG_VERSION"),
        "href=\"/login?lang=en_US\"",
        "href=\"/console?lang=en_US\"",
        "/.well-known/openid-configuration",
        "/openapi.json",
        "Sign in",
    ] {
        assert!(en.contains(needle), "{needle} not in {en}");
    }
    let (_, zh) = get(&b, &app, "/?lang=zh_CN").await;
    assert!(zh.contains("管理控制台") && zh.contains("登录"), "{zh}");
    app.stop().await;
}

#[tokio::test]
async fn the_console_sends_strangers_to_sign_in_and_refuses_people_without_rights() {
    let app = TestApp::spawn(BOOT).await;
    let b = browser();
    for path in ["/console", "/console/users", "/console/users/7003"] {
        let r = b.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&r).starts_with("/login?continue=%2Fconsole"));
    }
    let r = b
        .post(app.url("/console/users/7003"))
        .form(&[("action", "disable")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(user(&app, 7003).await.enabled);

    // The login page continues to the console only, never elsewhere.
    let page = b
        .get(app.url("/login?continue=//evil.test/console"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(hidden(&page, "continue"), "");

    let amy = signed_in(&app, "amy", "amy-pass-123").await;
    let (status, body) = get(&amy, &app, "/console").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("amy"), "{body}");
    // Refused, she never got the console's own cookie: an action sends her to sign in.
    let (status, _) = act(&amy, &app, 7003, &[("action", "disable")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(user(&app, 7003).await.enabled);
    app.stop().await;
}

#[tokio::test]
async fn a_superuser_sees_every_tenant_and_acts_with_csrf_and_an_audit_trail() {
    let app = TestApp::spawn(BOOT).await;
    let b = signed_in(&app, "root", "root-pass-123").await;
    let r = b.get(app.url("/console")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let console_cookie = cookies
        .iter()
        .find(|c| c.starts_with("tessera_console="))
        .expect("the console's own cookie");
    assert!(console_cookie.contains("HttpOnly") && console_cookie.contains("SameSite=Strict"));
    let dash = r.text().await.unwrap();
    assert!(
        dash.contains("Tenant A") && dash.contains("Tenant B"),
        "{dash}"
    );

    let (status, list) = get(&b, &app, "/console/users?lang=en_US").await;
    assert_eq!(status, StatusCode::OK);
    for name in ["root", "ada", "bob", "amy"] {
        assert!(list.contains(&format!(">{name}</a>")), "{name} in {list}");
    }
    let (_, found) = get(&b, &app, "/console/users?q=bob").await;
    assert!(found.contains(">bob</a>") && !found.contains(">ada</a>"));

    // Names are text, never markup.
    let (status, page) = get(&b, &app, "/console/users/7003").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"));
    let csrf = hidden(&page, "csrf");

    // No CSRF token, or a wrong one: nothing happens.
    let (status, _) = act(&b, &app, 7003, &[("action", "disable")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = act(
        &b,
        &app,
        7003,
        &[("action", "disable"), ("csrf", &"x".repeat(43))],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(user(&app, 7003).await.enabled);
    let (status, _) = act(&b, &app, 7003, &[("action", "explode"), ("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = act(&b, &app, 7003, &[("action", "disable"), ("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!user(&app, 7003).await.enabled);
    let (status, _) = act(&b, &app, 7003, &[("action", "enable"), ("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(user(&app, 7003).await.enabled);

    // A reset shows a one-time password once, and it signs in.
    let (status, page) = act(
        &b,
        &app,
        7003,
        &[("action", "reset_password"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let start = page.find("id=\"one-time-password\">").unwrap() + "id=\"one-time-password\">".len();
    let otp: String = page[start..].split('<').next().unwrap().to_string();
    assert!(otp.len() >= 8, "{otp}");
    signed_in(&app, "bob", &otp).await;

    let events = app
        .engine
        .admin_audit_log(
            &Actor::global("test"),
            &AuditFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    let by_root: Vec<_> = events
        .iter()
        .filter(|e| e.client_id.as_deref() == Some("user:root"))
        .collect();
    assert!(by_root.len() >= 3, "{events:#?}");
    app.stop().await;
}

#[tokio::test]
async fn a_tenant_admin_reaches_only_its_tenant_and_never_a_superusers_account() {
    let app = TestApp::spawn(BOOT).await;
    let b = signed_in(&app, "ada", "ada-pass-123").await;
    let (status, dash) = get(&b, &app, "/console?lang=en_US").await;
    assert_eq!(status, StatusCode::OK);
    assert!(dash.contains("Tenant admin A"), "{dash}");
    assert!(!dash.contains("Tenant B"), "{dash}");

    let (_, list) = get(&b, &app, "/console/users").await;
    assert!(
        list.contains(">amy</a>") && list.contains(">ada</a>"),
        "{list}"
    );
    assert!(!list.contains(">bob</a>"), "{list}");
    let (_, found) = get(&b, &app, "/console/users?q=bob").await;
    assert!(!found.contains(">bob</a>"));

    // Another tenant's user, by id: not found, and not changed.
    let (status, _) = get(&b, &app, "/console/users/7003").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, own) = get(&b, &app, "/console/users/7004").await;
    let csrf = hidden(&own, "csrf");
    let (status, _) = act(&b, &app, 7003, &[("action", "disable"), ("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(user(&app, 7003).await.enabled);

    // Its own tenant's user: done.
    let (status, _) = act(&b, &app, 7004, &[("action", "disable"), ("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!user(&app, 7004).await.enabled);

    // The superuser is a member of A too, but its account is out of a tenant admin's reach.
    let (status, _) = act(
        &b,
        &app,
        7001,
        &[("action", "reset_password"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = act(&b, &app, 7001, &[("action", "disable"), ("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(user(&app, 7001).await.enabled);
    app.stop().await;
}

#[tokio::test]
async fn signing_out_ends_the_console_and_the_login_page_names_who_is_signed_in() {
    let app = TestApp::spawn(BOOT).await;
    let b = signed_in(&app, "root", "root-pass-123").await;
    let (status, page) = get(&b, &app, "/console/users/7004").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = hidden(&page, "csrf");
    let (status, login) = get(&b, &app, "/login?lang=en_US").await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "root",
        "href=\"/console",
        "/oauth/logout",
        "href=\"/?lang=en_US\"",
    ] {
        assert!(login.contains(needle), "{needle} in {login}");
    }
    let r = b.get(app.url("/oauth/logout")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert_eq!(
        text.matches("You are signed out").count() + text.matches("您已退出登录").count(),
        1,
        "{text}"
    );
    let r = b.get(app.url("/console")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The console's cookie outlives nothing: its session is over.
    let (status, _) = act(&b, &app, 7004, &[("action", "disable"), ("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(user(&app, 7004).await.enabled);
    app.stop().await;
}

#[tokio::test]
async fn the_audit_page_filters_and_the_sessions_page_ends_a_session() {
    let app = TestApp::spawn(BOOT).await;
    let root = signed_in(&app, "root", "root-pass-123").await;
    let ada = signed_in(&app, "ada", "ada-pass-123").await;
    signed_in(&app, "amy", "amy-pass-123").await;
    let (status, page) = get(&root, &app, "/console/users/7004").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = hidden(&page, "csrf");
    let (status, _) = act(&root, &app, 7004, &[("action", "unlock"), ("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::OK);

    let (status, audit) = get(&root, &app, "/console/audit?client=user:root&lang=en_US").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        audit.contains("user.unlock") && audit.contains("user 7004"),
        "{audit}"
    );
    let (_, none) = get(&root, &app, "/console/audit?client=user:nobody").await;
    assert!(!none.contains("user.unlock"));
    let (status, bad) = get(&root, &app, "/console/audit?from=yesterday&lang=en_US").await;
    assert_eq!(status, StatusCode::OK);
    assert!(bad.contains("Dates are yyyy-mm-dd"), "{bad}");

    // A tenant admin reads one user of its tenant at a time, never another tenant's.
    let (_, a) = get(&ada, &app, "/console/audit?lang=en_US").await;
    assert!(a.contains("give a user id"), "{a}");
    let (_, a) = get(&ada, &app, "/console/audit?user=7004").await;
    assert!(a.contains("<td>login</td>"), "{a}");
    let (_, a) = get(&ada, &app, "/console/audit?user=7003").await;
    assert!(!a.contains("<td>login</td>"), "{a}");

    // The superuser sees ada's session and ends it; ada's console is over.
    let (status, sessions) = get(&root, &app, "/console/sessions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(sessions.contains("/console/users/7002"), "{sessions}");
    let ada_session = app
        .engine
        .admin_sessions(&Actor::global("test"), Some(UserId(7002)))
        .await
        .unwrap()[0]
        .id
        .clone();
    let post = |b: &reqwest::Client, form: Vec<(&'static str, String)>| {
        let r = b.post(app.url("/console/sessions")).form(&form).send();
        async move { r.await.unwrap().status() }
    };
    assert_eq!(
        post(&root, vec![("session", ada_session.clone())]).await,
        StatusCode::BAD_REQUEST,
        "no CSRF token"
    );
    assert_eq!(
        post(
            &root,
            vec![("session", "nope".into()), ("csrf", csrf.clone())]
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(
            &root,
            vec![("session", ada_session), ("csrf", csrf.clone())]
        )
        .await,
        StatusCode::OK
    );
    let r = ada.get(app.url("/console")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.stop().await;
}

#[tokio::test]
async fn tenants_are_created_and_suspended_by_a_superuser_and_a_tenant_admin_sets_only_its_own() {
    let app = TestApp::spawn(BOOT).await;
    let root = signed_in(&app, "root", "root-pass-123").await;
    let (status, page) = get(&root, &app, "/console/tenants?lang=en_US").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"new-tenant\""), "{page}");
    let csrf = hidden(&page, "csrf");
    let post = |b: &reqwest::Client, form: Vec<(&'static str, &str)>| {
        let r = b.post(app.url("/console/tenants")).form(&form).send();
        async move {
            let r = r.await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let tenant = |code: &'static str| {
        let e = app.engine.clone();
        async move { e.admin_tenant(code).await.unwrap() }
    };

    // A refused value is shown beside its field, and what was typed stays.
    let (status, body) = post(
        &root,
        vec![
            ("csrf", &csrf),
            ("action", "create"),
            ("code", "bad code"),
            ("name", "Kept <name>"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("id=\"code-error\""), "{body}");
    assert!(
        body.contains("value=\"Kept &#60;name&#62;\"")
            || body.contains("value=\"Kept &lt;name&gt;\""),
        "{body}"
    );
    let (status, body) = post(
        &root,
        vec![
            ("csrf", &csrf),
            ("action", "create"),
            ("code", "NEW"),
            ("name", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("id=\"name-error\""), "{body}");
    let (status, _) = post(
        &root,
        vec![("action", "create"), ("code", "NEW"), ("name", "New")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no CSRF token");
    assert!(tenant("NEW").await.is_none());

    let (status, _) = post(
        &root,
        vec![
            ("csrf", &csrf),
            ("action", "create"),
            ("code", "NEW"),
            ("name", "New"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tenant("NEW").await.unwrap().name, "New");
    let (status, body) = post(
        &root,
        vec![
            ("csrf", &csrf),
            ("action", "create"),
            ("code", "NEW"),
            ("name", "Again"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("id=\"code-error\""));
    let (status, _) = post(
        &root,
        vec![("csrf", &csrf), ("action", "disable"), ("code", "B")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!tenant("B").await.unwrap().enabled);

    // A tenant admin: its own tenant's policy, nothing more.
    let ada = signed_in(&app, "ada", "ada-pass-123").await;
    let (_, page) = get(&ada, &app, "/console/tenants").await;
    assert!(
        !page.contains("id=\"new-tenant\"") && !page.contains(">B<"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");
    let (status, _) = post(
        &ada,
        vec![
            ("csrf", &csrf),
            ("action", "create"),
            ("code", "MINE"),
            ("name", "Mine"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(tenant("MINE").await.is_none());
    let (status, _) = post(
        &ada,
        vec![("csrf", &csrf), ("action", "disable"), ("code", "A")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(tenant("A").await.unwrap().enabled);
    let (status, _) = post(
        &ada,
        vec![
            ("csrf", &csrf),
            ("action", "second_factor"),
            ("code", "B"),
            ("policy", "always"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(
        &ada,
        vec![
            ("csrf", &csrf),
            ("action", "second_factor"),
            ("code", "A"),
            ("policy", "always"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        tenant("A").await.unwrap().sms_second_factor,
        tessera_core::model::SmsSecondFactor::Always
    );
    app.stop().await;
}

#[tokio::test]
async fn a_client_secret_is_rotated_once_shown_and_only_within_reach() {
    let app = TestApp::spawn(BOOT).await;
    let root = signed_in(&app, "root", "root-pass-123").await;
    let (status, page) = get(&root, &app, "/console/clients").await;
    assert_eq!(status, StatusCode::OK);
    for c in ["ca", "cb", "pub"] {
        assert!(page.contains(&format!("<td>{c}")), "{c} in {page}");
    }
    let csrf = hidden(&page, "csrf");
    let post = |b: &reqwest::Client, form: Vec<(&'static str, String)>| {
        let r = b.post(app.url("/console/clients")).form(&form).send();
        async move {
            let r = r.await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let rotate = |id: &str, csrf: &str| {
        vec![
            ("action", "rotate_secret".to_string()),
            ("client_id", id.to_string()),
            ("csrf", csrf.to_string()),
        ]
    };
    let cc = |id: &'static str, secret: String| {
        let app = &app;
        async move {
            let r = app
                .http
                .post(app.url("/oauth/token"))
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            r.status()
        }
    };

    let (status, _) = post(
        &root,
        vec![
            ("action", "rotate_secret".into()),
            ("client_id", "cb".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no CSRF token");
    assert_eq!(cc("cb", "cb-secret".into()).await, StatusCode::OK);
    let (status, _) = post(&root, rotate("pub", &csrf)).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a public client has no secret"
    );

    let (status, body) = post(&root, rotate("cb", &csrf)).await;
    assert_eq!(status, StatusCode::OK);
    let start = body.find("id=\"new-secret\">").unwrap() + "id=\"new-secret\">".len();
    let secret = body[start..].split('<').next().unwrap().to_string();
    assert_eq!(cc("cb", secret.clone()).await, StatusCode::OK);
    assert_ne!(cc("cb", "cb-secret".into()).await, StatusCode::OK);
    let (_, again) = get(&root, &app, "/console/clients").await;
    assert!(!again.contains(&secret), "shown once");

    // A tenant admin: its tenant's clients only.
    let ada = signed_in(&app, "ada", "ada-pass-123").await;
    let (_, page) = get(&ada, &app, "/console/clients").await;
    assert!(
        page.contains("<td>ca") && !page.contains("<td>cb"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");
    let (status, _) = post(&ada, rotate("cb", &csrf)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(cc("cb", secret).await, StatusCode::OK);
    let (status, _) = post(&ada, rotate("ca", &csrf)).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(cc("ca", "ca-secret".into()).await, StatusCode::OK);
    app.stop().await;
}
