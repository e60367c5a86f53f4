//! Dialect `cluster` (seed 000): every numbered step of `docs/reference/cluster.md` and its codes, with a
//! real HTTP receiver standing in for the SMS provider.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_testkit::{pg, SmsInbox, TestApp};

const CLU: (&str, &str) = ("clu", "clu-secret");

const BOOT: &str = r#"
[[tenants]]
code = "NEVER"
name = "无短信"
sso_url = "http://sso.never.test/sso"
server_url = "http://sso.never.test/server"
sms_second_factor = "never"
[[tenants]]
code = "ALWAYS"
name = "总要短信"
sso_url = "http://sso.always.test/sso"
server_url = "http://sso.always.test/server"
sms_second_factor = "always"
[[tenants]]
code = "NEWDEV"
name = "新设备短信"
sms_second_factor = "new_device"
[[tenants]]
code = "OFF"
name = "停用"
enabled = false
[[orgs]]
tenant = "NEVER"
code = "B01"
name = "总部"
[[orgs]]
tenant = "NEVER"
code = "B02"
name = "分部"
[[orgs]]
tenant = "ALWAYS"
code = "A1"
name = "A1"
[[orgs]]
tenant = "NEWDEV"
code = "N1"
name = "N1"
[[orgs]]
tenant = "OFF"
code = "X"
name = "X"
[[users]]
username = "multi"
phone = "13800000001"
password = "pw-multi"
[[users]]
username = "single"
phone = "13800000002"
password = "pw-single"
[[users]]
username = "newdev"
phone = "13800000003"
password = "pw-newdev"
[[users]]
username = "offonly"
phone = "13800000004"
password = "pw-offonly"
[[memberships]]
user = "multi"
tenant = "NEVER"
org = "B01"
roles = ["admin"]
default = true
[[memberships]]
user = "multi"
tenant = "NEVER"
org = "B02"
roles = ["user"]
[[memberships]]
user = "multi"
tenant = "NEWDEV"
org = "N1"
roles = ["user"]
[[memberships]]
user = "multi"
tenant = "OFF"
org = "X"
roles = ["user"]
[[memberships]]
user = "single"
tenant = "ALWAYS"
org = "A1"
roles = ["user"]
default = true
[[memberships]]
user = "newdev"
tenant = "NEWDEV"
org = "N1"
roles = ["user"]
default = true
[[memberships]]
user = "offonly"
tenant = "OFF"
org = "X"
roles = ["user"]
default = true
[[clients]]
client_id = "clu"
client_secret = "clu-secret"
dialect = "cluster"
grant_types = ["password", "refresh_token"]
scopes = ["all"]
"#;

struct Cluster {
    app: TestApp,
    inbox: SmsInbox,
}

async fn cluster_with(
    db_url: Option<String>,
    tweak: impl FnOnce(&mut tessera_server::config::Config),
) -> Cluster {
    cluster_at(
        db_url,
        tweak,
        std::sync::Arc::new(tessera_core::clock::SystemClock),
    )
    .await
}

/// [`cluster_with`] on the test's own clock.
async fn cluster_at(
    db_url: Option<String>,
    tweak: impl FnOnce(&mut tessera_server::config::Config),
    clock: std::sync::Arc<dyn tessera_core::clock::Clock>,
) -> Cluster {
    let inbox = SmsInbox::start().await;
    let url = inbox.url.clone();
    let app = TestApp::spawn_at(
        BOOT,
        |c| {
            c.sms.sender = tessera_server::config::SmsSenderKind::Webhook;
            c.sms.webhook_url = url;
            c.dialects.cluster.default_client = "clu".into();
            if let Some(u) = db_url {
                c.database.url = u;
            }
            tweak(c);
        },
        clock,
    )
    .await;
    Cluster { app, inbox }
}

async fn cluster() -> Cluster {
    cluster_with(None, |_| {}).await
}

impl Cluster {
    /// Seed 000's request: no client credentials, `client=admin`.
    async fn login(&self, extra: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut form = vec![
            ("grant_type", "password"),
            ("type", "baec"),
            ("client", "admin"),
        ];
        form.extend_from_slice(extra);
        let a = self.app.post_form("/oauth/token", None, &form).await;
        assert_eq!(a.header("cache-control"), Some("no-store"));
        (a.status, a.json())
    }

    async fn send_code(&self, mobile: &str) -> (StatusCode, Value) {
        let a = self
            .app
            .post_form("/oauth/sms/code", None, &[("mobile", mobile)])
            .await;
        (a.status, a.json())
    }
}

fn assert_success(v: &Value, cluster: &str) {
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["scope"], "all");
    assert_eq!(v["cluster_code"], cluster);
    for k in ["access_token", "refresh_token"] {
        let t = v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"));
        assert_eq!(t.len(), 36, "UUID form, as the seed shows: {t}");
    }
    assert!(v["expires_in"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn step1_an_unknown_mobile_is_1004() {
    let c = cluster().await;
    let (status, v) = c
        .login(&[("mobile", "13900000000"), ("password", "x")])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        v,
        json!({ "success": false, "code": 1004, "message": "用户不存在" })
    );
}

#[tokio::test]
async fn step2_a_wrong_password_is_1002_and_the_fifth_locks() {
    let c = cluster().await;
    let (status, v) = c
        .login(&[
            ("mobile", "13800000002"),
            ("password", "bad"),
            ("lang", "en_US"),
        ])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        v,
        json!({ "success": false, "code": 1002, "message": "Wrong password; 4 attempts left" })
    );
    for _ in 0..4 {
        c.login(&[("mobile", "13800000002"), ("password", "bad")])
            .await;
    }
    let (_, v) = c
        .login(&[
            ("mobile", "13800000002"),
            ("password", "pw-single"),
            ("lang", "en_US"),
        ])
        .await;
    assert_eq!(v["code"], 1002);
    assert_eq!(v["message"], "The account is locked");
}

#[tokio::test]
async fn step3_several_clusters_answer_1000_with_every_enabled_tenant_and_its_company_codes() {
    let c = cluster().await;
    let (status, v) = c
        .login(&[("mobile", "13800000001"), ("password", "pw-multi")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v,
        json!({
            "code": 1000,
            "message": "用户存在多个邀请码",
            "cluster_codes": [
                { "cluster_code": "NEVER", "name": "无短信", "company_code": ["B01", "B02"] },
                { "cluster_code": "NEWDEV", "name": "新设备短信", "company_code": ["N1"] },
            ]
        })
    );
}

#[tokio::test]
async fn step4_choosing_a_cluster_and_company_signs_in_bound_to_them() {
    let c = cluster().await;
    let (status, v) = c
        .login(&[
            ("mobile", "13800000001"),
            ("password", "pw-multi"),
            ("clusterCode", "NEVER"),
            ("username", "B02"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_success(&v, "NEVER");
    assert_eq!(v["sso_url"], "http://sso.never.test/sso");
    assert_eq!(v["server_url"], "http://sso.never.test/server");
    let i = c
        .app
        .introspect(CLU, v["access_token"].as_str().unwrap())
        .await;
    assert_eq!(i["username"], "multi");
    // `cluster_code` is accepted as a spelling of `clusterCode`; without a company, the default.
    let (_, v) = c
        .login(&[
            ("mobile", "13800000001"),
            ("password", "pw-multi"),
            ("cluster_code", "NEVER"),
        ])
        .await;
    assert_success(&v, "NEVER");
}

#[tokio::test]
async fn step4_a_wrong_or_disabled_cluster_or_a_wrong_company_is_1001() {
    let c = cluster().await;
    for extra in [
        vec![("clusterCode", "NOPE")],
        vec![("clusterCode", "OFF")],
        vec![("clusterCode", "ALWAYS")],
        vec![("clusterCode", "NEVER"), ("username", "B99")],
    ] {
        let mut form = vec![("mobile", "13800000001"), ("password", "pw-multi")];
        form.extend(extra.clone());
        let (status, v) = c.login(&form).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{extra:?}");
        assert_eq!(
            v,
            json!({ "success": false, "code": 1001, "message": "邀请码或部门代码错误" }),
            "{extra:?}"
        );
    }
    let (_, v) = c
        .login(&[("mobile", "13800000004"), ("password", "pw-offonly")])
        .await;
    assert_eq!(v["code"], 1001, "a user whose only tenant is disabled");
}

#[tokio::test]
async fn step5_sms_second_factor_asks_2001_refuses_a_wrong_code_2002_then_signs_in() {
    let c = cluster().await;
    let creds = [("mobile", "13800000002"), ("password", "pw-single")];
    let (status, v) = c.login(&creds).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        v,
        json!({ "success": false, "code": 1002, "error": "unauthorized", "error_description": "2001",
                "message": "登陆sso返回错误信息", "cluster_code": "ALWAYS", "company_code": "A1" })
    );
    let (status, sent) = c.send_code("13800000002").await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["interval"], 60);
    let msg = c.inbox.all().pop().unwrap();
    assert_eq!(
        (msg["purpose"].as_str(), msg["tenant"].as_str()),
        (Some("login_2fa"), Some("ALWAYS")),
        "no clusterCode: the user's only tenant"
    );
    let code = c.inbox.last_code("13800000002").unwrap();
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (_, v) = c
        .login(&[
            creds[0],
            creds[1],
            ("clusterCode", "ALWAYS"),
            ("username", "A1"),
            ("code", wrong),
        ])
        .await;
    assert_eq!(
        (v["code"].as_i64(), v["error_description"].as_str()),
        (Some(1002), Some("2002"))
    );
    let (status, v) = c
        .login(&[
            creds[0],
            creds[1],
            ("clusterCode", "ALWAYS"),
            ("username", "A1"),
            ("code", &code),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_success(&v, "ALWAYS");
    let (_, v) = c.login(&[creds[0], creds[1], ("code", &code)]).await;
    assert_eq!(v["error_description"], "2002", "a code is single use");
}

#[tokio::test]
async fn new_device_asks_for_a_code_once_per_device_type() {
    let c = cluster().await;
    let creds = [("mobile", "13800000003"), ("password", "pw-newdev")];
    let (_, v) = c.login(&creds).await;
    assert_eq!(v["error_description"], "2001");
    c.send_code("13800000003").await;
    let code = c.inbox.last_code("13800000003").unwrap();
    let (_, v) = c.login(&[creds[0], creds[1], ("code", &code)]).await;
    assert_success(&v, "NEWDEV");
    let (_, v) = c.login(&creds).await;
    assert_success(&v, "NEWDEV");
    let a = c
        .app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "password"),
                ("type", "ios"),
                ("client", "admin"),
                creds[0],
                creds[1],
            ],
        )
        .await;
    assert_eq!(
        a.json()["error_description"],
        "2001",
        "another device type asks again"
    );
}

#[tokio::test]
async fn a_resend_within_the_interval_is_429_and_unknown_phones_get_no_code() {
    let c = cluster().await;
    assert_eq!(c.send_code("13800000002").await.0, StatusCode::OK);
    let (status, v) = c.send_code("13800000002").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        (v["success"].as_bool(), v["code"].as_i64()),
        (Some(false), Some(1002))
    );
    let (status, v) = c.send_code("13900000000").await;
    assert_eq!(
        (status, v["code"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(1004))
    );
    assert_eq!(c.inbox.all().len(), 1);
}

#[tokio::test]
async fn a_code_is_burnt_after_the_allowed_wrong_tries() {
    let c = cluster_with(None, |cfg| cfg.sms.max_verify_attempts = 2).await;
    let creds = [("mobile", "13800000002"), ("password", "pw-single")];
    c.send_code("13800000002").await;
    let code = c.inbox.last_code("13800000002").unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..2 {
        assert_eq!(
            c.login(&[creds[0], creds[1], ("code", wrong)]).await.1["error_description"],
            "2002"
        );
    }
    assert_eq!(
        c.login(&[creds[0], creds[1], ("code", &code)]).await.1["error_description"],
        "2002",
        "burnt"
    );
}

#[tokio::test]
async fn a_provider_that_is_down_gives_a_clear_502_and_no_hang() {
    let c = cluster_with(None, |cfg| {
        cfg.sms.webhook_url = "http://127.0.0.1:9/sms".into();
        cfg.sms.webhook_timeout = "2s".parse().unwrap();
    })
    .await;
    let (status, v) = c.send_code("13800000002").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(v["message"], "发送手机验证码失败,请稍后重试");
    assert_eq!(
        c.send_code("13800000002").await.0,
        StatusCode::BAD_GATEWAY,
        "a failed send does not start the resend interval"
    );
}

#[tokio::test]
async fn refresh_answers_the_success_shape_and_a_spent_token_is_1002_401() {
    let c = cluster().await;
    let (_, first) = c
        .login(&[
            ("mobile", "13800000001"),
            ("password", "pw-multi"),
            ("clusterCode", "NEVER"),
        ])
        .await;
    let rt = first["refresh_token"].as_str().unwrap();
    let a = c
        .app
        .post_form(
            "/oauth/token",
            Some(CLU),
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_success(&a.json(), "NEVER");
    assert_eq!(a.json()["sso_url"], "http://sso.never.test/sso");
    let a = c
        .app
        .post_form(
            "/oauth/token",
            Some(CLU),
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        (a.json()["success"].as_bool(), a.json()["code"].as_i64()),
        (Some(false), Some(1002))
    );
}

#[tokio::test]
async fn malformed_requests_are_400_in_the_cluster_shape() {
    let c = cluster().await;
    let (status, v) = c.login(&[("password", "x")]).await;
    assert_eq!(
        (status, v["code"].as_i64()),
        (StatusCode::BAD_REQUEST, Some(1002))
    );
    let a = c
        .app
        .post_raw(
            "/oauth/token?client=admin",
            "application/x-www-form-urlencoded",
            b"mobile=%FF".to_vec(),
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.json()["code"].as_i64()),
        (StatusCode::BAD_REQUEST, Some(1002))
    );
    assert_eq!(a.json()["success"], false);
}

#[tokio::test]
async fn the_sms_second_factor_works_on_postgresql() {
    let Some(db) = pg::fresh_database().await else {
        return;
    };
    let c = cluster_with(Some(db.url.clone()), |_| {}).await;
    let creds = [("mobile", "13800000002"), ("password", "pw-single")];
    assert_eq!(c.login(&creds).await.1["error_description"], "2001");
    c.send_code("13800000002").await;
    let code = c.inbox.last_code("13800000002").unwrap();
    assert_success(
        &c.login(&[creds[0], creds[1], ("code", &code)]).await.1,
        "ALWAYS",
    );
    c.app.stop().await;
    db.drop_db().await;
}

#[tokio::test]
async fn the_daily_cap_per_phone_and_the_hourly_limit_per_ip_answer_429() {
    let clock = tessera_testkit::manual_clock();
    let c = cluster_at(
        None,
        |cfg| {
            cfg.sms.resend_interval = "1s".parse().unwrap();
            cfg.sms.daily_cap = 1;
        },
        clock.clone(),
    )
    .await;
    assert_eq!(c.send_code("13800000002").await.0, StatusCode::OK);
    clock.advance(2);
    assert_eq!(
        c.send_code("13800000002").await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "daily cap"
    );
    let c = cluster_with(None, |cfg| cfg.sms.ip_per_hour = 2).await;
    assert_eq!(c.send_code("13800000001").await.0, StatusCode::OK);
    assert_eq!(c.send_code("13800000002").await.0, StatusCode::OK);
    assert_eq!(
        c.send_code("13800000003").await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "third from one IP within the hour"
    );
    assert_eq!(c.inbox.all().len(), 2);
}

/// docs/reference/cluster.md, cluster step 5: the client may have the code sent by
/// `POST /oauth/public/captcha/sms` (`phone`) as well as by `POST /oauth/sms/code` (`mobile`).
#[tokio::test]
async fn step5_a_code_sent_through_the_public_sms_endpoint_passes_the_second_factor() {
    let c = cluster().await;
    let creds = [("mobile", "13800000002"), ("password", "pw-single")];
    assert_eq!(c.login(&creds).await.1["error_description"], "2001");
    let a = c
        .app
        .post_form(
            "/oauth/public/captcha/sms",
            None,
            &[("phone", "13800000002"), ("user_type", "P")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        c.inbox.all().pop().unwrap()["purpose"].as_str(),
        Some("login")
    );
    let code = c.inbox.last_code("13800000002").unwrap();
    let with_code = [
        creds[0],
        creds[1],
        ("clusterCode", "ALWAYS"),
        ("username", "A1"),
        ("code", &code),
    ];
    let (status, v) = c.login(&with_code).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_success(&v, "ALWAYS");
    // Spent: the same code does not pass twice.
    let (_, v) = c.login(&with_code).await;
    assert_eq!(v["error_description"], "2002", "{v}");
}

/// docs/reference/cluster.md: the webhook's `tenant` is the tenant code or "": a `clusterCode` that is
/// not one of the user's tenants is not passed on.
#[tokio::test]
async fn the_sms_webhook_names_only_a_tenant_of_the_user() {
    let clock = tessera_testkit::manual_clock();
    let c = cluster_at(
        None,
        |cfg| cfg.sms.resend_interval = "1s".parse().unwrap(),
        clock.clone(),
    )
    .await;
    for (code, want) in [("BOGUS<x>", ""), ("ALWAYS", "ALWAYS")] {
        let a = c
            .app
            .post_form(
                "/oauth/sms/code",
                None,
                &[("mobile", "13800000002"), ("clusterCode", code)],
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(c.inbox.all().pop().unwrap()["tenant"], want, "{code}");
        clock.advance(2);
    }
}
