//! Tenant-scoped admin tokens (`tessera:admin:TENANT`), user–product links, and failed sign-ins
//! in the audit log with the user's id (issue 6).

use reqwest::{Method as M, StatusCode};
use serde_json::{json, Value};
use tessera_testkit::TestApp;

const BOOT: &str = r#"
[[tenants]]
code = "A"
id = 1
name = "A"
[[tenants]]
code = "B"
id = 2
name = "B"
[[orgs]]
tenant = "A"
code = "OA"
name = "OA"
[[orgs]]
tenant = "B"
code = "OB"
name = "OB"
[[products]]
id = 7
name = "CRM"
[[org_products]]
org = "A/OA"
product = 7
name = "CRM of A"
[[users]]
username = "amy"
password = "pw-amy-123"
[[users]]
username = "bea"
password = "pw-bea-123"
[[memberships]]
user = "amy"
tenant = "A"
org = "OA"
default = true
[[memberships]]
user = "bea"
tenant = "B"
org = "OB"
default = true
[[clients]]
client_id = "ops"
client_secret = "ops-secret"
grant_types = ["client_credentials"]
scopes = ["tessera:admin"]
[[clients]]
client_id = "ops-a"
client_secret = "ops-a-secret"
grant_types = ["client_credentials"]
scopes = ["tessera:admin:A"]
[[clients]]
client_id = "app-a"
client_secret = "s"
grant_types = ["client_credentials"]
tenant = "A"
[[clients]]
client_id = "app-b"
client_secret = "s"
grant_types = ["client_credentials"]
tenant = "B"
[[clients]]
client_id = "pw"
client_secret = "pw-secret"
grant_types = ["password"]
[[app_keys]]
app_id = "ka"
app_key = "key-a"
app_secret = "secret-a"
org = "A/OA"
product = 7
[[app_keys]]
app_id = "kb"
app_key = "key-b"
app_secret = "secret-b"
org = "B/OB"
product = 7
"#;

/// A caller of the admin API with a client_credentials token (shared with `tenant_isolation`).
pub(crate) struct Caller<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) token: String,
}

impl Caller<'_> {
    pub(crate) async fn new<'a>(app: &'a TestApp, client: (&str, &str)) -> Caller<'a> {
        let v = app
            .token(client, &[("grant_type", "client_credentials")])
            .await;
        Caller {
            app,
            token: v["access_token"].as_str().unwrap().to_string(),
        }
    }

    pub(crate) async fn call(
        &self,
        method: M,
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

    pub(crate) async fn status(&self, method: M, path: &str, body: Option<Value>) -> StatusCode {
        self.call(method, path, body).await.0
    }
}

pub(crate) async fn user_id(ops: &Caller<'_>, name: &str) -> i64 {
    let (_, v) = ops
        .call(
            M::GET,
            &format!("/admin/api/v1/users?username={name}"),
            None,
        )
        .await;
    v["items"][0]["id"].as_i64().unwrap()
}

fn codes(v: &Value, key: &str) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_tenant_scoped_admin_token_sees_and_changes_only_its_tenant() {
    let app = TestApp::spawn(BOOT).await;
    let ops = Caller::new(&app, ("ops", "ops-secret")).await;
    let a = Caller::new(&app, ("ops-a", "ops-a-secret")).await;
    let (amy, bea) = (user_id(&ops, "amy").await, user_id(&ops, "bea").await);

    // Tenants: its own only; nothing global.
    let (s, v) = a.call(M::GET, "/admin/api/v1/tenants", None).await;
    assert_eq!(
        (s, codes(&v, "code")),
        (StatusCode::OK, vec!["A".to_string()])
    );
    assert_eq!(
        a.status(M::GET, "/admin/api/v1/tenants/B", None).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.status(M::GET, "/admin/api/v1/tenants/A/orgs", None).await,
        StatusCode::OK
    );
    assert_eq!(
        a.status(M::GET, "/admin/api/v1/tenants/B/orgs", None).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.status(
            M::POST,
            "/admin/api/v1/tenants",
            Some(json!({"code": "C", "name": "C"}))
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        a.status(
            M::POST,
            "/admin/api/v1/products",
            Some(json!({"id": 8, "name": "X"}))
        )
        .await,
        StatusCode::FORBIDDEN
    );

    // Users: the tenant's members only.
    let (s, v) = a.call(M::GET, "/admin/api/v1/users", None).await;
    assert_eq!(
        (s, codes(&v, "username")),
        (StatusCode::OK, vec!["amy".to_string()])
    );
    assert_eq!(
        a.status(M::GET, "/admin/api/v1/users?tenant=B", None).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.status(M::GET, &format!("/admin/api/v1/users/{amy}"), None)
            .await,
        StatusCode::OK
    );
    for (m, p) in [
        (M::GET, format!("/admin/api/v1/users/{bea}")),
        (M::POST, format!("/admin/api/v1/users/{bea}/unlock")),
        (M::GET, format!("/admin/api/v1/users/{bea}/tokens")),
        (M::DELETE, format!("/admin/api/v1/users/{bea}")),
    ] {
        assert_eq!(
            a.status(m.clone(), &p, None).await,
            StatusCode::NOT_FOUND,
            "{m} {p}"
        );
    }
    assert_eq!(
        a.status(
            M::PATCH,
            &format!("/admin/api/v1/users/{bea}"),
            Some(json!({"enabled": false}))
        )
        .await,
        StatusCode::NOT_FOUND
    );
    // bea is untouched.
    let (_, v) = ops
        .call(M::GET, &format!("/admin/api/v1/users/{bea}"), None)
        .await;
    assert_eq!(v["enabled"], json!(true));

    // A user it creates joins its tenant; another tenant's user cannot be pulled in.
    let (s, v) = a
        .call(
            M::POST,
            "/admin/api/v1/users",
            Some(json!({"username": "cara", "password": "pw-cara-123"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let cara = v["id"].as_i64().unwrap();
    let m = json!({"roles": ["user"], "default": true});
    assert_eq!(
        a.status(
            M::PUT,
            &format!("/admin/api/v1/users/{cara}/memberships/B/OB"),
            Some(m.clone())
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.status(
            M::PUT,
            &format!("/admin/api/v1/users/{cara}/memberships/A/OA"),
            Some(m.clone())
        )
        .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        a.status(M::GET, &format!("/admin/api/v1/users/{cara}"), None)
            .await,
        StatusCode::OK
    );
    assert_eq!(
        a.status(
            M::PUT,
            &format!("/admin/api/v1/users/{bea}/memberships/A/OA"),
            Some(m)
        )
        .await,
        StatusCode::NOT_FOUND
    );

    // Clients: those bound to the tenant; new ones are bound to it; no admin scope handed out.
    let (_, v) = a.call(M::GET, "/admin/api/v1/clients", None).await;
    assert_eq!(codes(&v, "client_id"), vec!["app-a".to_string()]);
    assert_eq!(
        a.status(M::GET, "/admin/api/v1/clients/app-b", None).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.status(M::POST, "/admin/api/v1/clients/app-b/secret", None)
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.status(M::DELETE, "/admin/api/v1/clients/app-b", None)
            .await,
        StatusCode::NOT_FOUND
    );
    let (s, v) = a
        .call(
            M::POST,
            "/admin/api/v1/clients",
            Some(json!({"client_id": "new-a", "grant_types": ["client_credentials"]})),
        )
        .await;
    assert_eq!(
        (s, v["tenant_id"].as_i64()),
        (StatusCode::CREATED, Some(1)),
        "{v}"
    );
    assert_eq!(
        a.status(
            M::POST,
            "/admin/api/v1/clients",
            Some(json!({"client_id": "evil", "scopes": ["tessera:admin"]}))
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        a.status(
            M::PATCH,
            "/admin/api/v1/clients/app-a",
            Some(json!({"scopes": ["tessera:admin:B"]}))
        )
        .await,
        StatusCode::FORBIDDEN
    );

    // App keys of its orgs only.
    let (_, v) = a.call(M::GET, "/admin/api/v1/app-keys", None).await;
    assert_eq!(codes(&v, "app_key"), vec!["key-a".to_string()]);
    assert_eq!(
        a.status(
            M::PATCH,
            "/admin/api/v1/app-keys/key-b",
            Some(json!({"enabled": false}))
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.status(M::POST, "/admin/api/v1/app-keys/key-b/secret", None)
            .await,
        StatusCode::NOT_FOUND
    );

    // The audit log: per user of the tenant.
    assert_eq!(
        a.status(M::GET, "/admin/api/v1/audit", None).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        a.status(M::GET, &format!("/admin/api/v1/audit?user={amy}"), None)
            .await,
        StatusCode::OK
    );
    assert_eq!(
        a.status(M::GET, &format!("/admin/api/v1/audit?user={bea}"), None)
            .await,
        StatusCode::NOT_FOUND
    );

    // A token for a tenant that does not exist is refused.
    let (s, v) = ops
        .call(
            M::POST,
            "/admin/api/v1/clients",
            Some(json!({"client_id": "ghost", "grant_types": ["client_credentials"], "scopes": ["tessera:admin:NOPE"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let secret = v["client_secret"].as_str().unwrap().to_string();
    let ghost = Caller::new(&app, ("ghost", &secret)).await;
    assert_eq!(
        ghost.status(M::GET, "/admin/api/v1/users", None).await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn user_product_links_are_set_listed_and_removed() {
    let app = TestApp::spawn(BOOT).await;
    let ops = Caller::new(&app, ("ops", "ops-secret")).await;
    let (amy, bea) = (user_id(&ops, "amy").await, user_id(&ops, "bea").await);
    let link = format!("/admin/api/v1/users/{amy}/products/A/OA/7");
    assert_eq!(
        ops.status(M::PUT, &link, Some(json!({"system_admin": true})))
            .await,
        StatusCode::NO_CONTENT
    );
    // Idempotent, and the flag changes.
    assert_eq!(
        ops.status(M::PUT, &link, Some(json!({"system_admin": false})))
            .await,
        StatusCode::NO_CONTENT
    );
    let (s, v) = ops
        .call(M::GET, &format!("/admin/api/v1/users/{amy}/products"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["items"],
        json!([{"tenant": "A", "org": "OA", "product_id": 7, "system_admin": false}])
    );
    // bea is not a member of A/OA; B/OB is not linked to product 7; unknown ids are 404.
    let (s, v) = ops
        .call(
            M::PUT,
            &format!("/admin/api/v1/users/{bea}/products/A/OA/7"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().starts_with("org:"), "{v}");
    let (s, v) = ops
        .call(
            M::PUT,
            &format!("/admin/api/v1/users/{bea}/products/B/OB/7"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["message"].as_str().unwrap().starts_with("product:"),
        "{v}"
    );
    assert_eq!(
        ops.status(
            M::PUT,
            "/admin/api/v1/users/999999/products/A/OA/7",
            Some(json!({}))
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ops.status(M::PUT, &link, Some(json!({"system_admin": "yes"})))
            .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        ops.status(M::DELETE, &link, None).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        ops.status(M::DELETE, &link, None).await,
        StatusCode::NOT_FOUND
    );
    let (_, v) = ops
        .call(M::GET, &format!("/admin/api/v1/users/{amy}/products"), None)
        .await;
    assert_eq!(v["items"], json!([]));
}

#[tokio::test]
async fn a_failed_sign_in_is_in_the_audit_log_under_the_users_id() {
    let app = TestApp::spawn(BOOT).await;
    let ops = Caller::new(&app, ("ops", "ops-secret")).await;
    let amy = user_id(&ops, "amy").await;
    let r = app
        .post_form(
            "/oauth/token",
            Some(("pw", "pw-secret")),
            &[
                ("grant_type", "password"),
                ("username", "amy"),
                ("password", "wrong-one"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let (s, v) = ops
        .call(
            M::GET,
            &format!("/admin/api/v1/audit?user={amy}&kind=login"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let e = &v["items"][0];
    assert_eq!(e["outcome"], json!("password_wrong"), "{v}");
    assert_eq!(e["user_id"], json!(amy));
    assert!(e["detail"].as_str().unwrap().contains("name=amy"));
    assert!(!e["detail"].as_str().unwrap().contains("wrong-one"));
}

/// Issue 17: only a global admin makes or unmakes a superuser, and a superuser's account is
/// beyond a tenant admin even when it is a member of that tenant.
#[tokio::test]
async fn only_a_global_admin_makes_a_superuser_or_changes_its_account() {
    let app = TestApp::spawn(BOOT).await;
    let ops = Caller::new(&app, ("ops", "ops-secret")).await;
    let a = Caller::new(&app, ("ops-a", "ops-a-secret")).await;
    let amy = user_id(&ops, "amy").await;

    let (s, v) = a
        .call(
            M::POST,
            "/admin/api/v1/users",
            Some(json!({"username": "sneaky", "password": "pw-sneaky-1", "superuser": true})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let path = format!("/admin/api/v1/users/{amy}");
    let s = a
        .status(M::PATCH, &path, Some(json!({"superuser": true})))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, v) = ops
        .call(M::PATCH, &path, Some(json!({"superuser": true})))
        .await;
    assert_eq!((s, v["superuser"].as_bool()), (StatusCode::OK, Some(true)));
    // amy is a member of A only, yet A's admin may no longer touch her account.
    for (m, p, body) in [
        (M::POST, format!("{path}/password"), Some(json!({}))),
        (M::PATCH, path.clone(), Some(json!({"enabled": false}))),
        (M::DELETE, format!("{path}/tokens"), None),
    ] {
        assert_eq!(a.status(m, &p, body).await, StatusCode::FORBIDDEN, "{p}");
    }
    let (s, v) = a.call(M::GET, &path, None).await;
    assert_eq!((s, v["superuser"].as_bool()), (StatusCode::OK, Some(true)));
    let (s, v) = ops
        .call(M::PATCH, &path, Some(json!({"superuser": false})))
        .await;
    assert_eq!((s, v["superuser"].as_bool()), (StatusCode::OK, Some(false)));
    assert_eq!(
        a.status(M::PATCH, &path, Some(json!({"enabled": false})))
            .await,
        StatusCode::OK
    );
    app.stop().await;
}
