//! Issue 15, findings 1 to 4: a tenant admin (`tessera:admin:A`) cannot reach tenant B, nor
//! become a global admin. Each test replays an attack of the review and then looks through the
//! global admin API, or a sign-in, that it had no effect. The matrix at the end tries every
//! admin endpoint against B's objects by id, by listing, by filter, by link and by move.

use crate::admin_scope::{user_id, Caller};
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
[[org_products]]
org = "B/OB"
product = 7
name = "CRM of B"
[[users]]
username = "amy"
password = "pw-amy-123"
[[users]]
username = "bea"
password = "pw-bea-123"
phone = "13500000002"
email = "bea@b.test"
[[users]]
username = "sam"
password = "pw-sam-123"
phone = "13500000003"
[[memberships]]
user = "amy"
tenant = "A"
org = "OA"
roles = ["user"]
default = true
[[memberships]]
user = "bea"
tenant = "B"
org = "OB"
roles = ["admin"]
default = true
[[memberships]]
user = "sam"
tenant = "A"
org = "OA"
roles = ["user"]
[[memberships]]
user = "sam"
tenant = "B"
org = "OB"
roles = ["admin"]
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
client_id = "ops-b"
client_secret = "ops-b-secret"
grant_types = ["client_credentials"]
scopes = ["tessera:admin:B"]
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
grant_types = ["password", "refresh_token"]
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

/// A password sign-in at the standard token endpoint.
async fn sign_in(app: &TestApp, user: &str, password: &str) -> Value {
    app.token(
        ("pw", "pw-secret"),
        &[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ],
    )
    .await
}

#[tokio::test]
async fn a_tenant_admin_cannot_become_a_global_admin_through_a_scope_with_a_space() {
    let app = TestApp::spawn(BOOT).await;
    let a = Caller::new(&app, ("ops-a", "ops-a-secret")).await;
    let ops = Caller::new(&app, ("ops", "ops-secret")).await;
    // The review's attack: one entry that becomes two scopes once joined.
    let (s, v) = a
        .call(
            M::POST,
            "/admin/api/v1/clients",
            Some(json!({"client_id": "evil", "grant_types": ["client_credentials"], "scopes": ["x tessera:admin"]})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"], "invalid_request");
    // Nor through an update of its own client.
    assert_eq!(
        a.status(
            M::PATCH,
            "/admin/api/v1/clients/app-a",
            Some(json!({"scopes": ["openid tessera:admin"]}))
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    // Nor by the global scope, another tenant's, or a reserved scope it does not hold.
    for scope in [
        "tessera:admin",
        "tessera:admin:B",
        "tessera:introspect",
        "tessera:x",
    ] {
        let (s, v) = a
            .call(
                M::POST,
                "/admin/api/v1/clients",
                Some(json!({"client_id": "evil2", "grant_types": ["client_credentials"], "scopes": [scope]})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{scope}: {v}");
    }
    // Empty entries are refused too, for the global admin as well.
    assert_eq!(
        ops.status(
            M::POST,
            "/admin/api/v1/clients",
            Some(json!({"client_id": "evil3", "scopes": ["", "openid"]}))
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        ops.status(
            M::POST,
            "/admin/api/v1/clients",
            Some(json!({"client_id": "evil4", "scopes": ["x tessera:admin"]}))
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    // No client was made, and app-a still has no scopes.
    for id in ["evil", "evil2", "evil3", "evil4"] {
        assert_eq!(
            ops.status(M::GET, &format!("/admin/api/v1/clients/{id}"), None)
                .await,
            StatusCode::NOT_FOUND,
            "{id}"
        );
    }
    let (_, v) = ops.call(M::GET, "/admin/api/v1/clients/app-a", None).await;
    assert_eq!(v["scopes"], json!([]));
    // What it may grant: ordinary scopes and its own tenant's admin scope; that client is
    // still a tenant-A admin and nothing more.
    let (s, v) = a
        .call(
            M::POST,
            "/admin/api/v1/clients",
            Some(json!({"client_id": "sub-a", "grant_types": ["client_credentials"], "scopes": ["openid", "tessera:admin:A"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["tenant_id"], 1);
    let sub = Caller::new(&app, ("sub-a", v["client_secret"].as_str().unwrap())).await;
    let (_, v) = sub.call(M::GET, "/admin/api/v1/tenants", None).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(
        sub.status(M::GET, "/admin/api/v1/tenants/B", None).await,
        StatusCode::NOT_FOUND
    );
    // Tenant codes are one scope token as well.
    assert_eq!(
        ops.status(
            M::POST,
            "/admin/api/v1/tenants",
            Some(json!({"code": "C tessera:admin", "name": "C"}))
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        ops.status(M::GET, "/admin/api/v1/tenants/C%20tessera:admin", None)
            .await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_tenant_admin_cannot_take_over_a_user_shared_with_another_tenant() {
    let app = TestApp::spawn(BOOT).await;
    let a = Caller::new(&app, ("ops-a", "ops-a-secret")).await;
    let ops = Caller::new(&app, ("ops", "ops-secret")).await;
    let sam = user_id(&ops, "sam").await;
    let live = sign_in(&app, "sam", "pw-sam-123").await;
    let refresh = live["refresh_token"].as_str().expect("refresh").to_string();

    let attempts: Vec<(M, String, Option<Value>)> = vec![
        (
            M::POST,
            format!("/admin/api/v1/users/{sam}/password"),
            Some(json!({"password": "taken-over-1"})),
        ),
        (M::POST, format!("/admin/api/v1/users/{sam}/password"), None),
        (
            M::PATCH,
            format!("/admin/api/v1/users/{sam}"),
            Some(json!({"phone": "13900000000"})),
        ),
        (
            M::PATCH,
            format!("/admin/api/v1/users/{sam}"),
            Some(json!({"email": "x@a.test"})),
        ),
        (
            M::PATCH,
            format!("/admin/api/v1/users/{sam}"),
            Some(json!({"enabled": false})),
        ),
        (M::DELETE, format!("/admin/api/v1/users/{sam}"), None),
        (M::POST, format!("/admin/api/v1/users/{sam}/unlock"), None),
        (M::DELETE, format!("/admin/api/v1/users/{sam}/tokens"), None),
        (M::GET, format!("/admin/api/v1/audit?user={sam}"), None),
        (
            M::PUT,
            format!("/admin/api/v1/users/{sam}/memberships/A/OA"),
            Some(json!({"roles": ["user"], "default": true})),
        ),
    ];
    for (m, path, body) in attempts {
        let (s, v) = a.call(m.clone(), &path, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m} {path}: {v}");
        assert_eq!(v["error"], "insufficient_scope");
    }

    // Nothing happened: the account is as it was, and signs in to B with its password.
    let (_, v) = ops
        .call(M::GET, &format!("/admin/api/v1/users/{sam}"), None)
        .await;
    assert_eq!(v["phone"], "13500000003");
    assert_eq!(v["email"], Value::Null);
    assert_eq!(v["enabled"], true);
    let default: Vec<&Value> = v["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["default"] == true)
        .collect();
    assert_eq!(default.len(), 1);
    assert_eq!(default[0]["tenant"], "B");
    assert!(sign_in(&app, "sam", "pw-sam-123").await["access_token"].is_string());
    assert!(
        app.token(
            ("pw", "pw-secret"),
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await["access_token"]
            .is_string(),
        "sam's tokens were not revoked"
    );

    // What the tenant admin still may do: read the user (its own tenant's part only) and
    // manage the membership in its own tenant.
    let (s, v) = a
        .call(M::GET, &format!("/admin/api/v1/users/{sam}"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let tenants: Vec<&str> = v["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(tenants, vec!["A"], "B's membership is not shown to A");
    let (_, v) = a
        .call(M::GET, &format!("/admin/api/v1/users/{sam}/tokens"), None)
        .await;
    assert_eq!(
        v["items"].as_array().unwrap().len(),
        0,
        "sam's B tokens are not listed to A: {v}"
    );
    assert_eq!(
        a.status(
            M::PUT,
            &format!("/admin/api/v1/users/{sam}/memberships/A/OA"),
            Some(json!({"roles": ["user", "viewer"]}))
        )
        .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        a.status(
            M::DELETE,
            &format!("/admin/api/v1/users/{sam}/memberships/A/OA"),
            None
        )
        .await,
        StatusCode::NO_CONTENT
    );
    // Once sam is B's alone, A does not see sam at all.
    assert_eq!(
        a.status(M::GET, &format!("/admin/api/v1/users/{sam}"), None)
            .await,
        StatusCode::NOT_FOUND
    );

    // A user wholly within A stays A's to manage.
    let amy = user_id(&ops, "amy").await;
    assert_eq!(
        a.status(
            M::POST,
            &format!("/admin/api/v1/users/{amy}/password"),
            Some(json!({"password": "new-amy-pass"}))
        )
        .await,
        StatusCode::NO_CONTENT
    );
    assert!(sign_in(&app, "amy", "new-amy-pass").await["access_token"].is_string());
}

#[tokio::test]
async fn an_app_key_can_only_sign_in_as_a_member_of_its_org() {
    let app = TestApp::spawn(BOOT).await;
    let a = Caller::new(&app, ("ops-a", "ops-a-secret")).await;
    let ops = Caller::new(&app, ("ops", "ops-secret")).await;
    let bea = user_id(&ops, "bea").await;
    let amy = user_id(&ops, "amy").await;
    let key = |k: &str, user: i64| json!({"app_id": k, "app_key": k, "tenant": "A", "org": "OA", "product": 7, "user_id": user});
    let (s1, foreign) = a
        .call(M::POST, "/admin/api/v1/app-keys", Some(key("k1", bea)))
        .await;
    let (s2, unknown) = a
        .call(
            M::POST,
            "/admin/api/v1/app-keys",
            Some(key("k2", 987_654_321)),
        )
        .await;
    assert_eq!((s1, s2), (StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST));
    assert_eq!(
        foreign, unknown,
        "a foreign id and an unknown one get the same answer"
    );
    // The global admin is held to the same rule: the key signs in as the user.
    assert_eq!(
        ops.status(M::POST, "/admin/api/v1/app-keys", Some(key("k3", bea)))
            .await,
        StatusCode::BAD_REQUEST
    );
    let (_, v) = ops.call(M::GET, "/admin/api/v1/app-keys", None).await;
    let keys: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["app_key"].as_str().unwrap())
        .collect();
    assert!(
        !keys.iter().any(|k| ["k1", "k2", "k3"].contains(k)),
        "{keys:?}"
    );
    // A member of the org is fine.
    assert_eq!(
        a.status(M::POST, "/admin/api/v1/app-keys", Some(key("k4", amy)))
            .await,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn an_unattached_user_is_attached_only_by_the_tenant_that_created_it() {
    let app = TestApp::spawn(BOOT).await;
    let a = Caller::new(&app, ("ops-a", "ops-a-secret")).await;
    let b = Caller::new(&app, ("ops-b", "ops-b-secret")).await;
    let ops = Caller::new(&app, ("ops", "ops-secret")).await;
    let create = |name: &str| json!({"username": name, "password": "pw-12345678"});
    // B's admin creates a user; A's admin cannot see it nor claim it.
    let (s, v) = b
        .call(M::POST, "/admin/api/v1/users", Some(create("newb")))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let newb = v["id"].as_i64().unwrap();
    let attach =
        |id: i64, t: &str, o: &str| format!("/admin/api/v1/users/{id}/memberships/{t}/{o}");
    assert_eq!(
        a.status(
            M::PUT,
            &attach(newb, "A", "OA"),
            Some(json!({"roles": ["user"], "default": true}))
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.status(M::GET, &format!("/admin/api/v1/users/{newb}"), None)
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.status(
            M::POST,
            &format!("/admin/api/v1/users/{newb}/password"),
            Some(json!({"password": "taken-over-1"}))
        )
        .await,
        StatusCode::NOT_FOUND
    );
    // A user created by the global admin belongs to no tenant's admin either.
    let (_, v) = ops
        .call(M::POST, "/admin/api/v1/users", Some(create("free")))
        .await;
    let free = v["id"].as_i64().unwrap();
    assert_eq!(
        a.status(
            M::PUT,
            &attach(free, "A", "OA"),
            Some(json!({"roles": ["user"]}))
        )
        .await,
        StatusCode::NOT_FOUND
    );
    // Its creator attaches it.
    assert_eq!(
        b.status(
            M::PUT,
            &attach(newb, "B", "OB"),
            Some(json!({"roles": ["user"], "default": true}))
        )
        .await,
        StatusCode::NO_CONTENT
    );
    let (_, v) = ops
        .call(M::GET, &format!("/admin/api/v1/users/{newb}"), None)
        .await;
    assert_eq!(v["memberships"].as_array().unwrap().len(), 1);
    assert_eq!(v["memberships"][0]["tenant"], "B");
    let (_, v) = ops
        .call(M::GET, &format!("/admin/api/v1/users/{free}"), None)
        .await;
    assert_eq!(v["memberships"], json!([]));
    // And A's own new user is A's to attach.
    let (_, v) = a
        .call(M::POST, "/admin/api/v1/users", Some(create("newa")))
        .await;
    let newa = v["id"].as_i64().unwrap();
    assert_eq!(
        a.status(
            M::PUT,
            &attach(newa, "A", "OA"),
            Some(json!({"roles": ["user"], "default": true}))
        )
        .await,
        StatusCode::NO_CONTENT
    );
}

/// The matrix: tenant A's admin against each of B's objects, through every admin endpoint.
/// Every case is refused (403 for what belongs to no tenant, 404 for B's objects, whose
/// existence is not told) or shows nothing of B.
#[tokio::test]
async fn a_tenant_admin_reaches_nothing_of_another_tenant_through_any_admin_endpoint() {
    let app = TestApp::spawn(BOOT).await;
    let a = Caller::new(&app, ("ops-a", "ops-a-secret")).await;
    let ops = Caller::new(&app, ("ops", "ops-secret")).await;
    let bea = user_id(&ops, "bea").await;
    let amy = user_id(&ops, "amy").await;
    // A live SSO session of bea's would be B's; the sessions list is checked by listing.
    let nf = StatusCode::NOT_FOUND;
    let fb = StatusCode::FORBIDDEN;
    let cases: Vec<(M, String, Option<Value>, StatusCode)> = vec![
        // Users of B, by id.
        (M::GET, format!("/admin/api/v1/users/{bea}"), None, nf),
        (
            M::PATCH,
            format!("/admin/api/v1/users/{bea}"),
            Some(json!({"display_name": "x"})),
            nf,
        ),
        (M::DELETE, format!("/admin/api/v1/users/{bea}"), None, nf),
        (
            M::POST,
            format!("/admin/api/v1/users/{bea}/unlock"),
            None,
            nf,
        ),
        (
            M::POST,
            format!("/admin/api/v1/users/{bea}/password"),
            Some(json!({"password": "taken-over-1"})),
            nf,
        ),
        (
            M::GET,
            format!("/admin/api/v1/users/{bea}/tokens"),
            None,
            nf,
        ),
        (
            M::DELETE,
            format!("/admin/api/v1/users/{bea}/tokens"),
            None,
            nf,
        ),
        (
            M::GET,
            format!("/admin/api/v1/users/{bea}/sessions"),
            None,
            nf,
        ),
        (
            M::GET,
            format!("/admin/api/v1/users/{bea}/products"),
            None,
            nf,
        ),
        (
            M::PUT,
            format!("/admin/api/v1/users/{bea}/products/B/OB/7"),
            Some(json!({"system_admin": true})),
            nf,
        ),
        (
            M::PUT,
            format!("/admin/api/v1/users/{bea}/products/A/OA/7"),
            Some(json!({"system_admin": true})),
            nf,
        ),
        // Users of B, by filter and by link.
        (M::GET, "/admin/api/v1/users?tenant=B".to_string(), None, nf),
        (M::GET, format!("/admin/api/v1/audit?user={bea}"), None, nf),
        (
            M::PUT,
            format!("/admin/api/v1/users/{bea}/memberships/A/OA"),
            Some(json!({"roles": ["user"]})),
            nf,
        ),
        (
            M::PUT,
            format!("/admin/api/v1/users/{bea}/memberships/B/OB"),
            Some(json!({"roles": ["user"]})),
            nf,
        ),
        (
            M::DELETE,
            format!("/admin/api/v1/users/{bea}/memberships/B/OB"),
            None,
            nf,
        ),
        // Moving A's user into B.
        (
            M::PUT,
            format!("/admin/api/v1/users/{amy}/memberships/B/OB"),
            Some(json!({"roles": ["admin"]})),
            nf,
        ),
        (
            M::PUT,
            format!("/admin/api/v1/users/{amy}/products/B/OB/7"),
            Some(json!({"system_admin": true})),
            nf,
        ),
        // Tenant B and its orgs.
        (M::GET, "/admin/api/v1/tenants/B".to_string(), None, nf),
        (
            M::PATCH,
            "/admin/api/v1/tenants/B".to_string(),
            Some(json!({"enabled": false})),
            nf,
        ),
        (M::GET, "/admin/api/v1/tenants/B/orgs".to_string(), None, nf),
        (
            M::POST,
            "/admin/api/v1/tenants/B/orgs".to_string(),
            Some(json!({"code": "X", "name": "X"})),
            nf,
        ),
        (
            M::PATCH,
            "/admin/api/v1/tenants/B/orgs/OB".to_string(),
            Some(json!({"enabled": false})),
            nf,
        ),
        (
            M::PUT,
            "/admin/api/v1/tenants/B/orgs/OB/products/7".to_string(),
            Some(json!({"name": "x"})),
            nf,
        ),
        (
            M::DELETE,
            "/admin/api/v1/tenants/B/orgs/OB/products/7".to_string(),
            None,
            nf,
        ),
        // Clients of B, and moving a client into B.
        (M::GET, "/admin/api/v1/clients/app-b".to_string(), None, nf),
        (
            M::PATCH,
            "/admin/api/v1/clients/app-b".to_string(),
            Some(json!({"redirect_uris": ["https://evil.test/cb"]})),
            nf,
        ),
        (
            M::DELETE,
            "/admin/api/v1/clients/app-b".to_string(),
            None,
            nf,
        ),
        (
            M::POST,
            "/admin/api/v1/clients/app-b/secret".to_string(),
            None,
            nf,
        ),
        (
            M::POST,
            "/admin/api/v1/clients".to_string(),
            Some(json!({"client_id": "into-b", "tenant_id": 2})),
            nf,
        ),
        (
            M::POST,
            "/admin/api/v1/clients".to_string(),
            Some(json!({"client_id": "app-b"})),
            nf,
        ),
        // Global clients (bound to no tenant).
        (M::GET, "/admin/api/v1/clients/pw".to_string(), None, nf),
        (
            M::PATCH,
            "/admin/api/v1/clients/ops".to_string(),
            Some(json!({"scopes": ["tessera:admin:A"]})),
            nf,
        ),
        // App keys of B.
        (
            M::PATCH,
            "/admin/api/v1/app-keys/key-b".to_string(),
            Some(json!({"enabled": false})),
            nf,
        ),
        (
            M::POST,
            "/admin/api/v1/app-keys/key-b/secret".to_string(),
            None,
            nf,
        ),
        (
            M::POST,
            "/admin/api/v1/app-keys".to_string(),
            Some(json!({"app_id": "x", "app_key": "x", "tenant": "B", "org": "OB", "product": 7})),
            nf,
        ),
        // What belongs to no tenant.
        (
            M::POST,
            "/admin/api/v1/tenants".to_string(),
            Some(json!({"code": "Z", "name": "Z"})),
            fb,
        ),
        (
            M::POST,
            "/admin/api/v1/products".to_string(),
            Some(json!({"id": 9, "name": "X"})),
            fb,
        ),
        (
            M::PATCH,
            "/admin/api/v1/products/7".to_string(),
            Some(json!({"name": "X"})),
            fb,
        ),
        (
            M::PUT,
            "/admin/api/v1/open-login-ways/wx".to_string(),
            Some(json!({"name": "x", "url": "https://x.test/"})),
            fb,
        ),
        (
            M::DELETE,
            "/admin/api/v1/open-login-ways/wx".to_string(),
            None,
            fb,
        ),
        (
            M::GET,
            "/admin/api/v1/audit".to_string(),
            None,
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (m, path, body, want) in cases {
        let (s, v) = a.call(m.clone(), &path, body).await;
        assert_eq!(s, want, "{m} {path}: {v}");
    }

    // Listings show A only.
    let names = |v: &Value, key: &str| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i[key].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let (_, v) = a.call(M::GET, "/admin/api/v1/users", None).await;
    let users = names(&v, "username");
    assert!(users.contains(&"amy".to_string()) && !users.contains(&"bea".to_string()));
    let (_, v) = a
        .call(M::GET, "/admin/api/v1/users?username=bea", None)
        .await;
    assert_eq!(v["items"], json!([]));
    let (_, v) = a.call(M::GET, "/admin/api/v1/tenants", None).await;
    assert_eq!(names(&v, "code"), vec!["A".to_string()]);
    let (_, v) = a.call(M::GET, "/admin/api/v1/clients", None).await;
    assert_eq!(names(&v, "client_id"), vec!["app-a".to_string()]);
    let (_, v) = a.call(M::GET, "/admin/api/v1/app-keys", None).await;
    assert_eq!(names(&v, "app_key"), vec!["key-a".to_string()]);
    let (_, v) = a
        .call(
            M::GET,
            &format!("/admin/api/v1/sessions?user_id={bea}"),
            None,
        )
        .await;
    assert_eq!(v["items"], json!([]));

    // And nothing of B changed, as the global admin sees it.
    let (_, v) = ops.call(M::GET, "/admin/api/v1/tenants/B", None).await;
    assert_eq!(v["enabled"], true);
    let (_, v) = ops.call(M::GET, "/admin/api/v1/clients/app-b", None).await;
    assert_eq!(v["redirect_uris"], json!([]));
    let (_, v) = ops
        .call(M::GET, &format!("/admin/api/v1/users/{bea}"), None)
        .await;
    assert_eq!(
        (
            v["enabled"].clone(),
            v["memberships"].as_array().unwrap().len()
        ),
        (json!(true), 1)
    );
    let (_, v) = ops.call(M::GET, "/admin/api/v1/app-keys", None).await;
    let b_key = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["app_key"] == "key-b")
        .cloned()
        .unwrap();
    assert_eq!(b_key["enabled"], true);
    assert!(
        sign_in(&app, "bea", "pw-bea-123").await["access_token"].is_string(),
        "bea still signs in with her own password"
    );
    assert_eq!(
        ops.status(M::GET, "/admin/api/v1/clients/into-b", None)
            .await,
        nf
    );
}

/// Review of issue 15: a tenant admin does not take over a client of its tenant that a global
/// admin gave more than it could grant; `appkey:` client ids are the app keys'; a suspended
/// tenant stays suspended; entries stored before scope tokens were checked grant nothing.
#[tokio::test]
async fn a_tenant_admin_cannot_take_over_a_more_powerful_client_or_an_app_keys_name() {
    let app = TestApp::spawn(BOOT).await;
    let a = Caller::new(&app, ("ops-a", "ops-a-secret")).await;
    let ops = Caller::new(&app, ("ops", "ops-secret")).await;
    let (s, v) = ops
        .call(
            M::POST,
            "/admin/api/v1/clients",
            Some(json!({"client_id": "rs-a", "tenant_id": 1, "grant_types": ["client_credentials"], "scopes": ["tessera:introspect"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        a.status(M::GET, "/admin/api/v1/clients/rs-a", None).await,
        StatusCode::OK
    );
    for (m, path, body) in [
        (
            M::PATCH,
            "/admin/api/v1/clients/rs-a",
            Some(json!({"redirect_uris": ["https://evil.test/cb"]})),
        ),
        (M::POST, "/admin/api/v1/clients/rs-a/secret", None),
        (M::DELETE, "/admin/api/v1/clients/rs-a", None),
    ] {
        let (s, v) = a.call(m.clone(), path, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m} {path}: {v}");
    }
    let (_, v) = ops.call(M::GET, "/admin/api/v1/clients/rs-a", None).await;
    assert_eq!(v["redirect_uris"], json!([]));

    for caller in [&a, &ops] {
        assert_eq!(
            caller
                .status(
                    M::POST,
                    "/admin/api/v1/clients",
                    Some(json!({"client_id": "appkey:key-b"}))
                )
                .await,
            StatusCode::BAD_REQUEST
        );
    }

    assert_eq!(
        a.status(
            M::PATCH,
            "/admin/api/v1/tenants/A",
            Some(json!({"enabled": false}))
        )
        .await,
        StatusCode::FORBIDDEN
    );

    // A client stored with a malformed entry (as the old check let through) gets no admin
    // scope out of it.
    let mut legacy = app
        .store
        .client_by_client_id("app-a")
        .await
        .unwrap()
        .unwrap();
    legacy.client_id = tessera_core::ids::ClientId("legacy".into());
    legacy.row_id = tessera_core::ids::ClientRowId(424_242);
    legacy.scopes = vec!["x tessera:admin".into(), "openid".into()];
    legacy.secret_hash = Some(tessera_core::secret::TokenHash::of("legacy-secret"));
    app.store.put_client(&legacy, 0).await.unwrap();
    let t = app
        .token(
            ("legacy", "legacy-secret"),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(t["scope"], "openid", "{t}");
    let l = Caller {
        app: &app,
        token: t["access_token"].as_str().unwrap().to_string(),
    };
    assert_eq!(
        l.status(M::GET, "/admin/api/v1/tenants", None).await,
        StatusCode::FORBIDDEN
    );
}

/// Removing a user's membership disables the org's app keys that sign in as that user.
#[tokio::test]
async fn an_app_key_stops_with_its_users_membership() {
    let app = TestApp::spawn(BOOT).await;
    let a = Caller::new(&app, ("ops-a", "ops-a-secret")).await;
    let ops = Caller::new(&app, ("ops", "ops-secret")).await;
    let sam = user_id(&ops, "sam").await;
    let (s, v) = a
        .call(
            M::POST,
            "/admin/api/v1/app-keys",
            Some(json!({"app_id": "ks", "app_key": "key-sam", "tenant": "A", "org": "OA", "product": 7, "user_id": sam})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let secret = v["app_secret"].as_str().unwrap().to_string();
    let login = |secret: String| {
        let app = &app;
        async move {
            app.post_json(
                "/api/base/token/login",
                &json!({"appId": "ks", "appKey": "key-sam", "appSecret": secret, "loginType": "APP_KEY"}),
            )
            .await
        }
    };
    assert_eq!(login(secret.clone()).await.status, StatusCode::OK);
    assert_eq!(
        a.status(
            M::DELETE,
            &format!("/admin/api/v1/users/{sam}/memberships/A/OA"),
            None
        )
        .await,
        StatusCode::NO_CONTENT
    );
    assert!(!login(secret).await.status.is_success());
    let (_, v) = ops.call(M::GET, "/admin/api/v1/app-keys", None).await;
    let k = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["app_key"] == "key-sam")
        .cloned()
        .unwrap();
    assert_eq!(k["enabled"], false);
}
