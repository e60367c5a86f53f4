//! Dialect `appkey` (seed 002): the seed's shapes key for key, refresh rotation, statuses.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_testkit::{pg, TestApp};

const BOOT: &str = r#"
[[tenants]]
code = "T"
name = "T"
[[tenants]]
code = "OFF"
name = "Off"
enabled = false
[[orgs]]
tenant = "T"
code = "O"
id = 301
name = "总部"
type = "CHANNEL"
logo = "https://logo.test/o.png"
[[orgs]]
tenant = "T"
code = "DARK"
id = 302
name = "Dark"
enabled = false
[[orgs]]
tenant = "OFF"
code = "X"
id = 303
name = "X"
[[products]]
id = 7
name = "CRM"
[[org_products]]
org = "T/O"
product = 7
name = "CRM · 总部"
[[users]]
username = "alice"
id = 4001
phone = "13521679354"
display_name = "Alice"
portrait = "https://img.test/a.png"
[[app_keys]]
app_id = "app-user"
app_key = "key-user"
app_secret = "secret-user"
id = 901
org = "T/O"
product = 7
user = "alice"
system_admin = true
[[app_keys]]
app_id = "app-client"
app_key = "key-client"
app_secret = "secret-client"
id = 902
org = "T/O"
product = 7
[[app_keys]]
app_id = "app-off"
app_key = "key-off"
app_secret = "secret-off"
org = "T/O"
product = 7
enabled = false
[[app_keys]]
app_id = "app-dark"
app_key = "key-dark"
app_secret = "secret-dark"
org = "T/DARK"
product = 7
[[app_keys]]
app_id = "app-offt"
app_key = "key-offt"
app_secret = "secret-offt"
org = "OFF/X"
product = 7
"#;

fn login_body(id: &str, key: &str, secret: &str) -> Value {
    json!({ "appId": id, "appKey": key, "appSecret": secret, "loginType": "APP_KEY" })
}

async fn login(app: &TestApp, id: &str, key: &str, secret: &str) -> (StatusCode, Value) {
    let a = app
        .post_json("/api/base/token/login", &login_body(id, key, secret))
        .await;
    (a.status, a.json())
}

/// The key sets of the seed's example, object by object.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

#[tokio::test]
async fn a_user_key_answers_the_seeds_shape_field_by_field() {
    let app = TestApp::spawn(BOOT).await;
    let (status, v) = login(&app, "app-user", "key-user", "secret-user").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        keys(&v),
        ["accessToken", "expiresTime", "loginUser", "refreshToken"]
    );
    let u = &v["loginUser"];
    assert_eq!(
        keys(u),
        [
            "id",
            "loginType",
            "loginUserType",
            "orgProduct",
            "userOrg",
            "userProduct"
        ]
    );
    assert_eq!(u["id"], 4001);
    assert_eq!(
        (u["loginType"].as_str(), u["loginUserType"].as_str()),
        (Some("APP_KEY"), Some("USER"))
    );
    assert_eq!(
        u["orgProduct"],
        json!({ "name": "CRM · 总部", "orgId": 301, "productId": 7 })
    );
    assert_eq!(
        u["userOrg"],
        json!({ "account": "alice", "id": 4001, "mobile": "13521679354", "name": "Alice",
                "org": { "logo": "https://logo.test/o.png", "name": "总部", "type": "CHANNEL" },
                "orgId": 301, "portrait": "https://img.test/a.png" })
    );
    assert_eq!(
        keys(&u["userProduct"]),
        ["id", "orgId", "productId", "systemAdmin"]
    );
    assert!(u["userProduct"]["id"].is_i64());
    assert_eq!(
        (
            u["userProduct"]["orgId"].as_i64(),
            u["userProduct"]["systemAdmin"].as_bool()
        ),
        (Some(301), Some(true))
    );
    let exp = v["expiresTime"].as_str().unwrap();
    let t =
        time::OffsetDateTime::parse(exp, &time::format_description::well_known::Rfc3339).unwrap();
    assert!(exp.ends_with('Z'), "UTC: {exp}");
    assert!(t.unix_timestamp() > app.engine.now() + 7000);
}

#[tokio::test]
async fn a_client_key_has_null_user_org_and_user_product() {
    let app = TestApp::spawn(BOOT).await;
    let (_, v) = login(&app, "app-client", "key-client", "secret-client").await;
    let u = &v["loginUser"];
    assert_eq!(
        (u["id"].as_i64(), u["loginUserType"].as_str()),
        (Some(902), Some("CLIENT"))
    );
    assert!(u["userOrg"].is_null() && u["userProduct"].is_null());
    assert!(
        u.as_object().unwrap().contains_key("userOrg"),
        "the key is present, with null"
    );
}

#[tokio::test]
async fn credentials_are_checked_before_the_keys_state() {
    let app = TestApp::spawn(BOOT).await;
    for (id, key, secret, status) in [
        ("app-user", "key-user", "wrong", StatusCode::UNAUTHORIZED),
        ("other", "key-user", "secret-user", StatusCode::UNAUTHORIZED),
        ("app-x", "key-x", "secret-x", StatusCode::UNAUTHORIZED),
        ("app-off", "key-off", "wrong", StatusCode::UNAUTHORIZED),
        ("app-off", "key-off", "secret-off", StatusCode::FORBIDDEN),
        ("app-dark", "key-dark", "secret-dark", StatusCode::FORBIDDEN),
        ("app-offt", "key-offt", "secret-offt", StatusCode::FORBIDDEN),
    ] {
        let (s, v) = login(&app, id, key, secret).await;
        assert_eq!(s, status, "{key}/{secret}: {v}");
        assert_eq!(
            keys(&v),
            ["error", "message", "path", "status", "timestamp"]
        );
        assert_eq!(v["status"], status.as_u16());
        assert_eq!(v["path"], "/api/base/token/login");
    }
}

#[tokio::test]
async fn refresh_rotates_and_a_spent_token_is_401_and_revokes_the_family() {
    let app = TestApp::spawn(BOOT).await;
    let (_, first) = login(&app, "app-user", "key-user", "secret-user").await;
    let rt1 = first["refreshToken"].as_str().unwrap().to_string();
    let a = app
        .post_form(
            &format!("/api/base/token/refresh?refreshToken={rt1}"),
            None,
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let second = a.json();
    assert_eq!(second["loginUser"]["loginUserType"], "USER");
    let rt2 = second["refreshToken"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    // A JSON body works too.
    let a = app
        .post_json("/api/base/token/refresh", &json!({ "refreshToken": rt2 }))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let rt3 = a.json()["refreshToken"].as_str().unwrap().to_string();
    // Reuse of the first: 401, and the newest dies with its family.
    let a = app
        .post_form(
            &format!("/api/base/token/refresh?refreshToken={rt1}"),
            None,
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.json()["path"], "/api/base/token/refresh");
    let a = app
        .post_json("/api/base/token/refresh", &json!({ "refreshToken": rt3 }))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_json_or_another_login_type_is_400_in_the_spring_shape() {
    let app = TestApp::spawn(BOOT).await;
    for body in [&b"{not json"[..], b"[]", b"{\"appId\": 1}", b""] {
        let a = app
            .post_raw(
                "/api/base/token/login",
                "application/json",
                body.to_vec(),
                None,
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::BAD_REQUEST,
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(
            keys(&a.json()),
            ["error", "message", "path", "status", "timestamp"]
        );
        assert_eq!(a.json()["error"], "Bad Request");
    }
    let mut b = login_body("app-user", "key-user", "secret-user");
    b["loginType"] = json!("PASSWORD");
    assert_eq!(
        app.post_json("/api/base/token/login", &b).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.post_json("/api/base/token/refresh", &json!({}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn app_keys_work_on_postgresql() {
    let Some(db) = pg::fresh_database().await else {
        return;
    };
    let url = db.url.clone();
    let app = TestApp::spawn_with(BOOT, |c| c.database.url = url).await;
    let (status, v) = login(&app, "app-user", "key-user", "secret-user").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["loginUser"]["userOrg"]["orgId"], 301);
    let rt = v["refreshToken"].as_str().unwrap();
    assert_eq!(
        app.post_json("/api/base/token/refresh", &json!({ "refreshToken": rt }))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        login(&app, "app-off", "key-off", "secret-off").await.0,
        StatusCode::FORBIDDEN
    );
    app.stop().await;
    db.drop_db().await;
}

/// docs/reference/appkey.md, "Lockout counting": the lock applies to every dialect, so a user key of a
/// locked user is refused like a disabled one.
#[tokio::test]
async fn a_user_key_of_a_locked_user_is_403() {
    let boot = BOOT.replacen(
        "username = \"alice\"",
        "username = \"alice\"\nlocked_until = \"2099-01-01T00:00:00Z\"",
        1,
    );
    let app = TestApp::spawn(&boot).await;
    let (s, v) = login(&app, "app-user", "key-user", "secret-user").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _) = login(&app, "app-client", "key-client", "secret-client").await;
    assert_eq!(s, StatusCode::OK);
}

/// docs/reference/appkey.md, "Operations": metrics count sign-ins by dialect and outcome, and tokens
/// issued; app-key failures are sign-ins too.
#[tokio::test]
async fn app_key_sign_ins_are_counted_by_outcome() {
    let app = TestApp::spawn(BOOT).await;
    login(&app, "app-user", "key-user", "wrong").await;
    login(&app, "app-off", "key-off", "secret-off").await;
    let (s, _) = login(&app, "app-user", "key-user", "secret-user").await;
    assert_eq!(s, StatusCode::OK);
    let m = app.get("/metrics").await.text;
    for (name, outcome) in [
        ("tessera_sign_ins_total", Some("bad_credentials")),
        ("tessera_sign_ins_total", Some("key_disabled")),
        ("tessera_sign_ins_total", Some("success")),
        ("tessera_tokens_issued_total", None),
    ] {
        assert!(
            m.lines().any(|l| l.starts_with(name)
                && l.contains("dialect=\"appkey\"")
                && outcome.is_none_or(|o| l.contains(&format!("outcome=\"{o}\"")))),
            "{name} {outcome:?} not in {m}"
        );
    }
}

/// An app-key sign-in is audited with the caller's address, like every other sign-in.
#[tokio::test]
async fn an_app_key_sign_in_is_audited_with_the_callers_address() {
    let app = TestApp::spawn(BOOT).await;
    let (s, _) = login(&app, "app-user", "key-user", "wrong-secret").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = login(&app, "app-user", "key-user", "secret-user").await;
    assert_eq!(s, StatusCode::OK);
    let events = app.store.recent_audit(2).await.unwrap();
    let outcomes: Vec<(&str, Option<&str>)> = events
        .iter()
        .map(|e| (e.outcome.as_str(), e.ip.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("success", Some("127.0.0.1")),
            ("bad_credentials", Some("127.0.0.1"))
        ]
    );
}
