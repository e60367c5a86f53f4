//! Health and readiness, and the standard flow on the real PostgreSQL.

use crate::fixtures::*;
use reqwest::StatusCode;
use tessera_testkit::{pg, TestApp};

#[tokio::test]
async fn healthz_and_readyz_answer_200_while_the_database_answers() {
    let app = app().await;
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    let r = app.get("/readyz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("x-request-id").is_some(),
        "every answer carries a request id"
    );
}

#[tokio::test]
async fn readyz_is_503_while_postgresql_refuses_connections_and_200_after() {
    let Some(db) = pg::fresh_database().await else {
        return;
    };
    let url = db.url.clone();
    let app = TestApp::spawn_with(&bootstrap(), |c| c.database.url = url).await;
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    db.admin(&format!(
        "ALTER DATABASE {} ALLOW_CONNECTIONS false",
        db.name
    ))
    .await;
    db.admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
        db.name
    ))
    .await;
    let r = app.get("/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    // The hot path fails closed with a generic error, not a panic or a leak of the cause.
    let a = app
        .post_form(
            "/oauth/token",
            Some(STD),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert!(a.status.is_server_error());
    assert!(!a.text.contains("connect"), "{}", a.text);
    db.admin(&format!(
        "ALTER DATABASE {} ALLOW_CONNECTIONS true",
        db.name
    ))
    .await;
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    app.stop().await;
    db.drop_db().await;
}

#[tokio::test]
async fn the_standard_flow_works_on_postgresql() {
    let Some(db) = pg::fresh_database().await else {
        return;
    };
    let url = db.url.clone();
    let app = TestApp::spawn_with(&bootstrap(), |c| c.database.url = url).await;
    let cc = app
        .token(STD, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(
        app.introspect(STD, cc["access_token"].as_str().unwrap())
            .await["active"],
        true
    );
    let first = app
        .token(
            STD,
            &[
                ("grant_type", "password"),
                ("username", "carl"),
                ("password", "carl-pw"),
            ],
        )
        .await;
    let rt = first["refresh_token"].as_str().unwrap();
    let second = app
        .token(
            STD,
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        )
        .await;
    let reuse = app
        .post_form(
            "/oauth/token",
            Some(STD),
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        )
        .await;
    assert_eq!(reuse.json()["error"], "invalid_grant");
    assert_eq!(
        app.introspect(STD, second["access_token"].as_str().unwrap())
            .await["active"],
        false
    );
    app.stop().await;
    db.drop_db().await;
}
