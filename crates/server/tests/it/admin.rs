//! The admin REST API: every route's happy path and its 400/401/403/404/409; and `/metrics`.

use reqwest::StatusCode;
use serde_json::{json, Value};
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
username = "amy"
phone = "13900000001"
password = "pw-amy-123"
[[users]]
username = "ben"
password = "pw-ben-123"
[[memberships]]
user = "amy"
tenant = "A"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "ben"
tenant = "A"
org = "O"
roles = ["user"]
default = true
[[clients]]
client_id = "ops"
client_secret = "ops-secret"
grant_types = ["client_credentials"]
scopes = ["tessera:admin"]
[[clients]]
client_id = "weak"
client_secret = "weak-secret"
grant_types = ["client_credentials", "password", "refresh_token"]
scopes = ["read"]
"#;

struct Admin {
    app: TestApp,
    token: String,
}

impl Admin {
    async fn new() -> Admin {
        let app = TestApp::spawn(BOOT).await;
        let token = app
            .token(
                ("ops", "ops-secret"),
                &[("grant_type", "client_credentials")],
            )
            .await["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        Admin { app, token }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self
            .app
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn user_id(&self, username: &str) -> i64 {
        let (_, v) = self
            .call(
                reqwest::Method::GET,
                &format!("/admin/api/v1/users?username={username}"),
                None,
            )
            .await;
        v["items"][0]["id"].as_i64().unwrap()
    }

    async fn sign_in(&self, user: &str, pw: &str) -> StatusCode {
        self.app
            .post_form(
                "/oauth/token",
                Some(("weak", "weak-secret")),
                &[
                    ("grant_type", "password"),
                    ("username", user),
                    ("password", pw),
                ],
            )
            .await
            .status
    }
}

use reqwest::Method as M;

#[tokio::test]
async fn admin_routes_need_a_live_token_with_the_admin_scope() {
    let a = Admin::new().await;
    let r = a.app.get("/admin/api/v1/users").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Bearer")));
    let weak = a
        .app
        .token(
            ("weak", "weak-secret"),
            &[("grant_type", "client_credentials")],
        )
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = a
        .app
        .http
        .get(a.app.url("/admin/api/v1/users"))
        .bearer_auth(&weak)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "insufficient_scope"
    );
    let r = a
        .app
        .http
        .get(a.app.url("/admin/api/v1/audit"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn users_are_listed_filtered_paginated_and_never_show_a_hash() {
    let a = Admin::new().await;
    let (status, v) = a
        .call(M::GET, "/admin/api/v1/users?per_page=1&page=2", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (v["total"].as_i64(), v["items"].as_array().unwrap().len()),
        (Some(2), 1)
    );
    assert_eq!(v["items"][0]["username"], "ben");
    let (_, v) = a
        .call(
            M::GET,
            "/admin/api/v1/users?phone=13900000001&tenant=A&status=enabled",
            None,
        )
        .await;
    assert_eq!(v["items"][0]["username"], "amy");
    let id = a.user_id("amy").await;
    let (status, v) = a
        .call(M::GET, &format!("/admin/api/v1/users/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["memberships"][0]["tenant"], "A");
    assert_eq!(v["has_password"], true);
    let text = v.to_string();
    assert!(
        !text.contains("argon2") && !text.contains("password_hash"),
        "{text}"
    );
    assert_eq!(
        a.call(M::GET, "/admin/api/v1/users/123", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.call(M::GET, "/admin/api/v1/users/abc", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.call(M::GET, "/admin/api/v1/users?status=weird", None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        a.call(M::GET, "/admin/api/v1/users?per_page=0", None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn users_are_created_and_updated_with_clear_400_and_409() {
    let a = Admin::new().await;
    let (status, v) = a.call(M::POST, "/admin/api/v1/users", Some(json!({ "username": "cat", "phone": "13900000009", "password": "pw-cat-123", "display_name": "Cat" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["display_name"], "Cat");
    assert_eq!(
        a.call(
            M::POST,
            "/admin/api/v1/users",
            Some(json!({ "username": "cat" }))
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        a.call(
            M::POST,
            "/admin/api/v1/users",
            Some(json!({ "username": "dog", "phone": "13900000001" }))
        )
        .await
        .0,
        StatusCode::CONFLICT,
        "phone taken"
    );
    let (status, v) = a
        .call(
            M::POST,
            "/admin/api/v1/users",
            Some(json!({ "phone": "1" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().contains("username"), "{v}");
    let (status, v) = a
        .call(
            M::POST,
            "/admin/api/v1/users",
            Some(json!({ "username": "eel", "colour": "red" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().contains("colour"));
    assert_eq!(
        a.call(
            M::POST,
            "/admin/api/v1/users",
            Some(json!({ "username": "fox", "password": "short" }))
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let id = v_id(&a, "cat").await;
    let (status, v) = a
        .call(
            M::PATCH,
            &format!("/admin/api/v1/users/{id}"),
            Some(json!({ "title": "CTO", "email": null })),
        )
        .await;
    assert_eq!((status, v["title"].as_str()), (StatusCode::OK, Some("CTO")));
    assert_eq!(
        a.call(
            M::PATCH,
            "/admin/api/v1/users/42",
            Some(json!({ "title": "x" }))
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.call(
            M::PATCH,
            &format!("/admin/api/v1/users/{id}"),
            Some(json!({ "enabled": "no" }))
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
}

async fn v_id(a: &Admin, name: &str) -> i64 {
    a.user_id(name).await
}

#[tokio::test]
async fn disabling_a_user_stops_sign_in_and_revokes_tokens() {
    let a = Admin::new().await;
    let t = a
        .app
        .token(
            ("weak", "weak-secret"),
            &[
                ("grant_type", "password"),
                ("username", "ben"),
                ("password", "pw-ben-123"),
            ],
        )
        .await;
    let id = a.user_id("ben").await;
    let (_, v) = a
        .call(M::GET, &format!("/admin/api/v1/users/{id}/tokens"), None)
        .await;
    assert_eq!(
        v["items"].as_array().unwrap().len(),
        2,
        "access and refresh"
    );
    assert_eq!(
        a.call(M::DELETE, &format!("/admin/api/v1/users/{id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        a.app
            .introspect(("weak", "weak-secret"), t["access_token"].as_str().unwrap())
            .await["active"],
        false
    );
    assert_eq!(
        a.sign_in("ben", "pw-ben-123").await,
        StatusCode::BAD_REQUEST
    );
    a.call(
        M::PATCH,
        &format!("/admin/api/v1/users/{id}"),
        Some(json!({ "enabled": true })),
    )
    .await;
    assert_eq!(a.sign_in("ben", "pw-ben-123").await, StatusCode::OK);
    let (_, v) = a
        .call(M::DELETE, &format!("/admin/api/v1/users/{id}/tokens"), None)
        .await;
    assert_eq!(v["revoked"], 2);
}

#[tokio::test]
async fn unlock_and_password_reset() {
    let a = Admin::new().await;
    for _ in 0..5 {
        a.sign_in("amy", "wrong").await;
    }
    assert_eq!(
        a.sign_in("amy", "pw-amy-123").await,
        StatusCode::BAD_REQUEST,
        "locked"
    );
    let id = a.user_id("amy").await;
    assert_eq!(
        a.call(M::POST, &format!("/admin/api/v1/users/{id}/unlock"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(a.sign_in("amy", "pw-amy-123").await, StatusCode::OK);
    let (status, v) = a
        .call(M::POST, &format!("/admin/api/v1/users/{id}/password"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let otp = v["one_time_password"].as_str().unwrap().to_string();
    assert_eq!(
        a.sign_in("amy", "pw-amy-123").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(a.sign_in("amy", &otp).await, StatusCode::OK);
    assert_eq!(
        a.call(
            M::POST,
            &format!("/admin/api/v1/users/{id}/password"),
            Some(json!({ "password": "brand-new-pw" }))
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(a.sign_in("amy", "brand-new-pw").await, StatusCode::OK);
    assert_eq!(
        a.call(M::POST, "/admin/api/v1/users/7/unlock", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, log) = a.call(M::GET, "/admin/api/v1/audit?kind=admin", None).await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"user.unlock") && actions.contains(&"user.password_reset"),
        "{actions:?}"
    );
    let (_, log) = a
        .call(
            M::GET,
            "/admin/api/v1/audit?kind=login&outcome=password_wrong&client=weak",
            None,
        )
        .await;
    assert!(log["items"].as_array().unwrap().len() >= 4, "{log}");
    assert_eq!(
        log["items"][0]["detail"], "name=amy",
        "the name tried is in the event"
    );
    let (_, log) = a
        .call(
            M::GET,
            &format!("/admin/api/v1/audit?user={id}&kind=login&outcome=success"),
            None,
        )
        .await;
    assert!(!log["items"].as_array().unwrap().is_empty(), "{log}");
    assert_eq!(
        a.call(M::GET, "/admin/api/v1/audit?limit=0", None).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn sessions_are_listed_and_revoked() {
    let a = Admin::new().await;
    let id = a.user_id("amy").await;
    let (status, v) = a
        .call(M::GET, &format!("/admin/api/v1/users/{id}/sessions"), None)
        .await;
    assert_eq!(
        (status, v["items"].as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );
    assert_eq!(
        a.call(M::DELETE, "/admin/api/v1/sessions/nope", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn metrics_count_requests_sign_ins_and_tokens() {
    let a = Admin::new().await;
    a.sign_in("amy", "pw-amy-123").await;
    a.sign_in("amy", "wrong").await;
    let m = a.app.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    for needle in [
        "tessera_http_requests_total{route=\"/oauth/token\"",
        "tessera_http_request_duration_seconds_bucket",
        "tessera_sign_ins_total{dialect=\"standard\",outcome=\"success\"}",
        "tessera_sign_ins_total{dialect=\"standard\",outcome=\"password_wrong\"}",
        "tessera_tokens_issued_total",
        "tessera_db_pool_connections",
    ] {
        assert!(m.text.contains(needle), "{needle} not in metrics");
    }
}

#[tokio::test]
async fn clients_are_created_with_a_secret_shown_once_rotated_updated_and_deleted() {
    let a = Admin::new().await;
    let body =
        json!({ "client_id": "svc", "grant_types": ["client_credentials"], "scopes": ["read"] });
    let (status, v) = a
        .call(M::POST, "/admin/api/v1/clients", Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let secret = v["client_secret"].as_str().unwrap().to_string();
    assert_eq!(
        a.call(M::POST, "/admin/api/v1/clients", Some(body)).await.0,
        StatusCode::CONFLICT
    );
    let t = a
        .app
        .token(("svc", &secret), &[("grant_type", "client_credentials")])
        .await;
    let (_, v) = a.call(M::GET, "/admin/api/v1/clients/svc", None).await;
    assert!(
        v.get("client_secret").is_none() && !v.to_string().contains(&secret),
        "never shown again"
    );
    let (_, v) = a
        .call(M::POST, "/admin/api/v1/clients/svc/secret", None)
        .await;
    let new_secret = v["client_secret"].as_str().unwrap().to_string();
    let old = a
        .app
        .post_form(
            "/oauth/token",
            Some(("svc", &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "the old secret stops working at once"
    );
    a.app
        .token(
            ("svc", &new_secret),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let (status, v) = a
        .call(
            M::PATCH,
            "/admin/api/v1/clients/svc",
            Some(json!({ "scopes": ["read", "write"], "access_ttl": 60 })),
        )
        .await;
    assert_eq!(
        (status, v["access_ttl"].as_i64()),
        (StatusCode::OK, Some(60))
    );
    assert_eq!(
        a.call(
            M::PATCH,
            "/admin/api/v1/clients/svc",
            Some(json!({ "grant_types": ["magic"] }))
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        a.call(
            M::PATCH,
            "/admin/api/v1/clients/svc",
            Some(json!({ "redirect_uris": ["javascript:x"] }))
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let (_, list) = a.call(M::GET, "/admin/api/v1/clients", None).await;
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["client_id"] == "svc"));
    assert_eq!(
        a.call(M::DELETE, "/admin/api/v1/clients/svc", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert!(
        a.app
            .engine
            .check_access_token(t["access_token"].as_str().unwrap())
            .await
            .unwrap()
            .is_none(),
        "the client's tokens are revoked"
    );
    assert_eq!(
        a.call(M::DELETE, "/admin/api/v1/clients/svc", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.call(M::GET, "/admin/api/v1/clients/svc", None).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, v) = a.call(M::POST, "/admin/api/v1/clients", Some(json!({ "client_id": "pub", "public": true, "grant_types": ["authorization_code"], "redirect_uris": ["https://app.test/cb"] }))).await;
    assert_eq!(
        (status, v["public"].as_bool()),
        (StatusCode::CREATED, Some(true))
    );
    assert!(v.get("client_secret").is_none());
}

#[tokio::test]
async fn tenants_orgs_and_memberships_are_managed() {
    let a = Admin::new().await;
    let (status, t) = a
        .call(
            M::POST,
            "/admin/api/v1/tenants",
            Some(json!({ "code": "NEW", "name": "新租户", "sms_second_factor": "always" })),
        )
        .await;
    assert_eq!(
        (status, t["sms_second_factor"].as_str()),
        (StatusCode::CREATED, Some("always")),
        "{t}"
    );
    assert_eq!(
        a.call(
            M::POST,
            "/admin/api/v1/tenants",
            Some(json!({ "code": "NEW", "name": "x" }))
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        a.call(
            M::POST,
            "/admin/api/v1/tenants",
            Some(json!({ "code": "X", "name": "x", "sms_second_factor": "sometimes" }))
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let (status, v) = a
        .call(
            M::PATCH,
            "/admin/api/v1/tenants/NEW",
            Some(json!({ "sso_url": "https://sso.new.test" })),
        )
        .await;
    assert_eq!(
        (status, v["sso_url"].as_str()),
        (StatusCode::OK, Some("https://sso.new.test"))
    );
    assert_eq!(
        a.call(
            M::PATCH,
            "/admin/api/v1/tenants/NOPE",
            Some(json!({ "name": "x" }))
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (status, o) = a
        .call(
            M::POST,
            "/admin/api/v1/tenants/NEW/orgs",
            Some(json!({ "code": "HQ", "name": "总部", "type": "CHANNEL" })),
        )
        .await;
    assert_eq!(
        (status, o["type"].as_str()),
        (StatusCode::CREATED, Some("CHANNEL"))
    );
    assert_eq!(
        a.call(
            M::POST,
            "/admin/api/v1/tenants/NEW/orgs",
            Some(json!({ "code": "HQ", "name": "again" }))
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    let (_, v) = a
        .call(
            M::PATCH,
            "/admin/api/v1/tenants/NEW/orgs/HQ",
            Some(json!({ "logo": "https://logo.test/x.png" })),
        )
        .await;
    assert_eq!(v["logo"], "https://logo.test/x.png");
    let (_, list) = a.call(M::GET, "/admin/api/v1/tenants/NEW/orgs", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let id = a.user_id("amy").await;
    let path = format!("/admin/api/v1/users/{id}/memberships/NEW/HQ");
    assert_eq!(
        a.call(
            M::PUT,
            &path,
            Some(json!({ "roles": ["admin"], "default": true }))
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (_, u) = a
        .call(M::GET, &format!("/admin/api/v1/users/{id}"), None)
        .await;
    let ms = u["memberships"].as_array().unwrap();
    assert!(
        ms.iter().any(|m| m["tenant"] == "NEW"
            && m["default"] == true
            && m["roles"] == json!(["admin"])),
        "{u}"
    );
    assert_eq!(
        ms.iter().filter(|m| m["default"] == true).count(),
        1,
        "one default membership"
    );
    assert_eq!(
        a.call(
            M::PUT,
            &format!("/admin/api/v1/users/{id}/memberships/NEW/NOPE"),
            Some(json!({}))
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.call(M::DELETE, &path, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        a.call(M::DELETE, &path, None).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, ts) = a.call(M::GET, "/admin/api/v1/tenants", None).await;
    assert!(ts["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["code"] == "NEW"));
    assert_eq!(
        a.call(M::GET, "/admin/api/v1/tenants/NEW", None).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn app_keys_are_created_with_a_secret_shown_once_disabled_and_rotated() {
    let app = TestApp::spawn(&format!(
        "{BOOT}\n[[products]]\nid = 7\nname = \"CRM\"\n[[org_products]]\norg = \"A/O\"\nproduct = 7\nname = \"CRM A\"\n"
    ))
    .await;
    let token = app
        .token(
            ("ops", "ops-secret"),
            &[("grant_type", "client_credentials")],
        )
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let a = Admin { app, token };
    let body = json!({ "app_id": "app", "app_key": "k1", "tenant": "A", "org": "O", "product": 7 });
    let (status, v) = a
        .call(M::POST, "/admin/api/v1/app-keys", Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let secret = v["app_secret"].as_str().unwrap().to_string();
    assert_eq!(
        a.call(M::POST, "/admin/api/v1/app-keys", Some(body))
            .await
            .0,
        StatusCode::CONFLICT
    );
    let (status, v) = a.call(M::POST, "/admin/api/v1/app-keys", Some(json!({ "app_id": "app", "app_key": "k2", "tenant": "A", "org": "O", "product": 8 }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().starts_with("product"));
    let login = |secret: String| {
        let app = &a.app;
        async move {
            app.post_json("/api/base/token/login", &json!({ "appId": "app", "appKey": "k1", "appSecret": secret, "loginType": "APP_KEY" })).await.status
        }
    };
    assert_eq!(login(secret.clone()).await, StatusCode::OK);
    let (_, v) = a.call(M::GET, "/admin/api/v1/app-keys", None).await;
    assert!(!v.to_string().contains(&secret));
    assert_eq!(
        a.call(
            M::PATCH,
            "/admin/api/v1/app-keys/k1",
            Some(json!({ "enabled": false }))
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(login(secret.clone()).await, StatusCode::FORBIDDEN);
    a.call(
        M::PATCH,
        "/admin/api/v1/app-keys/k1",
        Some(json!({ "enabled": true })),
    )
    .await;
    let (_, v) = a
        .call(M::POST, "/admin/api/v1/app-keys/k1/secret", None)
        .await;
    assert_eq!(login(secret).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login(v["app_secret"].as_str().unwrap().to_string()).await,
        StatusCode::OK
    );
    assert_eq!(
        a.call(
            M::PATCH,
            "/admin/api/v1/app-keys/nope",
            Some(json!({ "enabled": true }))
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn products_their_org_links_and_open_login_ways_are_managed() {
    let a = Admin::new().await;
    let (status, v) = a
        .call(
            M::POST,
            "/admin/api/v1/products",
            Some(json!({ "id": 9, "name": "ERP" })),
        )
        .await;
    assert_eq!(
        (status, v["name"].as_str()),
        (StatusCode::CREATED, Some("ERP"))
    );
    assert_eq!(
        a.call(
            M::POST,
            "/admin/api/v1/products",
            Some(json!({ "id": 9, "name": "again" }))
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        a.call(M::POST, "/admin/api/v1/products", Some(json!({ "id": 10 })))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        a.call(
            M::PATCH,
            "/admin/api/v1/products/9",
            Some(json!({ "name": "ERP 2" }))
        )
        .await
        .1["name"],
        "ERP 2"
    );
    assert_eq!(
        a.call(
            M::PATCH,
            "/admin/api/v1/products/99",
            Some(json!({ "name": "x" }))
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let link = "/admin/api/v1/tenants/A/orgs/O/products/9";
    assert_eq!(
        a.call(M::PUT, link, Some(json!({ "name": "ERP · O" })))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (status, _) = a
        .call(
            M::POST,
            "/admin/api/v1/app-keys",
            Some(
                json!({ "app_id": "x", "app_key": "kx", "tenant": "A", "org": "O", "product": 9 }),
            ),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the link makes the product usable for app keys"
    );
    assert_eq!(
        a.call(M::DELETE, link, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(a.call(M::DELETE, link, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        a.call(
            M::PUT,
            "/admin/api/v1/tenants/A/orgs/O/products/404",
            Some(json!({ "name": "x" }))
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = a
        .call(
            M::PUT,
            "/admin/api/v1/open-login-ways/dingtalk",
            Some(json!({ "name": "钉钉", "url": "https://login.dingtalk.test/", "position": 1 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        a.call(
            M::PUT,
            "/admin/api/v1/open-login-ways/bad",
            Some(json!({ "name": "x", "url": "javascript:alert(1)" }))
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let init = a.app.get("/oauth/public/login/init-params").await.json();
    assert_eq!(init["openLoginWays"][0]["code"], "dingtalk");
    let (_, ws) = a.call(M::GET, "/admin/api/v1/open-login-ways", None).await;
    assert_eq!(ws["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        a.call(M::DELETE, "/admin/api/v1/open-login-ways/dingtalk", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        a.call(M::DELETE, "/admin/api/v1/open-login-ways/dingtalk", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, ps) = a.call(M::GET, "/admin/api/v1/products", None).await;
    assert_eq!(ps["items"][0]["id"], 9);
}

/// configuration.md: the bootstrap file is applied at every start, and "applying the same file
/// twice changes nothing; a changed field is updated". So what changed at run time (a lock,
/// a password reset, a disabled user, a rotated client secret) survives the same file applied
/// again, and an entry the file changes is updated.
#[tokio::test]
async fn the_same_bootstrap_file_applied_again_keeps_what_changed_at_run_time() {
    let a = Admin::new().await;
    let (amy, ben) = (a.user_id("amy").await, a.user_id("ben").await);
    for _ in 0..5 {
        a.sign_in("amy", "wrong").await;
    }
    assert_eq!(
        a.sign_in("amy", "pw-amy-123").await,
        StatusCode::BAD_REQUEST,
        "locked"
    );
    assert_eq!(
        a.call(
            M::POST,
            &format!("/admin/api/v1/users/{ben}/password"),
            Some(json!({ "password": "ben-new-pw" }))
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (_, rotated) = a
        .call(M::POST, "/admin/api/v1/clients/weak/secret", None)
        .await;
    let weak_secret = rotated["client_secret"].as_str().unwrap().to_string();
    let report = a.app.engine.apply_bootstrap_text(BOOT).await.unwrap();
    assert_eq!(report.changed, 0, "{report:?}");
    // The rotated secret stands (the file's secret is refused), and with it:
    assert_eq!(
        a.sign_in("amy", "pw-amy-123").await,
        StatusCode::UNAUTHORIZED
    );
    let signs_in = |user: &'static str, pw: &'static str| {
        let (app, secret) = (&a.app, weak_secret.clone());
        async move {
            app.post_form(
                "/oauth/token",
                Some(("weak", &secret)),
                &[
                    ("grant_type", "password"),
                    ("username", user),
                    ("password", pw),
                ],
            )
            .await
            .status
        }
    };
    assert_eq!(
        signs_in("amy", "pw-amy-123").await,
        StatusCode::BAD_REQUEST,
        "still locked"
    );
    assert_eq!(
        signs_in("ben", "ben-new-pw").await,
        StatusCode::OK,
        "the reset stands"
    );
    // The file changes ben's entry (and his password): that entry is applied; amy's lock,
    // which the file does not set, still holds.
    let changed = BOOT.replace(
        "username = \"ben\"\npassword = \"pw-ben-123\"",
        "username = \"ben\"\npassword = \"pw-ben-456\"\ndisplay_name = \"Ben\"",
    );
    let report = a.app.engine.apply_bootstrap_text(&changed).await.unwrap();
    assert_eq!(report.changed, 1, "{report:?}");
    assert_eq!(signs_in("ben", "pw-ben-456").await, StatusCode::OK);
    assert_eq!(signs_in("amy", "pw-amy-123").await, StatusCode::BAD_REQUEST);
    let (_, v) = a
        .call(M::GET, &format!("/admin/api/v1/users/{amy}"), None)
        .await;
    assert!(v["locked_until"].as_i64().is_some(), "{v}");
}
