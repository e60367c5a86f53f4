//! Findings of the security review (issue 15), each checked over HTTP on the real server:
//! a bounded audit log that keeps no unknown sign-in name in clear (8), the hoth padding oracle
//! behind the captcha escalation (10), maxkey `/me` limited to a token's scopes for other
//! clients (11a), and phone lookups behind the SMS per-IP limit (11b).

use base64::Engine as _;
use reqwest::StatusCode;
use rsa::pkcs8::DecodePublicKey;
use serde_json::{json, Value};
use sha2::Digest;
use tessera_testkit::TestApp;

const BOOT: &str = r#"
[[tenants]]
code = "R"
name = "Review"
[[orgs]]
tenant = "R"
code = "RO"
name = "Review org"
[[users]]
username = "alice"
phone = "13800000001"
email = "alice@example.test"
email_verified = true
phone_verified = true
password = "alice-pw"
display_name = "Alice"
real_name = "Alice Example"
title = "Engineer"
state = "Shanghai"
[[memberships]]
user = "alice"
tenant = "R"
org = "RO"
roles = ["user"]
default = true
[[clients]]
client_id = "std"
client_secret = "std-secret"
grant_types = ["password"]
scopes = ["openid", "profile", "email", "phone", "address", "read"]
[[clients]]
client_id = "hoth"
client_secret = "hoth-secret"
dialect = "hoth"
grant_types = ["password", "implicit"]
scopes = ["all"]
[[clients]]
client_id = "clu"
client_secret = "clu-secret"
dialect = "cluster"
grant_types = ["password"]
scopes = ["all"]
[[clients]]
client_id = "mk"
client_secret = "mk-secret"
dialect = "maxkey"
grant_types = ["authorization_code"]
redirect_uris = ["http://127.0.0.1:9/mk"]
scopes = ["all"]
[[clients]]
client_id = "ops"
client_secret = "ops-secret"
grant_types = ["client_credentials"]
scopes = ["tessera:admin"]
"#;

const STD: (&str, &str) = ("std", "std-secret");
const HOTH: (&str, &str) = ("hoth", "hoth-secret");
const CLU: (&str, &str) = ("clu", "clu-secret");

async fn app_with(tweak: impl FnOnce(&mut tessera_server::config::Config)) -> TestApp {
    TestApp::spawn_with(BOOT, |c| {
        c.captcha.mode = tessera_server::config::CaptchaMode::Test;
        c.server.trusted_proxies = vec!["127.0.0.0/8".into()];
        tweak(c);
    })
    .await
}

/// The whole audit log (newest first) as the global admin API shows it.
async fn audit_log(app: &TestApp) -> (String, Vec<Value>) {
    let token = app
        .token(
            ("ops", "ops-secret"),
            &[("grant_type", "client_credentials")],
        )
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .http
        .get(app.url("/admin/api/v1/audit?limit=1000"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let items = serde_json::from_str::<Value>(&text).unwrap()["items"]
        .as_array()
        .unwrap()
        .clone();
    (text, items)
}

/// What the audit log shows for a sign-in name no user has (docs/decisions.md).
fn unknown_marker(name: &str) -> String {
    let hex: String = sha2::Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("unknown:sha256:{}", &hex[..16])
}

async fn public_key(app: &TestApp) -> String {
    app.get("/oauth/public/key").await.json()["publicKey"]
        .as_str()
        .unwrap()
        .to_string()
}

/// What JSEncrypt does: PKCS#1 v1.5 with the public key, base64.
fn encrypt(public_b64: &str, password: &str) -> String {
    let der = base64::engine::general_purpose::STANDARD
        .decode(public_b64)
        .unwrap();
    let key = rsa::RsaPublicKey::from_public_key_der(&der).unwrap();
    let c = key
        .encrypt(
            &mut rand::rngs::OsRng,
            rsa::Pkcs1v15Encrypt,
            password.as_bytes(),
        )
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(c)
}

/// A ciphertext of the key's size (below the modulus: its first byte is 0) that decrypts to
/// random bytes: wrong PKCS#1 v1.5 padding, but for a chance far below one in a million.
fn bad_padding() -> String {
    let mut bytes = [0u8; 256];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes[1..]);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A hoth password grant from client IP `ip`.
async fn hoth_password(
    app: &TestApp,
    ip: &str,
    username: &str,
    ciphertext: &str,
) -> (StatusCode, Value) {
    let r = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(HOTH.0, Some(HOTH.1))
        .header("x-forwarded-for", ip)
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", ciphertext),
            ("source_type", "web"),
            ("device_id", "d1"),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json::<Value>().await.unwrap_or(Value::Null))
}

/// The value of a hidden input of a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
}

/// A browser (cookies kept, redirects not followed).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Posts the login page's password form from a fresh browser: the answer's status.
async fn login_page(app: &TestApp, username: &str, password: &str) -> StatusCode {
    let b = browser();
    let page = b
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("csrf", hidden(&page, "csrf")),
        ("continue", hidden(&page, "continue")),
        ("username", username.into()),
        ("password", password.into()),
    ];
    b.post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_failed_sign_in_with_a_60_kb_name_answers_4xx_and_leaves_a_short_audit_entry_without_it()
{
    let app = app_with(|_| {}).await;
    let big = "Z".repeat(60 * 1024);
    let key = public_key(&app).await;
    let enc = encrypt(&key, "whatever");
    // Under the 64 KiB body limit together with the name.
    let long_device = "D".repeat(2000);
    let mut answers = vec![];
    // Every path on which a failed sign-in reaches the audit log.
    answers.push((
        "standard password",
        app.post_form(
            "/oauth/token",
            Some(STD),
            &[
                ("grant_type", "password"),
                ("username", &big),
                ("password", "x"),
            ],
        )
        .await
        .status,
    ));
    answers.push((
        "hoth password",
        app.post_form(
            "/oauth/token",
            Some(HOTH),
            &[
                ("grant_type", "password"),
                ("username", &big),
                ("password", &enc),
                ("source_type", "web"),
                ("device_id", &long_device),
            ],
        )
        .await
        .status,
    ));
    answers.push((
        "hoth undecodable password",
        app.post_form(
            "/oauth/token",
            Some(HOTH),
            &[
                ("grant_type", "password"),
                ("username", &big),
                ("password", &bad_padding()),
                ("source_type", &long_device),
                ("device_id", "d1"),
            ],
        )
        .await
        .status,
    ));
    answers.push((
        "hoth SMS login",
        app.post_form(
            "/oauth/token",
            Some(HOTH),
            &[
                ("grant_type", "implicit"),
                ("phone", &big),
                ("captcha", "123456"),
                ("captchaKey", "k"),
                ("source_type", "app"),
                ("device_id", "d1"),
            ],
        )
        .await
        .status,
    ));
    answers.push((
        "cluster password",
        app.post_form(
            "/oauth/token",
            Some(CLU),
            &[
                ("grant_type", "password"),
                ("mobile", &big),
                ("password", "x"),
            ],
        )
        .await
        .status,
    ));
    answers.push((
        "appkey login",
        app.post_json(
            "/api/base/token/login",
            &json!({"appId": big, "appKey": "no-such-key", "appSecret": "s", "loginType": "APP_KEY"}),
        )
        .await
        .status,
    ));
    answers.push(("login page", login_page(&app, &big, "x").await));
    for (path, status) in &answers {
        assert!(status.is_client_error(), "{path}: {status}");
    }
    let (_, items) = audit_log(&app).await;
    let logins: Vec<&Value> = items.iter().filter(|e| e["kind"] == "login").collect();
    assert!(logins.len() >= answers.len(), "{items:?}");
    let marker = unknown_marker(&big);
    let mut marked = 0;
    for e in &items {
        let detail = e["detail"].as_str().unwrap_or("");
        let client = e["client_id"].as_str().unwrap_or("");
        assert!(detail.len() <= 200, "detail of {} bytes: {e}", detail.len());
        assert!(client.len() <= 128, "client_id of {} bytes", client.len());
        for text in [detail, client] {
            assert!(!text.contains("ZZZZZZZZ"), "the name given is kept: {e}");
            assert!(
                !text.contains(&"D".repeat(64)),
                "a device id is kept whole: {e}"
            );
        }
        if detail.contains(&marker) || client == marker {
            marked += 1;
        }
    }
    assert!(
        marked >= answers.len(),
        "each failure names the digest {marker}: {items:?}"
    );
}

#[tokio::test]
async fn a_password_typed_as_an_unknown_username_is_not_kept_in_the_audit_log() {
    let app = app_with(|_| {}).await;
    let typed = "S3cretPassw0rd!";
    let a = app
        .post_form(
            "/oauth/token",
            Some(STD),
            &[
                ("grant_type", "password"),
                ("username", typed),
                ("password", "alice-pw"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    let key = public_key(&app).await;
    let (status, _) = hoth_password(&app, "192.0.2.1", typed, &encrypt(&key, "alice-pw")).await;
    assert!(status.is_client_error());
    assert!(login_page(&app, typed, "alice-pw").await.is_client_error());
    // A known user's failure still names the user.
    let a = app
        .post_form(
            "/oauth/token",
            Some(STD),
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "wrong"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let (text, items) = audit_log(&app).await;
    assert!(!text.contains(typed), "{text}");
    let marker = unknown_marker(typed);
    assert_eq!(
        items
            .iter()
            .filter(|e| e["detail"].as_str().unwrap_or("").contains(&marker))
            .count(),
        3,
        "{text}"
    );
    let known = items
        .iter()
        .find(|e| e["outcome"] == "password_wrong")
        .expect("the wrong password of alice");
    assert!(
        known["detail"].as_str().unwrap().ends_with("name=alice") && known["user_id"].is_i64(),
        "{known}"
    );
}

/// The padding oracle of the hoth grant answers `decodePasswordError` as clients expect, but
/// each such answer counts toward the client IP's captcha like a wrong password.
#[tokio::test]
async fn undecodable_hoth_passwords_lead_to_the_captcha_as_wrong_passwords_do() {
    let app = app_with(|_| {}).await;
    let n = app.engine.config().captcha_after_failures;
    assert!(n >= 1);
    let key = public_key(&app).await;
    for i in 0..n {
        let got = hoth_password(&app, "198.51.100.1", &format!("pad-{i}"), &bad_padding()).await;
        assert_eq!(got.0, StatusCode::BAD_REQUEST, "{}", got.1);
        assert_eq!(got.1["code"], "hoth.warn.decodePasswordError", "{}", got.1);
    }
    let after_padding =
        hoth_password(&app, "198.51.100.1", "alice", &encrypt(&key, "alice-pw")).await;
    for i in 0..n {
        let got = hoth_password(
            &app,
            "198.51.100.2",
            &format!("wrong-{i}"),
            &encrypt(&key, "wrong"),
        )
        .await;
        assert!(got.0.is_client_error(), "{}", got.1);
        assert_ne!(got.1["code"], "hoth.warn.captchaNull", "{}", got.1);
    }
    let after_wrong =
        hoth_password(&app, "198.51.100.2", "alice", &encrypt(&key, "alice-pw")).await;
    assert_eq!(after_wrong.1["code"], "hoth.warn.captchaNull");
    assert_eq!(after_padding, after_wrong);
    // The count is the IP's: alice signs in from elsewhere without a captcha.
    let elsewhere = hoth_password(&app, "198.51.100.3", "alice", &encrypt(&key, "alice-pw")).await;
    assert_eq!(elsewhere.0, StatusCode::OK, "{}", elsewhere.1);
}

/// A password-grant token of the standard client `std` with `scope`.
async fn std_token(app: &TestApp, scope: &str) -> String {
    app.token(
        STD,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-pw"),
            ("scope", scope),
        ],
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn me(app: &TestApp, token: &str) -> Value {
    let a = app
        .post_form(
            "/api/sso/authz/oauth/v20/me",
            None,
            &[("access_token", token)],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.json()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

#[tokio::test]
async fn maxkey_me_answers_a_token_of_another_client_only_what_its_scopes_open() {
    let app = app_with(|_| {}).await;
    let read = me(&app, &std_token(&app, "read").await).await;
    assert_eq!(keys(&read), ["id", "randomId", "userId"], "{read}");
    let v = me(&app, &std_token(&app, "profile email").await).await;
    assert_eq!(
        (v["displayName"].as_str(), v["email"].as_str()),
        (Some("Alice"), Some("alice@example.test")),
        "{v}"
    );
    for hidden in ["mobile", "state", "online_ticket"] {
        assert!(v.get(hidden).is_none(), "{hidden} without its scope: {v}");
    }
    let v = me(&app, &std_token(&app, "phone address").await).await;
    assert_eq!(
        keys(&v),
        ["id", "mobile", "randomId", "state", "userId"],
        "{v}"
    );
    assert_eq!(v["mobile"], "13800000001");
}

#[tokio::test]
async fn maxkey_me_keeps_the_seeds_whole_profile_for_a_maxkey_client() {
    let app = app_with(|_| {}).await;
    let b = browser();
    let r = b
        .get(app.url("/api/sso/authz/oauth/v20/authorize?response_type=code&client_id=mk&redirect_uri=http://127.0.0.1:9/mk"))
        .send()
        .await
        .unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/login"), "{to}");
    let page = b
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("csrf", hidden(&page, "csrf")),
        ("continue", hidden(&page, "continue")),
        ("username", "alice".into()),
        ("password", "alice-pw".into()),
    ];
    let r = b.post(app.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = r.headers()["location"].to_str().unwrap().to_string();
    let r = b.get(app.url(&back)).send().await.unwrap();
    let cb = r.headers()["location"].to_str().unwrap().to_string();
    let code = cb
        .split_once("code=")
        .map(|(_, c)| c.split('&').next().unwrap().to_string())
        .unwrap_or_else(|| panic!("no code in {cb}"));
    let url = format!("/api/sso/authz/oauth/v20/token?client_id=mk&client_secret=mk-secret&grant_type=authorization_code&redirect_uri=http://127.0.0.1:9/mk&code={code}");
    let t = app.get(&url).await.json();
    let v = me(&app, t["access_token"].as_str().unwrap()).await;
    assert_eq!(
        keys(&v),
        [
            "birthday",
            "createdate",
            "department",
            "departmentId",
            "displayName",
            "email",
            "employeeNumber",
            "gender",
            "id",
            "institution",
            "mobile",
            "online_ticket",
            "randomId",
            "realname",
            "state",
            "title",
            "user",
            "userId",
            "username"
        ],
        "{v}"
    );
    assert_eq!(
        (
            v["mobile"].as_str(),
            v["email"].as_str(),
            v["state"].as_str()
        ),
        (
            Some("13800000001"),
            Some("alice@example.test"),
            Some("Shanghai")
        )
    );
}

/// A hoth SMS-code request from client IP `ip`.
async fn send_sms(app: &TestApp, ip: &str, phone: &str) -> (StatusCode, Value) {
    let r = app
        .http
        .post(app.url("/oauth/public/captcha/sms"))
        .header("x-forwarded-for", ip)
        .form(&[("phone", phone), ("user_type", "P")])
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json::<Value>().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn phone_lookups_beyond_the_ips_hourly_sms_limit_get_the_rate_limit_answer() {
    let limit = 3;
    let app = app_with(|c| c.sms.ip_per_hour = limit).await;
    for i in 0..limit {
        let got = send_sms(&app, "203.0.113.1", &format!("1390000000{i}")).await;
        assert_eq!(got.0, StatusCode::UNAUTHORIZED, "{}", got.1);
        assert_eq!(got.1["code"], "hoth.user.phone.not-register");
    }
    for phone in ["13900000009", "13800000001"] {
        let got = send_sms(&app, "203.0.113.1", phone).await;
        assert_eq!(got.0, StatusCode::TOO_MANY_REQUESTS, "{phone}: {}", got.1);
        assert_eq!(got.1["code"], "hoth.warn.tooManyRequests");
    }
    let other = send_sms(&app, "203.0.113.2", "13900000009").await;
    assert_eq!(
        other.1["code"], "hoth.user.phone.not-register",
        "another IP"
    );
    let other = send_sms(&app, "203.0.113.2", "13800000001").await;
    assert_eq!(other.0, StatusCode::OK, "{}", other.1);
}

/// The same for cluster's `POST /oauth/sms/code` (1004 for an unknown phone): once the IP has
/// used its hourly limit the answer is 429, whether the phone is registered or not.
#[tokio::test]
async fn cluster_phone_lookups_beyond_the_ips_hourly_sms_limit_get_429() {
    let limit = 2;
    let app = app_with(|c| c.sms.ip_per_hour = limit).await;
    let post = |ip: &'static str, phone: String| {
        let app = &app;
        async move {
            let r = app
                .http
                .post(app.url("/oauth/sms/code"))
                .header("x-forwarded-for", ip)
                .form(&[("mobile", phone.as_str())])
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    for i in 0..limit {
        let got = post("203.0.113.7", format!("1390000001{i}")).await;
        assert_eq!(got.0, StatusCode::UNAUTHORIZED, "{}", got.1);
    }
    for phone in ["13900000019", "13800000001"] {
        let got = post("203.0.113.7", phone.to_string()).await;
        assert_eq!(got.0, StatusCode::TOO_MANY_REQUESTS, "{phone}: {}", got.1);
    }
    let got = post("203.0.113.8", "13900000019".to_string()).await;
    assert_eq!(got.0, StatusCode::UNAUTHORIZED, "another IP: {}", got.1);
}
