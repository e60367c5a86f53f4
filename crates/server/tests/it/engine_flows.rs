//! The engine's password sign-in pipeline (`Engine::password_sign_in`), called directly on the
//! real store: one case for every outcome it can produce (issue 16, item 6). The dialects'
//! tests check how each outcome is rendered; these check that each is reached, and by what.

use tessera_core::engine::{
    CaptchaAnswer, LoginName, Origin, PasswordForm, PasswordLogin, PasswordSignIn,
    SecondFactorInput, SignInFailure, SmsLogin, TenantChoice,
};
use tessera_core::model::{Dialect, LoginField};
use tessera_core::secret::Secret;
use tessera_core::sms::SmsPurpose;
use tessera_testkit::TestApp;

const BOOT: &str = r#"
[[tenants]]
code = "T"
name = "T"
[[tenants]]
code = "U"
name = "U"
[[tenants]]
code = "OFF"
name = "Off"
enabled = false
[[tenants]]
code = "SMS"
name = "SMS"
sms_second_factor = "always"
[[orgs]]
tenant = "T"
code = "O"
name = "O"
[[orgs]]
tenant = "U"
code = "O"
name = "O"
[[orgs]]
tenant = "OFF"
code = "O"
name = "O"
[[orgs]]
tenant = "SMS"
code = "O"
name = "O"
[[users]]
username = "ok"
password = "pw-ok-1234"
phone = "13900000001"
email = "ok@t.test"
phone_verified = true
email_verified = true
[[users]]
username = "off"
password = "pw-1234567"
enabled = false
[[users]]
username = "inactive"
password = "pw-1234567"
active = false
[[users]]
username = "expired"
password = "pw-1234567"
expires_at = "2001-01-01T00:00:00Z"
[[users]]
username = "locked"
password = "pw-1234567"
locked_until = "2099-01-01T00:00:00Z"
[[users]]
username = "ldap"
password = "pw-1234567"
source = "ldap"
[[users]]
username = "nomember"
password = "pw-1234567"
[[users]]
username = "offtenant"
password = "pw-1234567"
[[users]]
username = "two"
password = "pw-1234567"
[[users]]
username = "norole"
password = "pw-1234567"
[[users]]
username = "elsewhere"
password = "pw-1234567"
[[users]]
username = "unverified"
password = "pw-1234567"
phone = "13900000002"
email = "unverified@t.test"
email_verified = true
[[users]]
username = "unverified2"
password = "pw-1234567"
phone = "13900000003"
email = "unverified2@t.test"
phone_verified = true
[[users]]
username = "unverified3"
password = "pw-1234567"
phone = "13900000004"
[[users]]
username = "sms"
password = "pw-1234567"
phone = "13900000005"
[[memberships]]
user = "ok"
tenant = "T"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "off"
tenant = "T"
org = "O"
roles = ["user"]
[[memberships]]
user = "inactive"
tenant = "T"
org = "O"
roles = ["user"]
[[memberships]]
user = "expired"
tenant = "T"
org = "O"
roles = ["user"]
[[memberships]]
user = "locked"
tenant = "T"
org = "O"
roles = ["user"]
[[memberships]]
user = "ldap"
tenant = "T"
org = "O"
roles = ["user"]
[[memberships]]
user = "offtenant"
tenant = "OFF"
org = "O"
roles = ["user"]
default = true
[[memberships]]
user = "two"
tenant = "T"
org = "O"
roles = ["user"]
[[memberships]]
user = "two"
tenant = "U"
org = "O"
roles = ["user"]
[[memberships]]
user = "norole"
tenant = "T"
org = "O"
[[memberships]]
user = "elsewhere"
tenant = "T"
org = "O"
default = true
[[memberships]]
user = "elsewhere"
tenant = "U"
org = "O"
roles = ["user"]
[[memberships]]
user = "unverified"
tenant = "T"
org = "O"
roles = ["user"]
[[memberships]]
user = "unverified2"
tenant = "T"
org = "O"
roles = ["user"]
[[memberships]]
user = "unverified3"
tenant = "T"
org = "O"
roles = ["user"]
[[memberships]]
user = "sms"
tenant = "SMS"
org = "O"
roles = ["user"]
"#;

fn origin(captcha: Option<CaptchaAnswer>) -> Origin {
    Origin {
        dialect: Dialect::Standard,
        client_id: Some("engine-test".into()),
        ip: Some("192.0.2.7".into()),
        detail: String::new(),
        captcha,
    }
}

fn login(name: &str, field: Option<LoginField>, password: &str) -> PasswordLogin {
    PasswordLogin::simple(
        LoginName {
            value: name.into(),
            field,
        },
        Secret::new(password),
        None,
    )
}

async fn sign_in(app: &TestApp, l: PasswordLogin, o: Origin) -> Result<(), SignInFailure> {
    app.engine
        .password_sign_in(PasswordSignIn {
            login: l,
            form: PasswordForm::Clear,
            origin: o,
        })
        .await
        .expect("no fault")
        .map(|_| ())
}

/// The variant's name, to compare outcomes whose fields (times, options) vary.
fn name(r: &Result<(), SignInFailure>) -> String {
    match r {
        Ok(()) => "signed in".into(),
        Err(SignInFailure::Login(f)) => f.name().into(),
        Err(f) => format!("{f:?}"),
    }
}

#[tokio::test]
async fn the_password_pipeline_reaches_every_outcome_of_a_password_sign_in() {
    let app = TestApp::spawn(BOOT).await;
    let pick = |tenant: Option<&str>, org: Option<&str>| TenantChoice::Pick {
        tenant: tenant.map(str::to_string),
        org: org.map(str::to_string),
    };
    let sf = || {
        Some(SecondFactorInput {
            device_key: "engine-test".into(),
            code: None,
        })
    };
    let mut cases: Vec<(&str, PasswordLogin, &str)> = vec![
        (
            "a right password",
            login("ok", None, "pw-ok-1234"),
            "signed in",
        ),
        (
            "by phone",
            login("13900000001", None, "pw-ok-1234"),
            "signed in",
        ),
        ("no such user", login("nobody", None, "x"), "unknown_user"),
        (
            "a wrong password",
            login("ok", None, "wrong"),
            "password_wrong",
        ),
        (
            "locked",
            login("locked", None, "pw-1234567"),
            "account_locked",
        ),
        (
            "an LDAP user while LDAP is off",
            login("ldap", None, "pw-1234567"),
            "ldap_disabled",
        ),
        (
            "disabled",
            login("off", None, "pw-1234567"),
            "account_disabled",
        ),
        (
            "not activated",
            login("inactive", None, "pw-1234567"),
            "not_activated",
        ),
        (
            "expired",
            login("expired", None, "pw-1234567"),
            "account_expired",
        ),
        (
            "no membership",
            login("nomember", None, "pw-1234567"),
            "tenant_invalid",
        ),
        (
            "the default tenant disabled",
            login("offtenant", None, "pw-1234567"),
            "tenant_disabled",
        ),
        (
            "no role anywhere",
            login("norole", None, "pw-1234567"),
            "no_role",
        ),
        (
            "no role in the default tenant",
            login("elsewhere", None, "pw-1234567"),
            "no_role_in_default_tenant",
        ),
    ];
    let mut two = login("two", None, "pw-1234567");
    two.tenant_choice = pick(None, None);
    cases.push(("several tenants, none named", two, "choose_tenant"));
    let mut bad_org = login("two", None, "pw-1234567");
    bad_org.tenant_choice = pick(Some("T"), Some("NOPE"));
    cases.push(("an org not the user's", bad_org, "org_invalid"));
    let mut sms = login("sms", None, "pw-1234567");
    sms.tenant_choice = pick(None, None);
    sms.second_factor = sf();
    cases.push((
        "the tenant's SMS second factor, no code",
        sms,
        "second_factor_required",
    ));
    let mut sms_wrong = login("sms", None, "pw-1234567");
    sms_wrong.tenant_choice = pick(None, None);
    sms_wrong.second_factor = Some(SecondFactorInput {
        device_key: "engine-test".into(),
        code: Some("000000".into()),
    });
    cases.push(("a wrong SMS code", sms_wrong, "second_factor_wrong"));
    for (user, field, want) in [
        ("13900000002", LoginField::Phone, "phone_not_verified"),
        (
            "unverified2@t.test",
            LoginField::Email,
            "email_not_verified",
        ),
        (
            "13900000004",
            LoginField::Phone,
            "phone_and_email_not_verified",
        ),
    ] {
        let mut l = login(user, Some(field), "pw-1234567");
        l.check_verified_field = true;
        cases.push(("a sign-in field not verified", l, want));
    }
    for (what, l, want) in cases {
        let got = sign_in(&app, l, origin(None)).await;
        assert_eq!(name(&got), want, "{what}");
    }

    // The failure that reaches `login.max_password_failures` (5) locks.
    let mut last = String::new();
    for _ in 0..5 {
        last = name(&sign_in(&app, login("two", None, "wrong"), origin(None)).await);
    }
    assert_eq!(last, "password_wrong_locked");
}

#[tokio::test]
async fn the_captcha_gate_asks_after_repeated_failures_and_a_right_answer_passes() {
    let app = TestApp::spawn_with(BOOT, |c| {
        c.captcha.mode = tessera_server::config::CaptchaMode::Test
    })
    .await;
    let with = |answer: Option<&str>, key: Option<&str>| {
        origin(Some(CaptchaAnswer {
            key: key.map(str::to_string),
            answer: answer.map(str::to_string),
        }))
    };
    // `login.captcha_after_failures` (3) wrong passwords from this IP.
    for _ in 0..3 {
        let r = sign_in(&app, login("ok", None, "wrong"), with(None, None)).await;
        assert_eq!(name(&r), "password_wrong");
    }
    let r = sign_in(&app, login("ok", None, "pw-ok-1234"), with(None, None)).await;
    assert_eq!(r, Err(SignInFailure::CaptchaMissing));
    let r = sign_in(
        &app,
        login("ok", None, "pw-ok-1234"),
        with(Some("nope"), Some("nokey")),
    )
    .await;
    assert_eq!(r, Err(SignInFailure::CaptchaWrong));
    // A right answer to a fresh captcha lets the right password in.
    let answer = "abcde";
    let key = app.engine.store_captcha(answer).await.unwrap();
    let r = sign_in(
        &app,
        login("ok", None, "pw-ok-1234"),
        with(Some(answer), Some(&key)),
    )
    .await;
    assert_eq!(r, Ok(()));
    // Origins without the captcha (standard, cluster) never meet the gate.
    let r = sign_in(&app, login("ok", None, "pw-ok-1234"), origin(None)).await;
    assert_eq!(r, Ok(()));
}

#[tokio::test]
async fn the_sms_pipeline_reaches_every_refusal_of_an_sms_sign_in() {
    let app = TestApp::spawn(BOOT).await;
    let e = &app.engine;
    let key_for = |phone: &'static str| async move {
        e.send_sms_code(phone, SmsPurpose::Login, "", Some("192.0.2.8"))
            .await
            .unwrap()
            .unwrap()
            .key
    };
    let ok_key = key_for("13900000001").await;
    let stranger_key = key_for("13911111111").await;
    let sms = |phone: &str, code: Option<&str>, key: Option<&str>| SmsLogin {
        phone: phone.into(),
        code: code.map(str::to_string),
        key: key.map(str::to_string),
        user_type: None,
        tenant: None,
    };
    let cases = [
        (
            "no code",
            sms("13900000001", None, Some(&ok_key)),
            "sms_code_missing",
        ),
        (
            "no key",
            sms("13900000001", Some("123456"), None),
            "sms_key_unknown",
        ),
        (
            "an unknown key",
            sms("13900000001", Some("123456"), Some("nokey")),
            "sms_key_unknown",
        ),
        (
            "a key of another phone",
            sms("13900000002", Some("123456"), Some(&ok_key)),
            "sms_key_other_phone",
        ),
        (
            "a phone no user has",
            sms("13911111111", Some("123456"), Some(&stranger_key)),
            "phone_not_registered",
        ),
        (
            "a wrong code",
            sms("13900000001", Some("000000"), Some(&ok_key)),
            "sms_code_wrong",
        ),
    ];
    for (what, l, want) in cases {
        let got = e.sms_sign_in(l, &origin(None)).await.unwrap();
        assert_eq!(got.err().map(|f| f.name()), Some(want), "{what}");
    }
}
