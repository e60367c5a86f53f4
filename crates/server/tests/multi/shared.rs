//! What two processes share: the schema they migrate together, short-lived state in Redis
//! (captchas, SMS codes), lockout counts, refresh-token rotation, revocation and account state in
//! PostgreSQL; and what survives when one of them is killed.

use crate::pair::{Options, Pair, OPS, STD};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, Row};
use std::future::Future;
use std::time::Duration;

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} in {v}"))
        .to_string()
}

#[tokio::test]
async fn migrations_run_once_when_both_processes_start_at_once_on_an_empty_database() {
    let Some(p) = Pair::start(Options::default()).await else {
        return;
    };
    for n in [&p.a, &p.b] {
        let r = n.get("/readyz").await;
        assert_eq!(r.status, StatusCode::OK, "process {}: {}", n.name, r.text);
    }
    // Every migration of the tree applied once, successfully; the bootstrap (applied by both at
    // start) left one row per natural key.
    let mut files: Vec<i64> = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../store/migrations/postgres"
    ))
    .unwrap()
    .map(|e| {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        name.split('_').next().unwrap().parse().unwrap()
    })
    .collect();
    files.sort();
    let mut c = sqlx::PgConnection::connect(&p.db_url).await.unwrap();
    let rows = sqlx::query("SELECT version, success FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&mut c)
        .await
        .unwrap();
    let applied: Vec<(i64, bool)> = rows
        .iter()
        .map(|r| (r.get::<i64, _>(0), r.get::<bool, _>(1)))
        .collect();
    assert_eq!(
        applied,
        files.iter().map(|v| (*v, true)).collect::<Vec<_>>(),
        "each migration once"
    );
    for (table, n) in [("tenants", 2i64), ("clients", 4), ("users", 7)] {
        let got: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(got, n, "{table}");
    }
    let _ = c.close().await;
    // And both serve.
    for n in [&p.a, &p.b] {
        n.token(STD, &[("grant_type", "client_credentials")]).await;
    }
    p.assert_no_panic();
    p.stop().await;
}

#[tokio::test]
async fn a_captcha_and_an_sms_code_issued_by_one_process_are_accepted_by_the_other() {
    let Some(p) = Pair::start(Options::default()).await else {
        return;
    };
    // Both processes encrypt with one transport key (the shared keys.dir).
    assert_eq!(
        p.a.get("/oauth/public/key").await.json(),
        p.b.get("/oauth/public/key").await.json()
    );

    // Captcha escalation counted on A is seen by B (login.captcha_after_failures = 3).
    let user = p.user("hoth");
    for _ in 0..3 {
        let r = p.a.hoth_password(&user, "wrong", &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    }
    let r = p.b.hoth_password(&user, "hoth-pw", &[]).await;
    assert_eq!(r.json()["code"], "hoth.warn.captchaNull", "{}", r.text);
    // A captcha issued by A is accepted by B, once.
    let c = p.a.get("/oauth/public/captcha").await.json();
    let (key, answer) = (s(&c, "captchaKey"), s(&c, "answer"));
    let r =
        p.b.hoth_password(
            &user,
            "hoth-pw",
            &[("captcha", &answer), ("captchaKey", &key)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["token_type"], "bearer");
    // The client IP still has its failures, so A asks for a captcha, and B spent this one.
    let r =
        p.a.hoth_password(
            &user,
            "hoth-pw",
            &[("captcha", &answer), ("captchaKey", &key)],
        )
        .await;
    assert_eq!(r.json()["code"], "hoth.warn.captchaWrong", "{}", r.text);

    // An SMS code sent through A signs in through B (cluster, tenant policy `always`).
    let phone = p.phone("sms").to_string();
    let creds = [("mobile", phone.as_str()), ("password", "sms-pw")];
    let r = p.a.cluster_login(&creds).await;
    assert_eq!(r.json()["error_description"], "2001", "{}", r.text);
    let r =
        p.a.post_form("/oauth/sms/code", None, &[("mobile", &phone)])
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let code = p.inbox.last_code(&phone).unwrap();
    let with_code = [
        creds[0],
        creds[1],
        ("clusterCode", "S"),
        ("username", "S1"),
        ("code", code.as_str()),
    ];
    let r = p.b.cluster_login(&with_code).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["code"], 200);
    // The code was spent on B: A refuses it.
    let r = p.a.cluster_login(&with_code).await;
    assert_eq!(r.json()["error_description"], "2002", "{}", r.text);
    // The resend interval started on A holds on B.
    let r =
        p.b.post_form("/oauth/sms/code", None, &[("mobile", &phone)])
            .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    p.assert_no_panic();
    p.stop().await;
}

#[tokio::test]
async fn password_failures_counted_on_both_processes_lock_the_account_at_the_limit() {
    let Some(p) = Pair::start(Options::default()).await else {
        return;
    };
    // One at a time, alternating: each process counts down from where the other left off.
    let phone = p.phone("lock").to_string();
    for (i, left) in [4, 3, 2, 1].iter().enumerate() {
        let n = if i % 2 == 0 { &p.a } else { &p.b };
        let r = n
            .cluster_login(&[("mobile", &phone), ("password", "wrong")])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        assert_eq!(
            r.json()["message"],
            format!("Wrong password; {left} attempts left"),
            "process {}",
            n.name
        );
    }
    let r = p.a.password(&p.user("lock"), "wrong").await;
    assert_eq!(
        r.json()["error_description"],
        "Too many wrong passwords: the account is locked",
        "the fifth failure, on A, locks"
    );
    let r = p.b.password(&p.user("lock"), "lock-pw").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["error_description"],
        "The account is locked",
        "on B"
    );
    let r =
        p.b.cluster_login(&[("mobile", &phone), ("password", "lock-pw")])
            .await;
    assert_eq!(r.json()["message"], "The account is locked", "{}", r.text);

    // At once: five concurrent failures, three on A and two on B, all count; exactly one of them
    // is the one that locks.
    let user = p.user("burst");
    let tries = (0..5).map(|i| {
        let n = if i % 2 == 0 { &p.a } else { &p.b };
        let user = user.clone();
        async move { n.password(&user, "wrong").await }
    });
    let answers = futures_join_all(tries).await;
    let mut said: Vec<String> = answers
        .iter()
        .map(|a| a.json()["error_description"].as_str().unwrap().to_string())
        .collect();
    said.sort();
    assert_eq!(
        said,
        vec![
            "Too many wrong passwords: the account is locked",
            "Wrong username or password",
            "Wrong username or password",
            "Wrong username or password",
            "Wrong username or password",
        ]
    );
    let r = p.a.password(&user, "burst-pw").await;
    assert_eq!(r.json()["error_description"], "The account is locked");
    p.assert_no_panic();
    p.stop().await;
}

/// Runs the futures concurrently and answers their outputs in order.
async fn futures_join_all<F: Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in fs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_of_one_token_on_both_processes_yield_one_success_and_revoke_the_family(
) {
    let Some(p) = Pair::start(Options::default()).await else {
        return;
    };
    let user = p.user("alice");
    for round in 0..20 {
        let first = p.a.password(&user, "alice-pw").await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        let first = first.json();
        let rt = s(&first, "refresh_token");
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", rt.as_str()),
        ];
        let (ra, rb) = tokio::join!(
            p.a.post_form("/oauth/token", Some(STD), &form),
            p.b.post_form("/oauth/token", Some(STD), &form)
        );
        let (win, lose) = match (ra.status, rb.status) {
            (StatusCode::OK, StatusCode::OK) => {
                panic!(
                    "round {round}: both refreshes succeeded: {} / {}",
                    ra.text, rb.text
                )
            }
            (StatusCode::OK, _) => (ra, rb),
            (_, StatusCode::OK) => (rb, ra),
            _ => panic!(
                "round {round}: neither succeeded: {} / {}",
                ra.text, rb.text
            ),
        };
        assert_eq!(lose.status, StatusCode::BAD_REQUEST, "{}", lose.text);
        assert_eq!(lose.json()["error"], "invalid_grant", "{}", lose.text);
        // decisions.md: two concurrent refreshes with one token count as reuse: one wins, and
        // the family is revoked — the winner's new tokens and the first access token included.
        let won = win.json();
        for t in [s(&won, "access_token"), s(&first, "access_token")] {
            assert!(
                !p.a.active(STD, &t).await,
                "round {round}: family revoked (A)"
            );
            assert!(
                !p.b.active(STD, &t).await,
                "round {round}: family revoked (B)"
            );
        }
        let again =
            p.b.post_form(
                "/oauth/token",
                Some(STD),
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &s(&won, "refresh_token")),
                ],
            )
            .await;
        assert_eq!(again.json()["error"], "invalid_grant", "round {round}");
    }
    p.assert_no_panic();
    p.stop().await;
}

#[tokio::test]
async fn a_token_revoked_on_one_process_is_inactive_on_the_other_within_a_second() {
    let Some(p) = Pair::start(Options::default()).await else {
        return;
    };
    let user = p.user("alice");
    let t = p.a.password(&user, "alice-pw").await.json();
    let cc =
        p.a.token(STD, &[("grant_type", "client_credentials")])
            .await;
    for tok in [s(&t, "access_token"), s(&cc, "access_token")] {
        assert!(p.b.active(STD, &tok).await);
        let r =
            p.a.post_form("/oauth/revoke", Some(STD), &[("token", &tok)])
                .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let revoked = tokio::time::Instant::now();
        while p.b.active(STD, &tok).await {
            assert!(
                revoked.elapsed() < Duration::from_secs(1),
                "still active on B a second after A revoked it"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // A refresh token revoked on B cannot be used on A, and took its family with it.
    let t = p.a.password(&user, "alice-pw").await.json();
    let r =
        p.b.post_form(
            "/oauth/revoke",
            Some(STD),
            &[("token", &s(&t, "refresh_token"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r =
        p.a.post_form(
            "/oauth/token",
            Some(STD),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&t, "refresh_token")),
            ],
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_grant", "{}", r.text);
    assert!(!p.a.active(STD, &s(&t, "access_token")).await);
    p.assert_no_panic();
    p.stop().await;
}

#[tokio::test]
async fn a_user_disabled_through_one_process_cannot_sign_in_through_the_other() {
    let Some(p) = Pair::start(Options::default()).await else {
        return;
    };
    let user = p.user("dis");
    let before = p.b.password(&user, "dis-pw").await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    let admin = s(
        &p.a.token(OPS, &[("grant_type", "client_credentials")])
            .await,
        "access_token",
    );
    let r =
        p.a.call(
            reqwest::Method::GET,
            &format!("/admin/api/v1/users?username={user}"),
            &admin,
            None,
        )
        .await;
    let id = r.json()["items"][0]["id"].as_i64().unwrap();
    let r =
        p.a.call(
            reqwest::Method::PATCH,
            &format!("/admin/api/v1/users/{id}"),
            &admin,
            Some(json!({ "enabled": false })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = p.b.password(&user, "dis-pw").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json()["error"], "invalid_grant");
    let r =
        p.b.cluster_login(&[("mobile", p.phone("dis")), ("password", "dis-pw")])
            .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.json()["code"], 1002);
    // Disabling revoked the tokens B had issued, and B's refresh gives nothing new.
    let before = before.json();
    assert!(!p.b.active(STD, &s(&before, "access_token")).await);
    let r =
        p.b.post_form(
            "/oauth/token",
            Some(STD),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &s(&before, "refresh_token")),
            ],
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_grant");
    p.assert_no_panic();
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_process_under_load_loses_no_token_it_answered_and_the_other_keeps_serving() {
    let Some(mut p) = Pair::start(Options::default()).await else {
        return;
    };
    let stop_b = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let form = [("grant_type", "client_credentials")];
    // Load on A: workers that stop at their first transport error (A is gone).
    let mut on_a = Vec::new();
    for _ in 0..6 {
        let a = p.a.http.clone();
        let url = p.a.url("/oauth/token");
        on_a.push(tokio::spawn(async move {
            let mut tokens = Vec::new();
            loop {
                let r = a
                    .post(&url)
                    .basic_auth(STD.0, Some(STD.1))
                    .form(&form)
                    .send()
                    .await;
                let Ok(r) = r else { break };
                let status = r.status();
                let Ok(text) = r.text().await else { break };
                assert_eq!(status, StatusCode::OK, "A answered {status}: {text}");
                let v: Value = serde_json::from_str(&text).unwrap();
                tokens.push(v["access_token"].as_str().unwrap().to_string());
            }
            tokens
        }));
    }
    // Load on B, which must answer every request, before, during and after A's death.
    let mut on_b = Vec::new();
    for _ in 0..2 {
        let b = p.b.http.clone();
        let url = p.b.url("/oauth/token");
        let stop = stop_b.clone();
        on_b.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = b
                    .post(&url)
                    .basic_auth(STD.0, Some(STD.1))
                    .form(&form)
                    .send()
                    .await
                    .expect("B answers while A dies");
                let status = r.status();
                let text = r.text().await.expect("B's answer is read whole");
                assert_eq!(status, StatusCode::OK, "B answered {status}: {text}");
                n += 1;
            }
            n
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    p.a.kill().await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop_b.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answered = Vec::new();
    for h in on_a {
        answered.extend(h.await.unwrap());
    }
    let mut served_by_b = 0;
    for h in on_b {
        served_by_b += h.await.unwrap();
    }
    eprintln!(
        "A answered {} tokens before it was killed; B served {served_by_b} requests",
        answered.len()
    );
    assert!(answered.len() > 50, "A answered only {}", answered.len());
    assert!(served_by_b > 20, "B served only {served_by_b}");
    // Every token A answered with 200 was committed: B sees it active.
    let mut inactive = 0;
    for chunk in answered.chunks(16) {
        let checks = chunk.iter().map(|t| p.b.active(STD, t));
        inactive += futures_join_all(checks)
            .await
            .into_iter()
            .filter(|a| !a)
            .count();
    }
    assert_eq!(
        inactive,
        0,
        "of {} tokens A answered before it was killed",
        answered.len()
    );
    assert_eq!(p.b.get("/readyz").await.status, StatusCode::OK);
    let log = p.b.log();
    assert!(!log.contains("panicked"), "{log}");
    p.stop().await;
}
