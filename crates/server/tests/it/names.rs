//! Names that shadow other people (issue 15, finding 5): a username may not equal another
//! user's phone or e-mail (nor the other way round); usernames are compared after NFKC and
//! lowercasing, and invisible characters are refused, in the bootstrap, the admin API and at
//! sign-in.

use reqwest::{Method as M, StatusCode};
use serde_json::{json, Value};
use tessera_core::model::LoginField;
use tessera_core::store::BootstrapError;
use tessera_testkit::TestApp;

const BOOT: &str = r#"
[[tenants]]
code = "A"
name = "A"
[[orgs]]
tenant = "A"
code = "O"
name = "O"
[[users]]
username = "Alice"
email = "alice@a.test"
password = "pw-alice-1"
[[users]]
username = "bob"
phone = "13500000002"
email = "bob@b.test"
password = "pw-bob-123"
[[memberships]]
user = "Alice"
tenant = "A"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "bob"
tenant = "A"
org = "O"
roles = ["user"]
default = true
[[clients]]
client_id = "std"
client_secret = "std-secret"
grant_types = ["password"]
scopes = ["read"]
[[clients]]
client_id = "ops"
client_secret = "ops-secret"
grant_types = ["client_credentials"]
scopes = ["tessera:admin"]
"#;

const STD: (&str, &str) = ("std", "std-secret");

async fn sign_in(app: &TestApp, user: &str, pw: &str) -> (StatusCode, Value) {
    let a = app
        .post_form(
            "/oauth/token",
            Some(STD),
            &[
                ("grant_type", "password"),
                ("username", user),
                ("password", pw),
            ],
        )
        .await;
    (a.status, a.json())
}

/// The username the access token of a successful sign-in belongs to.
async fn signed_in_as(app: &TestApp, user: &str, pw: &str) -> String {
    let (status, v) = sign_in(app, user, pw).await;
    assert_eq!(status, StatusCode::OK, "{user:?}: {v}");
    let token = v["access_token"].as_str().unwrap();
    app.introspect(STD, token).await["username"]
        .as_str()
        .unwrap()
        .to_string()
}

fn refused(r: Result<tessera_core::store::BootstrapReport, BootstrapError>) -> (String, String) {
    match r {
        Err(BootstrapError::Invalid { entry, message }) => (entry, message),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_bootstrap_user_named_after_another_users_phone_or_email_is_refused_naming_the_entry() {
    let app = TestApp::spawn(BOOT).await;
    let (entry, message) = refused(
        app.engine
            .apply_bootstrap_text("[[users]]\nusername = \"13500000002\"\npassword = \"x\"\n")
            .await,
    );
    assert_eq!(entry, "users[0] (13500000002)");
    assert_eq!(message, "username equals the phone of user \"bob\"");
    // Fullwidth digits and another case are the same name.
    let (entry, message) = refused(
        app.engine
            .apply_bootstrap_text(
                "[[users]]\nusername = \"zed\"\n[[users]]\nusername = \"BOB@b.test\"\n",
            )
            .await,
    );
    assert_eq!(entry, "users[1] (BOB@b.test)");
    assert_eq!(message, "username equals the email of user \"bob\"");
    let (entry, message) = refused(
        app.engine
            .apply_bootstrap_text("[[users]]\nusername = \"１３５０００００００２\"\n")
            .await,
    );
    assert_eq!(entry, "users[0] (１３５０００００００２)");
    assert!(message.contains("phone of user \"bob\""), "{message}");
    // The other way round: a phone or an e-mail equal to a username.
    let (entry, message) = refused(
        app.engine
            .apply_bootstrap_text("[[users]]\nusername = \"carl\"\nphone = \"ALICE\"\n")
            .await,
    );
    assert_eq!(entry, "users[0] (carl)");
    assert_eq!(message, "phone equals the username of user \"Alice\"");
    // Within one file, the later entry is named, as for an entry given twice.
    let (entry, message) = refused(
        app.engine
            .apply_bootstrap_text(
                "[[users]]\nusername = \"dan\"\nphone = \"13600000001\"\n[[users]]\nusername = \"13600000001\"\n",
            )
            .await,
    );
    assert_eq!(entry, "users[1] (13600000001)");
    assert_eq!(message, "username equals the phone of users[0] (dan)");
    // Nothing of a refused file was applied: no zed, no dan, no carl.
    for name in ["zed", "dan", "carl"] {
        assert!(app
            .store
            .user_by_login(LoginField::Username, name)
            .await
            .unwrap()
            .is_none());
    }
    // And Bob's own names still sign Bob in.
    for name in ["13500000002", "bob@b.test", "bob"] {
        assert_eq!(signed_in_as(&app, name, "pw-bob-123").await, "bob");
    }
    // The file that made them applies again unchanged.
    let again = app.engine.apply_bootstrap_text(BOOT).await.unwrap();
    assert_eq!(again.changed, 0, "{again:?}");
}

#[tokio::test]
async fn alice_signs_in_whatever_the_case_or_width_she_types() {
    let app = TestApp::spawn(BOOT).await;
    for name in [
        "Alice",
        "alice",
        "ALICE",
        "ａｌｉｃｅ",
        "ＡＬＩＣＥ",
        "aLiCe",
    ] {
        assert_eq!(
            signed_in_as(&app, name, "pw-alice-1").await,
            "Alice",
            "{name:?}"
        );
    }
    // The same user: one failure count.
    let (status, _) = sign_in(&app, "ａｌｉｃｅ", "wrong").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let alice = app
        .store
        .user_by_login(LoginField::Username, "Alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.username, "Alice");
    // A second Alice in another case or width is refused.
    let (entry, message) = refused(
        app.engine
            .apply_bootstrap_text("[[users]]\nusername = \"ａｌｉｃｅ\"\npassword = \"x\"\n")
            .await,
    );
    assert_eq!(entry, "users[0] (ａｌｉｃｅ)");
    assert!(
        message.starts_with("username is taken by user \"Alice\""),
        "{message}"
    );
}

#[tokio::test]
async fn a_username_with_an_invisible_character_is_refused_and_signs_no_one_in() {
    let app = TestApp::spawn(BOOT).await;
    for (name, cp) in [
        ("al\u{200B}ice", "U+200B"),
        ("ali\u{2060}ce", "U+2060"),
        ("\u{202E}ecila", "U+202E"),
        ("al ice", "U+0020"),
    ] {
        let text = format!("[[users]]\nusername = \"{name}\"\npassword = \"x\"\n");
        let (entry, message) = refused(app.engine.apply_bootstrap_text(&text).await);
        assert_eq!(entry, format!("users[0] ({name})"));
        assert!(
            message.starts_with("username contains an invisible") && message.contains(cp),
            "{message}"
        );
    }
    // At sign-in, a name with an invisible character matches no one, not even Alice.
    let (status, v) = sign_in(&app, "Al\u{200B}ice", "pw-alice-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"], "invalid_grant");
}

async fn admin_token(app: &TestApp) -> String {
    app.token(
        ("ops", "ops-secret"),
        &[("grant_type", "client_credentials")],
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn call(app: &TestApp, token: &str, m: M, path: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .http
        .request(m, app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The admin API's create and update check names through `Engine::check_user_names`.
#[tokio::test]
async fn the_admin_api_refuses_names_that_shadow_another_user() {
    let app = TestApp::spawn(BOOT).await;
    let t = admin_token(&app).await;
    let users = "/admin/api/v1/users";
    for (body, status) in [
        (json!({ "username": "bob@b.test" }), StatusCode::CONFLICT),
        (json!({ "username": "BOB@B.TEST" }), StatusCode::CONFLICT),
        (json!({ "username": "13500000002" }), StatusCode::CONFLICT),
        (json!({ "username": "ａｌｉｃｅ" }), StatusCode::CONFLICT),
        (json!({ "username": "ALICE" }), StatusCode::CONFLICT),
        (
            json!({ "username": "carl", "phone": "alice" }),
            StatusCode::CONFLICT,
        ),
        (
            json!({ "username": "carl", "email": "Alice@A.test" }),
            StatusCode::CONFLICT,
        ),
        (
            json!({ "username": "al\u{200B}ice" }),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (s, v) = call(&app, &t, M::POST, users, body.clone()).await;
        assert_eq!(s, status, "{body}: {v}");
    }
    let (s, v) = call(&app, &t, M::POST, users, json!({ "username": "carl" })).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let carl = v["id"].as_i64().unwrap();
    // An update may not give carl Bob's username as a phone, nor Bob's e-mail.
    for body in [json!({ "phone": "BOB" }), json!({ "email": "bob@b.test" })] {
        let (s, v) = call(&app, &t, M::PATCH, &format!("{users}/{carl}"), body.clone()).await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}: {v}");
    }
    // Bob still signs in by each of his names.
    for name in ["13500000002", "bob@b.test", "bob"] {
        assert_eq!(signed_in_as(&app, name, "pw-bob-123").await, "bob");
    }
}
