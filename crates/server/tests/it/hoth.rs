//! Dialect `hoth` (seed 001): every code this dialect can produce, with its status and the
//! seed's exact zh_CN text; the order of checks; RSA transport and replay; captcha escalation;
//! SMS login with a real HTTP receiver; device-unique tokens.

use base64::Engine as _;
use reqwest::StatusCode;
use rsa::pkcs8::DecodePublicKey;
use serde_json::Value;
use tessera_testkit::{SmsInbox, TestApp};

const WEB: (&str, &str) = ("web", "web-secret");

const BOOT: &str = r#"
[[tenants]]
code = "H"
name = "H"
[[tenants]]
code = "H2"
name = "H2"
[[tenants]]
code = "HOFF"
name = "Off"
enabled = false
[[orgs]]
tenant = "H"
code = "O"
name = "O"
[[orgs]]
tenant = "H2"
code = "O2"
name = "O2"
[[orgs]]
tenant = "HOFF"
code = "X"
name = "X"
[[users]]
username = "zhang"
phone = "13600000001"
email = "zhang@x.test"
password = "pw-zhang"
phone_verified = true
email_verified = true
[[users]]
username = "nophone"
phone = "13600000002"
email = "nophone@x.test"
password = "pw-nophone"
phone_verified = false
email_verified = true
[[users]]
username = "noemail"
phone = "13600000003"
email = "noemail@x.test"
password = "pw-noemail"
phone_verified = true
email_verified = false
[[users]]
username = "neither"
phone = "13600000004"
email = "neither@x.test"
password = "pw-neither"
[[users]]
username = "inactive"
password = "pw-inactive"
active = false
[[users]]
username = "expired"
password = "pw-expired"
expires_at = "2001-01-01T00:00:00Z"
[[users]]
username = "ldapu"
password = "pw-ldapu"
source = "ldap"
[[users]]
username = "locked"
password = "pw-locked"
locked_until = "2999-01-01T00:00:00Z"
[[users]]
username = "tenantoff"
password = "pw-tenantoff"
[[users]]
username = "notenant"
password = "pw-notenant"
[[users]]
username = "norole"
password = "pw-norole"
[[users]]
username = "defnorole"
password = "pw-defnorole"
[[users]]
username = "cust"
password = "pw-cust"
user_type = "C"
[[users]]
username = "wrongy"
phone = "13600000009"
password = "pw-wrongy"
phone_verified = true
[[memberships]]
user = "zhang"
tenant = "H"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "nophone"
tenant = "H"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "noemail"
tenant = "H"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "neither"
tenant = "H"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "inactive"
tenant = "H"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "expired"
tenant = "H"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "ldapu"
tenant = "H"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "locked"
tenant = "H"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "tenantoff"
tenant = "HOFF"
org = "X"
roles = ["user"]
default = true
[[memberships]]
user = "norole"
tenant = "H"
org = "O"
roles = []
default = true
[[memberships]]
user = "defnorole"
tenant = "H"
org = "O"
roles = []
default = true
[[memberships]]
user = "defnorole"
tenant = "H2"
org = "O2"
roles = ["user"]
[[memberships]]
user = "cust"
tenant = "H"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "wrongy"
tenant = "H"
org = "O"
roles = ["user"]
default = true
[[clients]]
client_id = "web"
client_secret = "web-secret"
dialect = "hoth"
grant_types = ["password", "implicit", "refresh_token"]
scopes = ["all"]
[[open_login_ways]]
code = "wechat"
name = "微信"
url = "https://open.example.test/authorize"
"#;

struct Hoth {
    app: TestApp,
    inbox: SmsInbox,
    public_key: String,
}

async fn hoth_with(tweak: impl FnOnce(&mut tessera_server::config::Config)) -> Hoth {
    let inbox = SmsInbox::start().await;
    let url = inbox.url.clone();
    let app = TestApp::spawn_with(BOOT, |c| {
        c.captcha.mode = tessera_server::config::CaptchaMode::Test;
        c.sms.sender = tessera_server::config::SmsSenderKind::Webhook;
        c.sms.webhook_url = url;
        tweak(c);
    })
    .await;
    let public_key = app.get("/oauth/public/key").await.json()["publicKey"]
        .as_str()
        .unwrap()
        .to_string();
    Hoth {
        app,
        inbox,
        public_key,
    }
}

async fn hoth() -> Hoth {
    hoth_with(|_| {}).await
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

impl Hoth {
    async fn password(
        &self,
        username: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let enc = encrypt(&self.public_key, password);
        // Seed 001 requires a device; each sign-in gets its own unless the test names one
        // (one device would make each sign-in revoke the previous one's tokens).
        static DEVICES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let device = format!(
            "device-{}",
            DEVICES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut form = vec![
            ("grant_type", "password"),
            ("username", username),
            ("password", enc.as_str()),
            ("source_type", "web"),
        ];
        if !extra.iter().any(|(k, _)| *k == "device_id") {
            form.push(("device_id", device.as_str()));
        }
        form.extend_from_slice(extra);
        let a = self.app.post_form("/oauth/token", Some(WEB), &form).await;
        (a.status, a.json())
    }
}

fn assert_code(got: &(StatusCode, Value), code: &str, status: u16, zh: &str) {
    assert_eq!(got.0.as_u16(), status, "{code}: {}", got.1);
    assert_eq!(got.1["success"], false, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert_eq!(got.1["message"], zh, "{}", got.1);
}

#[tokio::test]
async fn a_correct_password_signs_in_with_the_seeds_token_shape() {
    let h = hoth().await;
    for (user, field) in [
        ("zhang", "username"),
        ("13600000001", "phone"),
        ("zhang@x.test", "email"),
    ] {
        let (status, v) = h
            .password(
                user,
                "pw-zhang",
                &[("login_field", field), ("device_id", field)],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["token_type"], "bearer");
        assert_eq!(v["scope"], "all");
        assert!(
            v["access_token"].is_string()
                && v["refresh_token"].is_string()
                && v["expires_in"].is_i64()
        );
    }
    let ev = h.app.store.recent_audit(5).await.unwrap();
    assert!(
        ev[0].detail.contains("device=email") && ev[0].detail.contains("source_type=web"),
        "{:?}",
        ev[0]
    );
}

#[tokio::test]
async fn every_account_state_is_told_only_after_a_correct_password() {
    let h = hoth().await;
    let cases = [
        (
            "inactive",
            "hoth.warn.userNotActive",
            403,
            "您的账号未激活,无法登录",
        ),
        (
            "expired",
            "hoth.warn.accountExpire",
            403,
            "您的账户已过期,无法登录",
        ),
        ("ldapu", "hoth.warn.ldapIsDisable", 403, "LDAP已被禁用"),
        (
            "locked",
            "hoth.warn.accountLocked",
            403,
            "您的账户已锁定,请通过找回密码解锁,或联系平台运维中心",
        ),
        (
            "tenantoff",
            "hoth.warn.tenantDisabled",
            403,
            "您的所属组织已被禁用,请联系管理员",
        ),
        (
            "notenant",
            "hoth.warn.tenantInvalid",
            403,
            "您的所属组织无效,请联系管理员",
        ),
        (
            "norole",
            "hoth.warn.roleNone",
            403,
            "您没有任何角色,请联系管理员分配角色",
        ),
        (
            "defnorole",
            "hoth.warn.defaultTenantRoleNull",
            403,
            "您的默认租户下没有分配角色,请联系管理员分配角色",
        ),
    ];
    for (user, code, status, zh) in cases {
        assert_code(
            &h.password(user, &format!("pw-{user}"), &[]).await,
            code,
            status,
            zh,
        );
    }
    // With a wrong password, the state is not told (only the lock, which comes first).
    let wrong = h.password("inactive", "nope", &[]).await;
    assert_code(
        &wrong,
        "hoth.warn.usernameNotFoundOrPasswordIsWrong",
        401,
        "您输入的账号或密码错误",
    );
}

#[tokio::test]
async fn the_field_used_must_be_verified() {
    let h = hoth().await;
    assert_code(
        &h.password("13600000002", "pw-nophone", &[("login_field", "phone")])
            .await,
        "hoth.warn.phoneNotCheck",
        403,
        "您的手机未验证,可使用邮箱或账号登录",
    );
    assert_code(
        &h.password("noemail@x.test", "pw-noemail", &[("login_field", "email")])
            .await,
        "hoth.warn.emailNotCheck",
        403,
        "您的邮箱未验证,可使用手机或账号登录",
    );
    assert_code(
        &h.password("13600000004", "pw-neither", &[]).await,
        "hoth.warn.phoneAndEmailNotCheck",
        403,
        "您的手机和邮箱均未验证,可使用账号登录",
    );
    assert_eq!(
        h.password("neither", "pw-neither", &[]).await.0,
        StatusCode::OK,
        "the account name needs no verification"
    );
}

#[tokio::test]
async fn user_type_and_login_field_narrow_the_lookup() {
    let h = hoth().await;
    assert_code(
        &h.password("cust", "pw-cust", &[]).await,
        "hoth.warn.usernameNotFoundOrPasswordIsWrong",
        401,
        "您输入的账号或密码错误",
    );
    assert_eq!(
        h.password("cust", "pw-cust", &[("user_type", "C")]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        h.password("zhang", "pw-zhang", &[("login_field", "phone")])
            .await
            .1["code"],
        "hoth.warn.usernameNotFoundOrPasswordIsWrong"
    );
}

#[tokio::test]
async fn with_hide_unknown_user_off_the_failures_say_which_and_count_down_to_the_lock() {
    let h = hoth_with(|c| {
        c.login.hide_unknown_user = false;
        c.login.captcha_after_failures = 100;
    })
    .await;
    assert_code(
        &h.password("ghost", "x", &[]).await,
        "hoth.warn.usernameNotFound",
        401,
        "您输入的登录账户不存在",
    );
    assert_code(
        &h.password("13699999999", "x", &[("login_field", "phone")])
            .await,
        "hoth.warn.phoneNotFound",
        401,
        "您输入的手机号未注册",
    );
    for left in [4, 3, 2, 1] {
        assert_code(
            &h.password("wrongy", "x", &[]).await,
            "hoth.warn.passwordError",
            401,
            &format!("您的密码错误,还可以尝试{left}次"),
        );
    }
    assert_code(
        &h.password("wrongy", "x", &[]).await,
        "hoth.warn.loginErrorMaxTimes",
        403,
        "密码错误次数超过限制,您的账户已锁定!请通过找回密码解锁,或联系平台运维中心!",
    );
    let en = h
        .password("wrongy", "pw-wrongy", &[("lang", "en_US")])
        .await;
    assert_eq!(en.1["message"], "Your account is locked; reset your password to unlock it, or contact the operations center");
}

#[tokio::test]
async fn english_messages_follow_the_request_language() {
    let h = hoth().await;
    let (_, v) = h
        .password("inactive", "pw-inactive", &[("lang", "en_US")])
        .await;
    assert_eq!(
        v["message"],
        "Your account is not activated and cannot sign in"
    );
    let a = h
        .app
        .http
        .post(h.app.url("/oauth/token"))
        .basic_auth("web", Some("web-secret"))
        .header("accept-language", "en")
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        a.json::<Value>().await.unwrap()["message"],
        "Missing parameter username"
    );
}

#[tokio::test]
async fn client_and_parameter_errors() {
    let h = hoth().await;
    let a = h
        .app
        .post_form(
            "/oauth/token",
            Some(("web", "bad")),
            &[("grant_type", "password")],
        )
        .await;
    assert_code(
        &(a.status, a.json()),
        "hoth.warn.clientInvalid",
        401,
        "客户端认证失败",
    );
    let a = h
        .app
        .post_form(
            "/oauth/token",
            Some(WEB),
            &[("grant_type", "password"), ("username", "zhang")],
        )
        .await;
    assert_code(
        &(a.status, a.json()),
        "hoth.warn.paramMissing",
        400,
        "缺少参数password",
    );
}

#[tokio::test]
async fn a_password_that_does_not_decrypt_or_a_replayed_sign_in_is_decode_password_error() {
    let h = hoth().await;
    let a = h
        .app
        .post_form(
            "/oauth/token",
            Some(WEB),
            &[
                ("grant_type", "password"),
                ("username", "zhang"),
                ("password", "pw-zhang"),
                ("source_type", "web"),
                ("device_id", "d1"),
            ],
        )
        .await;
    assert_code(
        &(a.status, a.json()),
        "hoth.warn.decodePasswordError",
        400,
        "解码密码错误",
    );
    let enc = encrypt(&h.public_key, "pw-zhang");
    let form = [
        ("grant_type", "password"),
        ("username", "zhang"),
        ("password", enc.as_str()),
        ("source_type", "web"),
        ("device_id", "d1"),
    ];
    assert_eq!(
        h.app
            .post_form("/oauth/token", Some(WEB), &form)
            .await
            .status,
        StatusCode::OK
    );
    let again = h.app.post_form("/oauth/token", Some(WEB), &form).await;
    assert_code(
        &(again.status, again.json()),
        "hoth.warn.decodePasswordError",
        400,
        "解码密码错误",
    );
}

/// A ciphertext whose sign-in failed may come again: a client that encrypts a password once
/// and re-sends it sees the seed's countdown, not `decodePasswordError` (docs/decisions.md,
/// "Replays").
#[tokio::test]
async fn a_wrong_password_sent_again_as_the_same_ciphertext_counts_down_as_usual() {
    let h = hoth_with(|c| c.login.hide_unknown_user = false).await;
    let enc = encrypt(&h.public_key, "not-the-password");
    let form = [
        ("grant_type", "password"),
        ("username", "zhang"),
        ("password", enc.as_str()),
        ("source_type", "web"),
        ("device_id", "d1"),
    ];
    for left in ["4", "3"] {
        let a = h.app.post_form("/oauth/token", Some(WEB), &form).await;
        assert_code(
            &(a.status, a.json()),
            "hoth.warn.passwordError",
            401,
            &format!("您的密码错误,还可以尝试{left}次"),
        );
    }
}

/// Seed 001 marks `source_type` and `device_id` required (必输 Y) for both sign-ins.
#[tokio::test]
async fn a_sign_in_without_source_type_or_device_id_is_param_missing() {
    let h = hoth().await;
    let enc = encrypt(&h.public_key, "pw-zhang");
    for (left_out, zh) in [
        ("source_type", "缺少参数source_type"),
        ("device_id", "缺少参数device_id"),
    ] {
        let form: Vec<(&str, &str)> = [
            ("grant_type", "password"),
            ("username", "zhang"),
            ("password", enc.as_str()),
            ("source_type", "web"),
            ("device_id", "d1"),
        ]
        .into_iter()
        .filter(|(k, _)| *k != left_out)
        .collect();
        let a = h.app.post_form("/oauth/token", Some(WEB), &form).await;
        assert_code(&(a.status, a.json()), "hoth.warn.paramMissing", 400, zh);
        let form: Vec<(&str, &str)> = [
            ("grant_type", "implicit"),
            ("phone", "13600000001"),
            ("source_type", "app"),
            ("device_id", "d1"),
        ]
        .into_iter()
        .filter(|(k, _)| *k != left_out)
        .collect();
        let a = h.app.post_form("/oauth/token", Some(WEB), &form).await;
        assert_code(&(a.status, a.json()), "hoth.warn.paramMissing", 400, zh);
    }
}

/// docs/reference/hoth.md: bodies over 64 KiB are 413, in the dialect's shape.
#[tokio::test]
async fn a_body_over_64_kib_is_413_in_the_hoth_shape() {
    let h = hoth().await;
    let big = format!("grant_type=password&username={}", "x".repeat(70 * 1024));
    for path in ["/oauth/token", "/oauth/public/captcha/sms"] {
        let a = h
            .app
            .post_raw(
                path,
                "application/x-www-form-urlencoded",
                big.clone().into_bytes(),
                Some(WEB),
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            a.text
        );
        assert_eq!(a.json()["success"], false);
        assert_eq!(a.json()["code"], "hoth.warn.bodyTooLarge");
    }
}

#[tokio::test]
async fn init_params_list_login_ways_and_the_key_and_say_when_a_captcha_is_needed() {
    let h = hoth().await;
    let v = h
        .app
        .get("/oauth/public/login/init-params?channel=web&clientId=web&username=zhang")
        .await
        .json();
    assert_eq!(
        v["openLoginWays"],
        serde_json::json!([{ "code": "wechat", "name": "微信", "url": "https://open.example.test/authorize" }])
    );
    assert_eq!(v["isNeedCaptcha"], false);
    assert_eq!(v["publicKey"], h.public_key.as_str());
    for _ in 0..3 {
        h.password("zhang", "wrong", &[]).await;
    }
    let v = h
        .app
        .get("/oauth/public/login/init-params?username=zhang")
        .await
        .json();
    assert_eq!(v["isNeedCaptcha"], true, "three failures of that username");
}

#[tokio::test]
async fn captcha_escalation_single_use_and_the_image_is_a_png() {
    let h = hoth_with(|c| c.login.captcha_after_failures = 2).await;
    for _ in 0..2 {
        h.password("zhang", "wrong", &[]).await;
    }
    assert_code(
        &h.password("zhang", "pw-zhang", &[]).await,
        "hoth.warn.captchaNull",
        400,
        "请输入验证码",
    );
    let c = h.app.get("/oauth/public/captcha").await.json();
    let image = c["image"].as_str().unwrap();
    let png = base64::engine::general_purpose::STANDARD
        .decode(image.strip_prefix("data:image/png;base64,").unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (key, answer) = (
        c["captchaKey"].as_str().unwrap(),
        c["answer"].as_str().unwrap(),
    );
    assert_code(
        &h.password(
            "zhang",
            "pw-zhang",
            &[("captcha", "zzzzz"), ("captchaKey", key)],
        )
        .await,
        "hoth.warn.captchaWrong",
        400,
        "您输入的验证码有误",
    );
    // That attempt spent the captcha: its right answer no longer works.
    assert_eq!(
        h.password(
            "zhang",
            "pw-zhang",
            &[("captcha", answer), ("captchaKey", key)]
        )
        .await
        .1["code"],
        "hoth.warn.captchaWrong"
    );
    let c = h.app.get("/oauth/public/captcha").await.json();
    let upper = c["answer"].as_str().unwrap().to_uppercase();
    let ok = h
        .password(
            "zhang",
            "pw-zhang",
            &[
                ("captcha", upper.as_str()),
                ("captchaKey", c["captchaKey"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(ok.0, StatusCode::OK, "case-insensitive: {}", ok.1);
    // From another IP the same username still needs one? No: success cleared the username.
    assert_eq!(
        h.app
            .get("/oauth/public/login/init-params?username=zhang")
            .await
            .json()["isNeedCaptcha"],
        true,
        "the IP still has failures"
    );
}

#[tokio::test]
async fn sms_login_end_to_end_in_the_seeds_order() {
    let h = hoth().await;
    let send = |phone: &'static str| {
        let app = &h.app;
        async move {
            app.post_form(
                "/oauth/public/captcha/sms",
                None,
                &[("phone", phone), ("user_type", "P")],
            )
            .await
        }
    };
    let a = send("13600000001").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let v = a.json();
    assert_eq!(
        (v["success"].as_bool(), v["interval"].as_i64()),
        (Some(true), Some(60))
    );
    let key = v["captchaKey"].as_str().unwrap().to_string();
    let msg = h.inbox.all().pop().unwrap();
    assert_eq!(msg["purpose"], "login");
    let code = h.inbox.last_code("13600000001").unwrap();
    let login = |phone: &'static str, captcha: Option<String>, key: Option<String>| {
        let app = &h.app;
        async move {
            let mut form = vec![
                ("grant_type", "implicit".to_string()),
                ("phone", phone.to_string()),
                ("source_type", "app".into()),
                ("device_id", "d1".into()),
            ];
            if let Some(c) = captcha {
                form.push(("captcha", c));
            }
            if let Some(k) = key {
                form.push(("captchaKey", k));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let a = app.post_form("/oauth/token", Some(WEB), &form).await;
            (a.status, a.json())
        }
    };
    assert_code(
        &login("13600000001", None, Some(key.clone())).await,
        "hoth.warn.loginMobileCaptchaNull",
        400,
        "请输入手机验证码",
    );
    assert_code(
        &login("13600000001", Some(code.clone()), Some("nokey".into())).await,
        "hoth.warn.validCaptchaFirst",
        400,
        "请先验证手机/邮箱",
    );
    assert_code(
        &login("13600000003", Some(code.clone()), Some(key.clone())).await,
        "hoth.warn.accountNotEquals",
        400,
        "您的账号与验证的账号不一致",
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_code(
        &login("13600000001", Some(wrong.into()), Some(key.clone())).await,
        "hoth.warn.captchaWrong",
        400,
        "您输入的验证码有误",
    );
    let ok = login("13600000001", Some(code.clone()), Some(key.clone())).await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
    assert_eq!(ok.1["token_type"], "bearer");
    // Sending: again too soon, no phone, a malformed phone, an unregistered phone.
    let a = send("13600000001").await;
    assert_code(
        &(a.status, a.json()),
        "hoth.warn.tooManyRequests",
        429,
        "请求过于频繁,请稍后再试",
    );
    let a = h
        .app
        .post_form("/oauth/public/captcha/sms", None, &[("user_type", "P")])
        .await;
    assert_code(
        &(a.status, a.json()),
        "hoth.warn.phoneOrEmailNotnull",
        400,
        "请输入手机/邮箱",
    );
    let a = send("12345").await;
    assert_code(
        &(a.status, a.json()),
        "hoth.warn.phoneOrEmailNotInvalid",
        400,
        "您输入的手机/邮箱格式不正确",
    );
    let a = send("13699999999").await;
    assert_code(
        &(a.status, a.json()),
        "hoth.user.phone.not-register",
        401,
        "手机未注册,请先注册后再登录",
    );
}

#[tokio::test]
async fn a_provider_failure_is_send_phone_captcha_error() {
    let h = hoth_with(|c| c.sms.webhook_url = "http://127.0.0.1:9/sms".into()).await;
    let a = h
        .app
        .post_form(
            "/oauth/public/captcha/sms",
            None,
            &[("phone", "13600000001")],
        )
        .await;
    assert_code(
        &(a.status, a.json()),
        "hoth.warn.captcha.sendPhoneCaptchaError",
        502,
        "发送手机验证码失败,请稍后重试",
    );
}

#[tokio::test]
async fn a_new_login_on_a_device_revokes_that_devices_previous_tokens_only() {
    let h = hoth().await;
    let (_, first) = h
        .password("zhang", "pw-zhang", &[("device_id", "d1")])
        .await;
    let (_, other) = h
        .password("zhang", "pw-zhang", &[("device_id", "d2")])
        .await;
    let (_, second) = h
        .password("zhang", "pw-zhang", &[("device_id", "d1")])
        .await;
    let active = |v: &Value, k: &str| {
        let t = v[k].as_str().unwrap().to_string();
        let app = &h.app;
        async move { app.introspect(WEB, &t).await["active"].as_bool().unwrap() }
    };
    assert!(
        !active(&first, "access_token").await,
        "the previous login on d1 is revoked"
    );
    assert!(!active(&first, "refresh_token").await);
    assert!(active(&other, "access_token").await, "d2 is untouched");
    assert!(active(&second, "access_token").await);
    let a = h
        .app
        .post_form(
            "/oauth/token",
            Some(WEB),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", second["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["token_type"], "bearer");
}

#[tokio::test]
async fn captcha_escalation_counts_per_client_ip_behind_a_trusted_proxy() {
    let h = hoth_with(|c| c.server.trusted_proxies = vec!["127.0.0.0/8".into()]).await;
    let from = |xff: &'static str, user: &'static str| {
        let enc = encrypt(&h.public_key, "wrong");
        let app = &h.app;
        async move {
            app.http
                .post(app.url("/oauth/token"))
                .basic_auth("web", Some("web-secret"))
                .header("x-forwarded-for", xff)
                .form(&[
                    ("grant_type", "password"),
                    ("username", user),
                    ("password", enc.as_str()),
                    ("source_type", "web"),
                    ("device_id", "d1"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for user in ["u1", "u2", "u3"] {
        from("198.51.100.7", user).await;
    }
    let need = |xff: &'static str| {
        let app = &h.app;
        async move {
            let r = app
                .http
                .get(app.url("/oauth/public/login/init-params?username=fresh"))
                .header("x-forwarded-for", xff)
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()["isNeedCaptcha"]
                .as_bool()
                .unwrap()
        }
    };
    assert!(
        need("198.51.100.7").await,
        "three failures from that client IP"
    );
    assert!(
        !need("198.51.100.8").await,
        "another client behind the same proxy"
    );
}

/// docs/reference/hoth.md, "Lockout counting": a success resets the count, and a sign-in by SMS code
/// is a success too.
#[tokio::test]
async fn a_sign_in_by_sms_code_starts_the_password_failure_count_again() {
    let h = hoth_with(|c| c.login.hide_unknown_user = false).await;
    for left in ["4", "3"] {
        assert_code(
            &h.password("zhang", "wrong", &[]).await,
            "hoth.warn.passwordError",
            401,
            &format!("您的密码错误,还可以尝试{left}次"),
        );
    }
    let a = h
        .app
        .post_form(
            "/oauth/public/captcha/sms",
            None,
            &[("phone", "13600000001"), ("user_type", "P")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let key = a.json()["captchaKey"].as_str().unwrap().to_string();
    let code = h.inbox.last_code("13600000001").unwrap();
    let a = h
        .app
        .post_form(
            "/oauth/token",
            Some(WEB),
            &[
                ("grant_type", "implicit"),
                ("phone", "13600000001"),
                ("source_type", "app"),
                ("device_id", "d1"),
                ("captcha", &code),
                ("captchaKey", &key),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_code(
        &h.password("zhang", "wrong", &[]).await,
        "hoth.warn.passwordError",
        401,
        "您的密码错误,还可以尝试4次",
    );
}
