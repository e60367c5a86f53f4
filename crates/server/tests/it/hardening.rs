//! Edge limits and operational hardening of issue 15 (`docs/decisions.md`, "Edge limits"):
//! a cap on the parameters of a request, slow clients cut off, a private SQLite file, a warning
//! for the log SMS sender, and URLs with their query values masked by `check-config`.

use crate::fixtures::*;
use reqwest::StatusCode;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const FORM: &str = "application/x-www-form-urlencoded";

/// The cap of `crates/web/src/params.rs` (`MAX_PARAMS`), as `docs/decisions.md` states it.
const MAX_PARAMS: usize = 256;

/// `n` distinct parameters `p0=v&p1=v&…`.
fn padding(n: usize) -> String {
    (0..n)
        .map(|i| format!("p{i}=v"))
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn more_parameters_than_the_cap_are_refused_in_each_dialects_shape() {
    let app = app().await;
    let body = format!("grant_type=client_credentials&{}", padding(MAX_PARAMS));
    let a = app
        .post_raw("/oauth/token", FORM, body.clone().into_bytes(), Some(STD))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    assert_eq!(a.json()["error"], "invalid_request", "{}", a.text);
    assert!(a.json()["error_description"].is_string(), "{}", a.text);

    // Query and body count together.
    let half = MAX_PARAMS / 2;
    let r = app
        .http
        .post(app.url(&format!("/oauth/token?{}", padding(half))))
        .basic_auth(STD.0, Some(STD.1))
        .header("content-type", FORM)
        .body(format!(
            "grant_type=client_credentials&{}",
            (0..half)
                .map(|i| format!("b{i}=v"))
                .collect::<Vec<_>>()
                .join("&")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_request");

    // Seed 000's shape.
    let a = app
        .post_raw(
            "/oauth/sms/code",
            FORM,
            format!("mobile=13800000000&{}", padding(MAX_PARAMS)).into_bytes(),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    assert_eq!(a.json()["success"], false, "{}", a.text);
    assert_eq!(a.json()["code"], 1002, "{}", a.text);

    // Seed 001's shape, as a repeated parameter is answered there.
    let a = app
        .post_raw(
            "/oauth/public/captcha/sms",
            FORM,
            format!("phone=13800000000&{}", padding(MAX_PARAMS)).into_bytes(),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    assert_eq!(a.json()["success"], false, "{}", a.text);
    assert_eq!(a.json()["code"], "hoth.warn.badRequest", "{}", a.text);
}

#[tokio::test]
async fn many_distinct_parameters_up_to_the_cap_are_read() {
    let app = app().await;
    // grant_type and 255 unknown parameters: exactly the cap, ignored as unknown parameters are.
    let body = format!("grant_type=client_credentials&{}", padding(MAX_PARAMS - 1));
    let a = app
        .post_raw("/oauth/token", FORM, body.into_bytes(), Some(STD))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(a.json()["access_token"].is_string(), "{}", a.text);
    // A repeat among many parameters is still found.
    let body = format!("grant_type=client_credentials&{}&p7=again", padding(100));
    let a = app
        .post_raw("/oauth/token", FORM, body.into_bytes(), Some(STD))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    assert_eq!(a.json()["error"], "invalid_request");
}

/// Reads until the server closes the connection; how long that took, or `None` if it was still
/// open after `limit`.
async fn time_to_close(s: &mut TcpStream, start: Instant, limit: Duration) -> Option<Duration> {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return start.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

/// The header-read timeout (10 s, `docs/decisions.md`): a client that sends nothing, and one
/// that sends a header line every two seconds, are both disconnected well within 30 s, while a
/// prompt client is served.
#[tokio::test]
async fn a_silent_or_trickling_client_is_disconnected_after_the_header_read_timeout() {
    let app = app().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let start = Instant::now();
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    let mut trickle = TcpStream::connect(&addr).await.unwrap();
    trickle
        .write_all(b"POST /oauth/token HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let limit = Duration::from_secs(30);
    let trickling = async {
        let (mut rd, mut wr) = trickle.split();
        let writer = async {
            for i in 0.. {
                tokio::time::sleep(Duration::from_secs(2)).await;
                if wr
                    .write_all(format!("X-{i}: y\r\n").as_bytes())
                    .await
                    .is_err()
                {
                    break;
                }
            }
        };
        let mut buf = [0u8; 1024];
        let reader = async {
            tokio::time::timeout(limit, async {
                loop {
                    match rd.read(&mut buf).await {
                        Ok(0) | Err(_) => return start.elapsed(),
                        Ok(_) => {}
                    }
                }
            })
            .await
            .ok()
        };
        tokio::select! {
            t = reader => t,
            () = writer => Some(start.elapsed()),
        }
    };
    let (silent_closed, trickle_closed) =
        tokio::join!(time_to_close(&mut silent, start, limit), trickling);
    let silent_closed = silent_closed.expect("a silent connection is closed");
    let trickle_closed = trickle_closed.expect("a trickling connection is closed");
    assert!(
        silent_closed >= Duration::from_secs(5),
        "not before the timeout: {silent_closed:?}"
    );
    assert!(trickle_closed < limit, "{trickle_closed:?}");
    // The server still serves.
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
}

/// The SQLite database and its `-wal` and `-shm` files hold password hashes: mode 0600, like
/// the key files, whether Tessera creates the database or finds one readable by others. This
/// test starts Tessera on SQLite whatever `TESSERA_TEST_BACKEND` says: the files are SQLite's.
#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_database_and_its_wal_and_shm_files_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    for existing in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let cfg = tessera_testkit::test_config(dir.path());
        let db = dir.path().join("tessera.db");
        if existing {
            std::fs::write(&db, b"").unwrap();
            std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let running = tessera_server::start(cfg, vec![("test bootstrap".into(), bootstrap())])
            .await
            .unwrap();
        let r = reqwest::Client::new()
            .post(format!("http://{}/oauth/token", running.addr))
            .basic_auth(STD.0, Some(STD.1))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        for name in ["tessera.db", "tessera.db-wal", "tessera.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{name} (existing: {existing}): {mode:o}");
        }
        running.stop().await;
    }
}

/// Starts `tessera serve` with `env` in a fresh folder, collects its log until it listens, and
/// stops it.
fn start_up_log(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
    c.args(["serve"])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env("TESSERA_SERVER__LISTEN", "127.0.0.1:0")
        .env("TESSERA_PASSWORDS__ARGON2_M_KIB", "1024")
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
        let done = line.contains("tessera listening");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines.join("\n")
}

/// `sms.sender = "log"` writes live codes to the log: a warning at every start says so, as for
/// `captcha.mode = "test"`; the webhook sender starts without it.
#[test]
fn the_log_sms_sender_is_warned_about_at_start() {
    let log = start_up_log(&[("TESSERA_SMS__SENDER", "log")]);
    assert!(log.contains("tessera listening"), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("sms.sender = \"log\"")),
        "{log}"
    );
    let log = start_up_log(&[
        ("TESSERA_SMS__SENDER", "webhook"),
        ("TESSERA_SMS__WEBHOOK_URL", "http://127.0.0.1:9/sms"),
    ]);
    assert!(log.contains("tessera listening"), "{log}");
    assert!(!log.contains("sms.sender"), "{log}");
}

/// `check-config` prints URLs with their query values (a webhook's `?token=`), their fragment
/// and the password of their userinfo masked.
#[test]
fn check_config_masks_query_values_and_passwords_of_urls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tessera.toml");
    std::fs::write(
        &path,
        "[sms]\nsender = \"webhook\"\nwebhook_url = \"https://hooks.example/x?token=s3cr3t&v=2\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["check-config", "--config", &path.display().to_string()])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env(
            "TESSERA_REDIS__URL",
            "redis://:hunter2@127.0.0.1:6379/0?password=hunter3",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("https://hooks.example/x?token=***&v=***"),
        "{stdout}"
    );
    for secret in ["s3cr3t", "hunter2", "hunter3"] {
        assert!(!stdout.contains(secret), "{secret} in {stdout}");
    }
}
