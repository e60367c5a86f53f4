//! The `tessera` command line: bad configurations exit 2 with one line naming file, key and
//! line; the one-shot commands do their job.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn tessera(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
    c.args(args).current_dir(dir.path()).env_remove("RUST_LOG");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn config_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tessera.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

/// Exit code 2 and exactly one line on stderr that contains every `needle`.
fn assert_fails_with(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line, got: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    for n in needles {
        assert!(err.contains(n), "{n:?} not in {err:?}");
    }
}

#[test]
fn an_unknown_key_exits_2_naming_file_key_and_line() {
    let (_d, path) =
        config_file("[server]\nlisten = \"127.0.0.1:0\"\n\n[login]\nmax_pasword_failures = 3\n");
    assert_fails_with(
        &tessera(&["check-config", "--config", &path], &[]),
        &[
            "tessera.toml:5",
            "login.max_pasword_failures",
            "unknown field",
        ],
    );
}

#[test]
fn an_unknown_section_exits_2() {
    let (_d, path) = config_file("[servr]\nlisten = \"x\"\n");
    assert_fails_with(
        &tessera(&["serve", "--config", &path], &[]),
        &["tessera.toml:1", "servr"],
    );
}

#[test]
fn a_wrong_type_exits_2_naming_the_line() {
    let (_d, path) = config_file("[database]\nmax_connections = \"many\"\n");
    assert_fails_with(
        &tessera(&["check-config", "--config", &path], &[]),
        &["tessera.toml:2", "max_connections"],
    );
}

#[test]
fn malformed_toml_exits_2_naming_the_line() {
    let (_d, path) = config_file("[server]\nlisten = \"127.0.0.1:0\n");
    assert_fails_with(
        &tessera(&["check-config", "--config", &path], &[]),
        &["tessera.toml:2"],
    );
}

#[test]
fn a_bad_duration_exits_2_naming_the_key_and_line() {
    let (_d, path) = config_file("[tokens]\naccess_ttl = \"2h\"\nrefresh_ttl = \"forever\"\n");
    assert_fails_with(
        &tessera(&["check-config", "--config", &path], &[]),
        &["tessera.toml:3", "tokens.refresh_ttl", "forever"],
    );
}

#[test]
fn a_bad_environment_override_names_the_variable() {
    let out = tessera(
        &["check-config"],
        &[("TESSERA_LOGIN__LOCK_DURATION", "never")],
    );
    assert_fails_with(
        &out,
        &["TESSERA_LOGIN__LOCK_DURATION", "login.lock_duration"],
    );
    let out = tessera(
        &["check-config"],
        &[("TESSERA_DATABASE__MAX_CONNECTIONS", "lots")],
    );
    assert_fails_with(&out, &["TESSERA_DATABASE__MAX_CONNECTIONS"]);
}

#[test]
fn a_missing_config_file_exits_2() {
    assert_fails_with(
        &tessera(
            &["check-config", "--config", "/nonexistent/tessera.toml"],
            &[],
        ),
        &["/nonexistent/tessera.toml"],
    );
}

#[test]
fn an_unreachable_database_exits_2_with_one_line() {
    let out = tessera(
        &["migrate"],
        &[(
            "TESSERA_DATABASE__URL",
            "postgres://postgres:hunter2@127.0.0.1:1/nope",
        )],
    );
    assert_fails_with(&out, &["database", "127.0.0.1:1"]);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("hunter2"),
        "no secrets in messages"
    );
}

#[test]
fn check_config_prints_effective_values_with_secrets_masked() {
    let (_d, path) = config_file("[tokens]\naccess_ttl = \"5m\"\n");
    let out = tessera(
        &["check-config", "--config", &path],
        &[("TESSERA_DATABASE__URL", "postgres://u:hunter2@127.0.0.1/db")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("access_ttl = \"5m\""), "{s}");
    assert!(s.contains("postgres://u:***@127.0.0.1/db"), "{s}");
    assert!(!s.contains("hunter2"));
    assert!(
        s.contains("max_password_failures = 5"),
        "defaults are shown: {s}"
    );
}

#[test]
fn hash_password_prints_an_argon2id_hash_of_stdin() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("hash-password")
        .env("TESSERA_PASSWORDS__ARGON2_M_KIB", "1024")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let h = String::from_utf8(out.stdout).unwrap();
    assert!(h.starts_with("$argon2id$v=19$m=1024,t=2,p=1$"), "{h}");
    let hasher = tessera_core::password::PasswordHasher::new(
        Default::default(),
        1,
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    assert!(
        hasher
            .verify_blocking(&tessera_core::secret::Secret::new("s3cret"), h.trim())
            .ok
    );
}

#[test]
fn migrate_and_bootstrap_create_the_sqlite_file_and_apply_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/sub/dir/t.db", dir.path().display());
    let env = [
        ("TESSERA_DATABASE__URL", db.as_str()),
        ("TESSERA_PASSWORDS__ARGON2_M_KIB", "1024"),
    ];
    let out = tessera(&["migrate"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("sub/dir/t.db").exists(),
        "the file and its folders are created"
    );
    let file = dir.path().join("boot.toml");
    std::fs::write(
        &file,
        "[[tenants]]\ncode = \"A\"\nname = \"A\"\n[[users]]\nusername = \"u\"\npassword = \"pw\"\n",
    )
    .unwrap();
    let f = file.display().to_string();
    let first = tessera(&["bootstrap", &f], &env);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("2 changed, 0 unchanged"));
    let second = tessera(&["bootstrap", &f], &env);
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("0 changed, 2 unchanged"),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
    std::fs::write(
        &file,
        "[[memberships]]\nuser = \"u\"\ntenant = \"A\"\norg = \"missing\"\n",
    )
    .unwrap();
    assert_fails_with(
        &tessera(&["bootstrap", &f], &env),
        &["memberships[0]", "missing"],
    );
}

/// The log of a failed sign-in names neither the password nor the stored hash, even at debug
/// level, and every request line carries its request id.
#[tokio::test]
async fn logs_never_contain_a_password_or_a_hash() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let boot = dir.path().join("boot.toml");
    std::fs::write(
        &boot,
        "[[tenants]]\ncode = \"L\"\nname = \"L\"\n[[orgs]]\ntenant = \"L\"\ncode = \"O\"\nname = \"O\"\n\
         [[users]]\nusername = \"logan\"\npassword = \"Secret-Pass-9\"\n\
         [[memberships]]\nuser = \"logan\"\ntenant = \"L\"\norg = \"O\"\nroles = [\"u\"]\ndefault = true\n\
         [[clients]]\nclient_id = \"c\"\nclient_secret = \"c-secret-value\"\ngrant_types = [\"password\"]\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["serve"])
        .current_dir(dir.path())
        .env("TESSERA_SERVER__LISTEN", "127.0.0.1:0")
        .env("TESSERA_LOG__LEVEL", "debug")
        .env("TESSERA_LOG__FORMAT", "json")
        .env("TESSERA_PASSWORDS__ARGON2_M_KIB", "1024")
        .env("TESSERA_BOOTSTRAP__FILE", boot.display().to_string())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
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
    let addr = loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("server starts");
        lines.push(line.clone());
        if line.contains("tessera listening") {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            break v["fields"]["addr"].as_str().unwrap().to_string();
        }
    };
    let http = reqwest::Client::new();
    let r = http
        .post(format!("http://{addr}/oauth/token"))
        .basic_auth("c", Some("c-secret-value"))
        .form(&[
            ("grant_type", "password"),
            ("username", "logan"),
            ("password", "Wrong-Pass-7"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();
    while let Ok(l) = rx.recv_timeout(std::time::Duration::from_millis(500)) {
        lines.push(l);
    }
    let log = lines.join("\n");
    for secret in [
        "Wrong-Pass-7",
        "Secret-Pass-9",
        "c-secret-value",
        "$argon2id$",
    ] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
    assert!(
        log.contains("\"id\":\""),
        "request lines carry the request id:\n{log}"
    );
}

/// configuration.md: every key can be overridden by `TESSERA_<SECTION>__<KEY>`: a value that
/// looks like a number stays a string where the key is one, and a bad value set by a variable
/// is blamed on the variable, even when the file sets that key too.
#[test]
fn environment_values_are_read_as_the_key_wants_and_their_errors_name_the_variable() {
    let (_d, path) = config_file("[server]\nlisten = \"127.0.0.1:0\"\n");
    let out = tessera(
        &["check-config", "--config", &path],
        &[
            ("TESSERA_KEYS__DIR", "007"),
            ("TESSERA_LOGIN__MAX_PASSWORD_FAILURES", "7"),
            ("TESSERA_SERVER__TRUSTED_PROXIES", "10.0.0.0/8,192.168.1.1"),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("dir = \"007\""), "{text}");
    assert!(text.contains("max_password_failures = 7"), "{text}");
    assert!(text.contains("192.168.1.1"), "{text}");
    assert_fails_with(
        &tessera(
            &["check-config", "--config", &path],
            &[("TESSERA_SERVER__LISTEN", "bad")],
        ),
        &["TESSERA_SERVER__LISTEN", "server.listen"],
    );
}

/// One line naming the key at fault, for values only `derive` can judge.
#[test]
fn check_config_names_the_key_of_a_bad_log_level_argon2_parameter_or_pattern() {
    for (text, key) in [
        ("[log]\nlevel = \"tessera=bogus=x,,\"\n", "log.level"),
        ("[passwords]\nargon2_t = 0\n", "passwords.argon2_t"),
        ("[passwords]\nargon2_p = 0\n", "passwords.argon2_p"),
        ("[login]\nphone_pattern = '(['\n", "login.phone_pattern"),
        (
            "[login]\nlock_duration = \"9223372036854775807\"\n",
            "login.lock_duration",
        ),
    ] {
        let (_d, path) = config_file(text);
        assert_fails_with(
            &tessera(&["check-config", "--config", &path], &[]),
            &[key, "tessera.toml:2"],
        );
    }
}

/// A file that names one entry twice, or two default memberships of one user, would never
/// apply unchanged: refused, naming the entry.
#[test]
fn a_bootstrap_file_with_an_entry_twice_is_refused() {
    let (d, path) = config_file(
        "[server]\nlisten = \"127.0.0.1:0\"\n[database]\nurl = \"sqlite://db.sqlite\"\n",
    );
    let boot = d.path().join("boot.toml");
    for (text, needle) in [
        (
            "[[tenants]]\ncode = \"T\"\nname = \"T\"\n[[orgs]]\ntenant = \"T\"\ncode = \"O\"\nname = \"a\"\n[[orgs]]\ntenant = \"T\"\ncode = \"O\"\nname = \"b\"\n",
            "orgs[1] (T/O)",
        ),
        (
            "[[tenants]]\ncode = \"T\"\nname = \"T\"\n[[orgs]]\ntenant = \"T\"\ncode = \"O\"\nname = \"O\"\n[[orgs]]\ntenant = \"T\"\ncode = \"P\"\nname = \"P\"\n[[users]]\nusername = \"u\"\n[[memberships]]\nuser = \"u\"\ntenant = \"T\"\norg = \"O\"\ndefault = true\n[[memberships]]\nuser = \"u\"\ntenant = \"T\"\norg = \"P\"\ndefault = true\n",
            "memberships[1] (u in T/P)",
        ),
    ] {
        std::fs::write(&boot, text).unwrap();
        let mut c = Command::new(env!("CARGO_BIN_EXE_tessera"));
        let out = c
            .args(["bootstrap", boot.to_str().unwrap(), "--config", &path])
            .current_dir(d.path())
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert_fails_with(&out, &[needle]);
    }
}
