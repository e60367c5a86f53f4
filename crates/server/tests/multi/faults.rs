//! Faults: Redis or PostgreSQL taken away from both processes (through a [`crate::proxy::Proxy`]
//! that closes live connections and refuses new ones) gives fast errors in each dialect's own
//! shape, never a hang or a panic, `/readyz` 503; when the service is back, everything answers
//! again without a restart.

use crate::pair::{Node, Options, Pair, STD};
use reqwest::StatusCode;
use std::future::Future;
use std::time::Duration;
use tessera_testkit::Answer;

/// Each answer during an outage comes back within this.
const FAST: Duration = Duration::from_secs(3);

/// What went wrong, all of it, so that one run tells the whole story.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }
    fn assert_none(&self) {
        assert!(self.0.is_empty(), "\n{}", self.0.join("\n"));
    }
}

/// The answer of `f`, noting it as a problem if it took `FAST` or more (and failing if none came
/// within 20 s).
async fn timed(pr: &mut Problems, what: &str, f: impl Future<Output = Answer>) -> Answer {
    let t = tokio::time::Instant::now();
    let a = tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within 20 s"));
    let took = t.elapsed();
    pr.check(took < FAST, || {
        format!(
            "{what}: took {took:?} (> {FAST:?}): {} {}",
            a.status, a.text
        )
    });
    a
}

/// Nothing of the cause leaks, and nothing panicked.
fn no_leak(pr: &mut Problems, what: &str, a: &Answer) {
    let t = a.text.to_lowercase();
    for word in [
        "panick",
        "redis",
        "postgres",
        "refused",
        "connection",
        "pool",
    ] {
        pr.check(!t.contains(word), || {
            format!("{what}: the answer tells {word:?}: {}", a.text)
        });
    }
}

/// RFC 6749 §5.2 `{"error", "error_description"}` with `status` and `error`.
fn standard_shape(pr: &mut Problems, what: &str, a: &Answer, status: StatusCode, error: &str) {
    let v = a.json();
    let keys: Vec<&String> = v
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    pr.check(
        a.status == status
            && v["error"] == error
            && v["error_description"].is_string()
            && keys.len() == 2,
        || {
            format!(
                "{what}: want {status} {{\"error\": {error:?}, \"error_description\"}}, got {} {}",
                a.status, a.text
            )
        },
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        pr.check(a.header("retry-after").is_some(), || {
            format!("{what}: a 503 without Retry-After")
        });
    }
    no_leak(pr, what, a);
}

/// Seed 000's failure `{"success": false, "code": 1002, "message"}` with `status`.
fn cluster_shape(pr: &mut Problems, what: &str, a: &Answer, status: StatusCode) {
    let v = a.json();
    pr.check(
        a.status == status && v["success"] == false && v["code"] == 1002 && v["message"].is_string(),
        || format!("{what}: want {status} {{\"success\": false, \"code\": 1002, \"message\"}}, got {} {}", a.status, a.text),
    );
    no_leak(pr, what, a);
}

/// Seed 001's failure `{"success": false, "code": "hoth.…", "message"}` with `status` and `code`.
fn hoth_shape(pr: &mut Problems, what: &str, a: &Answer, status: StatusCode, code: &str) {
    let v = a.json();
    pr.check(
        a.status == status && v["success"] == false && v["code"] == code && v["message"].is_string(),
        || format!("{what}: want {status} {{\"success\": false, \"code\": {code:?}, \"message\"}}, got {} {}", a.status, a.text),
    );
    no_leak(pr, what, a);
}

/// `/readyz` 503, naming the dependency that is down (`database` or `short_lived_store`).
fn readyz_down(pr: &mut Problems, n: &Node, a: &Answer, down: &str) {
    let v: serde_json::Value = serde_json::from_str(&a.text).unwrap_or_default();
    pr.check(
        a.status == StatusCode::SERVICE_UNAVAILABLE && v[down] == "down",
        || {
            format!(
                "process {}: /readyz {} {} (want {down} down)",
                n.name, a.status, a.text
            )
        },
    );
}

/// Every process ready again within `within` of the service's return.
async fn back(p: &Pair, within: Duration) {
    for n in [&p.a, &p.b] {
        n.wait_ready(within).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_gives_fast_errors_in_each_dialects_shape_and_heals_without_restart() {
    let Some(p) = Pair::start(Options {
        proxy_redis: true,
        ..Options::default()
    })
    .await
    else {
        return;
    };
    let proxy = p.redis_proxy.as_ref().unwrap();
    let hoth_user = p.user("fault");
    let init_params = format!("/oauth/public/login/init-params?username={hoth_user}");
    let phone = p.phone("sms").to_string();
    assert_eq!(
        p.a.get("/oauth/public/captcha").await.status,
        StatusCode::OK
    );
    proxy.cut().await;
    let mut pr = Problems::default();
    for n in [&p.a, &p.b] {
        let who = n.name;
        let a = timed(&mut pr, &format!("{who} /readyz"), n.get("/readyz")).await;
        readyz_down(&mut pr, n, &a, "short_lived_store");
        // hoth: the captcha, the init parameters and the password grant need short-lived
        // state. errors.md gives storage trouble one hoth code: createClientError, 500.
        let what = format!("{who} hoth captcha");
        let a = timed(&mut pr, &what, n.get("/oauth/public/captcha")).await;
        hoth_shape(
            &mut pr,
            &what,
            &a,
            StatusCode::INTERNAL_SERVER_ERROR,
            "hoth.warn.createClientError",
        );
        let what = format!("{who} hoth init-params");
        let a = timed(&mut pr, &what, n.get(&init_params)).await;
        hoth_shape(
            &mut pr,
            &what,
            &a,
            StatusCode::INTERNAL_SERVER_ERROR,
            "hoth.warn.createClientError",
        );
        let what = format!("{who} hoth password grant");
        let a = timed(&mut pr, &what, n.hoth_password(&hoth_user, "fault-pw", &[])).await;
        hoth_shape(
            &mut pr,
            &what,
            &a,
            StatusCode::INTERNAL_SERVER_ERROR,
            "hoth.warn.createClientError",
        );
        // cluster: sending an SMS code.
        let what = format!("{who} cluster sms code");
        let a = timed(
            &mut pr,
            &what,
            n.post_form("/oauth/sms/code", None, &[("mobile", &phone)]),
        )
        .await;
        cluster_shape(&mut pr, &what, &a, StatusCode::SERVICE_UNAVAILABLE);
        // standard: client_credentials needs no short-lived state and goes on working.
        let what = format!("{who} standard client_credentials");
        let a = timed(
            &mut pr,
            &what,
            n.post_form(
                "/oauth/token",
                Some(STD),
                &[("grant_type", "client_credentials")],
            ),
        )
        .await;
        pr.check(a.status == StatusCode::OK, || {
            format!("{what}: {} {}", a.status, a.text)
        });
    }
    proxy.restore().await;
    back(&p, Duration::from_secs(5)).await;
    for n in [&p.a, &p.b] {
        for path in ["/oauth/public/captcha", init_params.as_str()] {
            let a = n.get(path).await;
            pr.check(a.status == StatusCode::OK, || {
                format!("{} {path} after recovery: {} {}", n.name, a.status, a.text)
            });
        }
    }
    let a =
        p.b.post_form("/oauth/sms/code", None, &[("mobile", &phone)])
            .await;
    pr.check(a.status == StatusCode::OK, || {
        format!("sms code after recovery: {} {}", a.status, a.text)
    });
    let a = p.a.hoth_password(&hoth_user, "fault-pw", &[]).await;
    pr.check(a.status == StatusCode::OK, || {
        format!("hoth sign-in after recovery: {} {}", a.status, a.text)
    });
    pr.assert_none();
    p.assert_no_panic();
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_outage_gives_fast_errors_in_each_dialects_shape_and_heals_without_restart() {
    let Some(p) = Pair::start(Options {
        proxy_postgres: true,
        ..Options::default()
    })
    .await
    else {
        return;
    };
    let proxy = p.pg_proxy.as_ref().unwrap();
    let hoth_user = p.user("fault");
    let init_params = format!("/oauth/public/login/init-params?username={hoth_user}");
    let phone = p.phone("fault").to_string();
    let cc = [("grant_type", "client_credentials")];
    let token = p.a.token(STD, &cc).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // Each process has served the hoth client before the outage (as a live one has).
    for n in [&p.a, &p.b] {
        let a = n.hoth_password(&hoth_user, "fault-pw", &[]).await;
        assert!(a.status.is_success(), "{} {}", a.status, a.text);
    }
    proxy.cut().await;
    let mut pr = Problems::default();
    for n in [&p.a, &p.b] {
        let who = n.name;
        let a = timed(&mut pr, &format!("{who} /readyz"), n.get("/readyz")).await;
        readyz_down(&mut pr, n, &a, "database");
        let what = format!("{who} standard client_credentials");
        let a = timed(&mut pr, &what, n.post_form("/oauth/token", Some(STD), &cc)).await;
        standard_shape(
            &mut pr,
            &what,
            &a,
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
        );
        let what = format!("{who} standard introspection");
        let a = timed(
            &mut pr,
            &what,
            n.post_form("/oauth/introspect", Some(STD), &[("token", &token)]),
        )
        .await;
        standard_shape(
            &mut pr,
            &what,
            &a,
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
        );
        // cluster: seed 000's request (`client=admin`) is answered in its shape even when the
        // client cannot be read.
        let what = format!("{who} cluster password login");
        let a = timed(
            &mut pr,
            &what,
            n.cluster_login(&[("mobile", &phone), ("password", "fault-pw")]),
        )
        .await;
        cluster_shape(&mut pr, &what, &a, StatusCode::SERVICE_UNAVAILABLE);
        // hoth: its own endpoints answer in its shape (errors.md: createClientError, 500).
        let what = format!("{who} hoth init-params");
        let a = timed(&mut pr, &what, n.get(&init_params)).await;
        hoth_shape(
            &mut pr,
            &what,
            &a,
            StatusCode::INTERNAL_SERVER_ERROR,
            "hoth.warn.createClientError",
        );
        // At /oauth/token only a registered client says it speaks hoth: a process remembers
        // the dialect of every client it has seen, so hoth's shape answers even after the
        // 5-second client cache has run out.
        let what = format!("{who} hoth password grant");
        let a = timed(&mut pr, &what, n.hoth_password(&hoth_user, "fault-pw", &[])).await;
        hoth_shape(
            &mut pr,
            &what,
            &a,
            StatusCode::INTERNAL_SERVER_ERROR,
            "hoth.warn.createClientError",
        );
    }
    proxy.restore().await;
    back(&p, Duration::from_secs(5)).await;
    for n in [&p.a, &p.b] {
        let a = n.post_form("/oauth/token", Some(STD), &cc).await;
        pr.check(a.status == StatusCode::OK, || {
            format!("{} after recovery: {} {}", n.name, a.status, a.text)
        });
        let a = n
            .post_form("/oauth/introspect", Some(STD), &[("token", &token)])
            .await;
        pr.check(a.json()["active"] == true, || {
            format!(
                "{} introspection after recovery: {} {}",
                n.name, a.status, a.text
            )
        });
        let a = n.get(&init_params).await;
        pr.check(a.status == StatusCode::OK, || {
            format!(
                "{} init-params after recovery: {} {}",
                n.name, a.status, a.text
            )
        });
    }
    let a =
        p.b.cluster_login(&[("mobile", &phone), ("password", "fault-pw")])
            .await;
    pr.check(a.status == StatusCode::OK, || {
        format!("cluster sign-in after recovery: {} {}", a.status, a.text)
    });
    let a = p.a.hoth_password(&hoth_user, "fault-pw", &[]).await;
    pr.check(a.status == StatusCode::OK, || {
        format!("hoth sign-in after recovery: {} {}", a.status, a.text)
    });
    pr.assert_none();
    p.assert_no_panic();
    p.stop().await;
}
