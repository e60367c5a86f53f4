//! Bad input gets a clear 4xx, never a 5xx (`docs/reference/oauth.md`, conventions).

use crate::fixtures::*;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn invalid_utf8_raw_or_percent_encoded_is_invalid_request() {
    let app = app().await;
    for body in [
        b"grant_type=client_credentials&scope=\xff\xfe".to_vec(),
        b"grant_type=client_credentials&scope=%FF".to_vec(),
    ] {
        let a = app.post_raw("/oauth/token", FORM, body, Some(STD)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert_eq!(a.json()["error"], "invalid_request");
    }
}

#[tokio::test]
async fn a_wrong_content_type_is_invalid_request() {
    let app = app().await;
    let a = app
        .post_raw(
            "/oauth/token",
            "application/json",
            br#"{"grant_type":"client_credentials"}"#.to_vec(),
            Some(STD),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["error"], "invalid_request");
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = app().await;
    let mut body = b"grant_type=client_credentials&pad=".to_vec();
    body.extend(std::iter::repeat_n(b'a', 70 * 1024));
    for path in ["/oauth/token", "/oauth/introspect", "/oauth/revoke"] {
        let a = app.post_raw(path, FORM, body.clone(), Some(STD)).await;
        assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
    // Just under the limit is read.
    let mut ok = b"grant_type=client_credentials&pad=".to_vec();
    ok.extend(std::iter::repeat_n(b'a', 60 * 1024));
    assert_eq!(
        app.post_raw("/oauth/token", FORM, ok, Some(STD))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    let app = app().await;
    let a = app
        .post_raw(
            "/oauth/token",
            FORM,
            b"grant_type=client_credentials&scope=read&scope=write".to_vec(),
            Some(STD),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["error"], "invalid_request");
}

#[tokio::test]
async fn a_malformed_basic_header_is_invalid_client() {
    let app = app().await;
    for h in ["Basic !!!", "Basic bm9jb2xvbg==", "Basic //79"] {
        let a = app
            .http
            .post(app.url("/oauth/token"))
            .header("authorization", h)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(a.status(), StatusCode::UNAUTHORIZED, "{h}");
    }
}

#[tokio::test]
async fn random_bodies_never_give_a_server_error() {
    let app = app().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x7e55e7a);
    let types = [
        FORM,
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=x",
        "",
    ];
    let paths = [
        "/oauth/token",
        "/oauth/introspect",
        "/oauth/revoke",
        "/oauth/token?client=admin",
        "/healthz",
        "/nope",
    ];
    for i in 0..240 {
        let len = rng.gen_range(0..2048);
        let body: Vec<u8> = match i % 3 {
            0 => (0..len).map(|_| rng.gen()).collect(),
            1 => (0..len)
                .map(|_| b"=&%+abcXYZ019\xe4\xb8\xad"[rng.gen_range(0..16)])
                .collect(),
            _ => format!(
                "grant_type={}&token=%{:02x}&client_id=std&client_secret=std-secret",
                ["password", "refresh_token", "client_credentials"][i % 3],
                rng.gen::<u8>()
            )
            .into_bytes(),
        };
        let path = paths[i % paths.len()];
        let mut rb = app.http.post(app.url(path)).body(body);
        if !types[i % types.len()].is_empty() {
            rb = rb.header("content-type", types[i % types.len()]);
        }
        if i % 4 == 0 {
            rb = rb.basic_auth("std", Some("std-secret"));
        }
        let status = rb.send().await.unwrap().status();
        assert!(
            !status.is_server_error(),
            "request {i} to {path} gave {status}"
        );
    }
}

#[tokio::test]
async fn wrong_methods_and_unknown_paths_are_4xx() {
    let app = app().await;
    assert_eq!(
        app.get("/oauth/token").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(app.get("/no/such/path").await.status, StatusCode::NOT_FOUND);
}
