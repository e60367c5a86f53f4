//! `GET /openapi.json` (`docs/reference/oauth.md`, "Operations"): an OpenAPI 3 document of every
//! endpoint, made from the same list as the router.

use crate::fixtures::*;
use reqwest::StatusCode;
use serde_json::Value;

/// Every JSON endpoint the contract names (`docs/reference/oauth.md`), by method and path.
const CONTRACT: &[(&str, &str)] = &[
    ("get", "/.well-known/openid-configuration"),
    ("get", "/oauth/jwks"),
    ("get", "/oauth/authorize"),
    ("post", "/oauth/token"),
    ("get", "/oauth/userinfo"),
    ("post", "/oauth/userinfo"),
    ("post", "/oauth/introspect"),
    ("post", "/oauth/revoke"),
    ("get", "/oauth/logout"),
    ("get", "/login"),
    ("post", "/login"),
    ("post", "/oauth/sms/code"),
    ("get", "/oauth/public/login/init-params"),
    ("get", "/oauth/public/key"),
    ("get", "/oauth/public/captcha"),
    ("post", "/oauth/public/captcha/sms"),
    ("post", "/api/base/token/login"),
    ("post", "/api/base/token/refresh"),
    ("get", "/api/sso/authz/oauth/v20/authorize"),
    ("get", "/api/sso/authz/oauth/v20/token"),
    ("post", "/api/sso/authz/oauth/v20/token"),
    ("get", "/api/sso/authz/oauth/v20/me"),
    ("post", "/api/sso/authz/oauth/v20/me"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("get", "/admin/api/v1/tenants"),
    ("get", "/admin/api/v1/tenants/{code}/orgs"),
    ("get", "/admin/api/v1/users"),
    ("post", "/admin/api/v1/users/{id}/unlock"),
    ("post", "/admin/api/v1/users/{id}/password"),
    ("put", "/admin/api/v1/users/{id}/memberships/{tenant}/{org}"),
    ("get", "/admin/api/v1/clients"),
    ("get", "/admin/api/v1/app-keys"),
    ("get", "/admin/api/v1/products"),
    ("get", "/admin/api/v1/users/{id}/sessions"),
    ("delete", "/admin/api/v1/sessions/{id}"),
    ("get", "/admin/api/v1/audit"),
];

async fn document(app: &tessera_testkit::TestApp) -> Value {
    let r = app.get("/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("application/json"));
    r.json()
}

fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = vec![];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in ["get", "post", "put", "patch", "delete"] {
            if item.get(m).is_some() {
                ops.push((m.to_string(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn the_openapi_document_covers_every_endpoint_of_the_contract() {
    let app = app().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let ops = operations(&doc);
    for (m, p) in CONTRACT {
        assert!(
            ops.iter().any(|(om, op)| om == m && op == p),
            "{m} {p} is not in /openapi.json"
        );
    }
    // The admin API is documented with its Bearer scheme.
    assert!(doc["components"]["securitySchemes"]["admin"].is_object());
    assert!(doc["paths"]["/admin/api/v1/users"]["get"]["security"].is_array());
    assert!(ops.len() >= 60, "{} operations", ops.len());
}

/// The other direction: every documented operation is routed (the router and the document are
/// one list, so this holds by construction; the test keeps it so).
#[tokio::test]
async fn every_documented_operation_is_answered_by_a_route() {
    let app = app().await;
    let doc = document(&app).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (m, p) in operations(&doc) {
        let path = p
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let method = reqwest::Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
        let r = client.request(method, app.url(&path)).send().await.unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{m} {p}");
        assert!(
            !(status == StatusCode::NOT_FOUND && body == r#"{"error":"not_found"}"#),
            "{m} {p} fell through to the fallback"
        );
        assert!(!status.is_server_error(), "{m} {p}: {status} {body}");
    }
}

/// OpenAPI requires unique operation ids; and three admin bodies share a Rust name
/// (`CreateBody`), so each must be documented under a name of its own, or one overwrites the
/// others and a client generated from the document sends the wrong fields.
#[tokio::test]
async fn operation_ids_are_unique_and_each_admin_body_has_its_own_schema() {
    let app = app().await;
    let doc = document(&app).await;
    let mut ids = std::collections::HashSet::new();
    for (m, p) in operations(&doc) {
        let id = doc["paths"][&p][&m]["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{m} {p} has no operationId"))
            .to_string();
        assert!(ids.insert(id.clone()), "operationId {id} twice ({m} {p})");
    }
    for (path, schema) in [
        ("/admin/api/v1/users", "UserCreateBody"),
        ("/admin/api/v1/clients", "ClientCreateBody"),
        ("/admin/api/v1/app-keys", "AppKeyCreateBody"),
    ] {
        let r = &doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"];
        assert_eq!(r, &format!("#/components/schemas/{schema}"), "{path}");
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    app.stop().await;
}
