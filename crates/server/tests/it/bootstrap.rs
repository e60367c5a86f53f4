//! The bootstrap file at start-up: idempotent, all or nothing.

use crate::fixtures::*;
use tessera_core::store::BootstrapError;

#[tokio::test]
async fn applying_the_same_bootstrap_again_changes_nothing() {
    let app = app().await;
    let again = app.engine.apply_bootstrap_text(&bootstrap()).await.unwrap();
    assert_eq!(again.changed, 0, "{again:?}");
    assert!(again.unchanged > 20);
}

#[tokio::test]
async fn a_bad_reference_names_the_entry_and_applies_nothing() {
    let app = app().await;
    let bad = r#"
[[clients]]
client_id = "brand-new"
client_secret = "x"
[[users]]
username = "zed"
password = "zed-pw"
[[memberships]]
user = "zed"
tenant = "NOPE"
org = "HQ"
"#;
    match app.engine.apply_bootstrap_text(bad).await {
        Err(BootstrapError::Invalid { entry, message }) => {
            assert_eq!(entry, "memberships[0] (zed in NOPE/HQ)");
            assert!(message.contains("NOPE"));
        }
        other => panic!("{other:?}"),
    }
    assert!(app
        .store
        .client_by_client_id("brand-new")
        .await
        .unwrap()
        .is_none());
    let a = app
        .post_form(
            "/oauth/token",
            Some(("brand-new", "x")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(a.status, reqwest::StatusCode::UNAUTHORIZED);
}
